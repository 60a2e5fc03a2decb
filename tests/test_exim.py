"""Exim logs in the same sessions/messages tables and detectors as Postfix (issue 4).

The scenario logs in ``samples/exim/scenarios`` each plant one offending network
among innocent traffic, in Exim's own formats and with different log_selector
settings, so that every way of tying Exim lines into sessions is exercised:

========================  ==========================================  ==================
log                       log_selector (beyond the defaults)          correlation
========================  ==========================================  ==================
normal-day                +pid +smtp_connection +smtp_protocol_error  exim-pid (paired)
rapid-retry               (none)                                      exim-ip-time
retry-after-permanent     syslog-wrapped (pid in the tag), +smtp_con  exim-pid (paired)
lb-retry-reset            +incoming_port                              exim-ip-port
data-after-reject         +smtp_protocol_error +smtp_syntax_error     exim-ip-time
tls-no-shared-cipher      +connection_id +smtp_connection (GnuTLS)    exim-ci
tls-handshake-failure     (none; OpenSSL)                             exim-ip-time
plaintext-fallback        (none)                                      exim-ip-time
wrong-domain-mx           +pid                                        exim-pid
========================  ==========================================  ==================
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from loganalyzer import exim_sessions, grouping
from loganalyzer.cli import app
from loganalyzer.reading import read
from loganalyzer.report.findings import render
from loganalyzer.scan import scan
from loganalyzer.settings import Settings
from loganalyzer.tables import Tables

from .conftest import GOLDEN, SAMPLES
from .dnsserver import TEST_ZONE, dns_server
from .golden import check

EXIM = SAMPLES / "exim"
SCENARIOS = EXIM / "scenarios"
SETTINGS = Settings(timezone="UTC", year=2024, dns=False)
SELECTOR = "log_selector = +smtp_protocol_error +smtp_syntax_error"

#: scenario -> (planted findings, networks of well-behaved senders in the same log)
CASES: dict[str, tuple[set[tuple[str, str, str]], set[str]]] = {
    # four greylisted tries 45 s apart, then nothing
    "rapid-retry": ({("rapid-retry", "203.0.113.0/24", "high")}, {"192.0.2.0/24", "198.51.100.0/24"}),
    # "Unknown user", then the same pair three more times from two relays
    "retry-after-permanent": (
        {("retry-after-permanent", "203.0.113.0/24", "high")},
        {"192.0.2.0/24", "198.51.100.0/24", "2001:db8:3::/48"},
    ),
    # one pair greylisted from four addresses of one pool, every ten minutes, never delivered
    "lb-retry-reset": ({("lb-retry-reset", "203.0.113.0/24", "high")}, {"192.0.2.0/24", "2001:db8:4::/48"}),
    # header lines sent as commands after every RCPT was refused, then dropped
    "data-after-reject": (
        {("data-after-reject", "203.0.113.0/24", "high")},
        {"192.0.2.0/24", "198.51.100.0/24", "2001:db8:6::/48"},
    ),
    # GnuTLS: both wordings of "no shared cipher"
    "tls-no-shared-cipher": (
        {("tls-no-shared-cipher", "203.0.113.0/24", "medium")},
        {"192.0.2.0/24", "2001:db8:7::/48"},
    ),
    # plaintext or HTTP on the TLS port
    "tls-handshake-failure": (
        {("tls-handshake-failure", "2001:db8:9::/48", "low")},
        {"192.0.2.0/24", "198.51.100.0/24"},
    ),
    # no shared cipher, then the same mail without TLS (3 s and 5 min later); the failed
    # handshakes are findings of their own
    "plaintext-fallback": (
        {("plaintext-fallback", "203.0.113.0/24", "high"), ("tls-no-shared-cipher", "203.0.113.0/24", "medium")},
        {"192.0.2.0/24", "198.51.100.0/24"},  # 198.51.100.90 never tries TLS: not a fallback
    ),
    # mail for example.org (no MX) on the server of mail.example.org
    "wrong-domain-mx": ({("wrong-domain-mx", "203.0.113.0/24", "medium")}, {"192.0.2.0/24", "198.51.100.0/24"}),
}

#: scenario -> the correlation of every session in it
CORRELATIONS = {
    "rapid-retry": {"exim-ip-time"},
    "retry-after-permanent": {"exim-pid"},
    "lb-retry-reset": {"exim-ip-port"},
    "data-after-reject": {"exim-ip-time"},
    "tls-no-shared-cipher": {"exim-ci"},
    "tls-handshake-failure": {"exim-ip-time"},
    "plaintext-fallback": {"exim-ip-time"},
    "wrong-domain-mx": {"exim-pid"},
}


def _tables(name: str) -> Tables:
    return read(str(SCENARIOS / f"{name}.log"), SETTINGS)


def _write(tmp_path: Path, lines: list[str]) -> str:
    path = tmp_path / "mainlog"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_exim_scenario_flags_exactly_the_planted_network(
    name: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(SAMPLES)
    planted, good = CASES[name]
    with dns_server(TEST_ZONE, "example.org.") as server:
        settings = Settings(timezone="UTC", year=2024, dns=True, dns_server=server, dns_timeout=1)
        result = scan(f"exim/scenarios/{name}.log", settings)
    findings = result.detection.findings
    assert {(r["detector"], r["network"], r["severity"]) for r in findings.iter_rows(named=True)} == planted
    assert not good & set(findings["network"])
    assert result.summary.unparsed == 0
    # only the log that has Exim's protocol error lines shows DATA after refused recipients fully
    expected = [] if name == "data-after-reject" else ["data-after-reject"]
    assert [d for d, _ in result.detection.unavailable] == expected
    check(GOLDEN / "findings" / f"exim-{name}.ndjson", findings, update=update_golden)


def test_every_exim_scenario_has_a_case() -> None:
    assert {p.stem for p in SCENARIOS.glob("*.log")} == set(CASES) == set(CORRELATIONS)


@pytest.mark.parametrize("name", sorted(CORRELATIONS))
def test_session_correlation_follows_the_log_settings(name: str) -> None:
    sessions = _tables(name).sessions.collect()
    assert set(sessions["correlation"].cast(pl.String)) == CORRELATIONS[name]
    assert set(sessions["daemon"].cast(pl.String)) == {"exim"}
    # without connection lines no session's start and end are known for sure
    logs_connections = name in ("retry-after-permanent", "tls-no-shared-cipher")
    assert set(sessions["partial_reason"].cast(pl.String).drop_nulls()) == (set() if logs_connections else {"inferred"})


def test_the_daemons_connection_lines_are_paired_with_their_processes() -> None:
    tables = read(str(EXIM / "normal-day.log"), SETTINGS)
    sessions = tables.sessions.collect()
    lines = tables.session_lines.collect()
    # two connections at once from one address: each process gets one of the daemon's lines
    partner = sessions.filter(pl.col("client_ip") == "2001:db8:2::25").sort("session_id")
    assert partner["pid"].to_list() == [1130, 1131]
    assert partner["queue_ids"].list.len().to_list() == [2, 1]
    for session_id in partner["session_id"]:
        kinds = lines.filter(pl.col("session_id") == session_id)["kind"].cast(pl.String).to_list()
        assert kinds[0] == "connect" and "disconnect" in kinds
    assert not partner["partial"].any()
    # the log ends right after a connection line: its process wrote nothing yet
    last = sessions.filter(pl.col("client_ip") == "192.0.2.200").row(0, named=True)
    assert last["partial_reason"] == "log-end" and last["lines"] == 1 and last["pid"] is None
    # the daemon's own pid is never a session's
    assert 812 not in sessions["pid"].to_list()


def test_pairing_leaves_a_session_begun_before_the_log_without_a_connection_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            "2024-04-15 10:00:00 [2001] H=(a) [192.0.2.5] F=<x@example.net> rejected RCPT <y@example.com>: Unknown",
            "2024-04-15 10:00:01 [2001] SMTP connection from (a) [192.0.2.5] D=9s closed by QUIT",
            "2024-04-15 10:00:02 [812] SMTP connection from [192.0.2.5] (TCP/IP connection count = 1)",
            "2024-04-15 10:00:03 [2002] SMTP connection from (a) [192.0.2.5] D=1s closed by QUIT",
            # the daemon refuses a connection itself: no process, a session of one line (421)
            "2024-04-15 10:00:04 [812] Connection from [192.0.2.5] refused: too many connections from that IP address",
        ],
    )
    sessions = read(path, SETTINGS).sessions.collect().sort("session_id")
    assert sessions["pid"].to_list() == [2001, 2002, None]
    assert sessions["partial_reason"].to_list() == ["log-start", None, "inferred"]
    assert sessions["lines"].to_list() == [2, 2, 1]
    assert sessions["reject_4xx"].to_list() == [0, 0, 1] and sessions["reject_5xx"].to_list() == [1, 0, 0]
    assert sessions["correlation"].to_list() == ["exim-pid", "exim-pid", "exim-ip-time"]


def test_ip_time_sessions(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            # a TLS error ends a connection; the plaintext retry 3 s later is another one
            "2024-04-15 10:00:00 TLS error on connection from (a) [192.0.2.5] (SSL_accept): error:0A0000C1:SSL "
            "routines::no shared cipher",
            "2024-04-15 10:00:03 1rwK6Y-000000000cs-xd0z <= x@example.net H=(a) [192.0.2.5] P=esmtp S=100",
            # two refusals 20 s apart: one session; a third 61 s later: the next
            "2024-04-15 10:05:00 H=(b) [192.0.2.6] F=<x@example.net> rejected RCPT <a@example.com>: Unknown user",
            "2024-04-15 10:05:20 H=(b) [192.0.2.6] F=<x@example.net> rejected RCPT <b@example.com>: Unknown user",
            "2024-04-15 10:06:21 H=(b) [192.0.2.6] F=<x@example.net> rejected RCPT <c@example.com>: Unknown user",
            # after a drop, only "no MAIL" still belongs to the connection
            '2024-04-15 10:10:00 SMTP call from (c) [192.0.2.7] dropped: too many nonmail commands (last was "RSET")',
            "2024-04-15 10:10:00 no MAIL in SMTP connection from (c) [192.0.2.7] D=1s C=EHLO,RSET,RSET,RSET",
            '2024-04-15 10:10:05 SMTP protocol error in "AUTH LOGIN" H=(c) [192.0.2.7] AUTH command used when '
            "not advertised",
        ],
    )
    sessions = read(path, SETTINGS).sessions.collect().sort("session_id")
    assert sessions["client_ip"].to_list() == ["192.0.2.5", "192.0.2.5", "192.0.2.6", "192.0.2.6", "192.0.2.7",
                                               "192.0.2.7"]  # fmt: skip
    assert sessions["lines"].to_list() == [1, 1, 2, 1, 2, 1]
    assert sessions["tls"].to_list() == ["failed", "none", None, None, None, None]
    assert set(sessions["correlation"].cast(pl.String)) == {"exim-ip-time"}
    dropped = sessions.row(4, named=True)
    assert dropped["end_reason"] == "too many errors" and dropped["end_stage"] == "RSET"


def test_exim_refusals_are_classed_without_a_reply_code() -> None:
    sessions = _tables("rapid-retry").sessions.collect()
    bulk = sessions.filter(pl.col("client_ip") == "203.0.113.21").row(0, named=True)
    assert bulk["reject_4xx"] == 4 and bulk["reject_5xx"] == 0
    assert [r["reply_code"] for r in bulk["rejects"]] == [None] * 4  # Exim logs none of its own
    wrong = _tables("wrong-domain-mx").sessions.collect()
    assert wrong.filter(pl.col("client_ip") == "203.0.113.73")["reject_5xx"].to_list() == [1]


def test_exim_messages_follow_the_message_id() -> None:
    tables = read(str(EXIM / "normal-day.log"), SETTINGS)
    messages = tables.messages.collect()
    news = messages.filter(pl.col("message_id") == "news-0415@lists.example.net").row(0, named=True)
    assert news["origin"] == "smtp" and news["client_ip"] == "198.51.100.23" and news["size"] == 18230
    assert news["removed"] and news["delivered"] == 2 and news["session_id"] is not None
    assert [(d["recipient"], d["orig_to"], d["relay"], d["status"]) for d in news["deliveries"]] == [
        ("alice", "alice@example.com", "local_delivery", "sent"),
        ("bob", "bob@example.com", "local_delivery", "sent"),
    ]
    later = messages.filter(pl.col("message_id") == "20240415111000.GA1200@mx1.example.com").row(0, named=True)
    assert later["origin"] == "local" and later["deferred"] == 1 and later["delivered"] == 1
    deferral, delivery = later["deliveries"]
    assert deferral["status"] == "deferred" and deferral["dsn"] == "4.7.1"
    assert delivery["relay"] == "mx.example.net[198.51.100.25]" and delivery["delay"] == 1202.0
    assert delivery["reason"] == "250 2.0.0 Ok: queued as 9C1D2E3F4A"
    bounced = messages.filter(pl.col("bounced") == 1).row(0, named=True)
    assert bounced["deliveries"][0]["status"] == "bounced" and bounced["deliveries"][0]["dsn"] == "5.1.1"
    notice = messages.filter(pl.col("origin") == "notification").row(0, named=True)
    assert notice["sender"] == "" and notice["delivered"] == 1


def test_a_message_refused_after_data_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            "2024-04-15 10:00:00 1rwK6Y-000000000cs-xd0z H=(a) [192.0.2.5] F=<x@example.net> rejected after DATA: "
            "This message contains a virus (Eicar-Signature)",
        ],
    )
    tables = read(path, SETTINGS)
    message = tables.messages.collect().row(0, named=True)
    assert message["rejected"] and message["session_id"] is not None
    session = tables.sessions.collect().row(0, named=True)
    assert session["cmd_data"] == {"ok": 0, "total": 1} and session["cmd_rcpt"] == {"ok": 1, "total": 1}
    assert session["queue_ids"] == ["1rwK6Y-000000000cs-xd0z"]


def test_detections_unavailable_name_the_log_selector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SAMPLES)
    result = scan("exim/scenarios/rapid-retry.log", SETTINGS)
    ((detector, reason),) = result.detection.unavailable
    assert detector == "data-after-reject" and reason.startswith("partly: ") and SELECTOR in reason
    assert "data-after-reject" in result.detection.ran  # it still looks at the lines Exim always writes
    text = render(result)
    assert "detections unavailable and why" in text and SELECTOR in text
    # a Postfix log says nothing about Exim's settings; an Exim log that has the lines neither
    assert not scan("postfix/scenarios/data-after-reject.log", SETTINGS).detection.unavailable
    assert not scan("exim/scenarios/data-after-reject.log", SETTINGS).detection.unavailable
    # Postfix and Exim together: the Postfix part supports the detector, the Exim part lacks the lines
    both = scan(["postfix/scenarios/data-after-reject.log", "exim/scenarios/rapid-retry.log"], SETTINGS)
    assert [d for d, _ in both.detection.unavailable] == ["data-after-reject"]


def test_exim_and_postfix_files_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SAMPLES)
    postfix, exim = "postfix/normal-day.log", "exim/normal-day.log"
    settings = SETTINGS.replace(timezone="Europe/Berlin")
    both = read([postfix, exim], settings)
    alone = {p: read(p, settings) for p in (postfix, exim)}
    assert both.unparsed.collect().height == 0
    # each file alone skips the other MTA's correlation; below, its tables match those of the two together
    assert [(t.has_postfix, t.has_exim) for t in (alone[postfix], alone[exim], both)] == [
        (True, False),
        (False, True),
        (True, True),
    ]
    events = both.events.collect()
    # seq follows the reading order: every Exim line after every Postfix line
    by_source = events.group_by(pl.col("source").cast(pl.String)).agg(
        pl.col("seq").min().alias("first"), pl.col("seq").max().alias("last")
    )
    ranges = {row["source"]: (row["first"], row["last"]) for row in by_source.iter_rows(named=True)}
    assert ranges[postfix][1] < ranges[exim][0]
    # each file's sessions and messages are what it gives alone (Exim ids shifted by the Postfix lines)
    offset = ranges[exim][0]
    sessions = both.sessions.collect()
    exim_rows = pl.col("correlation").cast(pl.String).str.starts_with("exim")
    assert sessions.filter(~exim_rows).equals(alone[postfix].sessions.collect())
    shifted = ["session_id", "first_seq", "last_seq"]
    got = sessions.filter(exim_rows).with_columns(pl.col(c) - offset for c in shifted)
    assert got.drop("rejects").equals(alone[exim].sessions.collect().drop("rejects"))
    messages = both.messages.collect()
    assert messages.height == sum(t.messages.collect().height for t in alone.values())
    assert set(messages.filter(pl.col("queue_id").str.contains("-"))["host"].to_list()) == {None}


def test_cli_scan_of_an_exim_and_a_postfix_file(cli: CliRunner) -> None:
    paths = [str(SAMPLES / "postfix" / "scenarios" / "rapid-retry.log"), str(SCENARIOS / "plaintext-fallback.log")]
    result = cli.invoke(app, ["scan", *paths, "--timezone", "UTC", "--year", "2024", "--no-dns"])
    assert result.exit_code == 0, result.output
    assert "198.18.10.0/24" in result.output  # the Postfix rapid retrier
    assert "plaintext-fallback: a transaction without TLS soon after a failed STARTTLS" in result.output
    assert "203.0.113.0/24" in result.output and SELECTOR in result.output


def test_a_rejection_in_the_main_and_the_reject_log_counts_once(tmp_path: Path) -> None:
    reject = (
        "2024-04-15 10:00:01 [4242] H=mx.bulk.example [198.51.100.20] F=<news@bulk.example> "
        "rejected RCPT <gone@example.com>: Unknown user"
    )
    main = tmp_path / "mainlog"
    main.write_text(reject + "\n2024-04-15 10:00:02 [4242] SMTP connection from mx.bulk.example [198.51.100.20] "
                    "closed by QUIT\n")  # fmt: skip
    rejectlog = tmp_path / "rejectlog"
    rejectlog.write_text(reject + "\n")
    result = scan([str(main), str(rejectlog)], SETTINGS)
    assert result.summary.lines == 3
    assert result.detection.findings.is_empty()  # the copy is no retry after a 5xx
    from loganalyzer.detectors.base import Context

    ctx = Context(read([str(main), str(rejectlog)], SETTINGS), SETTINGS)
    assert ctx.attempts.collect().height == 1
    assert ctx.sessions.select("reject_5xx").collect().to_series().to_list() == [1]


def test_a_repeated_rcpt_in_one_exim_main_log_is_no_copy(tmp_path: Path) -> None:
    # one of Exim's own files: a client that sends the same RCPT twice within a second was refused twice
    reject = (
        "2024-04-15 10:00:01 [4242] H=mx.bulk.example [198.51.100.20] F=<news@bulk.example> "
        "rejected RCPT <gone@example.com>: Unknown user"
    )
    main = tmp_path / "mainlog"
    main.write_text(f"{reject}\n{reject}\n")
    events = read([str(main)], SETTINGS).events
    assert exim_sessions.copied_seqs(events).is_empty()
    # ... the same two lines through syslog (Exim's syslog_duplication) are one rejection logged twice
    syslog = tmp_path / "syslog"
    syslog.write_text("".join(f"Apr 15 10:00:01 mx exim[4242]: {line}\n" for line in [reject[27:]] * 2))
    events = read([str(syslog)], SETTINGS).events
    assert exim_sessions.copied_seqs(events).to_list() == [1]


def test_only_a_repeated_rejection_of_the_same_exim_process_and_second_is_a_copy() -> None:
    base = {"host": "mx", "source": "syslog", "pid": 7, "ts": 0, "kind": "reject", "daemon": "exim",
            "client_ip": "198.51.100.20",
            "client_port": None, "stage": "RCPT", "action": "rejected", "sender": "a@b.example",
            "recipient": "x@example.com", "reason": "Unknown user", "details": None}  # fmt: skip
    rows = [
        {**base, "seq": 5},
        {**base, "seq": 2},  # the first of the two: the one kept
        {**base, "seq": 3, "recipient": "y@example.com"},  # another recipient in the same second
        {**base, "seq": 4, "pid": 8},  # another process
        {**base, "seq": 6, "ts": 1},  # a second later: a retry
        {**base, "seq": 7, "daemon": "smtpd"},  # not Exim's
        {**base, "seq": 8, "kind": "arrival"},  # not a kind the reject log repeats
        {**base, "seq": 9, "kind": "arrival"},
    ]
    events = pl.DataFrame(rows).with_columns(
        pl.col("ts").cast(pl.Datetime("us", "UTC")),
        pl.col(["host", "source", "kind", "daemon", "stage", "action"]).cast(pl.Categorical),
    )
    assert exim_sessions.copied_seqs(events.lazy()).to_list() == [5]
    kept = exim_sessions.without_copies(events.lazy(), pl.Series([5], dtype=pl.Int64)).collect()
    assert kept.get_column("seq").to_list() == [2, 3, 4, 6, 7, 8, 9]
    assert exim_sessions.without_copies(events.lazy(), pl.Series([], dtype=pl.Int64)).collect().equals(events)


@pytest.mark.parametrize(
    "name",
    [
        "normal-day.log",
        "scenarios/rapid-retry.log",
        "scenarios/lb-retry-reset.log",
        "scenarios/tls-no-shared-cipher.log",
    ],
)
def test_keys_sharing_a_hash_give_the_same_sessions(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # every key hashed to one value: the collision is found and the keys numbered instead
    expected = read(str(EXIM / name), SETTINGS).session_lines.collect().sort("seq")

    def one_value(frame: pl.DataFrame, keys: list[str]) -> tuple[pl.Series, bool]:
        return pl.Series("_key", [0] * frame.height, dtype=pl.UInt64), False

    monkeypatch.setattr(grouping, "key_ids", one_value)
    assert read(str(EXIM / name), SETTINGS).session_lines.collect().sort("seq").equals(expected)


def _connections(pattern_per_address: list[str], seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Connection lines and session starts of several addresses, interleaved at random.

    Each address follows its pattern in order: ``c`` the daemon's line, ``s`` a
    session of a process; the seq of every row is its place in the whole log.
    """
    rng = random.Random(seed)
    queues = [list(pattern) for pattern in pattern_per_address]
    lines, starts = [], []
    seq = 0
    while any(queues):
        address = rng.choice([i for i, q in enumerate(queues) if q])
        key = {
            "host": "mx1" if address % 2 else None,  # Exim's own files name no host
            "client_ip": f"192.0.2.{address}",
            "client_port": None if address % 3 == 0 else 40000 + address,  # without +incoming_port
        }
        if queues[address].pop(0) == "c":
            lines.append({**key, "seq": seq})
        else:
            starts.append({**key, "seq": seq, "_session": seq})
        seq += 1
    schema = {"host": pl.Categorical, "client_ip": pl.String, "client_port": pl.Int32, "seq": pl.Int64}
    return pl.DataFrame(lines, schema=schema), pl.DataFrame(starts, schema={**schema, "_session": pl.Int64})


