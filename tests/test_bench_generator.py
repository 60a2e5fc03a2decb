"""The benchmark (issues 4 and 5): its synthetic logs, its options, its target checks.

The generated logs must be deterministic and fully parsed; nothing here is
timed, and the target checks run on made-up measurements.
"""

from __future__ import annotations

import json
import re
import statistics
from datetime import datetime, timedelta
from itertools import islice, pairwise
from pathlib import Path

import polars as pl
import pytest

from loganalyzer.bench import (
    EximOptions,
    Measurement,
    ToolResult,
    check_targets,
    ensure_log,
    figures,
    generate_exim,
    generate_postfix,
    iter_exim_lines,
    iter_postfix_lines,
    main,
    measure,
)
from loganalyzer.bench.command import build_parser, parse_modes
from loganalyzer.bench.exim import base62, exim_duration
from loganalyzer.bench.logs import GeneratedLog, count_arrivals
from loganalyzer.bench.runs import eximstats_received, parse_stats, round_order
from loganalyzer.parse import parse_line
from loganalyzer.reading import read
from loganalyzer.settings import Settings

LINES = 3000
SETTINGS = Settings(timezone="UTC", year=2025)
OLD_ID = re.compile(r"^\S+ \S+ (?:\[\d+\] )?[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2} ")
NEW_ID = re.compile(r"^\S+ \S+ (?:\[\d+\] )?[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4} ")
#: Upgrade after 6 minutes and the extra selectors after 12: both halves of each fit in 4000 lines.
EXIM_OPTIONS = EximOptions(upgrade_hours=0.1, extras_hours=0.2)
EXIM_LINES = 4000


# --- the Postfix log -------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "postfix.log"
    log = generate_postfix(path, LINES, seed=42)
    assert log.lines == LINES
    assert log.bytes == path.stat().st_size
    return path


def test_same_seed_same_bytes(generated: Path, tmp_path: Path) -> None:
    again = generate_postfix(tmp_path / "again.log", LINES, seed=42)
    assert again.path.read_bytes() == generated.read_bytes()


def test_other_seed_other_bytes(generated: Path, tmp_path: Path) -> None:
    other = generate_postfix(tmp_path / "other.log", LINES, seed=43)
    assert other.path.read_bytes() != generated.read_bytes()


def test_size_limit(tmp_path: Path) -> None:
    log = generate_postfix(tmp_path / "sized.log", None, seed=1, size_bytes=100_000)
    assert 100_000 <= log.bytes < 100_000 + 1000
    assert log.lines == log.path.read_bytes().count(b"\n")


def test_iterator_is_the_file(generated: Path) -> None:
    lines = generated.read_text(encoding="ascii").splitlines()
    assert lines[:200] == [line for _, line in zip(range(200), iter_postfix_lines(42), strict=False)]


def test_every_line_parses(generated: Path) -> None:
    tables = read(str(generated), SETTINGS)
    assert tables.stats.lines == LINES
    unparsed = tables.unparsed.select("raw").collect()
    assert unparsed.height == 0, unparsed["raw"].to_list()[:5]
    kinds = set(tables.kind_counts())
    expected = {"connect", "disconnect", "reject", "client", "delivery", "queued", "removed", "greylist"}
    assert expected <= kinds, expected - kinds


def test_timestamps_do_not_go_back(generated: Path) -> None:
    tables = read(str(generated), SETTINGS)
    ts = tables.events.select("seq", "ts").collect().sort("seq")["ts"]
    assert ts.null_count() == 0
    assert (ts.diff().drop_nulls() >= timedelta(0)).all()
    assert ts[-1] > ts[0]


# --- the Exim mainlog (issue 4) ------------------------------------------------------------


@pytest.fixture(scope="module")
def exim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "mainlog"
    log = generate_exim(path, EXIM_LINES, seed=42, options=EXIM_OPTIONS)
    assert log.lines == EXIM_LINES
    assert log.bytes == path.stat().st_size
    return path


def test_exim_same_seed_same_bytes(exim_log: Path, tmp_path: Path) -> None:
    again = generate_exim(tmp_path / "again", EXIM_LINES, seed=42, options=EXIM_OPTIONS)
    assert again.path.read_bytes() == exim_log.read_bytes()


