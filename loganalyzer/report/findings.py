"""Scan results as text, JSON, CSV or Markdown. Pure: data in, string out."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tabulate import tabulate

from ..detectors import DETECTORS
from ..scan import ScanResult
from .text import render_summary

__all__ = ["FORMATS", "lines_text", "render", "to_json_dict"]

FORMATS = ("text", "json", "csv", "markdown")

_COLOURS = {"high": "\033[1;31m", "medium": "\033[33m", "low": "\033[36m"}
_RESET = "\033[0m"


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _evidence(items: Iterable[dict[str, Any]] | None, limit: int) -> list[dict[str, Any]]:
    return list(items or [])[:limit]


def to_json_dict(result: ScanResult) -> dict[str, Any]:
    """The ``--format json`` object (schema: ``loganalyzer/report/scan.schema.json``)."""
    summary = result.summary.to_dict()
    summary["greylist_delay"] = result.settings.greylist_delay
    summary["group_by"] = result.settings.group_by
    findings = []
    for row in result.detection.findings.iter_rows(named=True):
        findings.append(
            {
                "detector": row["detector"],
                "network": row["network"],
                "org": row["org"],
                "asn": row["asn"],
                "count": row["count"],
                "first_seen": _iso(row["first_seen"]),
                "last_seen": _iso(row["last_seen"]),
                "severity": row["severity"],
                "explanation": row["explanation"],
                "evidence": _evidence(row["evidence"], result.settings.evidence),
            }
        )
    unavailable = [{"detector": d, "reason": r} for d, r in result.detection.unavailable]
    return {"summary": summary, "findings": findings, "unavailable": unavailable}


def lines_text(evidence: list[dict[str, Any]], total: int) -> str:
    """``a.log:3,7,15 b.log:2 (+N more)``: the example lines grouped by file, in the order given,
    and how many of the ``total`` evidence lines are not shown."""
    groups: dict[str, list[str]] = {}
    for e in evidence:
        groups.setdefault(e["source"], []).append(str(e["line_no"]))
    text = " ".join(f"{source}:{','.join(lines)}" for source, lines in groups.items())
    more = total - len(evidence)
    return text + (f" (+{more} more)" if more > 0 else "")


def _rows(
    result: ScanResult, detector: str, *, colour: bool, top: int = 0
) -> tuple[list[list[Any]], list[tuple[str, str]]]:
    """Table rows of one detector's findings (the first ``top``; 0: all), and (explanation, lines) per row."""
    rows: list[list[Any]] = []
    notes: list[tuple[str, str]] = []
    limit = result.settings.evidence
    frame = result.detection.findings
    mine = frame.filter(frame["detector"] == detector)
    for i, row in enumerate((mine.head(top) if top else mine).iter_rows(named=True), start=1):
        severity = row["severity"]
        if colour:
            severity = f"{_COLOURS.get(severity, '')}{severity}{_RESET}"
        rows.append(
            [
                i,
                severity,
                row["network"],
                row["org"] or "-",
                *([row["asn"] or "-"] if result.settings.asn_db else []),
                row["count"],
                _when(row["first_seen"]),
                _when(row["last_seen"]),
            ]
        )
        evidence = _evidence(row["evidence"], limit)
        notes.append((row["explanation"], lines_text(evidence, len(row["evidence"] or []))))
    return rows, notes


def _text(result: ScanResult, *, table_format: str, colour: bool, markdown: bool = False, top: int = 0) -> str:
    """Summary, one table per detector that found something, then what could not run.

    ``top`` keeps the first so many networks of each detector (most serious
    first); the others are counted. 0 shows all.
    """

    def heading(text: str) -> str:
        return f"## {text}" if markdown else text

    def item(text: str) -> str:
        return f"- {text}" if markdown else f"  {text}"

    summary = render_summary(result.summary, table_format=table_format)
    out = [f"```text\n{summary}\n```" if markdown else summary]
    found = set(result.detection.findings["detector"].to_list())
    headers = ["#", "severity", "network", "org", *(["asn"] if result.settings.asn_db else []), "count",
               "first seen", "last seen"]  # fmt: skip
    for detector in DETECTORS.values():
        if detector.id not in found:
            continue
        rows, notes = _rows(result, detector.id, colour=colour, top=top)
        total = int((result.detection.findings["detector"] == detector.id).sum())
        out += ["", heading(f"{detector.id}: {detector.title}"), ""]
        out.append(tabulate(rows, headers=headers, tablefmt=table_format))
        if total > len(rows):
            out.append(item(f"... and {total - len(rows):,} more (--top 0, or --format json/csv, lists all {total:,})"))
        out.append("")
        for i, (explanation, where) in enumerate(notes, start=1):
            if markdown:
                out.append(f"{i}. {explanation}  \n   lines: `{where}`")
            else:
                wrapped = textwrap.wrap(explanation, 96, initial_indent=f"{i:>3}. ", subsequent_indent="     ")
                out.extend(wrapped)
                out.extend(textwrap.wrap(f"lines: {where}", 96, initial_indent="     ", subsequent_indent="       "))
    clean = [d for d in result.detection.ran if d not in found]
    if clean:
        out += ["", "nothing found by: " + ", ".join(clean)]
    if result.detection.unavailable:
        out += ["", heading("detections unavailable and why"), ""]
        out.extend(item(f"{d}: {r}") for d, r in result.detection.unavailable)
    if result.summary.notes:
        out += ["", heading("notes"), ""]
        out.extend(item(n) for n in result.summary.notes)
    return "\n".join(out) + "\n"


def _csv(result: ScanResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["detector", "network", "org", "asn", "count", "first_seen", "last_seen", "severity",
                     "explanation", "evidence"])  # fmt: skip
    for f in to_json_dict(result)["findings"]:
        evidence = ";".join(f"{e['source']}:{e['line_no']}" for e in f["evidence"])
        writer.writerow([f["detector"], f["network"], f["org"] or "", f["asn"] or "", f["count"], f["first_seen"],
                         f["last_seen"], f["severity"], f["explanation"], evidence])  # fmt: skip
    return buf.getvalue()


def render(
    result: ScanResult, fmt: str = "text", *, table_format: str = "simple", colour: bool = False, top: int = 0
) -> str:
    """Render a scan result; ``fmt`` is one of :data:`FORMATS`.

    ``top`` limits text and markdown to the first so many networks per detector
    (0: all); JSON and CSV always carry every finding.
    """
    if fmt == "json":
        return json.dumps(to_json_dict(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(result)
    if fmt == "markdown":
        return _text(result, table_format="github", colour=False, markdown=True, top=top)
    if fmt == "text":
        return _text(result, table_format=table_format, colour=colour, top=top)
    raise ValueError(f"unknown format {fmt!r}: {', '.join(FORMATS)}")
