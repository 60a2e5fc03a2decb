"""The third-party corpus: coverage, and agreement with other projects' expectations.

Other projects' expectations are hints: where one disagrees with what Postfix's
source code writes, the test documents the difference instead of copying it.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from loganalyzer.parse import OTHER_PROGRAM, Parser, parse_line

from .corpus import corpus_dir, fail2ban_expectations, postfix_lines

pytestmark = pytest.mark.corpus

#: Known gaps: corpus lines that do not parse, and why (kept in step with the README).
KNOWN_GAPS = {
    "Something not supported": "lightmeter's own test input for an unsupported line",
    "delivered to command: procmai": "a line cut short by the collector (no closing parenthesis)",
}


@pytest.fixture(scope="module")
def root() -> Path:
    return corpus_dir()


def test_postfix_lines_parse_to_a_specific_kind(root: Path, parser: Parser) -> None:
    lines = postfix_lines(root)
    outcome = Counter()
    failures = []
    for case in lines:
        result = parse_line(case.line)
        problem = result.problem or "parsed"
        outcome[problem] += 1
        if problem not in ("parsed", OTHER_PROGRAM):
            failures.append(case.line)
    modelled = outcome["parsed"] + sum(n for p, n in outcome.items() if p not in ("parsed", OTHER_PROGRAM))
    ratio = outcome["parsed"] / modelled
    assert ratio >= 0.99, (ratio, failures)
    unexplained = [f for f in failures if not any(gap in f for gap in KNOWN_GAPS)]
    assert not unexplained


def test_bulk_reader_counts_the_same(root: Path, tmp_path: Path) -> None:
    from loganalyzer.reading import read
    from loganalyzer.settings import Settings

    lines = [c.line for c in postfix_lines(root)]
    path = tmp_path / "corpus.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tables = read(str(path), Settings(timezone="UTC", year=2024))
    events = tables.events.select(pl.len()).collect().item()
    unparsed = tables.unparsed.select(pl.len()).collect().item()
    assert events + unparsed == len(lines)  # nothing lost
    assert unparsed == len(KNOWN_GAPS)


def test_fail2ban_hosts_match_our_client_ip(root: Path) -> None:
    checked = 0
    for case in fail2ban_expectations(root):
        host = case.expect.get("host")
        if not case.expect.get("match") or not host:
            continue
        result = parse_line(case.line)
        if result.envelope is None:
            continue  # fail2ban's message-only test lines
        ours = result.fields.get("client_ip")
        assert ours == host, (case.line, result.kind, result.fields)
        checked += 1
    assert checked >= 40


#: grok capture -> our field. ``postfix_smtp_stage`` of a remote reply is the
#: command the remote answered, our ``command``.
GROK = {
    "postfix_client_ip": "client_ip",
    "postfix_client_hostname": "client_name",
    "postfix_client_port": "client_port",
    "postfix_queueid": "queue_id",
    "postfix_status": "status",
    "postfix_tls_version": "tls_protocol",
    "postfix_tls_cipher": "tls_cipher",
    "postfix_tls_trustlevel": "tls_trust",
    "postfix_dnsbl_domain": "dnsbl_domain",
    "postfix_postscreen_dnsbl_rank": "dnsbl_rank",
    "postfix_version": "version",
    "postfix_config_path": "config",
    "postfix_termination_signal": "signal",
    "postfix_status_code_enhanced": "dsn",
}


def test_grok_captures_agree(root: Path) -> None:
    agree = 0
    differ = []
    for case in postfix_lines(root):
        if case.file != "grok-patterns-cases.jsonl":
            continue
        expected = case.expect["grok"]
        if isinstance(expected, str):
            expected = ast.literal_eval(expected)
        result = parse_line(case.line)
        for grok_name, value in expected.items():
            if grok_name == "postfix_smtp_stage":
                ours = result.fields.get("command") if result.kind == "remote-reply" else result.fields.get("stage")
            elif grok_name in GROK:
                ours = result.fields.get(GROK[grok_name])
            elif grok_name == "postfix_message-id":
                # cleanup logs the header value verbatim (cleanup_message.c), angle brackets included;
                # grok strips them. Compare the address inside.
                ours = (result.fields.get("message_id") or "").removeprefix("<").removesuffix(">")
            else:
                continue
            if str(ours) == str(value):
                agree += 1
            else:
                differ.append((grok_name, value, ours, case.line))
    assert agree > 250
    assert not differ, differ[:5]
