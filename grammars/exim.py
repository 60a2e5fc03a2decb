"""Exim mainlog, rejectlog and paniclog lines (``log-formats.md`` section 6 and 3.3).

An Exim log line is ``YYYY-MM-DD HH:MM:SS[.mmm][ ±hhmm][ [pid]] [MSGID ]TEXT``
(the envelope is in :mod:`.envelopes`). Syslog-wrapped Exim (``exim[pid]:``)
may keep Exim's own timestamp in front of the text and splits long lines into
``[n/m]`` parts; :data:`INNER` reads both off the message before the kinds
below see it.

Field names are the ``events`` columns, as for Postfix: the arrival and
delivery lines fill the same client, sender, recipient, relay and status
columns, so the detectors need no Exim-specific code. Exim logs no reply code
for its own rejections: ``action`` says ``rejected`` (permanent) or
``temporarily rejected`` (a 4xx, e.g. greylisting).
"""

from __future__ import annotations

import pyparsing as pp

from .elements import END, Family, Kind, field, lit, one_of, opt, seq, skip, text, text_until

__all__ = ["DAEMONS", "FAMILIES", "INNER", "MESSAGE_ID", "SAMPLES"]

_ID = "[0-9A-Za-z]"
#: 4.97+ ids are 6-11-4, older ones 6-6-2; both can appear in one log after an upgrade.
MESSAGE_ID_PATTERN = rf"{_ID}{{6}}-(?:{_ID}{{11}}-{_ID}{{4}}|{_ID}{{6}}-{_ID}{{2}})"
MESSAGE_ID = field("queue_id", MESSAGE_ID_PATTERN)
PREFIX = seq(MESSAGE_ID, lit(" "))

#: Exim's own timestamp and the syslog split marker, in front of the message of a
#: syslog-wrapped line (``exim[123]: 2024-03-01 12:00:01 [1/2] ...``).
INNER = seq(
    opt(
        field("exim_timestamp", r"[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{3})?"),
        lit(" "),
    ),
    opt(lit("["), field("split_part", r"[0-9]+"), lit("/"), field("split_total", r"[0-9]+"), lit("] ")),
    text("msg"),
    END,
).set_name("exim inner envelope")  # fmt: skip

# --- hosts ---------------------------------------------------------------------

_NAME = field("client_name", r"[^ (\[][^ ]*")
_HELO = seq(lit("("), field("helo", r"[^)]*"), lit(")"))
_ADDRESS = seq(lit("["), field("client_ip", r"[^\]]*"), lit("]"), opt(lit(":"), field("client_port", r"[0-9]+")))
#: ``sender_fullhost``: ``[ip]``, ``(helo) [ip]``, ``name [ip]`` or ``name (helo) [ip]``, then ``:port``
#: with ``+incoming_port``. Only the last ``[...]`` is the address.
FULLHOST = seq(opt(_NAME, lit(" ")), opt(_HELO, lit(" ")), _ADDRESS)
_INTERFACE = opt(lit(" I=["), field("local_ip", r"[^\]]*"), lit("]:"), field("local_port", r"[0-9]+"))
_CONNECTION = opt(lit(" Ci="), field("connection_id", r"[0-9]+"))
#: ``host_and_ident()``: ``H=fullhost[ I=..][ U=rfc1413][ Ci=..]``, or ``U=user`` for a local caller
#: (the ident of a remote host is not kept).
HOST_AND_IDENT = pp.MatchFirst(
    [
        seq(lit("H="), FULLHOST, _INTERFACE, opt(lit(" U="), skip(r"[^ ]+")), _CONNECTION),
        seq(lit("U="), field("ident", r"[^ ]+"), opt(lit(" Ci="), skip(r"[0-9]+"))),
    ]
).leave_whitespace()
#: ``X=version:cipher:bits[:group][*]`` in OpenSSL (TLS1.3, pre-4.93 TLSv1.2) and GnuTLS spellings.
_TLS = seq(
    lit(" X="),
    field("tls_protocol", r"[^: ]+"),
    lit(":"),
    field("tls_cipher", r"[^: ]+"),
    lit(":"),
    field("tls_bits", r"[0-9]+"),
    opt(lit(":"), field("tls_group", r"[^ *]+")),
    opt(lit("*")),
)
_CV = seq(lit(" CV="), field("tls_verified", r"[a-z]+"))

