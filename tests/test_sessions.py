"""Session and message correlation (loganalyzer.sessions)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from loganalyzer.reading import read
from loganalyzer.settings import Settings

from .conftest import SAMPLES

SETTINGS = Settings(timezone="UTC", year=2024)


def test_cut_sessions_are_kept_and_marked() -> None:
    sessions = read(str(SAMPLES / "postfix" / "cut-sessions.log"), SETTINGS).sessions.collect()
    by_ip = {row["client_ip"]: row for row in sessions.iter_rows(named=True)}
    assert by_ip["203.0.113.61"]["partial_reason"] == "log-start"
    assert by_ip["203.0.113.61"]["reject_5xx"] == 1
    assert by_ip["192.0.2.31"]["partial_reason"] == "pid-reuse"  # pid 3002 reconnected without a disconnect
    assert by_ip["192.0.2.31"]["queue_ids"] == ["7D8E9F0A1B"]
    assert by_ip["198.51.100.99"]["partial"] is False
    assert by_ip["203.0.113.62"]["partial_reason"] == "log-end"
    assert by_ip["203.0.113.62"]["pipelining_stage"] == "CONNECT"


def test_interleaved_hosts_stay_apart() -> None:
    tables = read(str(SAMPLES / "postfix" / "central-syslog.log"), SETTINGS)
    sessions = tables.sessions.collect()
    assert sessions.height == 3  # mx1 and mx2 both use pid 4242
    assert sorted(zip(sessions["host"].cast(pl.String), sessions["client_ip"], strict=True)) == [
        ("mx1", "192.0.2.31"),
        ("mx2", "192.0.2.31"),
        ("mx2", "203.0.113.5"),
    ]
    assert all(not p for p in sessions["partial"])
    messages = tables.messages.collect()
    # the same queue id on two hosts is two messages
    assert messages.height == 2
    assert sorted(messages["host"].cast(pl.String)) == ["mx1", "mx2"]


def test_command_statistics_and_tls_outcome() -> None:
    sessions = read(str(SAMPLES / "postfix" / "normal-day.log"), SETTINGS).sessions.collect()
    spam = sessions.filter(pl.col("client_ip") == "203.0.113.77").row(0, named=True)
    assert spam["cmd_rcpt"] == {"ok": 0, "total": 1}
    assert spam["cmd_commands"] == {"ok": 3, "total": 4}
    assert spam["cmd_data"] is None
    assert spam["rejects"][0]["reply_code"] == 554 and spam["rejects"][0]["recipient"] == "info@example.org"
    tls = sessions.filter(pl.col("client_ip") == "198.51.100.23", pl.col("daemon") == "smtpd").row(0, named=True)
    assert tls["tls"] == "established" and tls["tls_protocol"] == "TLSv1.3"
    assert tls["cmd_starttls"] == {"ok": 1, "total": 1}
    plain = sessions.filter(pl.col("client_ip") == "192.0.2.31").row(0, named=True)
    assert plain["tls"] == "none"
    screen = sessions.filter(pl.col("daemon") == "postscreen").row(0, named=True)
    assert screen["correlation"] == "ip-port" and screen["screen_results"] == ["OLD"]


def test_messages_follow_the_queue_id() -> None:
    messages = read(str(SAMPLES / "postfix" / "normal-day.log"), SETTINGS).messages.collect()
    out = messages.filter(pl.col("queue_id") == "4TqKXw3Lgjz9vZ0").row(0, named=True)
    assert out["origin"] == "local" and out["nrcpt"] == 2 and out["delivered"] == 2 and out["deferred"] == 1
    assert [d["status"] for d in out["deliveries"]] == ["sent", "deferred", "sent"]
    bounced = messages.filter(pl.col("queue_id") == "4TqQ0r4Zsyz9vZb").row(0, named=True)
    assert bounced["bounced"] == 1 and bounced["origin"] == "smtp" and bounced["session_id"] is not None
    notice = messages.filter(pl.col("queue_id") == "4TqQ0s0ppkz9vZc").row(0, named=True)
    assert notice["origin"] == "notification" and notice["sender"] == ""


def test_one_queue_id_on_two_hosts_at_once_is_two_messages(tmp_path: Path) -> None:
    # a central syslog: both servers handle a message of the same queue id at the same time
    lines = []
    for step in (
        "{host} postfix/qmgr[70]: 3E4F5A6B7C: from=<{user}@example.org>, size=2048, nrcpt=1 (queue active)",
        "{host} postfix/local[71]: 3E4F5A6B7C: to=<{user}@example.com>, relay=local, delay=0.2, "
        "delays=0.1/0.01/0/0.09, dsn=2.0.0, status=sent (delivered to mailbox)",
        "{host} postfix/qmgr[70]: 3E4F5A6B7C: removed",
    ):
        for host, user in (("mx1", "ann"), ("mx2", "bob")):
            lines.append("May 20 10:00:0" + str(len(lines)) + " " + step.format(host=host, user=user))
    path = tmp_path / "two-hosts.log"
    path.write_text("\n".join(lines) + "\n")
    messages = read(str(path), SETTINGS).messages.collect().sort("host")
    assert messages["host"].cast(pl.String).to_list() == ["mx1", "mx2"]
    assert messages["sender"].to_list() == ["ann@example.org", "bob@example.org"]
    assert messages["delivered"].to_list() == [1, 1] and messages["removed"].all()
