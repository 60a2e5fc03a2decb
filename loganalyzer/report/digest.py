"""The nightly report as plain text (fits an 80-column mail) or Markdown. Pure: data in, string out.

:class:`NightlyReport` is everything one report shows: the scan of what was
read, the trends against the history, and what was read from which file. The
HTML rendering (:mod:`loganalyzer.report.html`) takes the same object. Finding
rows come from :func:`~loganalyzer.report.findings.to_json_dict`, so every format
shows the same numbers; Markdown reuses the scan report's Markdown outright.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from tabulate import tabulate

from ..detectors import DETECTORS
from ..history import AVERAGE_NIGHTS, SPARK_NIGHTS, NetworkTrend, Trends
from ..scan import ScanResult
from .findings import lines_text, render, to_json_dict
from .text import render_summary

__all__ = ["FORMATS", "NightlyReport", "ReadSpan", "render_markdown", "render_text", "seen", "sparkline", "subject"]

FORMATS = ("text", "markdown", "html")
WIDTH = 78
_BLOCKS = "▁▂▃▄▅▆▇█"
_NO_RUN = "·"


@dataclass(frozen=True)
class ReadSpan:
    """Lines read from one file, and why from there."""

    path: str
    first_line: int
    lines: int
    how: str

    @property
    def where(self) -> str:
        if not self.lines:
            return "no new lines"
        return f"lines {self.first_line:,}-{self.first_line + self.lines - 1:,}"


@dataclass(frozen=True)
class NightlyReport:
    """One nightly (or ad-hoc window) report."""

    title: str
    day: date
    result: ScanResult
    trends: Trends | None  # None for --since/--until windows (no history)
    reads: tuple[ReadSpan, ...] = ()
    notes: tuple[str, ...] = ()

    @cached_property
    def findings(self) -> list[dict[str, Any]]:
        """Finding rows as in ``scan --format json``, plus ``evidence_total`` (example lines before the limit)."""
        found: list[dict[str, Any]] = to_json_dict(self.result)["findings"]
        totals = self.result.detection.findings["evidence"].list.len().fill_null(0).to_list()
        for row, total in zip(found, totals, strict=True):
            row["evidence_total"] = total
        return found

    @property
    def all_notes(self) -> list[str]:
        return [*self.notes, *self.result.summary.notes]


def subject(report: NightlyReport) -> str:
    """A mail subject that says whether opening it is worth it."""
    n = len(report.findings)
    parts = [f"{n} finding{'s' if n != 1 else ''}"]
    if report.trends is not None:
        if report.trends.new:
            parts.append(f"{len(report.trends.new)} new offender{'s' if len(report.trends.new) != 1 else ''}")
        if report.trends.worse:
            parts.append(f"{len(report.trends.worse)} worse")
    return f"{report.title}: {', '.join(parts)}"


def sparkline(values: Sequence[int | None]) -> str:
    """``▁▃█`` from daily counts: the lowest block is zero, ``·`` a night without a run."""
    top = max((v for v in values if v), default=0)
    out = []
    for v in values:
        if v is None:
            out.append(_NO_RUN)
        elif not v or not top:
            out.append(_BLOCKS[0])
        else:
            out.append(_BLOCKS[max(1, math.ceil(v / top * (len(_BLOCKS) - 1)))])
    return "".join(out)


def _cut(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def _average(t: NetworkTrend) -> str:
    return "-" if t.average is None else f"{t.average:.1f}"


def seen(first: str | None, last: str | None) -> str:
    """``2024-04-17 08:00:07 .. 16:21:30 UTC`` from two ISO timestamps."""
    if not first or not last:
        return "-"
    a, b = datetime.fromisoformat(first), datetime.fromisoformat(last)
    end = f"{b:%H:%M:%S}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M:%S}"
    return f"{a:%Y-%m-%d %H:%M:%S} .. {end} UTC"


def _reads_rows(report: NightlyReport) -> list[list[str]]:
    return [[r.path, r.where, r.how] for r in report.reads]


def _trend_tables(trends: Trends, *, markdown: bool) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(heading, headers, rows) of each non-empty trend table; long names are cut to fit 80 columns in text."""
    avg = f"{AVERAGE_NIGHTS}-night avg"
    tables: list[tuple[str, list[str], list[list[Any]]]] = []

    def names(t: NetworkTrend) -> list[str]:
        return [t.network, t.org or "-"] if markdown else [_cut(t.network, 19), _cut(t.org, 18)]

    if trends.new:
        rows = [[*names(t), t.tonight, ", ".join(t.detectors)] for t in trends.new]
        tables.append(("new offenders tonight (never flagged before)", ["network", "org", "count", "detectors"], rows))
    for heading, items in (("worse", trends.worse), ("better", trends.better)):
        if items:
            rows = [[*names(t), t.tonight, _average(t)] for t in items]
            tables.append((f"{heading} than their {avg}", ["network", "org", "tonight", avg], rows))
    if trends.top:
        spark = f"last {SPARK_NIGHTS} nights"
        rows = [[*names(t), t.tonight, _average(t), sparkline(t.nights)] for t in trends.top]
        tables.append(("top networks tonight", ["network", "org", "tonight", avg, spark], rows))
    return tables