def test_exim_other_seed_or_options_other_bytes(exim_log: Path, tmp_path: Path) -> None:
    other = generate_exim(tmp_path / "other", EXIM_LINES, seed=43, options=EXIM_OPTIONS)
    assert other.path.read_bytes() != exim_log.read_bytes()
    later = generate_exim(tmp_path / "later", EXIM_LINES, seed=42, options=EximOptions(None, None))
    assert later.path.read_bytes() != exim_log.read_bytes()


def test_exim_iterator_is_the_file(exim_log: Path) -> None:
    lines = exim_log.read_text(encoding="ascii").splitlines()
    stream = iter_exim_lines(42, upgrade_hours=EXIM_OPTIONS.upgrade_hours, extras_hours=EXIM_OPTIONS.extras_hours)
    assert lines[:300] == list(islice(stream, 300))


def test_exim_every_line_parses(exim_log: Path) -> None:
    """Bulk-parsed with nothing left over, and the pyparsing path agrees on examples of every kind."""
    tables = read(str(exim_log), SETTINGS)
    assert tables.stats.lines == EXIM_LINES
    unparsed = tables.unparsed.select("raw").collect()
    assert unparsed.height == 0, unparsed["raw"].to_list()[:5]
    kinds = tables.kind_counts()
    expected = {
        "arrival",  # <= (esmtps with X= and CV=, esmtpsa with A=, local, bounces <= <> R=)
        "delivery",  # => -> local and remote, == deferrals, ** failures
        "completed",
        "reject",  # rejected / temporarily rejected RCPT, EHLO, MAIL, connection; rejected after DATA
        "sender-verify-fail",
        "connect",  # SMTP connection from ... (TCP/IP connection count = N)
        "disconnect",  # ... closed by QUIT|EOF
        "no-mail",
        "session-error",  # unexpected disconnection
        "tls-error",  # TLS error on connection from ... (SSL_accept)
        "tls-start-failed",  # TLS session: ... delivering unencrypted
        "sync-error",
        "protocol-error",  # SMTP protocol / syntax error
        "dropped",  # SMTP call from ... dropped
        "sasl-failure",  # authenticator failed
        "dkim",  # DKIM: d=... [verification succeeded]
        "no-ptr",
        "queue-run",
        "daemon",
    }
    assert expected <= set(kinds), expected - set(kinds)
    lines = exim_log.read_text(encoding="ascii").splitlines()
    examples = (
        tables.events.select("line_no", pl.col("kind").cast(pl.String))
        .collect()
        .group_by("kind", maintain_order=True)
        .head(3)
        .select("line_no", "kind")
    )
    for line_no, kind in examples.iter_rows():
        assert parse_line(lines[line_no - 1]).kind == kind, lines[line_no - 1]


def test_exim_timestamps_do_not_go_back(exim_log: Path) -> None:
    stamps = [line[:19] for line in exim_log.read_text(encoding="ascii").splitlines()]
    assert stamps == sorted(stamps)
    assert stamps[-1] > stamps[0]


def test_exim_upgrade_and_selectors_change_mid_log(exim_log: Path) -> None:
    """4.96's 6-6-2 ids and Debian's selectors first; 4.97's 6-11-4 ids and [pid], ports, I= later."""
    lines = exim_log.read_text(encoding="ascii").splitlines()
    starts = [i for i, line in enumerate(lines) if " daemon started: " in line]
    assert len(starts) == 3, starts
    assert "exim 4.96 daemon" in lines[starts[0]] and "exim 4.97.1 daemon" in lines[starts[1]]
    arrivals = [line for line in lines if " <= " in line]
    assert OLD_ID.match(arrivals[0]) and NEW_ID.match(arrivals[-1])
    assert any(OLD_ID.match(line) for line in lines) and any(NEW_ID.match(line) for line in lines)
    # Sessions that began before a restart keep the old ways: give them the 5 minutes of a timeout.
    settled = datetime.fromisoformat(lines[starts[2]][:19]) + timedelta(seconds=301)
    before = lines[: starts[1]]
    after = [line for line in lines if datetime.fromisoformat(line[:19]) > settled]
    assert len(after) > 1000
    assert not any(re.match(r"^\S+ \S+ \[\d+\] ", line) for line in before)
    assert all(re.match(r"^\S+ \S+ \[\d+\] ", line) for line in after)
    assert any(" I=[192.0.2.25]:25" in line and "]:" in line.split(" I=")[0] for line in after)
    assert not any("SMTP connection from" in line for line in before)


