"""Deliver the report by mail: one multipart/alternative message (text, then HTML).

Through the local MTA with the standard library (smtplib, no login, no TLS: the
MTA on localhost is the one whose logs we read). Any refusal is an error: the
caller then keeps the state where it was, so the next run reports the same lines
again instead of losing them.
"""

from __future__ import annotations

import smtplib
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..errors import UserError

__all__ = ["DeliveryError", "MailOptions", "build_message", "default_sender", "parse_smtp_host", "send"]


class DeliveryError(UserError):
    """The report could not be handed to the mail server."""


@dataclass(frozen=True)
class MailOptions:
    """Where the report goes and through which server."""

    to: tuple[str, ...]
    sender: str
    host: str = "localhost"
    port: int = 25
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.to:
            raise DeliveryError("no recipient given")
        for address in (*self.to, self.sender):
            if "@" not in address or any(c in address for c in "\r\n<>, "):
                raise DeliveryError(f"{address!r} is not a mail address (user@domain)")


def default_sender() -> str:
    """``loganalyzer@<this host>``, as cron's own mails come from the host."""
    return f"loganalyzer@{socket.gethostname() or 'localhost'}"


def parse_smtp_host(value: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` -> (host, port); port 25 by default."""
    text = value.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not host or (port and not port.isdigit()) or (port and not 0 < int(port) < 65536):
        raise DeliveryError(f"--smtp-host {value!r}: expected host[:port]")
    return host, int(port) if port else 25


def build_message(*, subject: str, text: str, html: str, options: MailOptions) -> EmailMessage:
    """The report as text and HTML alternatives of one message."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = options.sender
    message["To"] = ", ".join(options.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=options.sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a report
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(message: EmailMessage, *, options: MailOptions) -> None:
    """Hand the message to the SMTP server. Raises :class:`DeliveryError` unless every recipient was accepted."""
    where = f"{options.host}:{options.port}"
    try:
        with smtplib.SMTP(options.host, options.port, timeout=options.timeout) as smtp:
            refused = smtp.send_message(message, from_addr=options.sender, to_addrs=list(options.to))
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"{where} refused every recipient: {_refusals(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise DeliveryError(f"{where} refused the report: {exc.smtp_code} {reply}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot deliver the report through {where}: {exc}") from None
    if refused:
        raise DeliveryError(f"{where} refused some recipients: {_refusals(refused)}")


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr} ({code} {reply.decode(errors='replace')})" for addr, (code, reply) in refused.items())