def _trend_intro(trends: Trends) -> str:
    if not trends.history_nights:
        return "first night in the history: trends start with the next run"
    return (
        f"against {trends.past_nights} of the last {AVERAGE_NIGHTS} nights "
        f"({trends.history_nights} night(s) in the history)"
    )


def render_text(report: NightlyReport) -> str:
    """Plain text, every line at most 80 columns."""
    out = [report.title, "=" * min(len(report.title), WIDTH), ""]
    if report.reads:
        out += ["read", ""]
        out.append(tabulate(_reads_rows(report), tablefmt="plain", maxcolwidths=[28, None, 34]))
        out.append("")
    # the read table above already lists the files
    summary = report.result.summary
    out.append(render_summary(dataclasses.replace(summary, sources=[]) if report.reads else summary))
    if report.trends is not None:
        out += ["", f"trends: {_trend_intro(report.trends)}"]
        for heading, headers, rows in _trend_tables(report.trends, markdown=False):
            out += ["", heading, ""]
            colwidths: list[int | None] = [None] * len(headers)
            colwidths[-1] = 24 if headers[-1] == "detectors" else None
            out.append(tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=colwidths))
    out += _text_findings(report)
    result = report.result
    if result.detection.unavailable:
        out += ["", "detections unavailable and why", ""]
        for d, r in result.detection.unavailable:
            out.extend(textwrap.wrap(f"{d}: {r}", WIDTH, initial_indent="  ", subsequent_indent="    "))
    if report.all_notes:
        out += ["", "notes", ""]
        for note in report.all_notes:
            out.extend(textwrap.wrap(note, WIDTH, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(out) + "\n"


def _text_findings(report: NightlyReport) -> list[str]:
    findings = report.findings
    out: list[str] = []
    if not findings:
        return ["", "no findings"]
    for detector in DETECTORS.values():
        mine = [f for f in findings if f["detector"] == detector.id]
        if not mine:
            continue
        out += ["", f"{detector.id}: {detector.title}", ""]
        rows = [[i, f["severity"], _cut(f["network"], 24), _cut(f["org"], 20), f["count"]]
                for i, f in enumerate(mine, start=1)]  # fmt: skip
        out.append(tabulate(rows, headers=["#", "severity", "network", "org", "count"], tablefmt="simple"))
        out.append("")
        for i, f in enumerate(mine, start=1):
            out.extend(textwrap.wrap(f["explanation"], WIDTH, initial_indent=f"{i:>3}. ", subsequent_indent="     "))
            out.append(f"     seen {seen(f['first_seen'], f['last_seen'])}")
            lines = lines_text(f["evidence"], f["evidence_total"])
            out.extend(textwrap.wrap(f"lines: {lines}", WIDTH, initial_indent="     ", subsequent_indent="       "))
    ran = report.result.detection.ran
    clean = [d for d in ran if d not in {f["detector"] for f in findings}]
    if clean:
        out += [""]
        out.extend(textwrap.wrap("nothing found by: " + ", ".join(clean), WIDTH, subsequent_indent="  "))
    return out


def render_markdown(report: NightlyReport) -> str:
    """Markdown: the read files and trends as tables, then the scan report's own Markdown."""
    out = [f"# {report.title}", ""]
    if report.reads:
        out += ["## read", ""]
        out += [f"- `{r.path}`: {r.where} ({r.how})" for r in report.reads]
        out.append("")
    if report.trends is not None:
        out += ["## trends", "", _trend_intro(report.trends), ""]
        for heading, headers, rows in _trend_tables(report.trends, markdown=True):
            out += [f"### {heading}", "", tabulate(rows, headers=headers, tablefmt="github"), ""]
    out.append(render(report.result, "markdown").rstrip("\n"))
    if report.notes:
        out += ["", "## report notes", ""]
        out += [f"- {n}" for n in report.notes]
    return "\n".join(out) + "\n"