def test_exim_never_upgraded_has_only_old_ids(tmp_path: Path) -> None:
    log = generate_exim(tmp_path / "old", 1500, seed=5, options=EximOptions(upgrade_hours=None, extras_hours=0))
    text = log.path.read_text(encoding="ascii").splitlines()
    assert any(OLD_ID.match(line) for line in text)
    assert not any(NEW_ID.match(line) for line in text)
    assert all(re.match(r"^\S+ \S+ \[\d+\] ", line) for line in text)


def test_exim_helpers() -> None:
    assert [exim_duration(s) for s in (0, 0.4, 42, 120, 3787, 90061)] == ["0s", "0s", "42s", "2m", "1h3m7s", "1d1h1m1s"]
    assert base62(0, 4) == "0000" and base62(61, 2) == "0z" and base62(62, 2) == "10"


def test_count_arrivals(tmp_path: Path) -> None:
    path = tmp_path / "mainlog"
    path.write_text("a <= x\nb => y\nc <= z\nno newline <= at end")
    assert count_arrivals(path) == 3


# --- files, options, measurement ----------------------------------------------------------


def test_ensure_log_names_and_reuse(tmp_path: Path) -> None:
    first = ensure_log(tmp_path, mta="exim", lines=300, seed=3, exim=EximOptions(1, None))
    assert first.path.name == "exim-v1-seed3-300lines-u1h-xnever.log" and first.lines == 300
    again = ensure_log(tmp_path, mta="exim", lines=300, seed=3, exim=EximOptions(1, None))
    assert again.path == first.path and again.seconds == 0 and again.lines == 300
    other = ensure_log(tmp_path, mta="exim", lines=300, seed=3, exim=EximOptions(0, None))
    assert other.path != first.path
    postfix = ensure_log(tmp_path, lines=300, seed=3)
    assert postfix.path.name == "postfix-v1-seed3-300lines.log"
    with pytest.raises(ValueError, match="unknown MTA"):
        ensure_log(tmp_path, mta="sendmail", lines=10)


def test_cli_options_parse() -> None:
    args = build_parser().parse_args(
        ["--mta", "exim", "--lines", "5000", "--mode", "scan,scan-cached", "--growth", "--jobs", "2",
         "--exim-upgrade-hours", "never", "--exim-extras-hours", "0", "--no-pflogsumm", "--json"]
    )  # fmt: skip
    assert args.mta == "exim" and args.lines == 5000 and args.jobs == 2 and args.growth and args.json
    assert args.mode == ("scan", "scan-cached")
    assert args.exim_upgrade_hours is None and args.exim_extras_hours == 0
    assert args.no_baseline and not args.versus_postfix
    assert build_parser().parse_args(["--mta", "exim", "--versus-postfix"]).versus_postfix
    defaults = build_parser().parse_args([])
    assert defaults.mta == "postfix" and defaults.mode == ("parse", "scan", "scan-cached") and not defaults.growth
    assert parse_modes("both") == ("parse", "scan") and parse_modes("scan,all") == ("scan", "parse", "scan-cached")


@pytest.mark.parametrize(
    "argv",
    [
        ["--mode", "fast"],
        ["--mta", "sendmail"],
        ["--lines", "10", "--size-mb", "1"],
        ["--exim-upgrade-hours", "soon"],
        ["--runs", "0"],
        ["--mta", "exim", "--hosts", "2"],
        ["--versus-postfix"],
    ],
)
def test_cli_rejects_bad_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_generate_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mta", "exim", "--lines", "400", "--workdir", str(tmp_path), "--generate-only"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == tmp_path and path.read_bytes().count(b"\n") == 400


