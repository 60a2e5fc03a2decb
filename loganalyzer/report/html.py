"""The nightly report as one self-contained HTML file. Pure: data in, string out.

Written for mail clients first: inline ``style`` attributes (many clients drop
``<style>`` blocks), layout tables, no scripts, no fonts or images to fetch.
Charts are small inline SVGs built here (a bar per night for sparklines, one
bar per finding for counts) and every number they show is also printed as text,
for clients that strip SVG. A Content-Security-Policy forbids any fetch, so a
browser that opens the file cannot leak that it was read.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from ..detectors import DETECTORS
from ..history import AVERAGE_NIGHTS, SPARK_NIGHTS, NetworkTrend, Trends
from .digest import NightlyReport, seen
from .findings import lines_text
from .text import time_span

__all__ = ["render_html"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
FONT = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,monospace"
INK, MUTED, LINE, PAPER = "#1f2328", "#59636e", "#d1d9e0", "#f6f8fa"
SEVERITY = {"high": "#b42318", "medium": "#b54708", "low": "#175cd3"}
BAR, TONIGHT, NO_RUN = "#8c959f", "#cf222e", "#d1d9e0"

_TH = f"text-align:left;padding:4px 8px;border-bottom:2px solid {LINE};font-weight:600;color:{MUTED};font-size:12px"
_TD = f"padding:4px 8px;border-bottom:1px solid {LINE};vertical-align:top"


def _e(value: object) -> str:
    return html.escape("-" if value is None or value == "" else str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = ()) -> str:
    """A table of already-escaped cells (no header row without ``headers``); ``numeric`` columns right-aligned."""
    head = "".join(
        f'<th style="{_TH}{";text-align:right" if i in numeric else ""}">{h}</th>' for i, h in enumerate(headers)
    )
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    body = []
    for row in rows:
        cells = "".join(
            f'<td style="{_TD}{";text-align:right" if i in numeric else ""}">{c}</td>' for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" '
        f'style="border-collapse:collapse;width:100%;margin:4px 0 16px;font-size:13px">'
        f"{thead}<tbody>{''.join(body)}</tbody></table>"
    )


def spark_svg(values: Sequence[int | None]) -> str:
    """One bar per night, tonight's in colour; a dot for a night without a run."""
    width, height, step = 7, 22, 9
    top = max((v for v in values if v), default=0)
    shapes = []
    for i, v in enumerate(values):
        x = i * step
        if v is None:
            shapes.append(f'<circle cx="{x + width / 2:g}" cy="{height - 1}" r="1" fill="{NO_RUN}"/>')
            continue
        h = max(1, round(v / top * height)) if top and v else 1
        fill = TONIGHT if i == len(values) - 1 else BAR
        shapes.append(f'<rect x="{x}" y="{height - h}" width="{width}" height="{h}" fill="{fill}"/>')
    label = ", ".join("no run" if v is None else str(v) for v in values)
    total = step * len(values) - (step - width)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{height}" viewBox="0 0 {total} {height}" '
        f'role="img" aria-label="{_e(label)}" style="vertical-align:middle">'
        f"<title>last {len(values)} nights: {_e(label)}</title>{''.join(shapes)}</svg>"
    )


def bar_svg(value: int, top: int, colour: str) -> str:
    """A horizontal bar, ``value`` out of ``top``."""
    width = max(2, round(value / top * 80)) if top else 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="10" viewBox="0 0 80 10" role="img" '
        f'aria-label="{value}" style="vertical-align:middle"><rect x="0" y="1" width="80" height="8" fill="{PAPER}"/>'
        f'<rect x="0" y="1" width="{width}" height="8" fill="{colour}"/></svg>'
    )


def _badge(severity: str) -> str:
    colour = SEVERITY.get(severity, MUTED)
    return (
        f'<span style="display:inline-block;padding:0 6px;border-radius:8px;border:1px solid {colour};'
        f'color:{colour};font-size:12px">{_e(severity)}</span>'
    )


def _mono(text: object) -> str:
    return f'<span style="font-family:{MONO};font-size:12px">{_e(text)}</span>'


def _average(t: NetworkTrend) -> str:
    return "-" if t.average is None else f"{t.average:.1f}"


def _figures(report: NightlyReport) -> str:
    """The key numbers in one row of boxes."""
    summary = report.result.summary
    figures = [(f"{len(report.findings):,}", "findings"), (f"{summary.lines:,}", "lines read")]
    if report.trends is not None:
        figures += [(str(len(report.trends.new)), "new offenders"), (str(len(report.trends.worse)), "got worse"),
                    (str(len(report.trends.better)), "got better")]  # fmt: skip
    cells = "".join(
        f'<td style="padding:8px 12px;border:1px solid {LINE};background:{PAPER}">'
        f'<div style="font-size:20px;font-weight:600">{_e(value)}</div>'
        f'<div style="font-size:12px;color:{MUTED}">{_e(label)}</div></td>'
        for value, label in figures
    )
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" '
        f'style="border-collapse:collapse;margin:0 0 20px"><tr>{cells}</tr></table>'
    )