# --- arrivals and deliveries ----------------------------------------------------

#: ``<=`` arrival (``(=`` for a fake reject), fields in receive.c's order.
ARRIVAL = Kind(
    "arrival",
    seq(
        one_of("action", "<=", "(="),
        lit(" "),
        opt(lit("<")),
        field("sender", r"[^ <>]*"),
        opt(lit(">")),
        opt(lit(" R="), field("orig_queue_id", r"[^ ]+")),
        opt(lit(" DS")),
        opt(lit(" "), HOST_AND_IDENT),
        opt(lit(" TFO")),
        opt(lit(" P="), field("proto", r"[a-z-]+")),
        opt(lit(" L"), skip(r"[-*.]?")),
        opt(_TLS),
        opt(_CV),
        opt(lit(' DN="'), skip(r'[^"]*'), lit('"')),
        opt(lit(" SNI="), field("tls_sni", r"[^ ]+")),
        opt(lit(" A="), field("sasl_method", r"[^ :]+"), opt(lit(":"), field("sasl_username", r"[^ ]+"))),
        opt(lit(" PRDR")),
        opt(lit(" K")),
        opt(lit(" S="), field("size", r"[0-9]+")),
        opt(lit(" M8S="), skip(r"[0-9]+")),
        opt(lit(" DKIM="), field("dkim_domain", r"[^ ]+")),
        opt(lit(" RT="), skip(r"[^ ]+")),
        opt(lit(" id"), opt(lit("*")), lit("="), field("message_id", r"[^ ]*")),
        opt(lit(" ")),
        text("details"),
    ),
    prefix="required",
)
_ROUTING = seq(
    opt(lit(" F=<"), field("sender", r"[^>]*"), lit(">")),
    opt(lit(" Q="), skip(r"[^ ]+")),
    opt(lit(" P=<"), skip(r"[^>]*"), lit(">")),
    opt(lit(" R="), field("router", r"[^ ]+")),
    opt(lit(" T="), field("transport", r"[^ ]+")),
)
_REMOTE = seq(
    lit(" H="),
    field("relay", r"[^ ]+"),
    opt(lit(" DS")),
    lit(" ["),
    field("relay_ip", r"[^\]]*"),
    lit("]"),
    opt(lit(":"), field("relay_port", r"[0-9]+")),
    opt(lit("*")),
)
#: ``=>`` (and ``->`` additional address, ``*>`` suppressed, ``>>`` cutthrough): a delivery.
DELIVERED = Kind(
    "delivery",
    seq(
        one_of("action", "=>", "->", "*>", ">>"),
        lit(" "),
        field("recipient", r"[^ ]+"),
        opt(lit(" <"), field("orig_to", r"[^>]*"), lit(">")),
        _ROUTING,
        opt(_REMOTE),
        _INTERFACE,
        opt(_TLS),
        opt(_CV),
        opt(lit(" ")),
        text("details"),
    ),
    prefix="required",
)
#: ``==`` deferral: ``R=.. T=.. defer (errno)[: strerror][ H=..][: message]``.
DEFERRED = Kind(
    "delivery",
    seq(
        one_of("action", "=="),
        lit(" "),
        field("recipient", r"[^ ]+"),
        opt(lit(" <"), field("orig_to", r"[^>]*"), lit(">")),
        _ROUTING,
        lit(" "),
        field("status", r"defer|routing defer"),
        lit(" ("),
        field("exim_errno", r"-?[0-9]+"),
        lit(")"),
        opt(lit(":")),
        opt(lit(" ")),
        text("reason"),
    ),
    prefix="required",
)
#: ``**`` failure: ``... : strerror : message`` (note the spaced colon).
FAILED = Kind(
    "delivery",
    seq(
        one_of("action", "**"),
        lit(" "),
        field("recipient", r"[^ ]+"),
        opt(lit(" <"), field("orig_to", r"[^>]*"), lit(">")),
        _ROUTING,
        opt(_REMOTE),
        opt(_TLS),
        opt(lit(" ")),
        opt(lit(": ")),
        text("reason"),
    ),
    prefix="required",
)
COMPLETED = Kind("completed", seq(lit("Completed"), opt(lit(" QT="), skip(r"[^ ]+"))), prefix="required")