@pytest.mark.parametrize("seed", range(5))
def test_pairing_with_the_next_session_is_first_come_first_served_when_no_two_lines_meet(seed: int) -> None:
    # a session begun before the log, lines without a process yet, and one line before each session
    lines, starts = _connections(["scscs", "cscsc", "sscs", "cscscscs", "s", "c"] * 4, seed)
    fast = exim_sessions._next_sessions(lines, starts)
    assert fast is not None
    assert not fast.get_column("_session").drop_nulls().is_duplicated().any()
    assert fast.get_column("_session").null_count() > 0  # some lines keep no session
    counted = exim_sessions._first_come_first_served(lines, starts).collect()
    assert fast.sort("seq").equals(counted.sort("seq"))


@pytest.mark.parametrize("seed", range(5))
def test_a_session_starts_where_its_rows_begin_with_the_first_port_they_name(seed: int) -> None:
    # sessions of a cut: rows together, one host and address each, ports logged on some lines only
    rng = random.Random(seed)
    rows = []
    for session in range(40):
        host = rng.choice(["mx1", "mx2", None])
        first = 1000 * session + rng.randrange(10)
        for i in range(rng.randrange(1, 6)):
            port = rng.choice([None, None, 40000 + session, 50000 + session])  # a port may change mid-session
            rows.append({"seq": first + 3 * i, "host": host, "client_ip": f"192.0.2.{session % 7}",
                         "client_port": port, "_session": first})  # fmt: skip
    schema = {"seq": pl.Int64, "host": pl.Categorical, "client_ip": pl.String, "client_port": pl.Int32,
              "_session": pl.Int64}  # fmt: skip
    sessions = pl.DataFrame(rows, schema=schema)
    assert sessions.get_column("client_port").is_null().any()
    expected = sessions.group_by("_session", maintain_order=True).agg(
        pl.col("seq").min(), *(pl.col(k).drop_nulls().first() for k in ["host", "client_ip", "client_port"])
    )
    starts = exim_sessions._session_starts(sessions)
    assert starts.select(expected.columns).equals(expected)