def test_report_without_timing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table and JSON output, from made-up runs: targets with verdicts, eximstats's coverage noted."""
    from loganalyzer.bench import command
    from loganalyzer.bench.runs import BenchRun

    seen: dict[str, object] = {}

    def fake_run(log: object, **kwargs: object) -> BenchRun:
        seen.update(kwargs)
        lines = 400
        results = [
            _tool("loganalyzer parse", [0.4], [250], lines=lines),
            _tool("loganalyzer scan", [0.5], [260], lines=lines),
            _tool("loganalyzer scan-cached", [0.1], [200], lines=lines),
            _tool("eximstats", [1.0], [12], lines=lines, role="baseline"),
        ]
        return BenchRun(results, {"lines": lines, "unparsed": 0}, True, [], "  Received   1MB   3   2\n")

    monkeypatch.setattr(command, "run_benchmark", fake_run)
    monkeypatch.setattr(command, "find_baseline", lambda name: f"/nowhere/{name}")
    monkeypatch.setattr(command, "baseline_version", lambda name, path: f"{name} 4.96")
    base = ["--mta", "exim", "--lines", "400", "--workdir", str(tmp_path), "--runs", "2", "--jobs", "2"]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert seen["runs"] == 2 and seen["jobs"] == 2 and seen["baseline"] == ("eximstats", "/nowhere/eximstats")
    assert "scan wall / eximstats wall" in out and "not measured" in out and "FAIL" in out and "pass" in out
    assert "eximstats counted 3 of the log's" in out
    assert main([*base, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["baseline"] == "eximstats" and report["baseline_coverage"]["eximstats_received"] == 3
    assert {t["target"]: t["passed"] for t in report["targets"]}["cached_vs_first"] is True
    assert [r["tool"] for r in report["results"]][-1] == "eximstats"
    assert seen["reference"] is None
    assert main([*base, "--versus-postfix", "--mode", "scan"]) == 0
    reference = seen["reference"]
    assert isinstance(reference, GeneratedLog) and "postfix" in reference.path.name and reference.lines == 400
    assert seen["modes"] == ["parse", "scan"]  # the comparison needs parse
    assert "Postfix log" in capsys.readouterr().out


def test_measure_reports_the_child_not_the_benchmark() -> None:
    """A child's peak RSS is its own, not this (polars-loaded) process's, which Linux would charge to it."""
    m = measure(["true"])
    assert 0 < m.peak_rss_kb < 60_000
    shown = measure(["echo", "hello"], capture=True)
    assert shown.stdout == "hello\n"
    with pytest.raises(RuntimeError, match="exited 1"):
        measure(["false"])


def test_report_figures_are_read() -> None:
    stats = "lines read      200,000\nparsed          199,990\nunparsed        7  (0.01%; 3 not log lines)\n"
    assert parse_stats(stats) == {"lines": 200_000, "unparsed": 10}
    report = (
        "Grand total summary\n  TOTAL  Volume  Messages\n  Received   134MB   4916   2230\n  Delivered  224MB  8120\n"
    )
    assert eximstats_received(report) == 4916
    assert eximstats_received("**** No valid log lines read") is None


# --- issue 5's targets on made-up measurements ------------------------------------------------


def _tool(
    name: str, walls: list[float], rss_mb: list[float], *, lines: int = 1_000_000, role: str = "loganalyzer"
) -> ToolResult:
    runs = [Measurement(w, int(r * 1024)) for w, r in zip(walls, rss_mb, strict=True)]
    return ToolResult(name, [name], lines, runs, role=role)


def _verdicts(results: list[ToolResult]) -> dict[str, bool | None]:
    return {c.target.key: c.passed for c in check_targets(figures(results))}


def test_targets_pass_and_fail() -> None:
    results = [
        _tool("loganalyzer parse", [1.5, 1.6, 1.4], [310, 320, 300]),
        _tool("loganalyzer scan", [2.0, 9.0, 1.9], [350, 380, 360]),  # median 2.0 s: 500,000 lines/s
        _tool("loganalyzer scan-cached", [0.45, 0.4, 0.5], [200, 210, 205]),
        _tool("pflogsumm", [7.0, 6.0, 8.0], [40, 40, 40], role="baseline"),
        _tool("loganalyzer scan (growth log)", [8.0, 8.1, 8.2], [600, 610, 590], lines=4_000_000, role="growth"),
    ]
    values = figures(results)
    assert values["scan_vs_baseline"] == pytest.approx(2.0 / 7.0)
    assert values["scan_lines_per_s"] == pytest.approx(500_000)
    assert values["peak_rss_mb"] == pytest.approx(360)
    assert values["growth_rss_ratio"] == pytest.approx(600 / 360)
    assert values["cached_vs_first"] == pytest.approx(0.225)
    assert _verdicts(results) == {
        "scan_vs_baseline": True,
        "scan_lines_per_s": True,
        "peak_rss_mb": True,
        "growth_rss_ratio": False,
        "cached_vs_first": True,
        "exim_parse_vs_postfix": None,
    }


def test_targets_at_their_limits() -> None:
    """<= limits pass at the limit; the cached run must be strictly under a quarter."""
    results = [
        _tool("loganalyzer scan", [2.0], [400.0], lines=900_000),  # 450,000 lines/s, 400 MB
        _tool("loganalyzer scan-cached", [0.5], [100]),  # exactly 1/4
        _tool("eximstats", [2.0 / 0.33], [10], role="baseline"),
        _tool("loganalyzer scan (growth log)", [8], [600.0], role="growth"),  # exactly 1.5x
    ]
    verdicts = _verdicts(results)
    assert verdicts == {
        "scan_vs_baseline": True,
        "scan_lines_per_s": True,
        "peak_rss_mb": True,
        "growth_rss_ratio": True,
        "cached_vs_first": False,
        "exim_parse_vs_postfix": None,
    }
    slower = [_tool("loganalyzer scan", [2.1], [401.0], lines=900_000), *results[1:]]
    assert _verdicts(slower)["scan_lines_per_s"] is False and _verdicts(slower)["peak_rss_mb"] is False


def test_unmeasured_targets_have_no_verdict() -> None:
    checks = check_targets(figures([_tool("loganalyzer parse", [1.0], [200])]))
    assert {c.target.key: c.passed for c in checks} == {
        "scan_vs_baseline": None,
        "scan_lines_per_s": None,
        "peak_rss_mb": True,
        "growth_rss_ratio": None,
        "cached_vs_first": None,
        "exim_parse_vs_postfix": None,
    }
    assert {c.verdict for c in checks} == {"not measured", "pass"}


def test_exim_parse_is_compared_with_postfix_round_by_round() -> None:
    """Issue 4's target: the Exim log parsed at least as fast as the Postfix log, in lines/s, round by round."""
    exim = _tool("loganalyzer parse", [10.0, 22.0, 9.0], [700, 700, 700], lines=1_000_000)
    postfix = _tool(
        "loganalyzer parse (Postfix log)", [9.0, 20.0, 9.9], [700, 700, 700], lines=900_000, role="reference"
    )
    # Exim lines/s over Postfix lines/s per round: (1e6/10)/(9e5/9) = 1.0, (1e6/22)/(9e5/20) = 1.01, 1.22
    assert figures([exim, postfix])["exim_parse_vs_postfix"] == pytest.approx(1e6 / 22 / (9e5 / 20))
    assert _verdicts([exim, postfix])["exim_parse_vs_postfix"] is True
    slower = _tool("loganalyzer parse", [11.0, 23.0, 9.0], [700, 700, 700], lines=1_000_000)
    assert _verdicts([slower, postfix])["exim_parse_vs_postfix"] is False
    # the Postfix log's run is no loganalyzer mode of the Exim log: it has no ratio to the baseline
    assert postfix.to_dict(_tool("eximstats", [3.0] * 3, [40] * 3, role="baseline"))["wall_ratio_vs_baseline"] is None


def test_rounds_alternate_their_order() -> None:
    # no tool always runs right after the same one: every other round is reversed
    tools = [_tool(name, [1.0], [1]) for name in ("loganalyzer parse", "eximstats", "loganalyzer parse (Postfix log)")]
    orders = [[t.name for t in round_order(tools, i)] for i in range(4)]
    assert orders[0] == orders[2] == [t.name for t in tools]
    assert orders[1] == orders[3] == orders[0][::-1]
    followers = {pair for order in orders for pair in pairwise(order)}
    assert ("eximstats", "loganalyzer parse (Postfix log)") in followers
    assert ("eximstats", "loganalyzer parse") in followers


def test_paired_ratio_follows_each_round() -> None:
    # the machine ran twice as slow in round 2: both tools took twice as long
    scan = _tool("loganalyzer scan", [10.0, 20.0, 11.0], [700, 700, 700])
    base = _tool("pflogsumm", [9.0, 18.0, 10.0], [90, 90, 90], role="baseline")
    row = scan.to_dict(base)
    assert row["wall_ratio_vs_baseline"] == pytest.approx(11.0 / 10.0)
    assert row["paired_ratio_vs_baseline"] == round(statistics.median([10 / 9, 20 / 18, 11 / 10]), 3)  # 1.111
    assert base.to_dict(base)["paired_ratio_vs_baseline"] is None


def test_the_package_is_timed_byte_compiled() -> None:
    """As pip install leaves it: PYTHONDONTWRITEBYTECODE would make every timed process compile it."""
    import importlib.util

    import loganalyzer
    from loganalyzer.bench import runs

    package = Path(loganalyzer.__file__).parent
    compiled = [Path(importlib.util.cache_from_source(str(package / m))) for m in ("errors.py", "parse.py")]
    compiled[0].unlink(missing_ok=True)  # (an import may have written it: then it must come back)
    runs._byte_compile()
    for path in compiled:
        assert path.is_file(), path