# --- ACL rejections ---------------------------------------------------------------

#: What was rejected: ``RCPT <addr>``, ``MAIL <addr>``, ``EHLO or HELO name``, ``connection in "connect" ACL``...
_WHAT = seq(
    one_of("stage", "RCPT", "MAIL", "EHLO or HELO", "connection", "after DATA PRDR", "after DATA", "DATA", "AUTH",
           "VRFY", "ETRN", "STARTTLS", "MIME", "NOTQUIT", "QUIT", "WELLKNOWN", "ATRN"),
    opt(lit(" <"), field("recipient", r"[^>]*"), lit(">")),
    opt(lit(" "), field("command", r"[^:]+")),
)  # fmt: skip
#: ``[DS ]H=.. [X=..] [F=<sender>[ A=..]] [SPF..] [temporarily ]rejected WHAT[: reason]``
REJECT = Kind(
    "reject",
    seq(
        opt(lit("DS ")),
        HOST_AND_IDENT,
        opt(_TLS),
        opt(_CV),
        opt(lit(" F=<"), field("sender", r"[^>]*"), lit(">"), opt(lit(" A="), field("sasl_method", r"[^ ]+"))),
        opt(lit(" SPF="), field("spf_result", r"[a-z]+")),
        opt(lit(" DMARC="), field("dmarc_result", r"[a-z]+")),
        lit(" "),
        one_of("action", "rejected", "temporarily rejected"),
        lit(" "),
        _WHAT,
        opt(lit(":")),
        opt(lit(" ")),
        text("reason"),
    ),
    prefix="optional",
)
SENDER_VERIFY = Kind(
    "sender-verify-fail",
    seq(HOST_AND_IDENT, lit(" sender verify "), field("action", r"fail|defer"), lit(" for <"),
        field("sender", r"[^>]*"), lit(">"), opt(lit(":")), opt(lit(" ")), text("reason")),
    prefix="optional",
)  # fmt: skip

# --- TLS ------------------------------------------------------------------------------

_TLS_ERROR_HEAD = seq(
    lit("TLS error on "), opt(lit("TLS ")), lit("connection from "), FULLHOST, _INTERFACE, _CONNECTION,
    lit(" ("), field("tls_context", r"[^)]*"), lit("): "),
)  # fmt: skip
#: OpenSSL: ``error:CODE:LIBRARY:FUNCTION:REASON`` (no file:line, unlike Postfix).
TLS_ERROR_OPENSSL = Kind(
    "tls-error",
    seq(
        _TLS_ERROR_HEAD,
        lit("error:"),
        field("tls_error_code", r"[0-9A-Fa-f]+"),
        lit(":"),
        field("tls_library", r"[^:]*"),
        lit(":"),
        field("tls_function", r"[^:]*"),
        lit(":"),
        field("tls_error", r"[^:]*"),
        opt(lit(":")),
        text("tls_error_data"),
    ),
)
#: GnuTLS (Debian's exim4) and everything else: the text is the reason.
TLS_ERROR_OTHER = Kind("tls-error", seq(_TLS_ERROR_HEAD, text("tls_error")))
TLS_FALLBACK_OUT = Kind(
    "tls-start-failed",
    seq(lit("TLS session: ("), field("tls_context", r"[^)]*"), lit("): "),
        text_until("reason", lit(": delivering unencrypted to H="), field("relay", r"[^ ]+"), lit(" ["),
                   field("relay_ip", r"[^\]]*"), lit("]"), opt(lit(" ")), text("details"))),
    prefix="optional",
)  # fmt: skip

