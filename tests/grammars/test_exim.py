"""Exim grammar: every kind has a sample, and syslog-wrapped lines lose only their wrapping (issue 4)."""

from __future__ import annotations

import polars as pl
from loganalyzer.grammars import FAMILIES, Kind, exim

from loganalyzer.parse import Parser, parse_line

MAINLOG = "2024-03-01 12:00:00 "


def test_every_kind_of_the_module_is_in_the_family() -> None:
    kinds = [v for v in vars(exim).values() if isinstance(v, Kind)]
    assert len(kinds) > 80
    assert set(map(id, kinds)) == set(map(id, FAMILIES["exim"].kinds))


def test_every_kind_has_a_sample_that_reaches_it() -> None:
    family = FAMILIES["exim"]
    samples = exim.SAMPLES["exim"]
    missing = []
    for kind in family.kinds:
        grammar = family.grammar(kind).parse_with_tabs()
        if not any(grammar.matches(s, parse_all=True) and parse_line(MAINLOG + s).kind == kind.name for s in samples):
            missing.append(kind.name)
    assert not missing
    assert all(parse_line(MAINLOG + s).kind for s in samples)


def test_syslog_split_marker_comes_before_exims_timestamp() -> None:
    # log.c write_syslog(): "[n/m] " goes in front of the whole text, timestamp included
    first = parse_line(
        "Mar  1 12:00:01 mx1 exim[123]: [1/2] 2024-03-01 12:00:01 1pXyZa-00000001aBc-DeFg <= a@example.net "
        "H=mail.example.net [198.51.100.7] P=esmtp"
    )
    assert first.kind == "arrival"
    assert first.envelope_fields["exim_timestamp"] == "2024-03-01 12:00:01"
    assert first.envelope_fields["split_part"] == "1"
    assert first.fields["client_ip"] == "198.51.100.7"
    assert parse_line("Mar  1 12:00:01 mx1 exim[123]: [2\\2]  S=4213").kind == "continuation"


def test_syslog_line_may_keep_the_pid_exim_wrote() -> None:
    # +pid with syslog_timestamp = false: "exim[8003]: [8003] ..." (fail2ban gh-3060)
    result = parse_line(
        '2016-04-01 11:08:00 mx1 exim[8003]: [8003] SMTP protocol error in "AUTH LOGIN" H=(User) '
        "[192.0.2.29]:4816 I=[192.0.2.1]:25 Ci=8003 LOGIN authentication mechanism not supported"
    )
    assert result.kind == "protocol-error"
    assert result.fields["connection_id"] == "8003"
    assert result.fields["reason"] == "LOGIN authentication mechanism not supported"


def test_bulk_path_joins_split_parts(parser: Parser) -> None:
    lines = [
        "Mar  1 12:00:01 mx1 exim[123]: [1/2] 2024-03-01 12:00:01 1pXyZa-00000001aBc-DeFg <= a@example.net "
        "H=mail.example.net [198.51.100.7] P=esmtp",
        "Mar  1 12:00:01 mx1 exim[123]: [2/2]  S=4213 id=20240301.abc@example.net",
    ]
    frame = pl.DataFrame({"seq": [0, 1], "line_no": [1, 2], "line": lines})
    parts = parser.parse_batch(frame, source="test").parts
    events = pl.concat(list(parts.values()), how="diagonal_relaxed")
    arrival = events.filter(pl.col("kind") == "arrival").row(0, named=True)
    assert arrival["size"] == 4213
    assert arrival["message_id"] == "20240301.abc@example.net"
    assert events.filter(pl.col("kind") == "continuation").height == 1
