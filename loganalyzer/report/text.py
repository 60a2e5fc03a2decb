"""Plain-text rendering (tabulate). Pure: data in, string out."""

from __future__ import annotations

from tabulate import tabulate

from ..summary import Summary

__all__ = ["render_summary", "time_span"]


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "0.00%"


def time_span(summary: Summary) -> str:
    """``first .. last UTC`` of the lines read, ``-`` when none had a time."""
    if summary.first_ts and summary.last_ts:
        return f"{summary.first_ts:%Y-%m-%d %H:%M:%S} .. {summary.last_ts:%Y-%m-%d %H:%M:%S} UTC"
    return "-"


def render_summary(summary: Summary, *, table_format: str = "simple", kinds: bool = False) -> str:
    """The read summary: lines, parse ratio, span, hosts; per-kind counts with ``kinds``."""
    span = time_span(summary)
    rows = [
        ("lines read", f"{summary.lines:,}"),
        ("parsed", f"{summary.parsed:,}"),
        ("other programs", f"{summary.other_program:,}"),
        (
            "unparsed",
            f"{summary.unparsed:,}  ({_pct(summary.unparsed + summary.no_envelope, summary.lines)}"
            f"; {summary.no_envelope:,} not log lines)",
        ),
        ("time span", span),
        (
            "hosts",
            ", ".join(summary.hosts[:8]) + (f" (+{len(summary.hosts) - 8})" if len(summary.hosts) > 8 else "") or "-",
        ),
        ("sessions", f"{summary.sessions:,}"),
        ("messages", f"{summary.messages:,}"),
    ]
    if summary.replaced:
        rows.append(("undecodable", f"{summary.replaced:,} byte sequences replaced by U+FFFD"))
    out = [tabulate(rows, tablefmt="plain")]
    if len(summary.sources) > 1 or any(s["compression"] != "plain" for s in summary.sources):
        out.append("")
        out.append(
            tabulate(
                [(s["path"], s["compression"], f"{s['lines']:,}", s["replaced"]) for s in summary.sources],
                headers=["source", "compression", "lines", "replaced"],
                tablefmt=table_format,
            )
        )
    if kinds and summary.kinds:
        out.append("")
        out.append(
            tabulate(
                [(k, f"{n:,}", _pct(n, summary.lines)) for k, n in summary.kinds.items()],
                headers=["kind", "lines", "share"],
                tablefmt=table_format,
            )
        )
    for warning in summary.warnings:
        out.append(f"warning: {warning}")
    return "\n".join(out)