# --- connections and protocol errors ----------------------------------------------------

SMTP_CONNECT = Kind(
    "connect",
    seq(lit("SMTP connection from "), FULLHOST, _INTERFACE, _CONNECTION,
        lit(" (TCP/IP connection count = "), field("count", r"[0-9]+"), lit(")")),
)  # fmt: skip
SMTP_CLOSED = Kind(
    "disconnect",
    seq(lit("SMTP connection from "), FULLHOST, _INTERFACE, _CONNECTION,
        opt(lit(" D="), field("duration", r"[^ ]+")),
        lit(" closed by "), field("end_reason", r"[A-Z]+"), opt(lit(" ")), text("details")),
)  # fmt: skip
SMTP_LOST = Kind(
    "session-error",
    seq(lit("SMTP connection from "), text_until("client_name", lit(" lost "), text("reason"))),
)  # fmt: skip
SYNC_ERROR = Kind(
    "sync-error",
    seq(lit("SMTP protocol synchronization error ("), field("reason", r"[^)]*"), lit("): "),
        text_until("command", lit("H="), FULLHOST, _INTERFACE, _CONNECTION, opt(lit(" ")), text("details"))),
)  # fmt: skip
PROTOCOL_ERROR = Kind(
    "protocol-error",
    seq(one_of("severity", "SMTP protocol error", "SMTP syntax error"), lit(' in "'),
        text_until("command", lit('" '), HOST_AND_IDENT, opt(lit(" ")), text("reason"))),
)  # fmt: skip
CALL_DROPPED = Kind(
    "dropped",
    seq(lit("SMTP call from "), FULLHOST, _INTERFACE, _CONNECTION, lit(" dropped: "), text("reason")),
)
NO_MAIL = Kind(
    "no-mail",
    seq(lit("no MAIL in SMTP connection from "), FULLHOST, _INTERFACE, _CONNECTION,
        opt(lit(" D="), field("duration", r"[^ ]+")), opt(lit(" ")), text("details")),
)  # fmt: skip
INCOMPLETE = Kind(
    "incomplete-transaction",
    seq(HOST_AND_IDENT, lit(" incomplete transaction ("), field("end_reason", r"[^)]*"), lit(")"),
        opt(lit(" from <"), field("sender", r"[^>]*"), lit(">")), opt(lit(" for ")), text("recipient")),
    prefix="optional",
)  # fmt: skip
AUTH_FAILED = Kind(
    "sasl-failure",
    seq(field("sasl_method", r"[^ ]+"), lit(" authenticator failed for "), FULLHOST, _INTERFACE, _CONNECTION,
        lit(": "), opt(field("reply_code", r"[2-5][0-9][0-9]"), lit(" ")),
        text_until("reason", opt(lit(" (set_id="), field("sasl_username", r"[^)]*"), lit(")")))),
)  # fmt: skip

# --- DKIM, housekeeping -------------------------------------------------------------------

DKIM = Kind(
    "dkim",
    seq(lit("DKIM: d="), field("dkim_domain", r"[^ ]+"), lit(" s="), field("dkim_selector", r"[^ ]+"),
        opt(lit(" c="), skip(r"[^ ]+")), opt(lit(" a="), field("dkim_algorithm", r"[^ ]+")),
        opt(lit(" b="), field("dkim_bits", r"[0-9]+")), opt(lit(" ")),
        text_until("details", opt(lit("["), field("dkim_result", r"[^\]]*"), lit("]")))),
    prefix="optional",
)  # fmt: skip
QUEUE_RUN = Kind("queue-run", seq(one_of("action", "Start queue run", "End queue run"), lit(": "), text("details")))
NO_PTR = Kind("no-ptr", seq(lit("no host name found for IP address "), field("client_ip", r"[^ ]+")))
DAEMON = Kind("daemon", seq(lit("exim "), field("version", r"[^ ]+"), lit(" daemon started: "), text("details")))