def _trends(trends: Trends) -> list[str]:
    out = [_h2("Trends")]
    if not trends.history_nights:
        out.append(_p("First night in the history: trends start with the next run."))
    else:
        nights = f"{trends.past_nights} of the last {AVERAGE_NIGHTS} nights"
        out.append(_p(f"Tonight against {nights} ({trends.history_nights} night(s) in the history)."))
    avg = f"{AVERAGE_NIGHTS}-night avg"
    if trends.new:
        out.append(_h3("New offenders tonight (never flagged before)"))
        rows = [[_mono(t.network), _e(t.org), str(t.tonight), _e(", ".join(t.detectors))] for t in trends.new]
        out.append(_table(["network", "org", "count", "detectors"], rows, numeric=[2]))
    for heading, items, arrow, colour in (
        ("Worse", trends.worse, "&#9650;", TONIGHT),
        ("Better", trends.better, "&#9660;", "#1a7f37"),
    ):
        if items:
            out.append(_h3(f"{heading} than their {avg}"))
            rows = [
                [_mono(t.network), _e(t.org), f'<span style="color:{colour}">{arrow}</span> {t.tonight}', _average(t)]
                for t in items
            ]
            out.append(_table(["network", "org", "tonight", avg], rows, numeric=[2, 3]))
    if trends.top:
        out.append(_h3("Top networks tonight"))
        rows = [
            [_mono(t.network), _e(t.org), str(t.tonight), _average(t), spark_svg(t.nights)]
            for t in trends.top
        ]  # fmt: skip
        out.append(_table(["network", "org", "tonight", avg, f"last {SPARK_NIGHTS} nights"], rows, numeric=[2, 3]))
    return out


def _findings(report: NightlyReport) -> list[str]:
    out = [_h2("Findings")]
    findings = report.findings
    if not findings:
        out.append(_p("No findings."))
    for detector in DETECTORS.values():
        mine = [f for f in findings if f["detector"] == detector.id]
        if not mine:
            continue
        out.append(_h3(f"{detector.id}: {detector.title}"))
        top = max(f["count"] for f in mine)
        rows = [
            [str(i), _badge(f["severity"]), _mono(f["network"]), _e(f["org"]),
             f'{bar_svg(f["count"], top, SEVERITY.get(f["severity"], BAR))} {f["count"]:,}']
            for i, f in enumerate(mine, start=1)
        ]  # fmt: skip
        out.append(_table(["#", "severity", "network", "org", "count"], rows))
        items = []
        for f in mine:
            lines = lines_text(f["evidence"], f["evidence_total"])
            items.append(
                f'<li style="margin:0 0 8px">{_e(f["explanation"])}'
                f'<div style="color:{MUTED};font-size:12px">seen {_e(seen(f["first_seen"], f["last_seen"]))}</div>'
                f'<div style="color:{MUTED}">lines: {_mono(lines)}</div></li>'
            )
        out.append(f'<ol style="margin:0 0 16px;padding-left:24px">{"".join(items)}</ol>')
    clean = [d for d in report.result.detection.ran if d not in {f["detector"] for f in findings}]
    if clean:
        out.append(_p(f"Nothing found by: {', '.join(clean)}.", muted=True))
    return out


def _summary(report: NightlyReport) -> list[str]:
    s = report.result.summary
    span = time_span(s)
    rows = [
        ("lines read", f"{s.lines:,}"),
        ("parsed", f"{s.parsed:,}"),
        ("other programs", f"{s.other_program:,}"),
        ("unparsed", f"{s.unparsed + s.no_envelope:,} ({100 * s.unparsed_ratio:.2f}%)"),
        ("time span", span),
        ("hosts", ", ".join(s.hosts) or "-"),
        ("sessions", f"{s.sessions:,}"),
        ("messages", f"{s.messages:,}"),
    ]
    out = [_h2("What was read")]
    if report.reads:
        out.append(_table(["file", "lines", "how"], ([_mono(r.path), _e(r.where), _e(r.how)] for r in report.reads)))
    out.append(_table([], ([_e(k), _e(v)] for k, v in rows)))
    return out


def _h2(text: str) -> str:
    style = f"font-size:17px;margin:24px 0 8px;padding-bottom:4px;border-bottom:1px solid {LINE}"
    return f'<h2 style="{style}">{_e(text)}</h2>'


def _h3(text: str) -> str:
    return f'<h3 style="font-size:14px;margin:16px 0 4px">{_e(text)}</h3>'


def _p(text: str, *, muted: bool = False) -> str:
    colour = f";color:{MUTED}" if muted else ""
    return f'<p style="margin:4px 0 12px{colour}">{_e(text)}</p>'


def render_html(report: NightlyReport) -> str:
    """One HTML document, readable in mail clients and browsers, with nothing to fetch."""
    summary = report.result.summary
    lede = f"{summary.lines:,} lines read"
    if summary.first_ts and summary.last_ts:
        lede = f"{summary.first_ts:%Y-%m-%d %H:%M} .. {summary.last_ts:%Y-%m-%d %H:%M} UTC, " + lede
    body = [
        f'<h1 style="font-size:20px;margin:0 0 4px">{_e(report.title)}</h1>',
        _p(lede, muted=True),
        _figures(report),
    ]
    if report.trends is not None:
        body += _trends(report.trends)
    body += _findings(report)
    result = report.result
    if result.detection.unavailable:
        body.append(_h2("Detections unavailable"))
        body.append(_table(["detector", "why"], ([_e(d), _e(r)] for d, r in result.detection.unavailable)))
    body += _summary(report)
    notes = report.all_notes + summary.warnings
    if notes:
        body.append(_h2("Notes"))
        body.append('<ul style="margin:0;padding-left:20px">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    body.append(f'<p style="margin:24px 0 0;font-size:12px;color:{MUTED}">generated by loganalyzer report</p>')
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{_e(report.title)}</title>\n</head>\n"
        f'<body style="margin:0;padding:0;background:{PAPER}">\n'
        f'<div style="max-width:780px;margin:0 auto;padding:24px 20px;background:#ffffff;color:{INK};'
        f'font-family:{FONT};font-size:14px;line-height:1.45">\n' + "\n".join(body) + "\n</div>\n</body>\n</html>\n"
    )
