"""``loganalyzer scan`` and ``loganalyzer show``: formats, schema, exit codes."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app

from .conftest import SAMPLES

SCENARIOS = SAMPLES / "postfix" / "scenarios"
COMMON = ["--timezone", "UTC", "--year", "2024", "--no-dns"]
SCHEMA = json.loads((resources.files("loganalyzer") / "report" / "scan.schema.json").read_text())


def _scan(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, ["scan", *args, *COMMON])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "path", [*sorted(SCENARIOS.glob("*.log")), SAMPLES / "postfix" / "normal-day.log"], ids=lambda p: p.stem
)
def test_json_output_matches_the_schema(cli: CliRunner, path: Path) -> None:
    code, out = _scan(cli, str(path), "--format", "json")
    assert code == 0
    document = json.loads(out)  # exactly one JSON object on stdout
    jsonschema.validate(document, SCHEMA)
    assert document["summary"]["lines"] == len(path.read_text().splitlines())


def test_json_evidence_is_limited_by_the_evidence_option(cli: CliRunner) -> None:
    code, out = _scan(cli, str(SCENARIOS / "data-after-reject.log"), "--format", "json", "--evidence", "1")
    assert code == 0
    assert all(len(f["evidence"]) == 1 for f in json.loads(out)["findings"])


def test_text_output(cli: CliRunner) -> None:
    code, out = _scan(cli, str(SCENARIOS / "rapid-retry.log"))
    assert code == 0
    assert "rapid-retry: retries sooner than the greylist delay" in out
    assert "198.18.10.0/24" in out and "bulkmailer.example" in out
    assert "rapid-retry.log:3,7,15,19" in out
    assert "\033[" not in out  # no colour when not on a terminal


def test_top_limits_the_text_report_not_the_data(cli: CliRunner) -> None:
    path = str(SCENARIOS / "lb-retry-reset.log")
    code, out = _scan(cli, path, "--group-by", "ip", "--top", "2")
    assert code == 0
    table = out.split("lb-retry-reset:")[1]
    assert "  3  " not in table and "... and 4 more (--top 0, or --format json/csv, lists all 6)" in table
    code, out = _scan(cli, path, "--group-by", "ip", "--top", "0")
    assert code == 0 and "  6  medium" in out.split("lb-retry-reset:")[1] and "more (--top 0" not in out
    code, out = _scan(cli, path, "--group-by", "ip", "--top", "2", "--format", "csv", "--no-cache")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 6


def test_csv_and_markdown(cli: CliRunner) -> None:
    code, out = _scan(cli, str(SCENARIOS / "tls-failures.log"), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["detector"] for r in rows} == {"tls-no-shared-cipher", "tls-handshake-failure"}
    code, out = _scan(cli, str(SCENARIOS / "tls-failures.log"), "--format", "markdown")
    assert code == 0 and "## tls-no-shared-cipher" in out and "| severity" in out


def test_fail_on(cli: CliRunner) -> None:
    path = str(SCENARIOS / "tls-failures.log")
    assert _scan(cli, path, "--fail-on", "any")[0] == 1
    assert _scan(cli, path, "--fail-on", "tls-no-shared-cipher,rapid-retry")[0] == 1
    assert _scan(cli, path, "--fail-on", "rapid-retry")[0] == 0
    code, out = _scan(cli, path, "--fail-on", "nonsense")
    assert code == 2 and "unknown detector nonsense" in out


def test_empty_log_is_a_clean_zero_report(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_text("")
    code, out = _scan(cli, str(path), "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["findings"] == [] and document["summary"]["lines"] == 0


def test_a_log_without_postfix_lines_says_so(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_text("Mar  1 12:00:00 host sshd[10]: Accepted publickey for root from 192.0.2.1 port 22 ssh2\n")
    code, out = _scan(cli, str(path))
    assert code == 0
    assert "none of the 1 lines came from Postfix or Exim" in out


def test_nonexistent_path_is_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    code, out = _scan(cli, str(tmp_path / "missing.log"))
    assert code == 2 and out.startswith("loganalyzer: error:") and "Traceback" not in out


def test_bad_options_are_exit_2(cli: CliRunner) -> None:
    path = str(SCENARIOS / "tls-failures.log")
    assert _scan(cli, path, "--group-by", "planet")[0] == 2
    assert _scan(cli, path, "--ipv4-prefix", "40")[0] == 2
    assert _scan(cli, path, "--format", "yaml")[0] == 2
    assert _scan(cli, path, "--detector", "nope")[0] == 2
    assert _scan(cli, path, "--asn-db", "/nonexistent.mmdb")[0] == 2


def test_config_file_for_scan(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "loganalyzer.toml"
    config.write_text('group-by = "org"\nlocal-domains = ["mail.example.org"]\ndns = false\n')
    code, out = _scan(cli, str(SCENARIOS / "lb-retry-reset.log"), "--config", str(config), "--format", "json")
    assert code == 0
    assert {f["network"] for f in json.loads(out)["findings"]} == {"bigmail.example", "2001:db8:5::/48"}


def test_show_prints_the_evidence_lines_in_order(cli: CliRunner) -> None:
    path = str(SCENARIOS / "rapid-retry.log")
    result = cli.invoke(app, ["show", path, "--network", "198.18.10.7/24", *COMMON])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("# rapid-retry (high):")
    assert [line.split(":", 2)[1] for line in lines[1:]] == ["3", "7", "15", "19"]
    assert all("NOQUEUE: reject: RCPT from mta1.bulkmailer.example[198.18.10.21]" in line for line in lines[1:])


def test_show_with_a_detector_and_no_finding(cli: CliRunner) -> None:
    path = str(SCENARIOS / "plaintext-fallback.log")
    ok = cli.invoke(app, ["show", path, "--network", "198.18.60.0/24", "--detector", "plaintext-fallback", *COMMON])
    assert ok.exit_code == 0 and ok.output.count("# ") == 1
    assert "client=out1.downgrader.example" in ok.output and "no shared cipher" in ok.output
    none = cli.invoke(app, ["show", path, "--network", "192.0.2.0/24", "--detector", "plaintext-fallback", *COMMON])
    assert none.exit_code == 1 and "no finding for 192.0.2.0/24" in none.output


def test_show_reads_compressed_sources(cli: CliRunner, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "mail.log.2.gz"
    path.write_bytes(gzip.compress((SCENARIOS / "tls-failures.log").read_bytes()))
    result = cli.invoke(app, ["show", str(path), "--network", "198.18.50.0/24", *COMMON])
    assert result.exit_code == 0 and result.output.count("TLS library problem") == 2
