"""The command line: outputs, files, exit codes, messages."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from loganalyzer import cli as cli_module
from loganalyzer.cli import app

from .conftest import SAMPLES

NORMAL = str(SAMPLES / "postfix" / "normal-day.log")


def test_parse_stats(cli: CliRunner) -> None:
    result = cli.invoke(app, ["parse", NORMAL, "--stats", "--timezone", "UTC"])
    assert result.exit_code == 0, result.output
    assert "lines read" in result.output and "delivery" in result.output and "unparsed" in result.output


@pytest.mark.parametrize("fmt,suffix", [("parquet", ".parquet"), ("arrow", ".arrow")])
def test_parse_writes_every_table(cli: CliRunner, tmp_path: Path, fmt: str, suffix: str) -> None:
    result = cli.invoke(app, ["parse", NORMAL, "-o", str(tmp_path), "--format", fmt, "--timezone", "UTC"])
    assert result.exit_code == 0, result.output
    for table in ("events", "sessions", "messages", "unparsed"):
        path = tmp_path / f"{table}{suffix}"
        assert path.exists()
        frame = pl.read_parquet(path) if fmt == "parquet" else pl.read_ipc(path)
        if table == "events":
            assert frame.height == 62 and "client_ip" in frame.columns
            assert frame.schema["kind"] == pl.Categorical()


def test_parse_needs_an_action(cli: CliRunner) -> None:
    result = cli.invoke(app, ["parse", NORMAL])
    assert result.exit_code == 2 and "nothing to do" in result.output


def test_missing_file_is_exit_2_one_line(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["parse", str(tmp_path / "nope.log"), "--stats"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"loganalyzer: error: {tmp_path / 'nope.log'}: no such file or directory"
    ]
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["parse", str(tmp_path / "nope.log"), "--stats", "--debug"])
    assert result.exit_code == 2 and "Traceback" in result.output


def test_bad_timezone(cli: CliRunner) -> None:
    result = cli.invoke(app, ["parse", NORMAL, "--stats", "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2 and "unknown time zone" in result.output


def test_config_file(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "la.toml"
    config.write_text('timezone = "UTC"\nyear = 2020\n')
    result = cli.invoke(app, ["parse", NORMAL, "--stats", "--config", str(config)])
    assert result.exit_code == 0 and "2020-03-04" in result.output
    config.write_text("colour = 1\n")
    result = cli.invoke(app, ["parse", NORMAL, "--stats", "--config", str(config)])
    assert result.exit_code == 2 and "unknown setting 'colour'" in result.output


def test_explain_match_and_miss(cli: CliRunner) -> None:
    good = "Mar  1 12:00:01 mx1 postfix/smtpd[2817]: connect from mail.example.net[198.51.100.7]"
    result = cli.invoke(app, ["explain", good])
    assert result.exit_code == 0
    assert "kind: connect" in result.output and "client_ip" in result.output and "198.51.100.7" in result.output
    bad = "Mar  1 12:00:01 mx1 postfix/smtpd[2817]: connect from mail.example.net"
    result = cli.invoke(app, ["explain", bad])
    assert result.exit_code == 1
    assert "no grammar matched" in result.output and "Expected '['" in result.output
    other = "Mar  1 12:00:01 mx1 dovecot: imap-login: Login: user=<a>"
    assert "other-program" in cli.invoke(app, ["explain", other]).output


def test_scan_without_paths_uses_the_bundled_sample(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli_module, "DEFAULT_LOG", str(tmp_path / "no-mail.log"))
    result = cli.invoke(app, ["scan", "--timezone", "UTC"])
    assert result.exit_code == 0, result.output
    assert "bundled sample" in result.output and "lines read" in result.output


@pytest.mark.parametrize("command", ["parse", "explain", "scan"])
def test_every_command_has_help(cli: CliRunner, command: str) -> None:
    result = cli.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_written_tables_load_back(cli: CliRunner, tmp_path: Path) -> None:
    from loganalyzer.tables import Tables

    assert cli.invoke(app, ["parse", NORMAL, "-o", str(tmp_path), "--timezone", "UTC"]).exit_code == 0
    tables = Tables.load(tmp_path)
    assert tables.events.select(pl.len()).collect().item() == 62
    assert tables.sessions.collect().height == 7
    assert tables.stats.lines == 62 and tables.stats.sources[0].path == NORMAL
