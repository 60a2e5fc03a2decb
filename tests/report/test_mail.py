"""Issue 6: the report goes out as text + HTML through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from loganalyzer import state
from loganalyzer.cli import app
from loganalyzer.report import mail
from loganalyzer.report.mail import DeliveryError, MailOptions

from ..nights import LOG, night

COMMON = ["--timezone", "UTC", "--year", "2024", "--no-dns"]


class Sink:
    """Accepts every message except for the recipients it was told to refuse."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK queued"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture()
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _options(port: int, *to: str) -> MailOptions:
    return MailOptions(to or ("postmaster@example.com",), "loganalyzer@mx1.example.com", "127.0.0.1", port, 10.0)


def test_send_a_multipart_message(smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    options = _options(port, "admin@example.com", "ops@example.com")
    message = mail.build_message(subject="report", text="plain ✓\n", html="<p>html</p>\n", options=options)
    mail.send(message, options=options)
    [(sender, rcpts, got)] = sink.messages
    assert sender == "loganalyzer@mx1.example.com" and rcpts == ["admin@example.com", "ops@example.com"]
    assert got.get_content_type() == "multipart/alternative" and got["Auto-Submitted"] == "auto-generated"
    parts = [(p.get_content_type(), p.get_content().replace("\r\n", "\n")) for p in got.iter_parts()]
    assert parts == [("text/plain", "plain ✓\n"), ("text/html", "<p>html</p>\n")]


def test_refused_recipients_and_no_server_are_delivery_errors(smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    sink.refuse = {"gone@example.com"}
    options = _options(port, "gone@example.com", "admin@example.com")
    message = mail.build_message(subject="s", text="t", html="<p>h</p>", options=options)
    with pytest.raises(DeliveryError, match=r"refused some recipients: gone@example\.com"):
        mail.send(message, options=options)
    options = _options(port, "gone@example.com")
    with pytest.raises(DeliveryError, match="refused every recipient"):
        mail.send(message, options=options)
    closed = _options(_free_port())
    with pytest.raises(DeliveryError, match=r"cannot deliver the report through 127\.0\.0\.1"):
        mail.send(message, options=closed)


@pytest.mark.parametrize(
    "value,expected",
    [("localhost", ("localhost", 25)), ("localhost:2525", ("localhost", 2525)), ("[::1]:587", ("::1", 587)),
     ("::1", ("::1", 25)), ("[::1]", ("::1", 25))],
)  # fmt: skip
def test_parse_smtp_host(value: str, expected: tuple[str, int]) -> None:
    assert mail.parse_smtp_host(value) == expected


@pytest.fixture(autouse=True)
def _no_real_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "SYSTEM_STATE_DIR", str(tmp_path / "var-lib-loganalyzer"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def test_cli_mails_the_report_and_then_advances(
    smtp: tuple[Sink, int], cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, port = smtp
    monkeypatch.chdir(tmp_path)
    LOG.write_text(night(3))
    args = ["report", "mail.log", "--state-dir", "state", "--mail-to", "admin@example.com",
            "--mail-from", "loganalyzer@mx1.example.com", "--smtp-host", f"127.0.0.1:{port}", *COMMON]  # fmt: skip

    sink.refuse = {"admin@example.com"}
    failed = cli.invoke(app, args)
    assert failed.exit_code == 2 and "refused every recipient" in failed.stderr
    assert not (tmp_path / "state" / "state.json").exists()  # not delivered: nothing remembered

    sink.refuse = set()
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # mailed, so cron has nothing to mail twice
    assert (tmp_path / "state" / "state.json").exists()
    [(_, rcpts, message)] = sink.messages
    assert rcpts == ["admin@example.com"]
    assert message["Subject"] == "loganalyzer report: mx1, 2024-04-17: 4 findings"
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None and page is not None
    assert "198.18.41.0/24" in text.get_content() and "first run, from the start" in text.get_content()
    assert page.get_content().startswith("<!DOCTYPE html>") and "198.18.41.0/24" in page.get_content()