@pytest.mark.parametrize("seed", range(5))
def test_keys_that_share_a_hash_are_paired_by_counting(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # every address with one hash: the next session of that hash is often another address's
    lines, starts = _connections(["scscs", "cscsc", "sscs", "cscscscs", "s", "c"] * 4, seed)
    monkeypatch.setattr(exim_sessions, "_pair_key", lambda: pl.lit(7, dtype=pl.UInt64).alias("_k"))
    assert exim_sessions._next_sessions(lines, starts) is None
    paired = exim_sessions._pair_connects(lines.lazy(), starts).sort("seq")
    assert paired.equals(exim_sessions._first_come_first_served(lines, starts).collect().sort("seq"))


@pytest.mark.parametrize("seed", range(5))
def test_two_lines_before_one_session_are_counted(seed: int) -> None:
    # two connections at once from one address: the first session takes the first line, the second the second
    lines, starts = _connections(["ccss", "cscs", "cccss"] * 4, seed)
    fast = exim_sessions._next_sessions(lines, starts)
    assert fast is not None and fast.get_column("_session").drop_nulls().is_duplicated().any()
    paired = exim_sessions._pair_connects(lines.lazy(), starts).sort("seq")
    assert paired.equals(exim_sessions._first_come_first_served(lines, starts).collect().sort("seq"))
    first = lines.filter(pl.col("client_ip") == "192.0.2.0").get_column("seq").to_list()
    sessions = starts.filter(pl.col("client_ip") == "192.0.2.0").get_column("_session").to_list()
    assert paired.filter(pl.col("seq").is_in(first)).get_column("_session").to_list() == sessions


def test_messages_find_their_session_by_a_hash_checked_against_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # C shares A's hash: it must not take A's session; with every key on one hash the columns are joined
    fake = {"A": 10, "B": 20, "C": 10}
    monkeypatch.setattr(
        exim_sessions,
        "_link_key",
        lambda: pl.col("queue_id").replace_strict(fake, return_dtype=pl.UInt64).alias("_k"),
    )
    schema = {"host": pl.Categorical, "queue_id": pl.String}
    linked = pl.DataFrame({"host": [None, "mx"], "queue_id": ["A", "B"], "session_id": [1, 2]},
                          schema={**schema, "session_id": pl.Int64})  # fmt: skip
    messages = pl.DataFrame({"host": [None, "mx", None, "mx"], "queue_id": ["A", "B", "C", "A"]}, schema=schema)
    messages = messages.with_row_index("row")

    def joined(links: pl.DataFrame) -> pl.DataFrame:
        return exim_sessions._with_sessions(messages.lazy(), links).collect().sort("row")

    exact = messages.join(linked, on=["host", "queue_id"], how="left", nulls_equal=True).sort("row")
    keyed = exim_sessions.keyed_links(linked)
    assert "_k" in keyed.columns
    assert joined(keyed).equals(exact)
    assert exact.get_column("session_id").to_list() == [1, 2, None, None]
    fake["B"] = 10  # two keys of the links on one hash: joined by the columns
    assert "_k" not in exim_sessions.keyed_links(linked).columns
    assert joined(exim_sessions.keyed_links(linked)).equals(exact)