FAMILIES = {
    f.name: f
    for f in (
        Family(
            "exim",
            [
                ARRIVAL, DELIVERED, DEFERRED, FAILED, COMPLETED, REJECT, SENDER_VERIFY, TLS_ERROR_OPENSSL,
                TLS_ERROR_OTHER, TLS_FALLBACK_OUT, SMTP_CONNECT, SMTP_CLOSED, SMTP_LOST, SYNC_ERROR,
                PROTOCOL_ERROR, CALL_DROPPED, NO_MAIL, INCOMPLETE, AUTH_FAILED, DKIM, QUEUE_RUN, NO_PTR, DAEMON,
            ],
            prefix=PREFIX,
        ),
    )
}  # fmt: skip

#: The envelope names Exim lines ``exim``; syslog calls it exim or exim4.
DAEMONS = {"exim": "exim", "exim4": "exim"}

SAMPLES = {
    "exim": [
        "1pXyZa-00000001aBc-DeFg <= a@example.net H=mail.example.net [198.51.100.7] P=esmtps "
        "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=4213 DKIM=example.net id=20240301.abc@example.net",
        "1pXyZb-0001aB-Cd <= <> R=1pXyZa-0001aA-Zz U=Debian-exim P=local S=2100",
        "1pXyZa-00000001aBc-DeFg => c@example.org R=dnslookup T=remote_smtp H=mx.example.org [192.0.2.25] "
        'X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 OK id=3F2A41C0B7"',
        "1pXyZa-00000001aBc-DeFg == d@example.org R=dnslookup T=remote_smtp defer (-44) H=mx.example.org "
        "[192.0.2.25]: SMTP error from remote mail server after RCPT TO:<d@example.org>: 450 4.2.0 Greylisted",
        "1pXyZa-00000001aBc-DeFg ** e@example.org R=dnslookup T=remote_smtp H=mx.example.org [192.0.2.25] : "
        "SMTP error from remote mail server after RCPT TO:<e@example.org>: 550 5.1.1 user unknown",
        "1pXyZa-00000001aBc-DeFg Completed",
        "H=(ylmf-pc) [203.0.113.9] F=<x@example.org> rejected RCPT <bob@example.com>: relay not permitted",
        "H=mail.example.net [198.51.100.7] F=<a@example.net> temporarily rejected RCPT <bob@example.com>: greylisted",
        "1pXyZa-00000001aBc-DeFg H=mail.example.net [198.51.100.7] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no "
        "F=<a@example.net> rejected after DATA: This message contains a virus (Eicar-Signature)",
        "TLS error on connection from (ylmf-pc) [203.0.113.20] (SSL_accept): error:0A0000C1:SSL routines::no "
        "shared cipher",
        "TLS error on connection from mail.example.net (helo.example.net) [198.51.100.7] (gnutls_handshake): "
        "Could not negotiate a supported cipher suite.",
        "1pXyZa-00000001aBc-DeFg TLS session: (SSL_connect): error:0A000410:SSL routines::sslv3 alert handshake "
        "failure: delivering unencrypted to H=mx.example.org [192.0.2.25] (not in hosts_require_tls)",
        "SMTP connection from [198.51.100.7]:41234 (TCP/IP connection count = 3)",
        "SMTP connection from mail.example.net [198.51.100.7] D=0.1s closed by QUIT",
        'SMTP protocol error in "DATA" H=(x) [203.0.113.9] valid RCPT command must precede DATA',
        "1pXyZa-00000001aBc-DeFg DKIM: d=example.net s=sel1 c=relaxed/relaxed a=rsa-sha256 b=1024 "
        "[verification succeeded]",
    ],
}
