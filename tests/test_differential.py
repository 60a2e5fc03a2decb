"""The bulk path (compiled plans in polars) and pyparsing agree on every line.

Both are built from the same grammar objects; this test is what makes that
claim true. It runs every line of every sample log, every grammar sample, and
(when available) every corpus line through both and requires the same kind and
the same fields, character for character.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from loganalyzer.grammars import envelopes

from loganalyzer.parse import OTHER_PROGRAM, SAMPLE, Parser, parse_line
from loganalyzer.timestamps import YEARLESS

from .conftest import grammar_sample_lines, sample_files
from .corpus import corpus_dir, postfix_lines


def _bulk(parser: Parser, lines: list[str]) -> dict[int, tuple[str | None, dict[str, Any]]]:
    frame = pl.DataFrame(
        {"seq": list(range(len(lines))), "line_no": list(range(1, len(lines) + 1)), "line": lines},
        schema={"seq": pl.Int64, "line_no": pl.Int64, "line": pl.String},
    )
    result = parser.parse_batch(frame, source="test", raw=True)
    out: dict[int, tuple[str | None, dict[str, Any]]] = {}
    for part in result.parts.values():
        skip = {"seq", "line_no", "ts", *YEARLESS, "host", "program", "daemon", "pid", "kind"}
        for row in part.iter_rows(named=True):
            fields = {k: v for k, v in row.items() if k not in skip and v is not None}
            out[row["seq"]] = (str(row["kind"]), fields)
    if result.unparsed is not None:
        for seq in result.unparsed["seq"]:
            out[seq] = (None, {})
    return out


def _slow(line: str) -> tuple[str | None, dict[str, Any]]:
    r = parse_line(line)
    if r.envelope is None:
        return None, {}
    envelope = {f"env_{k}": v for k, v in r.envelope_fields.items()}
    if r.family is None:
        return OTHER_PROGRAM, envelope
    if r.kind is None:
        return None, {}
    return r.kind, {**r.fields, **envelope}


def _read_lines(path: Path) -> list[str]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8", "replace").splitlines()


def _compare(parser: Parser, lines: list[str]) -> None:
    bulk = _bulk(parser, lines)
    assert set(bulk) == set(range(len(lines))), "a line was lost by the bulk path"
    diffs = []
    for i, line in enumerate(lines):
        if bulk[i] != _slow(line):
            diffs.append((line, bulk[i], _slow(line)))
    assert not diffs, "\n".join(f"{d[0]}\n  bulk: {d[1]}\n  slow: {d[2]}" for d in diffs[:5])


def test_sample_logs(parser: Parser) -> None:
    lines = [line for path in sample_files() for line in _read_lines(path)]
    assert len(lines) > 100
    _compare(parser, lines)


def test_grammar_samples(parser: Parser) -> None:
    _compare(parser, grammar_sample_lines())


def test_envelopes_before_the_sampled_one_are_skipped_only_when_no_line_has_them(parser: Parser) -> None:
    exim_lines = [envelopes.SAMPLES["exim"][0]] * (SAMPLE + 50)
    names = [name for name, _ in parser.envelopes]
    assert parser._first_envelope(pl.Series(exim_lines)) == names.index("exim")
    # past the sample, lines of envelopes tried before Exim's: the loop starts at the first envelope again
    mixed = exim_lines[:SAMPLE] + envelopes.SAMPLES["iso-syslog"] + exim_lines[SAMPLE:] + envelopes.SAMPLES["bsd"]
    assert parser._first_envelope(pl.Series(mixed)) == 0
    _compare(parser, mixed)


def test_test_or_capture_follows_the_last_batch_and_matches_the_same_rows() -> None:
    connect = "2024-03-01 12:00:00 SMTP connection from [198.51.100.7]:41234 (TCP/IP connection count = 3)"
    close = "2024-03-01 12:00:01 SMTP connection from mail.example.net [198.51.100.7] D=0.1s closed by QUIT"
    lost = "2024-03-01 12:00:02 SMTP connection from [203.0.113.9]:41234 lost D=12s"
    parser = Parser()
    candidate = parser.candidates_for("exim", "SMTP connection from ")[0]
    assert candidate.name == "connect"
    first = ("exim", "SMTP connection from ", candidate.part)
    # a batch of connection lines alone: captured at once from then on
    _compare(parser, [connect] * 40)
    assert parser._at_once[first] is True
    assert parser._at_once[("envelope", "exim")] is True
    # then mostly other lines of the same key: tested first again, and every line still goes where it belongs
    mixed = [connect, close, lost] * 30
    _compare(parser, mixed)
    assert parser._at_once[first] is False
    _compare(parser, mixed)  # (decided by that batch, not by a sample, this time)
    assert _bulk(parser, mixed) == _bulk(Parser(), mixed)


def test_a_needle_that_lets_through_lines_the_grammar_does_not_take_gives_way_to_the_regex() -> None:
    # the connection line's needle is its "(TCP/IP connection count = ": these have it, and more after it
    odd = "2024-03-01 12:00:00 SMTP connection from [198.51.100.7]:41234 (TCP/IP connection count = 3) and more"
    close = "2024-03-01 12:00:01 SMTP connection from mail.example.net [198.51.100.7] D=0.1s closed by QUIT"
    parser = Parser()
    candidate = parser.candidates_for("exim", "SMTP connection from ")[0]
    assert candidate.needle("SMTP connection from ") == " (TCP/IP connection count = "
    slot = ("exim", "SMTP connection from ", candidate.part)
    _compare(parser, [odd, close] * 30)  # each line still goes where pyparsing puts it
    assert slot in parser._no_needle
    _compare(parser, [odd, close] * 30)


@pytest.mark.corpus
def test_corpus_lines(parser: Parser) -> None:
    lines = [c.line for c in postfix_lines(corpus_dir())]
    assert len(lines) > 500
    _compare(parser, lines)
