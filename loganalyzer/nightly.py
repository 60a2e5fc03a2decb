"""The nightly report job: read what the logs gained, scan it, report it, then remember.

The order is the point. :func:`run` takes the state directory's lock, plans
which byte ranges are new (:mod:`loganalyzer.state`), reads and scans only those,
renders the report, writes it to the output file or stdout, mails it -- and only
then appends the history and writes the state. A crash or a failed delivery
before that leaves both as they were, so the next run covers the same lines
again: no line is ever skipped. (A line is reported twice only when the process
dies between delivering and committing, which is the better way to fail.)

:func:`run_window` is the ad-hoc variant (``--since``/``--until``): it reads
whole files, keeps the lines inside the window, and touches neither state nor
history.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from . import history, state
from .errors import UserError
from .reading import read_inputs
from .report import mail
from .report.digest import FORMATS, NightlyReport, ReadSpan, render_markdown, render_text, subject
from .report.html import render_html
from .scan import ScanResult, scan
from .settings import Settings
from .sources import STDIN, expand
from .tables import ReadStats, Tables

__all__ = ["Outcome", "Output", "ReportError", "parse_when", "run", "run_window"]

RENDERERS: dict[str, Callable[[NightlyReport], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "html": render_html,
}


class ReportError(UserError):
    """The report cannot be made as asked (paths it cannot follow, a bad time window)."""


@dataclass(frozen=True)
class Output:
    """Where the report goes: a file, the mail server, else ``echo`` (standard output)."""

    fmt: str = "text"
    path: Path | None = None
    mail: mail.MailOptions | None = None
    echo: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ReportError(f"--format must be one of {', '.join(FORMATS)}, not {self.fmt!r}")


@dataclass
class Outcome:
    """What one run read, found and sent."""

    report: NightlyReport
    tables: Tables
    reads: list[state.PlannedRead]
    rendered: str


def run(
    paths: Sequence[str],
    settings: Settings,
    *,
    state_dir: Path | None,
    output: Output,
    detectors: list[str] | None = None,
    top: int = 10,
    now: datetime | None = None,
) -> Outcome:
    """Report what ``paths`` (log base names) gained since the last run, then advance the state.

    ``state_dir`` None means the default (see :func:`loganalyzer.state.resolve_state_dir`).
    """
    bases = [_followable(p) for p in paths]
    state_dir = state.resolve_state_dir(state_dir)
    with state.locked(state_dir):
        saved = state.load(state_dir)
        plans = []
        for base in bases:
            members = [state.identify(item.path) for item in expand([base], rotated=True)]
            plans.append(state.plan(base, saved.logs.get(os.path.abspath(base), []), members))
        reads = [r for p in plans for r in p.reads]
        tables = read_inputs([r.input() for r in reads], settings)
        result = scan(tables, settings, detectors=detectors)
        day = _day(result, settings, now)
        key = _run_key(saved.runs, reads)
        tonight = history.rows(result.detection.findings, day=day, run=key, lines=result.summary.lines)
        trends = history.trends(history.load(state_dir), tonight, top=top)
        sources = tables.stats.sources
        spans = tuple(
            ReadSpan(r.file.path, s.first_line, s.lines, r.reason) for r, s in zip(reads, sources, strict=True)
        )
        notes = [n for p in plans for n in p.notes] + [f"state kept in {state_dir} (run {saved.runs + 1})"]
        report = NightlyReport(_title(result, str(day)), day, result, trends, spans, tuple(notes))
        rendered = _deliver(report, output)
        # Delivered: now remember. History first; a crash before the state is saved
        # means a rerun with the same key, which replaces these rows.
        history.append(state_dir, tonight)
        logs = dict(saved.logs)
        position = iter(zip(reads, sources, strict=True))
        for plan in plans:
            logs[os.path.abspath(plan.base)] = [
                state.FileRecord.after(r.file, offset=s.end_offset, line=s.first_line + s.lines)
                for r, s in (next(position) for _ in plan.reads)
            ]
        state.save(state.State(logs, runs=saved.runs + 1), state_dir)
    return Outcome(report, tables, reads, rendered)


def run_window(
    paths: Sequence[str],
    settings: Settings,
    *,
    since: datetime | None,
    until: datetime | None,
    output: Output,
    detectors: list[str] | None = None,
) -> Outcome:
    """Report the lines between ``since`` and ``until`` (aware datetimes); no state, no history."""
    if since and until and since >= until:
        raise ReportError(f"--since {since:%Y-%m-%d %H:%M} is not before --until {until:%Y-%m-%d %H:%M}")
    items = expand(list(paths), rotated=settings.rotated)
    if since is not None:  # a file last written before the window cannot hold lines of it
        items = [i for i in items if i.is_stdin or os.stat(i.path).st_mtime >= since.timestamp()]
    tables = _window(read_inputs(items, settings), since, until)
    result = scan(tables, settings, detectors=detectors)
    tz = ZoneInfo(settings.timezone)
    a = f"{since.astimezone(tz):%Y-%m-%d %H:%M}" if since else "start"
    b = f"{until.astimezone(tz):%Y-%m-%d %H:%M}" if until else "end"
    day = until.astimezone(tz).date() if until else _day(result, settings, None)
    note = f"window {a} .. {b} ({settings.timezone}); state and history untouched"
    report = NightlyReport(_title(result, f"{a} .. {b}"), day, result, None, notes=(note,))
    return Outcome(report, tables, [], _deliver(report, output))


# --- helpers ----------------------------------------------------------------------


def _followable(path: str) -> str:
    if path == STDIN or any(c in path for c in "*?[") or Path(path).is_dir():
        raise ReportError(
            f"{path}: the nightly report follows log files by name; give base names such as /var/log/mail.log "
            "(or use --since/--until for an ad-hoc window over globs, directories or stdin)"
        )
    return path


def _day(result: ScanResult, settings: Settings, now: datetime | None) -> date:
    """The night a run stands for: the local date of the last line read (else of now)."""
    tz = ZoneInfo(settings.timezone)
    when = result.summary.last_ts or now or datetime.now(tz)
    return when.astimezone(tz).date()


def _title(result: ScanResult, when: str) -> str:
    hosts = result.summary.hosts
    names = ", ".join(hosts[:3]) + (f" (+{len(hosts) - 3})" if len(hosts) > 3 else "")
    return f"loganalyzer report: {names + ', ' if names else ''}{when}"


def _run_key(runs: int, reads: list[state.PlannedRead]) -> str:
    """Same for a rerun of an attempt that did not commit; different for every committed run."""
    starts = sorted((r.file.fingerprint or "", r.file.inode, r.offset) for r in reads)
    return hashlib.sha256(json.dumps([runs, starts]).encode()).hexdigest()[:16]


def _deliver(report: NightlyReport, output: Output) -> str:
    rendered = RENDERERS[output.fmt](report)
    if output.path is not None:
        try:
            output.path.write_text(rendered, encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"-o {output.path}: {exc.strerror or exc}") from None
    if output.mail is not None:
        message = mail.build_message(
            subject=subject(report), text=render_text(report), html=render_html(report), options=output.mail
        )
        mail.send(message, options=output.mail)
    if output.path is None and output.mail is None and output.echo is not None:
        output.echo(rendered)
    return rendered


def _window(tables: Tables, since: datetime | None, until: datetime | None) -> Tables:
    """The rows of ``tables`` whose time stamp lies in [since, until); per-file line counts to match."""
    keep = pl.col("ts").is_not_null()
    if since is not None:
        keep &= pl.col("ts") >= since.astimezone(UTC)
    if until is not None:
        keep &= pl.col("ts") < until.astimezone(UTC)
    events = tables.events.filter(keep).collect()
    unparsed = tables.unparsed.filter(keep).collect()
    source = pl.col("source").cast(pl.String)
    kept = pl.concat([events.select(source), unparsed.select(source)])
    counts = {str(s): int(n) for s, n in kept.group_by("source").len().iter_rows()}
    stats = ReadStats([dataclasses.replace(s, lines=counts.get(s.path, 0)) for s in tables.stats.sources])
    return Tables([events], [unparsed], stats)


_AGO = re.compile(r"^(?P<n>[0-9]+)\s*(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str, *, now: datetime, tz: str) -> datetime:
    """A ``--since``/``--until`` value as an aware datetime.

    ``now``, ``today`` and ``yesterday`` (local midnight, as in journalctl), ``24h``,
    ``90m``, ``7d`` or ``2w`` ago, an ISO date (local midnight) or an ISO date and time
    (local unless it carries an offset).
    """
    zone = ZoneInfo(tz)
    text = value.strip().lower()
    local_now = now.astimezone(zone)
    if text == "now":
        return now
    if text in ("today", "yesterday"):
        day = local_now.date() - timedelta(days=1 if text == "yesterday" else 0)
        return datetime.combine(day, time(), zone)
    if m := _AGO.match(text):
        return now - timedelta(**{_UNITS[m.group("unit")]: int(m.group("n"))})
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return datetime.combine(date.fromisoformat(text), time(), zone)
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ReportError(f"{value!r} is not a time: use 24h, 7d, today, yesterday, 2024-04-16 or 2024-04-16T06:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
