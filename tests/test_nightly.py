"""Issue 6: the nightly report reads every line exactly once, through rotations and crashes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from loganalyzer import history, nightly, state
from loganalyzer.cli import app
from loganalyzer.report.digest import render_text
from loganalyzer.report.mail import DeliveryError

from . import nights
from .conftest import GOLDEN
from .golden import check_text
from .nights import LOG, STATE, append, night, rotate, run, text_read, three_nights

COMMON = ["--timezone", "UTC", "--year", "2024", "--no-dns"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # never the real /var/lib/loganalyzer or ~/.local/state, whatever a test forgets to pass
    monkeypatch.setattr(state, "SYSTEM_STATE_DIR", str(tmp_path / "var-lib-loganalyzer"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def test_the_default_state_dir_is_used_without_state_dir(cli: CliRunner, tmp_path: Path) -> None:
    LOG.write_text(night(1))
    result = cli.invoke(app, ["report", "mail.log", *COMMON])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var-lib-loganalyzer" / "state.json").exists()


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _crash(*_: object, **__: object) -> None:
    raise RuntimeError("killed")


@pytest.mark.parametrize(
    "first,second",
    [
        ("rename-gzip", "copytruncate"),
        ("copytruncate-gzip", "rename-delaycompress"),
        ("rename-delaycompress", "copytruncate-gzip"),
    ],
)
@pytest.mark.parametrize("killed", ["before-delivery", "delivery", "between-history-and-state"])
def test_three_nights_count_every_line_exactly_once(
    first: str, second: str, killed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, three = _lines(night(1)), _lines(night(2)), _lines(night(3))
    read: list[str] = []
    reports: list[nightly.Outcome] = []

    # night 1: cron runs while the day is still being logged
    LOG.write_text("".join(one[:60]))
    reports.append(run())
    read.append(text_read(reports[-1]))
    append("".join(one[60:]))

    # logrotate, then night 2 so far, with its last line half written
    rotate(first)
    half = len(two[40]) // 2
    append("".join(two[:40]) + two[40][:half])
    saved = (STATE / "state.json").read_bytes()
    stored = history.load(STATE)
    with monkeypatch.context() as m:
        if killed == "before-delivery":
            m.setattr(nightly.history, "trends", _crash)
        elif killed == "delivery":
            m.setattr(nightly, "_deliver", lambda *a: (_ for _ in ()).throw(DeliveryError("refused")))
        else:
            m.setattr(nightly.state, "save", _crash)
        with pytest.raises((RuntimeError, DeliveryError)):
            run()
    assert (STATE / "state.json").read_bytes() == saved  # nothing was committed
    if killed != "between-history-and-state":
        assert history.load(STATE).equals(stored)
    reports.append(run())  # the rerun covers the same lines (the half line waits)
    read.append(text_read(reports[-1]))
    assert not read[-1].endswith(two[40][:half])

    append(two[40][half:] + "".join(two[41:]))
    rotate(second)
    append("".join(three))
    reports.append(run())
    read.append(text_read(reports[-1]))

    assert "".join(read) == night(1) + night(2) + night(3)
    assert sum(r.report.result.summary.lines for r in reports) == len(one) + len(two) + len(three)
    # the history holds each night once, also after a crash between writing it and the state
    runs = history.load(STATE).filter(pl.col("detector") == history.MARKER).sort("day")
    assert runs["count"].to_list() == [r.report.result.summary.lines for r in reports]
    assert runs["day"].to_list() == [date(2024, 4, 15), date(2024, 4, 16), date(2024, 4, 17)]


def test_an_unchanged_log_gives_an_empty_report_and_keeps_the_offsets() -> None:
    LOG.write_text(night(1))
    run()
    again = run()
    assert again.report.result.summary.lines == 0
    assert [s.how for s in again.report.reads] == ["resumed"] and again.report.reads[0].where == "no new lines"
    assert "no findings" in again.rendered
    records = state.load(STATE).logs[str(Path(LOG).resolve())]
    assert [(r.offset, r.line) for r in records] == [(len(night(1).encode()), len(_lines(night(1))) + 1)]


def test_the_night_report_is_golden(update_golden: bool) -> None:
    *_, third = three_nights()
    text = render_text(third.report)
    check_text(GOLDEN / "report" / "night-3.txt", text, update=update_golden)
    assert max(len(line) for line in text.splitlines()) <= 80  # fits an 80-column mail
    assert third.rendered == text


def test_the_third_night_shows_the_trends() -> None:
    *_, third = three_nights()
    trends = third.report.trends
    assert trends is not None and trends.history_nights == 2
    assert {t.network for t in trends.new} == {"198.18.41.0/24", "2001:db8:9::/48"}
    assert [(t.network, t.tonight, t.average) for t in trends.worse] == [("198.18.10.0/24", 6, 1.5)]
    assert [t.network for t in trends.better] == ["198.18.50.0/24"]
    assert trends.top[0].network == "198.18.10.0/24" and trends.top[0].nights[-3:] == (2, 1, 6)


def test_markdown_and_html_formats() -> None:
    LOG.write_text(night(3))
    out = run(output=nightly.Output("markdown", Path("r.md")))
    text = Path("r.md").read_text()
    assert out.rendered == text and text.startswith("# loganalyzer report: mx1, 2024-04-17")
    assert "## rapid-retry" in text and "| network" in text
    (STATE / "state.json").unlink()
    run(output=nightly.Output("html", Path("r.html")))
    assert Path("r.html").read_text().startswith("<!DOCTYPE html>")


# --- ad-hoc windows -------------------------------------------------------------------


def test_window_reads_only_the_lines_inside_it() -> None:
    for i in (1, 2, 3):
        Path(f"n{i}.log").write_text(night(i))
    since = datetime(2024, 4, 16, tzinfo=UTC)
    until = datetime(2024, 4, 17, tzinfo=UTC)
    out = nightly.run_window(["n*.log"], nights.SETTINGS, since=since, until=until, output=nightly.Output())
    summary = out.report.result.summary
    assert summary.lines == len(_lines(night(2)))
    assert summary.first_ts is not None and summary.first_ts.date() == date(2024, 4, 16)
    assert [s["lines"] for s in summary.sources] == [0, len(_lines(night(2))), 0]
    assert out.report.trends is None and not STATE.exists()
    assert "state and history untouched" in out.report.notes[0]


def test_window_bounds_in_a_local_zone() -> None:
    Path("n2.log").write_text(night(2))
    berlin = ZoneInfo("Europe/Berlin")  # 16:30 CEST is 14:30 UTC
    since, until = datetime(2024, 4, 16, 16, 30, tzinfo=berlin), datetime(2024, 4, 16, 17, 0, tzinfo=berlin)
    out = nightly.run_window(["n2.log"], nights.SETTINGS, since=since, until=until, output=nightly.Output())
    assert out.report.result.summary.lines == 5  # one failed handshake at 14:40:40 UTC
    assert {f["detector"] for f in out.report.findings} == {"tls-no-shared-cipher"}


@pytest.mark.parametrize(
    "value,expected",
    [
        ("24h", datetime(2024, 4, 16, 6, 30, tzinfo=UTC)),
        ("90m", datetime(2024, 4, 17, 5, 0, tzinfo=UTC)),
        ("7d", datetime(2024, 4, 10, 6, 30, tzinfo=UTC)),
        ("yesterday", datetime(2024, 4, 15, 22, 0, tzinfo=UTC)),  # local midnight in Berlin (CEST)
        ("today", datetime(2024, 4, 16, 22, 0, tzinfo=UTC)),
        ("2024-04-01", datetime(2024, 3, 31, 22, 0, tzinfo=UTC)),
        ("2024-04-01T06:00", datetime(2024, 4, 1, 4, 0, tzinfo=UTC)),
        ("2024-04-01T06:00+00:00", datetime(2024, 4, 1, 6, 0, tzinfo=UTC)),
    ],
)
def test_parse_when(value: str, expected: datetime) -> None:
    now = datetime(2024, 4, 17, 6, 30, tzinfo=UTC)
    assert nightly.parse_when(value, now=now, tz="Europe/Berlin") == expected


def test_parse_when_refuses_nonsense() -> None:
    with pytest.raises(nightly.ReportError, match="not a time"):
        nightly.parse_when("last tuesday", now=datetime.now(UTC), tz="UTC")


# --- the command line ---------------------------------------------------------------


def test_cli_report_prints_then_resumes(cli: CliRunner) -> None:
    LOG.write_text(night(1))
    first = cli.invoke(app, ["report", "mail.log", "--state-dir", "state", *COMMON])
    assert first.exit_code == 0, first.output
    assert "rapid-retry" in first.stdout and "first run" in first.stdout
    second = cli.invoke(app, ["report", "mail.log", "--state-dir", "state", *COMMON])
    assert second.exit_code == 0 and "no new lines" in second.stdout and "lines read      0" in second.stdout


def test_cli_second_concurrent_run_exits_2(cli: CliRunner) -> None:
    LOG.write_text(night(1))
    STATE.mkdir()
    with state.locked(STATE):
        result = cli.invoke(app, ["report", "mail.log", "--state-dir", "state", *COMMON])
    assert result.exit_code == 2
    assert "another loganalyzer report is running" in result.stderr
    assert not (STATE / "state.json").exists()


def test_cli_fail_on_exits_1_after_committing(cli: CliRunner) -> None:
    LOG.write_text(night(3))
    result = cli.invoke(app, ["report", "mail.log", "--state-dir", "state", "--fail-on", "data-after-reject", *COMMON])
    assert result.exit_code == 1
    assert (STATE / "state.json").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["-", "--state-dir", "state"], "follows log files by name"),
        (["n*.log", "--state-dir", "state"], "follows log files by name"),
        (["mail.log", "--since", "24h", "--state-dir", "state"], "without state"),
        (["mail.log", "--since", "someday"], "not a time"),
        (["mail.log", "--format", "pdf", "--state-dir", "state"], "--format must be one of"),
        (["missing.log", "--state-dir", "state"], "no such file"),
        (["mail.log", "--mail-to", "root", "--state-dir", "state"], "not a mail address"),
        (["mail.log", "--mail-to", "root@localhost", "--smtp-host", "x:y", "--state-dir", "state"], "host[:port]"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(cli: CliRunner, args: list[str], message: str) -> None:
    LOG.write_text(night(1))
    result = cli.invoke(app, ["report", *args, *COMMON])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_window(cli: CliRunner) -> None:
    Path("n2.log").write_text(night(2))
    result = cli.invoke(app, ["report", "n2.log", "--since", "2024-04-16T14:00", "--until", "2024-04-16T15:00",
                              "--format", "markdown", *COMMON])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "window 2024-04-16 14:00 .. 2024-04-16 15:00 (UTC)" in result.stdout
    assert "## tls-no-shared-cipher" in result.stdout and "## rapid-retry" not in result.stdout
