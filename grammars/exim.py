"""Exim mainlog, rejectlog and paniclog lines (``log-formats.md`` section 6 and 3.3).

An Exim log line is ``YYYY-MM-DD HH:MM:SS[.mmm][ ±hhmm][ [pid]] [MSGID ]TEXT``
(the envelope is in :mod:`.envelopes`). Syslog-wrapped Exim (``exim[pid]:``)
puts the ``[n/m]`` split marker of a long line in front of Exim's own
timestamp and may keep ``[pid]`` behind it; :data:`INNER` reads them off the
message before the kinds below see it.

Field names are the ``events`` columns, as for Postfix: the arrival, delivery,
rejection and per-host lines fill the same client, sender, recipient, relay,
stage, reply code and status columns, so the detectors need no Exim-specific
code. Exim logs no reply code for its own rejections: ``action`` says
``rejected`` (permanent) or ``temporarily rejected`` (a 4xx, e.g. greylisting).
The reply code of a *remote* server is in ``reply_code`` (``remote-reply`` and
the ``==``/``**`` lines that quote it).

Every kind is a shape that Exim's source writes with ``log_write()`` (the
comment above each names the file); text an administrator writes with an ACL
``logwrite`` is free-form and deliberately left unparsed.
"""

from __future__ import annotations

import pyparsing as pp

from .elements import CUT, END, FIELD_END, Family, Kind, field, lit, one_of, opt, seq, skip, text, text_until
from .openssl import OPENSSL_ERROR

__all__ = ["DAEMONS", "FAMILIES", "INNER", "MESSAGE_ID", "SAMPLES"]

_ID = "[0-9A-Za-z]"
#: 4.97+ ids are 6-11-4, older ones 6-6-2; both can appear in one log after an upgrade. Written
#: so that the byte after the second group of six tells the two apart (a one-pass pattern).
MESSAGE_ID_PATTERN = rf"{_ID}{{6}}-{_ID}{{6}}(?:{_ID}{{5}}-{_ID}{{4}}|-{_ID}{{2}})"
MESSAGE_ID = field("queue_id", MESSAGE_ID_PATTERN)
PREFIX = seq(MESSAGE_ID, lit(" "))

#: What syslog-wrapped Exim puts in front of the text (log.c ``write_syslog()``): the split marker
#: ``[n/m] `` of a line longer than the syslog limit (``/``; ``\`` where the text had a newline),
#: then Exim's own timestamp unless ``syslog_timestamp = false`` (with `` ±hhmm`` under
#: ``log_timezone``; the offset is not kept), then ``[pid] `` when ``+pid`` is on and the
#: syslog daemon did not take it into the tag. Only the first part of a split line has the
#: timestamp.
INNER = seq(
    opt(lit("["), field("split_part", r"[0-9]+"), skip(r"[/\\]"), field("split_total", r"[0-9]+"), lit("] ")),
    opt(
        field("exim_timestamp", r"[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{3})?"),
        opt(lit(" "), skip(r"[+-][0-9]{4}")),
        lit(" "),
    ),
    opt(skip(r"\[[0-9]+\] ")),
    text("msg"),
    END,
).set_name("exim inner envelope")

# --- hosts ---------------------------------------------------------------------

_NAME = field("client_name", r"[^ (\[][^ ]*")
_HELO = seq(lit("("), field("helo", r"[^)]*"), lit(")"))
_ADDRESS = seq(lit("["), field("client_ip", r"[^\]]*"), lit("]"), opt(lit(":"), field("client_port", r"[0-9]+")))
#: ``sender_fullhost``: ``[ip]``, ``(helo) [ip]``, ``name [ip]`` or ``name (helo) [ip]``, then ``:port``
#: with ``+incoming_port``. Only the last ``[...]`` is the address.
FULLHOST = seq(opt(_NAME, lit(" ")), opt(_HELO, lit(" ")), _ADDRESS)
_INTERFACE = opt(lit(" I=["), field("local_ip", r"[^\]]*"), lit("]:"), field("local_port", r"[0-9]+"))
_CONNECTION = opt(lit(" Ci="), field("connection_id", r"[0-9]+"))
#: RFC 1413 ident of a remote host: logged, not kept. Idents never end a field with ``:``.
_REMOTE_IDENT = opt(lit(" U="), skip(r"[^ :]+"))
#: ``host_and_ident(TRUE)``: ``H=fullhost[ I=..][ U=rfc1413][ Ci=..]``, or ``U=user`` for a local
#: caller (host.c); a rejection puts ``DS `` in front when the host name was DNSSEC-verified. The
#: literal heads come first so that the kinds starting with a host dispatch on them.
HOST_AND_IDENT = seq(
    pp.MatchFirst([lit("DS H="), lit("H="), lit("U=")]).leave_whitespace(),
    pp.MatchFirst(
        [
            seq(FULLHOST, _INTERFACE, _REMOTE_IDENT, _CONNECTION),
            seq(field("ident", r"[^ :]+"), opt(lit(" Ci="), skip(r"[0-9]+"))),
        ]
    ).leave_whitespace(),
)
#: ``host_and_ident(FALSE)``: the same without ``H=``; a local caller is named by the login alone
#: (``SMTP call from root dropped``), and a data timeout of a local submission says ``local process``.
FROM_HOST = pp.MatchFirst(
    [
        seq(FULLHOST, _INTERFACE, _REMOTE_IDENT, _CONNECTION),
        field("ident", r"local process|[^ :]+"),
    ]
).leave_whitespace()
#: Either of the two: the authenticator failure line uses ``host_and_ident(TRUE)`` in current Exim
#: and ``(FALSE)`` in older versions (real logs in the corpus show both).
ANY_HOST = pp.MatchFirst(
    [
        seq(opt(lit("H=")), FULLHOST, _INTERFACE, _REMOTE_IDENT, _CONNECTION),
        seq(opt(lit("U=")), field("ident", r"[^ :]+")),
    ]
).leave_whitespace()


def _connection_info(host: pp.ParserElement) -> pp.ParserElement:
    """``SMTP connection[ Ci=id] from HOST`` with one or both forms of the host."""
    return seq(lit("SMTP connection"), _CONNECTION, lit(" from "), host)


_SERVED_REMOTE = seq(FULLHOST, _INTERFACE)
_SERVED_LOCAL = field("ident", r"[^ :]+")
#: ``smtp_get_connection_info()`` (smtp_in.c): ``SMTP connection[ Ci=id] from HOST``, HOST being
#: ``sender_fullhost`` (plus `` I=[ip]:port``) or the local caller's login.
_CONNECTION_INFO = _connection_info(pp.MatchFirst([_SERVED_REMOTE, _SERVED_LOCAL]).leave_whitespace())
#: A remote server of the client side (transports/smtp.c): ``H=name [ip][:port]``; the name is the
#: host list entry, never a HELO.
_RELAY = seq(
    lit("H="),
    field("relay", r"[^ ]+"),
    opt(lit(" DS")),
    lit(" ["),
    field("relay_ip", r"[^\]]*"),
    lit("]"),
    opt(lit(":"), field("relay_port", r"[0-9]+")),
)

#: ``X=version:cipher:bits[:group][*]`` in OpenSSL (TLS1.3, pre-4.93 TLSv1.2) and GnuTLS spellings.
_TLS_FIELD = seq(
    lit("X="),
    field("tls_protocol", r"[^: ]+"),
    lit(":"),
    field("tls_cipher", r"[^: ]+"),
    lit(":"),
    field("tls_bits", r"[0-9]+"),
    opt(lit(":"), field("tls_group", r"[^ *]+")),
    opt(lit("*")),
)
_TLS = seq(lit(" "), _TLS_FIELD)
_CV = seq(lit(" CV="), field("tls_verified", r"[a-z]+"))
_DN = seq(lit(' DN="'), field("tls_peer_dn", r'[^"]*'), lit('"'))
#: ``add_tls_info_for_log()`` (smtp_in.c): X=, CV=, DN=, SNI=, each only when known.
_TLS_INFO = seq(opt(_TLS), opt(_CV), opt(_DN), opt(lit(" SNI="), field("tls_sni", r"[^ ]+")))

# --- the same parts as fields ended by FIELD_END, for the one-pass forms of the frequent lines ----

_INTERFACE_FIELD = opt(lit("I=["), field("local_ip", r"[^\]]*"), lit("]:"), field("local_port", r"[0-9]+"), FIELD_END)
#: ``fullhost[ I=..][ U=rfc1413][ Ci=..]``: a remote host as ``host_and_ident(TRUE)`` writes it after ``H=``.
_REMOTE_HOST_FIELDS = seq(
    FULLHOST,
    FIELD_END,
    _INTERFACE_FIELD,
    opt(lit("U="), skip(r"[^ :]+"), FIELD_END),
    opt(lit("Ci="), field("connection_id", r"[0-9]+"), FIELD_END),
)
#: ``X=``, ``CV=`` and ``DN=``, each only when known (SNI= follows where a line has it).
_TLS_FIELDS = seq(
    opt(_TLS_FIELD, FIELD_END),
    opt(lit("CV="), field("tls_verified", r"[a-z]+"), FIELD_END),
    opt(lit('DN="'), field("tls_peer_dn", r'[^"]*'), lit('"'), FIELD_END),
)
_SNI_FIELD = opt(lit("SNI="), field("tls_sni", r"[^ ]+"), FIELD_END)
_AUTH_FIELD = opt(
    lit("A="), field("sasl_method", r"[^ :]+"), opt(lit(":"), field("sasl_username", r"[^ ]+")), FIELD_END
)

REPLY_CODE = field("reply_code", r"[2-5][0-9][0-9]")
DSN = field("dsn", r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
#: ``check_response()`` (transports/smtp.c): ``SMTP error from remote mail server after [pipelined
#: ]COMMAND: CODE[ DSN] TEXT`` (``LMTP error after`` for LMTP). The command is the text up to the
#: first ``: `` followed by a reply code.
_REMOTE_SMTP_ERROR = (
    pp.MatchFirst([lit("SMTP error from remote mail server after "), lit("LMTP error after ")]).leave_whitespace(),
    opt(lit("pipelined ")),
    text_until("command", lit(": "), REPLY_CODE, opt(lit(" "), DSN), opt(lit(" ")), text("reason")),
)

# --- arrivals and deliveries ----------------------------------------------------

#: The sending host of an arrival: ``H=fullhost[ I=..][ U=rfc1413][ Ci=..]`` or ``U=login[ Ci=..]`` of a local
#: caller, each part ended by a space or the end of the line (see ``FIELD_END``).
_ARRIVAL_HOST = pp.MatchFirst(
    [
        seq(lit("H="), _REMOTE_HOST_FIELDS),
        seq(lit("U="), field("ident", r"[^ :]+"), FIELD_END, opt(lit("Ci="), skip(r"[0-9]+"), FIELD_END)),
    ]
).leave_whitespace()
#: ``<=`` arrival (``(=`` for a fake reject), fields in receive.c's order. The most frequent long line
#: of a mainlog, so it is written for the fast capture engine: each field ends with ``FIELD_END``,
#: and two cuts keep apart the keys that share a first letter (``P=``/``PRDR``, ``SNI=``/``S=``,
#: ``DN=``/``DKIM=``) and keep each plan within 16 groups. ``DS`` before ``H=`` (a DNSSEC-verified
#: host name) is the separate ``DS`` field.
ARRIVAL = Kind(
    "arrival",
    seq(
        one_of("action", "<=", "(="),
        lit(" "),
        opt(lit("<")),
        field("sender", r"[^ <>]*"),
        opt(lit(">")),
        FIELD_END,
        opt(lit("R="), field("orig_queue_id", r"[^ ]+"), FIELD_END),
        opt(lit("DS"), FIELD_END),
        opt(_ARRIVAL_HOST),
        opt(lit("TFO"), FIELD_END),
        opt(lit("P="), field("proto", r"[a-z0-9-]+"), FIELD_END),
        CUT,
        opt(lit("L"), skip(r"[-*.]?"), FIELD_END),
        _TLS_FIELDS,
        _SNI_FIELD,
        _AUTH_FIELD,
        opt(lit("PRDR"), FIELD_END),
        opt(lit("K"), FIELD_END),
        CUT,
        opt(lit("S="), field("size", r"[0-9]+"), FIELD_END),
        opt(lit("M8S="), skip(r"[0-9]+"), FIELD_END),
        opt(lit("DKIM="), field("dkim_domain", r"[^ ]+"), FIELD_END),
        opt(lit("RT="), skip(r"[^ ]+"), FIELD_END),
        opt(lit("id"), opt(lit("*")), lit("="), field("message_id", r"[^ ]*"), FIELD_END),
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
_REMOTE = seq(lit(" "), _RELAY, opt(lit("*")))
#: An address, or one of the special ``:blackhole:``/``:fail:``/``:defer:`` redirections; an address
#: never ends in ``:`` (old ``**`` lines write ``addr: message``).
_RECIPIENT = seq(field("recipient", r":[a-z]+:|[^ ]*[^ :]"), opt(lit(" <"), field("orig_to", r"[^>]*"), lit(">")))
#: ``=>`` (and ``->`` additional address, ``*>`` suppressed, ``>>`` cutthrough): a delivery (``delivery_log()``
#: in deliver.c). The second most frequent long line of a mainlog, written like the arrival (``FIELD_END``
#: after each field, a cut to stay within 16 groups). The address is the first word (a path, a pipe or a
#: ``:blackhole:`` redirection as well).
DELIVERED = Kind(
    "delivery",
    seq(
        one_of("action", "=>", "->", "*>", ">>"),
        lit(" "),
        field("recipient", r"[^ ]+"),
        FIELD_END,
        opt(lit("<"), field("orig_to", r"[^>]*"), lit(">"), FIELD_END),
        opt(lit("F=<"), field("sender", r"[^>]*"), lit(">"), FIELD_END),
        opt(lit("Q="), skip(r"[^ ]+"), FIELD_END),
        opt(lit("P=<"), skip(r"[^>]*"), lit(">"), FIELD_END),
        opt(lit("R="), field("router", r"[^ ]+"), FIELD_END),
        opt(lit("T="), field("transport", r"[^ ]+"), FIELD_END),
        opt(_RELAY, opt(lit("*")), FIELD_END),
        _INTERFACE_FIELD,
        CUT,
        _TLS_FIELDS,
        text("details"),
    ),
    prefix="required",
)
#: ``deferral_log()`` (deliver.c): ``== addr R=.. T=.. defer (errno)[: strerror][ H=name [ip]][ DT=..][: message]``.
#: The errno is Exim's (negative: ``macros.h``) or the system's; Exim's own test suite masks the latter
#: as ``dd`` or ``EEE``, which is accepted and casts to null.
_DEFER = seq(
    one_of("action", "=="),
    lit(" "),
    _RECIPIENT,
    _ROUTING,
    lit(" "),
    field("status", r"defer|routing defer"),
    lit(" ("),
    field("exim_errno", r"-?[0-9]+|EEE|dd"),
    lit(")"),
)
#: A strerror() text: words up to `` H=`` (system messages have no colon and no later word with a
#: capital H).
_STRERROR = skip(r"[^ :]+(?: [^ :H][^ :]*)*")
_DEFER_HOST = seq(
    opt(lit(": "), _STRERROR),
    lit(" "),
    _RELAY,
    _INTERFACE,
    opt(lit(" DT="), skip(r"[^ :]+")),
    lit(": "),
)
#: ... the remote server's reply quoted: command, code, enhanced code and text are fields.
DEFERRED_REPLY = Kind("delivery", seq(_DEFER, _DEFER_HOST, *_REMOTE_SMTP_ERROR), prefix="required")
#: ... another failure at a named host (timeout, lost connection, TLS required).
DEFERRED_HOST = Kind("delivery", seq(_DEFER, _DEFER_HOST, text("reason")), prefix="required")
DEFERRED = Kind("delivery", seq(_DEFER, opt(lit(":")), opt(lit(" ")), text("reason")), prefix="required")
#: ``failure_log()`` (deliver.c): ``** addr [<orig>] [F=..] [P=..] R=.. [T=..] [H=..] [X=..] : message``
#: (note the spaced colon; older versions wrote ``addr: message``).
_FAIL = seq(one_of("action", "**"), lit(" "), _RECIPIENT, _ROUTING)
FAILED_REPLY = Kind(
    "delivery",
    seq(_FAIL, _REMOTE, _INTERFACE, opt(_TLS), opt(_CV), opt(_DN), opt(lit(" ")), lit(": "), *_REMOTE_SMTP_ERROR),
    prefix="required",
)
FAILED = Kind(
    "delivery",
    seq(_FAIL, opt(_REMOTE), opt(_TLS), opt(lit(" ")), opt(lit(": ")), text("reason")),
    prefix="required",
)
COMPLETED = Kind("completed", seq(lit("Completed"), opt(lit(" QT="), skip(r"[^ ]+"))), prefix="required")

# --- the remote host of a delivery: write_logs() in transports/smtp.c ------------------------

#: ``H=name [ip]: SMTP error from remote mail server after CMD: CODE TEXT``
REMOTE_REPLY = Kind("remote-reply", seq(_RELAY, lit(": "), *_REMOTE_SMTP_ERROR), prefix="required")
#: ``H=name [ip]: SMTP timeout after CMD: strerror``
REMOTE_TIMEOUT = Kind(
    "remote-timeout",
    seq(_RELAY, lit(": SMTP timeout after "), opt(lit("pipelined ")), text_until("command", lit(": "), text("reason"))),
    prefix="required",
)
#: ``H=name [ip]: Remote host closed connection in response to CMD[ (EHLO response was: ...)]``
REMOTE_LOST = Kind(
    "remote-lost",
    seq(_RELAY, lit(": Remote host closed connection in response to "), opt(lit("pipelined ")), text("command")),
    prefix="required",
)
#: ``H=name [ip] ERRSTR``: the connection itself failed (``exim_errstr()``: a system or Exim error text).
CONNECT_FAILED = Kind("connect-failed", seq(_RELAY, lit(" "), field("reason", r"[A-Z][^:=]*")), prefix="required")
#: ``H=name [ip]: MESSAGE``: any other per-host failure (malformed reply, TLS required, ...).
REMOTE_ERROR = Kind("remote-error", seq(_RELAY, lit(": "), text("reason")), prefix="required")
#: ``TLS error on connection (where): message`` of the client side (tls-openssl.c, tls-gnu.c).
TLS_ERROR_OUT = Kind(
    "tls-error",
    seq(_RELAY, lit(" TLS error on connection "), opt(lit("to "), skip(r"[^(]*")), lit("("),
        field("tls_context", r"[^)]*"), lit("): "), text("tls_error")),
    prefix="required",
)  # fmt: skip
#: The client side's authentication failed (transports/smtp.c): ``NAME authenticator failed H=.. CODE TEXT``
#: or ``... cancelled authentication H=.. TEXT``.
SASL_CLIENT = Kind(
    "sasl-client-failure",
    seq(field("sasl_method", r"[^ ]+"), lit(" authenticator "),
        one_of("action", "failed", "cancelled authentication"), lit(" "), _RELAY, lit(" "),
        opt(REPLY_CODE, lit(" ")), opt(DSN, lit(" ")), text("reason")),
    prefix="required",
)  # fmt: skip

# --- ACL rejections ---------------------------------------------------------------

#: What was rejected (``acl_wherenames``): ``RCPT <addr>``, ``MAIL <addr>``, ``EHLO or HELO name``,
#: ``connection in "connect" ACL``... Older versions wrote the address without ``<>``.
_WHAT = seq(
    one_of("stage", "RCPT", "MAIL", "EHLO or HELO", "connection", "after DATA PRDR", "after DATA", "DATA", "AUTH",
           "VRFY", "EXPN", "ETRN", "STARTTLS", "MIME", "NOTQUIT", "QUIT", "WELLKNOWN", "ATRN", "DKIM",
           "during MIME ACL checks"),
    opt(lit(" <"), field("recipient", r"[^>]*"), lit(">")),
    opt(lit(" "), field("command", r"[^:]+")),
)  # fmt: skip
_SENDER_INFO = seq(
    lit(" F="),
    opt(lit("<")),
    field("sender", r"[^> ]*"),
    opt(lit(">")),
    opt(lit(" A="), field("sasl_method", r"[^ :]+"), opt(lit(":"), field("sasl_username", r"[^ ]+"))),
)
#: ``smtp_handle_acl_fail()`` (smtp_in.c): ``[DS ]H=.. [X=..] [F=<sender>[ A=..]] [SPF..] [temporarily
#: ]rejected WHAT[: reason]``
REJECT = Kind(
    "reject",
    seq(
        HOST_AND_IDENT,
        _TLS_INFO,
        opt(_SENDER_INFO),
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
#: ``... rejected RCPT <addr>``: the address is the recipient (older versions: without ``<>``).
REJECT_RCPT = Kind(
    "reject",
    seq(HOST_AND_IDENT, _TLS_INFO, opt(_SENDER_INFO),
        opt(lit(" SPF="), field("spf_result", r"[a-z]+")), opt(lit(" DMARC="), field("dmarc_result", r"[a-z]+")),
        lit(" "), one_of("action", "rejected", "temporarily rejected"), lit(" "), one_of("stage", "RCPT"), lit(" "),
        opt(lit("<")), field("recipient", r"[^ >]*[^ >:]"), opt(lit(">")), opt(lit(":")), opt(lit(" ")),
        text("reason")),
    prefix="optional",
)  # fmt: skip
#: The same line from a remote host with the address in ``<>``, the most frequent rejection, written with
#: ``FIELD_END`` for the one-pass engine and tried first. Two cuts keep apart the keys that share a first
#: letter (``Ci=``/``CV=``, ``SNI=``/``SPF=``, ``DN=``/``DMARC=``).
REJECT_RCPT_REMOTE = Kind(
    "reject",
    seq(pp.MatchFirst([lit("DS H="), lit("H=")]).leave_whitespace(), _REMOTE_HOST_FIELDS,
        CUT,
        _TLS_FIELDS, _SNI_FIELD,
        CUT,
        opt(lit("F="), opt(lit("<")), field("sender", r"[^<> ]*"), opt(lit(">")), FIELD_END, _AUTH_FIELD),
        opt(lit("SPF="), field("spf_result", r"[a-z]+"), FIELD_END),
        opt(lit("DMARC="), field("dmarc_result", r"[a-z]+"), FIELD_END),
        one_of("action", "rejected", "temporarily rejected"), lit(" "), one_of("stage", "RCPT"), lit(" <"),
        field("recipient", r"[^>]*"), lit(">"), opt(lit(":")), opt(lit(" ")), text("reason")),
    prefix="optional",
)  # fmt: skip
#: ``... rejected MAIL <addr>``: the address is the sender (no ``F=`` is logged for MAIL).
REJECT_MAIL = Kind(
    "reject",
    seq(HOST_AND_IDENT, _TLS_INFO, opt(lit(" SPF="), field("spf_result", r"[a-z]+")),
        opt(lit(" DMARC="), field("dmarc_result", r"[a-z]+")), lit(" "),
        one_of("action", "rejected", "temporarily rejected"), lit(" "), one_of("stage", "MAIL"), lit(" "),
        opt(lit("<")), field("sender", r"[^ >]*[^ >:]|"), opt(lit(">")), opt(lit(":")), opt(lit(" ")),
        text("reason")),
    prefix="optional",
)  # fmt: skip
#: ``... dropped by 'connect' ACL[: reason]`` (``log_connect_tls_drop()``, TLS-on-connect)
DROPPED_BY_ACL = Kind(
    "reject",
    seq(HOST_AND_IDENT, _TLS_INFO, lit(" "), one_of("action", "dropped"), lit(" by '"),
        field("stage", r"[^']+"), lit("' ACL"), opt(lit(":")), opt(lit(" ")), text("reason")),
    prefix="optional",
)  # fmt: skip
#: ``HOST F=<sender> RCPT addr: discarded by MAIL|RCPT ACL[: reason]``
DISCARDED = Kind(
    "reject",
    seq(HOST_AND_IDENT, lit(" F=<"), field("sender", r"[^>]*"), lit("> "), one_of("stage", "RCPT"), lit(" "),
        opt(lit("<")), field("recipient", r"[^ >:]*"), opt(lit(">")), lit(": "), one_of("action", "discarded"),
        lit(" by "), skip(r"[A-Z]+"), lit(" ACL"), opt(lit(":")), opt(lit(" ")), text("reason")),
    prefix="optional",
)  # fmt: skip
#: receive.c: ``F=<sender> [H=.. P=..] [temporarily ]rejected by local_scan(): reason`` and
#: ``F=<sender> rejected by non-SMTP ACL: reason``. Older versions wrote ``F=sender``.
REJECT_BY = Kind(
    "reject",
    seq(lit("F="), opt(lit("<")), field("sender", r"[^> ]*"), opt(lit(">")), opt(lit(" "), HOST_AND_IDENT),
        opt(lit(" P="), field("proto", r"[a-z0-9-]+")), _TLS_INFO, lit(" "),
        one_of("action", "rejected", "temporarily rejected"), lit(" by "),
        field("stage", r"local_scan|non-SMTP ACL"), opt(lit("()")), lit(":"), opt(lit(" ")), text("reason")),
    prefix="optional",
)  # fmt: skip
#: smtp_in.c: ``rejected HELO|EHLO from HOST: syntactically invalid argument(s): ARG``,
#: ``rejected MAIL from HOST: no HELO/EHLO given``, ``rejected XCLIENT from HOST: reason``
REJECT_COMMAND = Kind(
    "reject",
    seq(one_of("action", "rejected"), lit(" "), one_of("stage", "HELO", "EHLO", "MAIL", "XCLIENT"), lit(" from "),
        FROM_HOST, lit(": "), text("reason")),
)  # fmt: skip
#: smtp_in.c: ``rejected MAIL FROM:<sender> H=..: message too big: size=N max=M``
REJECT_MAIL_SIZE = Kind(
    "reject",
    seq(one_of("action", "rejected"), lit(" "), one_of("stage", "MAIL"), lit(" FROM:<"), field("sender", r"[^>]*"),
        lit("> "), HOST_AND_IDENT, lit(": "), text("reason")),
)  # fmt: skip
#: smtp_in.c: ``rejected MAIL command H=..: too many messages in one connection``
REJECT_MAIL_COUNT = Kind(
    "reject",
    seq(one_of("action", "rejected"), lit(" "), one_of("stage", "MAIL"), lit(" command "), HOST_AND_IDENT,
        lit(": "), text("reason")),
)  # fmt: skip
#: receive.c: ``rejected from <sender> H=..: message too big: read=N max=M`` (the DATA was too big).
REJECT_DATA_SIZE = Kind(
    "reject",
    seq(one_of("action", "rejected", "temporarily rejected"), lit(" from <"), field("sender", r"[^>]*"),
        lit(">"), opt(lit(" "), HOST_AND_IDENT), opt(lit(" P="), field("proto", r"[a-z0-9-]+")), lit(": "),
        text("reason")),
    prefix="optional",
)  # fmt: skip
#: smtp_in.c ``smtp_start_session()``: ``refused connection from HOST (host_reject_connection)`` and
#: ``temporarily refused connection from HOST: not in reserve list...``
REFUSED = Kind(
    "reject",
    seq(one_of("action", "refused", "temporarily refused"), lit(" "), one_of("stage", "connection"),
        lit(" from "), FROM_HOST, opt(lit(":")), lit(" "), text("reason")),
)  # fmt: skip
#: daemon.c: ``Connection from HOST refused: too many connections...``; smtp_in.c: ``connection from
#: HOST refused (IP options)``.
CONNECTION_REFUSED = Kind(
    "reject",
    seq(one_of("stage", "Connection", "connection"), lit(" from "), FROM_HOST, lit(" "),
        one_of("action", "refused"), opt(lit(":")), lit(" "), text("reason")),
)  # fmt: skip
#: smtp_in.c: ``too many recipients: message rejected|excess temporarily rejected: sender=<s> H=..``
TOO_MANY_RECIPIENTS = Kind(
    "reject",
    seq(lit("too many recipients")("reason"), lit(": "), pp.MatchFirst([lit("message "), lit("excess ")]),
        one_of("action", "rejected", "temporarily rejected"), lit(": sender=<"), field("sender", r"[^>]*"),
        lit("> "), HOST_AND_IDENT),
)  # fmt: skip
#: smtp_in.c ``qualify_recipient()``: ``unqualified recipient|sender|verify rejected: <addr> H=..``
UNQUALIFIED = Kind(
    "reject",
    seq(lit("unqualified "), field("stage", r"[a-z]+"), lit(" "), one_of("action", "rejected"), lit(": <"),
        field("recipient", r"[^>]*"), lit("> "), HOST_AND_IDENT, opt(lit(" ")), text("reason")),
)  # fmt: skip
#: ``H=.. sender verify fail|defer for <addr>[: reason]`` (smtp_in.c)
SENDER_VERIFY = Kind(
    "sender-verify-fail",
    seq(HOST_AND_IDENT, lit(" sender verify "), field("action", r"fail|defer"), lit(" for <"),
        field("sender", r"[^>]*"), lit(">"), opt(lit(":")), opt(lit(" ")), text("reason")),
    prefix="optional",
)  # fmt: skip


#: verify.c, a callout that could not connect: ``sender|recipient verify defer (making callout
#: connection): T=transport reason``
def _callout_defer(kind: str, who: str) -> Kind:
    return Kind(
        kind,
        seq(lit(f"{who} verify "), one_of("action", "defer"), lit(" (making callout connection): T="),
            field("transport", r"[^ ]+"), lit(" "), text("reason")),
        prefix="optional",
    )  # fmt: skip


CALLOUT_DEFER = _callout_defer("sender-verify-fail", "sender")
RECIPIENT_CALLOUT_DEFER = _callout_defer("recipient-verify-fail", "recipient")
#: smtp_in.c: ``VRFY failed for ADDRESS H=..``
VRFY_FAILED = Kind(
    "vrfy-failed",
    seq(lit("VRFY failed for "), opt(lit("<")), field("recipient", r"[^ >]*"), opt(lit(">")), lit(" "),
        HOST_AND_IDENT),
)  # fmt: skip
#: acl.c ``warn`` verb with ``log_message``: ``H=.. Warning: text`` (``U=..`` for a local caller).
ACL_WARNING = Kind(
    "acl-warning",
    seq(HOST_AND_IDENT, _TLS_INFO, lit(" Warning: "), text("reason")),
    prefix="optional",
)

# --- TLS ------------------------------------------------------------------------------

_TLS_ERROR_HEAD = seq(
    lit("TLS error on "), opt(lit("TLS ")), lit("connection from "), FULLHOST, _INTERFACE, _CONNECTION,
    lit(" ("), field("tls_context", r"[^)]*"), lit("): "),
)  # fmt: skip
#: ``smtp_log_tls_fail()`` (smtp_in.c), OpenSSL: ``error:CODE:LIBRARY:FUNCTION:REASON`` (no file:line,
#: unlike Postfix).
TLS_ERROR_OPENSSL = Kind(
    "tls-error",
    seq(
        _TLS_ERROR_HEAD,
        OPENSSL_ERROR,
        opt(lit(":")),
        text("tls_error_data"),
    ),
    prefix="optional",
)
#: GnuTLS (Debian's exim4) and everything else: the text is the reason.
TLS_ERROR_OTHER = Kind("tls-error", seq(_TLS_ERROR_HEAD, text("tls_error")), prefix="optional")
_PLAINTEXT_TO = seq(
    pp.MatchFirst([lit(": delivering unencrypted to "), lit(": callout unencrypted to ")]).leave_whitespace(),
    opt(lit("H=")), field("relay", r"[^ ]+"), lit(" ["), field("relay_ip", r"[^\]]*"), lit("]"),
)  # fmt: skip
#: transports/smtp.c: ``TLS session: (where): reason: delivering unencrypted to H=.. (not in
#: hosts_require_tls)`` (``callout unencrypted to`` for a verification callout).
TLS_FALLBACK_OUT = Kind(
    "tls-start-failed",
    seq(lit("TLS session: ("), field("tls_context", r"[^)]*"), lit("): "),
        text_until("reason", _PLAINTEXT_TO, opt(lit(" ")), text("details"))),
    prefix="optional",
)  # fmt: skip
#: ... when certificate verification failed there is no separate reason:
#: ``TLS session: (certificate verification failed): delivering unencrypted to H=..``
TLS_FALLBACK_VERIFY = Kind(
    "tls-start-failed",
    seq(lit("TLS session: ("), field("tls_context", r"[^)]*"), lit(")"), _PLAINTEXT_TO, opt(lit(" ")),
        text("details")),
    prefix="optional",
)  # fmt: skip
#: tls-openssl.c ``verify_callback()``: ``[ip] SSL verify error: depth=N error=TEXT cert=DN`` and
#: ``[ip] SSL verify error: certificate name mismatch: DN="DN" H="name"``; ``ip`` is the peer, a
#: remote server when delivering.
TLS_VERIFY = Kind(
    "tls-verify-failed",
    seq(lit("["), field("relay_ip", r"[^\]]*"), lit("] SSL verify error: depth="), skip(r"[0-9]+"),
        lit(" error="), text_until("tls_error", lit(" cert="), text("tls_peer_dn"))),
    prefix="optional",
)  # fmt: skip
TLS_VERIFY_NAME = Kind(
    "tls-verify-failed",
    seq(lit("["), field("relay_ip", r"[^\]]*"), lit("] SSL verify error: "),
        lit("certificate name mismatch")("tls_error"), lit(': DN="'), field("tls_peer_dn", r'[^"]*'),
        lit('" H="'), field("relay", r'[^"]*'), lit('"')),
    prefix="optional",
)  # fmt: skip
#: tls-openssl.c, a certificate or key that does not load: ``(SSL_CTX_use_PrivateKey_file file=PATH):
#: error:CODE:LIBRARY:FUNCTION:REASON``
TLS_CONFIG = Kind(
    "tls-config-error",
    seq(lit("("), field("tls_context", r"[^ )]+"), opt(lit(" file="), skip(r"[^)]*")), lit("): "),
        OPENSSL_ERROR, opt(lit(":")), text("tls_error_data")),
    prefix="optional",
)  # fmt: skip

# --- connections, timeouts and protocol errors ------------------------------------------------

#: daemon.c: ``SMTP connection from [ip]:port[ I=..][ Ci=..] (TCP/IP connection count = N)``
SMTP_CONNECT = Kind(
    "connect",
    seq(lit("SMTP connection from "), FULLHOST, _INTERFACE, _CONNECTION,
        lit(" (TCP/IP connection count = "), field("count", r"[0-9]+"), lit(")")),
)  # fmt: skip
#: A local SMTP session (``-bs``) with ``+smtp_connection``: ``SMTP connection[ Ci=..] from LOGIN``
SMTP_LOCAL_CONNECT = Kind("connect", _CONNECTION_INFO)


def _closed(host: pp.ParserElement) -> pp.ParserElement:
    """The closing line with one form of the host, remote or local.

    The two forms are two kinds: a host name and a login both start with a
    letter, so in one pattern the regex engine could not tell from the next
    character which of the two it reads, and would capture with its slow
    backtracking engine. Apart, the remote form is *one-pass* (see
    ``plans._sequence``), and these are among the most frequent Exim lines.
    """
    return seq(
        _connection_info(host), opt(lit(" D="), field("duration", r"[^ ]+")), lit(" closed "), opt(lit("by ")),
        field("end_reason", r"after SIGTERM|[A-Z]+"), opt(lit(" ")), text("details"),
    )  # fmt: skip


#: ``log_close_event()`` (smtp_in.c): ``SMTP connection from HOST D=.. closed by QUIT|EOF|DROP in ACL``
#: (``closed after SIGTERM``, ``closed SIGINT``); older versions wrote no ``D=``.
SMTP_CLOSED = Kind("disconnect", _closed(_SERVED_REMOTE), prefix="optional")
SMTP_CLOSED_LOCAL = Kind("disconnect", _closed(_SERVED_LOCAL), prefix="optional")
#: smtp_in.c/receive.c: ``SMTP connection from HOST lost while reading message data[ (header)]`` and,
#: between messages, ``SMTP connection from HOST [TFO ]lost[ (error: ..)] D=..``
SMTP_LOST = Kind(
    "session-error",
    seq(_CONNECTION_INFO, lit(" "), opt(lit("TFO ")), one_of("end_reason", "lost"),
        opt(lit(" "), lit("while reading message data")("reason")), opt(lit(" ("), field("details", r"[^)]*"),
        lit(")")), opt(lit(" D="), field("duration", r"[^ ]+"))),
    prefix="optional",
)  # fmt: skip
#: receive.c: ``SMTP connection lost after final dot H=.. P=proto``
SMTP_LOST_FINAL_DOT = Kind(
    "session-error",
    seq(lit("SMTP connection "), one_of("end_reason", "lost"), lit(" "), lit("after final dot")("reason"), lit(" "),
        HOST_AND_IDENT, opt(lit(" P="), field("proto", r"[a-z0-9-]+"))),
    prefix="optional",
)  # fmt: skip
#: smtp_in.c: ``unexpected disconnection|EOF while reading SMTP command from HOST[ (error: ..)] D=..``
#: (only inside a transaction).
UNEXPECTED_DISCONNECT = Kind(
    "session-error",
    seq(lit("unexpected "), field("end_reason", r"disconnection|EOF"), lit(" while reading SMTP command from "),
        opt(lit("TFO"), opt(lit("*")), lit(" ")), FROM_HOST, opt(lit(" (error: "), field("reason", r"[^)]*"),
        lit(")")), lit(" D="), field("duration", r"[^ ]+")),
    prefix="optional",
)  # fmt: skip
#: smtp_in.c: ``SMTP command timeout on[ TLS] connection from HOST D=..``
COMMAND_TIMEOUT = Kind(
    "session-error",
    seq(lit("SMTP "), one_of("end_reason", "command timeout"), lit(" on"), opt(lit(" TLS")),
        lit(" connection from "), FROM_HOST, lit(" D="), field("duration", r"[^ ]+")),
    prefix="optional",
)  # fmt: skip
#: smtp_in.c: ``SMTP data timeout (message abandoned) on connection from HOST F=<sender> D=..``
DATA_TIMEOUT = Kind(
    "session-error",
    seq(lit("SMTP "), one_of("end_reason", "data timeout"), lit(" (message abandoned) on connection from "),
        FROM_HOST, lit(" F=<"), field("sender", r"[^>]*"), lit(">"), opt(lit(" D="), field("duration", r"[^ ]+"))),
    prefix="optional",
)  # fmt: skip
SYNC_ERROR = Kind(
    "sync-error",
    seq(lit("SMTP protocol synchronization error ("), field("reason", r"[^)]*"), lit("): "),
        text_until("command", lit("H="), FULLHOST, _INTERFACE, _REMOTE_IDENT, _CONNECTION, opt(lit(" ")),
                   text("details"))),
    prefix="optional",
)  # fmt: skip
#: ``synprot_error()`` (smtp_in.c): ``SMTP protocol|syntax error in "CMD" H=.. message``. The command
#: is quoted as sent, so it may itself contain ``" H=``: the message (which has no quotes) decides
#: where the host starts; a message with quotes is read by the second form.
PROTOCOL_ERROR = Kind(
    "protocol-error",
    seq(one_of("severity", "SMTP protocol error", "SMTP syntax error"), lit(' in "'),
        text_until("command", lit('" '), HOST_AND_IDENT, opt(lit(" ")), field("reason", r'[^"]*'))),
    prefix="optional",
)  # fmt: skip
PROTOCOL_ERROR_QUOTED = Kind(
    "protocol-error",
    seq(one_of("severity", "SMTP protocol error", "SMTP syntax error"), lit(' in "'),
        text_until("command", lit('" '), HOST_AND_IDENT, opt(lit(" ")), text("reason"))),
    prefix="optional",
)  # fmt: skip
#: smtp_in.c: ``SMTP call from HOST dropped: too many syntax or protocol errors|nonmail
#: commands|unrecognized commands (last ...)``
CALL_DROPPED = Kind(
    "dropped",
    seq(lit("SMTP call from "), FROM_HOST, lit(" dropped: "), text("reason")),
    prefix="optional",
)
#: smtp_in.c ``smtp_log_no_mail()``: ``no MAIL in [TFO ]SMTP connection from HOST D=..[ A=..][ X=..] C=..``
NO_MAIL = Kind(
    "no-mail",
    seq(lit("no MAIL in "), opt(lit("TFO"), opt(lit("*")), lit(" ")), lit("SMTP connection from "), FROM_HOST,
        opt(lit(" D="), field("duration", r"[^ ]+")), opt(lit(" ")), text("details")),
)  # fmt: skip
#: ... from a remote host, the usual case: written with ``FIELD_END`` for the one-pass engine, and tried
#: before the general form, which a local caller's line (``from root``) falls back to.
NO_MAIL_REMOTE = Kind(
    "no-mail",
    seq(lit("no MAIL in "), opt(lit("TFO"), opt(lit("*")), lit(" ")), lit("SMTP connection from "),
        _REMOTE_HOST_FIELDS, opt(lit("D="), field("duration", r"[^ ]+"), FIELD_END), text("details")),
)  # fmt: skip
INCOMPLETE = Kind(
    "incomplete-transaction",
    seq(HOST_AND_IDENT, lit(" incomplete transaction ("), field("end_reason", r"[^)]*"), lit(")"),
        opt(lit(" from <"), field("sender", r"[^>]*"), lit(">")), opt(lit(" for ")), text("recipient")),
    prefix="optional",
)  # fmt: skip
#: smtp_in.c: ``NAME authenticator failed for HOST: CODE TEXT[ (set_id=ID)][: detail]``. In older
#: versions the host had no ``H=``.
AUTH_FAILED = Kind(
    "sasl-failure",
    seq(field("sasl_method", r"[^ ]+"), lit(" authenticator failed for "), ANY_HOST, lit(": "),
        opt(REPLY_CODE, lit(" ")),
        text_until("reason", opt(lit(" (set_id="), field("sasl_username", r"[^)]*"), lit(")")))),
)  # fmt: skip
#: smtp_in.c: ``ignoring AUTH=sender from HOST (why)``: the AUTH= of MAIL FROM was not trusted.
AUTH_IGNORED = Kind(
    "auth-ignored",
    seq(lit("ignoring AUTH="), field("sasl_sender", r"[^ ]*"), lit(" from "), HOST_AND_IDENT, lit(" ("),
        text_until("reason", lit(")"))),
)  # fmt: skip
#: smtp_in.c: ``ETRN ARG received from HOST``
ETRN = Kind("etrn", seq(lit("ETRN "), field("command", r"[^ ]+"), lit(" received from "), FROM_HOST))

# --- DNS ------------------------------------------------------------------------------------

NO_PTR = Kind("no-ptr", seq(lit("no host name found for IP address "), field("client_ip", r"[^ ]+")))
#: host.c: the forward lookup of the client's PTR name failed: ``no IP address found for host NAME
#: (during SMTP connection from HOST)`` -- Postfix's ``hostname ... does not resolve to address``.
NO_IP = Kind(
    "hostname-mismatch",
    seq(lit("no IP address found for host "), field("client_name", r"[^ ]+"), lit(" (during SMTP connection from "),
        opt(_HELO, lit(" ")), _ADDRESS, _INTERFACE, _CONNECTION, lit(")")),
)  # fmt: skip
#: ... and while routing a delivery (a message id, no connection).
HOST_LOOKUP_FAILED = Kind(
    "host-lookup-failed", seq(lit("no IP address found for host "), field("relay", r"[^ ]+")), prefix="required"
)

# --- message handling ------------------------------------------------------------------------

#: receive.c ``frozen by ACL|system filter``; exim.c ``frozen|unfrozen by USER`` (``-Mf``/``-Mt``);
#: deliver.c ``Frozen``, ``Frozen (delivery error message)``, ``Frozen by the system filter: text``,
#: ``Unfrozen by errmsg timer|forced delivery``.
FROZEN = Kind(
    "frozen",
    seq(one_of("action", "frozen", "Frozen", "unfrozen", "Unfrozen"), opt(lit(" ")), text("reason")),
    prefix="required",
)
#: deliver.c: ``Message is frozen`` (a delivery attempt skipped it).
STILL_FROZEN = Kind("frozen", seq(lit("Message is "), one_of("action", "frozen")), prefix="required")
#: exim.c ``-Mg``, deliver.c ``timeout_frozen_after``: ``cancelled by USER|timeout_frozen_after``
CANCELLED = Kind("cancelled", seq(lit("cancelled"), lit(" "), text("reason")), prefix="required")
#: exim.c ``-Mrm``: ``removed by USER``
REMOVED = Kind("removed", seq(lit("removed"), lit(" "), text("reason")), prefix="required")
#: receive.c: ``no immediate delivery: queued[ for ..] by ACL|system filter``, ``no immediate delivery:
#: load average N`` ...
QUEUE_ONLY = Kind("queue-only", seq(lit("no immediate delivery: "), text("reason")), prefix="optional")
#: receive.c (``-t``): ``no recipients found in headers``
NO_RECIPIENTS = Kind("no-recipients", lit("no recipients found in headers")("reason"), prefix="optional")
#: receive.c: ``qualify/rewrite: error`` (a header address that cannot be qualified or rewritten).
REWRITE_ERROR = Kind("rewrite-error", seq(lit("qualify/rewrite: "), text("reason")), prefix="optional")
#: receive.c: ``Error while reading message with no usable sender address[ (...)]: reason`` and
#: ``timed out while reading local message``
RECEIVE_ERROR = Kind(
    "receive-error",
    seq(lit("Error while reading message with no usable sender address"), opt(lit(":")), opt(lit(" ")),
        text("reason")),
    prefix="optional",
)  # fmt: skip
LOCAL_TIMEOUT = Kind("receive-error", lit("timed out while reading local message")("reason"), prefix="optional")
#: deliver.c: ``ADDRESS: error ignored`` (errors_to is empty).
ERROR_IGNORED = Kind("error-ignored", seq(field("recipient", r"[^ ]*[^ :]"), lit(": error ignored")), prefix="required")
#: deliver.c: ``<ADDRESS>: NAME transport output: TEXT`` (a pipe's output, with ``log_output``).
TRANSPORT_OUTPUT = Kind(
    "transport-output",
    seq(lit("<"), field("recipient", r"[^>]*"), lit(">: "), field("transport", r"[^ ]+"), lit(" transport output: "),
        text("reason")),
    prefix="required",
)  # fmt: skip
#: deliver.c, a delivery subprocess that failed: ``unable to set gid=..``, ``failed to read delivery
#: status for ADDR from delivery subprocess``, ``NAME transport process returned non-zero status ..``
DELIVERY_PROCESS = Kind(
    "delivery-process-error",
    seq(one_of("action", "unable to set", "failed to read delivery status"), lit(" "), text("reason")),
    prefix="required",
)  # fmt: skip
TRANSPORT_STATUS = Kind(
    "delivery-process-error",
    seq(field("transport", r"[^ ]+"), lit(" transport process returned non-zero status "), text("reason")),
    prefix="required",
)  # fmt: skip
#: host.c/transports: ``remote host address is the local host: NAME``
LOCAL_HOST = Kind(
    "routing-error", seq(lit("remote host address is the local host: "), field("relay", r"[^ ]+")), prefix="required"
)
#: route.c: ``NAME router: skipped error: reason``
ROUTER_SKIPPED = Kind(
    "routing-error",
    seq(field("router", r"[^ ]+"), lit(" router: skipped error: "), text("reason")),
    prefix="required",
)  # fmt: skip
#: Expansion and configuration failures logged by the transports, the bounce code and the list
#: matcher (``Failed to expand ..``, ``home directory .. failed to expand for NAME transport``,
#: ``bounce_message_file is not ..``, ``User N set for NAME transport is on the never_users list``,
#: ``failed to expand ".." while checking a list``, ``expansion of OPTION failed``, ACL ``warn``
#: misuse).
CONFIG_ERROR = Kind(
    "config-error",
    seq(one_of("action", "Failed to expand", "failed to expand", "home directory", "bounce_message_file", "User",
               "expansion of", 'ACL "warn" with "message" setting found in a non-message'),
        lit(" "), text("reason")),
    prefix="optional",
)  # fmt: skip
#: smtp_out.c: ``bind of [ip]:port failed``
BIND_FAILED = Kind(
    "bind-failed",
    seq(lit("bind of ["), field("local_ip", r"[^\]]*"), lit("]:"), field("local_port", r"[0-9]+"), lit(" failed")),
    prefix="optional",
)  # fmt: skip
#: receive.c ``receive_check_fs()``: ``spool directory space check failed: space=N inodes=N``
SPOOL_SPACE = Kind("spool-space", seq(lit("spool directory space check failed: "), text("reason")))
#: smtp_in.c ETRN child: ``exec of "COMMAND" (ETRN) failed: strerror``
EXEC_FAILED = Kind(
    "exec-failed", seq(lit('exec of "'), text_until("command", lit('" (ETRN) failed: '), text("reason")))
)

# --- content scanning ---------------------------------------------------------------------------

#: malware.c ``m_errlog_defer()``: ``malware acl condition: SCANNER SOCKET : message``
MALWARE_ERROR = Kind(
    "scan-error",
    seq(lit("malware acl condition: "), field("scanner", r"[^ ]+"), lit(" "), skip(r"[^ ]*"), lit(" : "),
        text("reason")),
    prefix="optional",
)  # fmt: skip
#: spam.c: ``spam acl condition: message``
SPAM_ERROR = Kind(
    "scan-error",
    seq(lit("spam acl condition: "), opt(field("scanner", r"spamd|rspamd"), lit(": ")), text("reason")),
    prefix="optional",
)  # fmt: skip
#: sa-exim (a SpamAssassin ``local_scan()``): ``SA: Action: ACTION: score=N required=N[ trigger=N]
#: (scanned in ..| Message-Id: ID). From <sender> (host=NAME [ip]) for RCPTS``
SA_ACTION = Kind(
    "spam-action",
    seq(lit("SA: Action: "), field("action", r"[^:]+"), lit(": score="), skip(r"[^ ]+"), lit(" required="),
        skip(r"[^ ]+"), opt(lit(" trigger="), skip(r"[^ ]+")), lit(" (scanned in "), skip(r"[^|]*"),
        lit("| Message-Id: "), field("message_id", r"[^)]*"), lit("). From <"), field("sender", r"[^>]*"),
        lit("> (host="), field("client_name", r"[^ ]*"), lit(" ["), field("client_ip", r"[^\]]*"), lit("])"),
        opt(lit(" for "), field("recipient", r"[^ ]+")), opt(lit(" ")), text("details")),
    prefix="required",
)  # fmt: skip

# --- DKIM, ARC, Authentication-Results --------------------------------------------------------

DKIM = Kind(
    "dkim",
    seq(lit("DKIM: d="), field("dkim_domain", r"[^ ]+"), lit(" s="), field("dkim_selector", r"[^ ]+"),
        opt(lit(" c="), skip(r"[^ ]+")), opt(lit(" a="), field("dkim_algorithm", r"[^ ]+")),
        opt(lit(" b="), field("dkim_bits", r"[0-9]+")), opt(lit(" ")),
        text_until("details", opt(lit("["), field("dkim_result", r"[^\]]*"), lit("]")))),
    prefix="optional",
)  # fmt: skip
#: The same line as pdkim writes it (``DKIM: d= s= c= a= b=[ i=][ t=][ x=][ l=] [status]``), written with
#: ``FIELD_END`` for the one-pass engine and tried first; the tags after ``b=`` are not kept. An ACL's
#: own status or any other shape falls back to the general form above.
DKIM_VERBOSE = Kind(
    "dkim",
    seq(lit("DKIM: d="), field("dkim_domain", r"[^ ]+"), FIELD_END, lit("s="), field("dkim_selector", r"[^ ]+"),
        FIELD_END, opt(lit("c="), skip(r"[^ ]+"), FIELD_END),
        opt(lit("a="), field("dkim_algorithm", r"[^ ]+"), FIELD_END),
        opt(lit("b="), field("dkim_bits", r"[0-9]+"), FIELD_END), opt(lit("i="), skip(r"[^ ]+"), FIELD_END),
        opt(lit("t="), skip(r"[0-9]+"), FIELD_END), opt(lit("x="), skip(r"[0-9]+"), FIELD_END),
        opt(lit("l="), skip(r"[0-9]+"), FIELD_END), lit("["), field("dkim_result", r"[^\]]*"), lit("]")),
    prefix="optional",
)  # fmt: skip
#: dkim.c/pdkim: ``DKIM: signing failed: ERR`` (paniclog), ``DKIM: validation error: ERR``,
#: ``DKIM: Error during validation, disabling signature verification: ERR``
DKIM_ERROR = Kind(
    "dkim-error",
    seq(lit("DKIM: "), one_of("action", "signing failed", "validation error",
                              "Error during validation, disabling signature verification"),
        lit(": "), text("reason")),
    prefix="optional",
)  # fmt: skip
#: arc.c: ``ARC: message`` (signing and verification problems).
ARC = Kind("arc-error", seq(lit("ARC: "), text("reason")), prefix="optional")
#: The ``Authentication-Results:`` header Exim builds (``$authresults``, receive.c/misc modules),
#: logged as one line with ``\n`` for its folds: ``id;\n\tspf=R [(comment)] smtp.mailfrom|helo=D``,
#: ``;\n\tdkim=R [(comment)]\n\t\t header.d=D header.s=S header.a=A``, ``;\n\tdmarc=R header.from=D``,
#: then anything further (more signatures, ``arc=``) as ``details``.
_AR_NEXT = lit(";\\n\t")
AUTH_RESULTS = Kind(
    "authentication-results",
    seq(
        lit("Authentication-Results: "),
        skip(r"[^;]*"),
        opt(_AR_NEXT, lit("iprev="), skip(r"[^;]*")),
        opt(_AR_NEXT, lit("auth=pass ("), field("sasl_method", r"[^)]*"), lit(")"),
            opt(lit(" smtp.auth="), field("sasl_username", r"[^ ;]*")),
            opt(lit(" smtp.mailfrom="), field("sasl_sender", r"[^ ;]*"))),
        opt(_AR_NEXT, lit("spf="), field("spf_result", r"[a-z]+"), opt(lit(" ("), field("spf_comment", r"[^)]*"),
            lit(")")), lit(" smtp."), field("spf_identity", r"mailfrom|helo"), lit("="),
            field("spf_domain", r"[^ ;]*")),
        opt(_AR_NEXT, lit("dkim="), field("dkim_result", r"[a-z]+"), opt(lit(" ("), field("reason", r"[^)]*"),
            lit(")")), pp.MatchFirst([lit("\\n\t\t "), lit(" ")]).leave_whitespace(), lit("header.d="),
            field("dkim_domain", r"[^ ;]*"), opt(lit(" header.s="), field("dkim_selector", r"[^ ;]*")),
            opt(lit(" header.a="), field("dkim_algorithm", r"[^ ;]*")), opt(lit(" header.i="), skip(r"[^ ;]*"))),
        opt(_AR_NEXT, lit("dmarc="), field("dmarc_result", r"[a-z]+"), opt(lit(" ("), skip(r"[^)]*"), lit(")")),
            lit(" header.from="), field("dmarc_domain", r"[^ ;]*")),
        text("details"),
    ),
    prefix="optional",
)  # fmt: skip

# --- housekeeping -------------------------------------------------------------------------------

QUEUE_RUN = Kind("queue-run", seq(one_of("action", "Start queue run", "End queue run"), lit(": "), text("details")))
DAEMON = Kind("daemon", seq(lit("exim "), field("version", r"[^ ]+"), lit(" daemon started: "), text("details")))
#: daemon.c: ``pid N: SIGHUP received: re-exec daemon``
DAEMON_SIGNAL = Kind(
    "daemon",
    seq(lit("pid "), skip(r"[0-9]+"), lit(": "), lit("SIGHUP received")("action"), lit(": "), text("details")),
)  # fmt: skip
#: exim.c: a daemon that cannot start, e.g. ``Daemon cannot be run when mua_wrapper is set``
DAEMON_ERROR = Kind("daemon-error", seq(lit("Daemon cannot be run")("action"), lit(" "), text("reason")))

FAMILIES = {
    f.name: f
    for f in (
        Family(
            "exim",
            [
                # a host first (H=, U=, DS H=; the others have no literal head), tried in this order
                REJECT_RCPT_REMOTE, REJECT_RCPT, REJECT_MAIL, REJECT, SENDER_VERIFY, INCOMPLETE, DROPPED_BY_ACL,
                DISCARDED, ACL_WARNING, REMOTE_REPLY, REMOTE_TIMEOUT, REMOTE_LOST, TLS_ERROR_OUT, CONNECT_FAILED,
                REMOTE_ERROR, AUTH_FAILED, SASL_CLIENT, ERROR_IGNORED, TRANSPORT_STATUS, ROUTER_SKIPPED,
                # literal keys
                ARRIVAL, DELIVERED, DEFERRED_REPLY, DEFERRED_HOST, DEFERRED, FAILED_REPLY, FAILED, COMPLETED,
                REJECT_BY, REJECT_COMMAND, REJECT_MAIL_SIZE, REJECT_MAIL_COUNT, REJECT_DATA_SIZE, REFUSED,
                CONNECTION_REFUSED, TOO_MANY_RECIPIENTS, UNQUALIFIED, CALLOUT_DEFER, RECIPIENT_CALLOUT_DEFER,
                VRFY_FAILED, TLS_ERROR_OPENSSL, TLS_ERROR_OTHER, TLS_FALLBACK_OUT, TLS_FALLBACK_VERIFY,
                TLS_VERIFY, TLS_VERIFY_NAME, TLS_CONFIG, SMTP_CONNECT, SMTP_LOST_FINAL_DOT, SMTP_CLOSED,
                SMTP_CLOSED_LOCAL, SMTP_LOST, SMTP_LOCAL_CONNECT, UNEXPECTED_DISCONNECT, COMMAND_TIMEOUT, DATA_TIMEOUT,
                SYNC_ERROR, PROTOCOL_ERROR, PROTOCOL_ERROR_QUOTED, CALL_DROPPED, NO_MAIL_REMOTE, NO_MAIL, AUTH_IGNORED,
                ETRN, NO_PTR, NO_IP, HOST_LOOKUP_FAILED, FROZEN, STILL_FROZEN, CANCELLED, REMOVED, QUEUE_ONLY,
                NO_RECIPIENTS, REWRITE_ERROR, RECEIVE_ERROR, LOCAL_TIMEOUT, TRANSPORT_OUTPUT, DELIVERY_PROCESS,
                LOCAL_HOST, CONFIG_ERROR, BIND_FAILED, SPOOL_SPACE, EXEC_FAILED, MALWARE_ERROR, SPAM_ERROR, SA_ACTION,
                DKIM_VERBOSE, DKIM, DKIM_ERROR, ARC, AUTH_RESULTS, QUEUE_RUN, DAEMON, DAEMON_SIGNAL, DAEMON_ERROR,
            ],
            prefix=PREFIX,
        ),
    )
}  # fmt: skip

#: The envelope names Exim lines ``exim``; syslog calls it exim or exim4.
DAEMONS = {"exim": "exim", "exim4": "exim"}
_ID = "1pXyZa-00000001aBc-DeFg "
#: One line per kind (and per variant of a kind); the test suite checks that every kind has one.
SAMPLES = {
    "exim": [
        # arrivals and deliveries
        _ID + "<= a@example.net H=mail.example.net [198.51.100.7] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 "
        "CV=no S=4213 DKIM=example.net id=20240301.abc@example.net",
        "1pXyZb-0001aB-Cd <= <> R=1pXyZa-0001aA-Zz U=Debian-exim P=local S=2100",
        _ID + "=> c@example.org R=dnslookup T=remote_smtp H=mx.example.org [192.0.2.25] "
        'X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 OK id=3F2A41C0B7"',
        _ID + "== d@example.org R=dnslookup T=remote_smtp defer (-44) H=mx.example.org [192.0.2.25]: SMTP error "
        "from remote mail server after RCPT TO:<d@example.org>: 450 4.2.0 Greylisted",
        _ID + "== d@example.org R=dnslookup T=remote_smtp defer (110): Connection timed out H=mx.example.org "
        "[192.0.2.25]: SMTP timeout after RCPT TO:<d@example.org>",
        _ID + "== d@example.org R=dnslookup T=remote_smtp defer (-53): retry time not reached",
        _ID + "** e@example.org R=dnslookup T=remote_smtp H=mx.example.org [192.0.2.25] : SMTP error from remote "
        "mail server after RCPT TO:<e@example.org>: 550 5.1.1 user unknown",
        _ID + "** f@example.org R=dnslookup : Unrouteable address",
        _ID + "Completed",
        # the remote host of a delivery
        _ID + "H=mx.example.org [192.0.2.25]: SMTP error from remote mail server after RCPT TO:<g@example.org>: "
        "550 5.1.1 <g@example.org>: Recipient address rejected: User unknown",
        _ID + "H=mx.example.org [192.0.2.25]: SMTP timeout after end of data (4213 bytes written): Connection "
        "timed out",
        _ID + "H=mx.example.org [192.0.2.25]: Remote host closed connection in response to initial connection",
        _ID + "H=mx.example.org [192.0.2.25] Connection refused",
        _ID + "H=mx.example.org [192.0.2.25]: a TLS session is required, but the server did not offer TLS support",
        _ID + "H=mx.example.org [192.0.2.25] TLS error on connection (SSL_connect): error:0A000086:SSL "
        "routines::certificate verify failed",
        _ID + "plain authenticator failed H=smarthost.example.net [198.51.100.25] 535 5.7.8 Authentication "
        "credentials invalid",
        # rejections
        "H=(ylmf-pc) [203.0.113.9] F=<x@example.org> rejected RCPT <bob@example.com>: relay not permitted",
        "H=mail.example.net [198.51.100.7] F=<a@example.net> temporarily rejected RCPT <bob@example.com>: greylisted",
        "DS H=mail.example.net [198.51.100.7]:41234 I=[192.0.2.1]:25 Ci=1234 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 "
        "CV=no SNI=mx1.example.com F=<a@example.net> A=plain:a SPF=fail DMARC=reject rejected RCPT <bob@example.com>: "
        "SPF check failed",
        "H=(x) [203.0.113.9] F=<> rejected RCPT bob@example.com: an older Exim, no brackets",
        "H=(x) [203.0.113.9] rejected RCPT <bob@example.com>",
        "H=(ylmf-pc) [203.0.113.9] rejected MAIL <spam@example.org>: sender blacklisted",
        _ID + "H=mail.example.net [198.51.100.7] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no "
        "F=<a@example.net> rejected after DATA: This message contains a virus (Eicar-Signature)",
        "H=[203.0.113.9]:41234 dropped by 'connect' ACL: listed at zen.spamhaus.org",
        "H=mail.example.net [198.51.100.7] F=<a@example.net> RCPT <trap@example.com>: discarded by RCPT ACL: spam trap",
        _ID + "F=<a@example.net> H=mail.example.net [198.51.100.7] P=esmtp rejected by local_scan(): Rejected: "
        "hits=7.5 required=5.0",
        "rejected EHLO from [203.0.113.9]: syntactically invalid argument(s): _",
        "rejected MAIL FROM:<a@example.net> H=mail.example.net [198.51.100.7]: message too big: size=104857600 "
        "max=52428800",
        "rejected MAIL command H=mail.example.net [198.51.100.7]: too many messages in one connection",
        _ID + "rejected from <a@example.net> H=mail.example.net [198.51.100.7]: message too big: read=52428900 "
        "max=52428800",
        "refused connection from [203.0.113.9] (host_reject_connection)",
        "Connection from [203.0.113.9] refused: too many connections from that IP address",
        "too many recipients: excess temporarily rejected: sender=<a@example.net> H=mail.example.net [198.51.100.7]",
        "unqualified sender rejected: <spam> H=(ylmf-pc) [203.0.113.9]",
        "H=(ylmf-pc) [203.0.113.9] sender verify fail for <x@example.org>: Unrouteable address",
        "sender verify defer (making callout connection): T=remote_smtp Connection timed out",
        "recipient verify defer (making callout connection): T=remote_smtp Connection timed out",
        "VRFY failed for <nobody@example.com> H=(ylmf-pc) [203.0.113.9]",
        "H=mail.example.net [198.51.100.7] Warning: listed at list.dnswl.org",
        # TLS
        "TLS error on connection from (ylmf-pc) [203.0.113.20] (SSL_accept): error:0A0000C1:SSL routines::no "
        "shared cipher",
        "TLS error on connection from mail.example.net (helo.example.net) [198.51.100.7] (gnutls_handshake): "
        "Could not negotiate a supported cipher suite.",
        _ID + "TLS session: (SSL_connect): error:0A000410:SSL routines::sslv3 alert handshake failure: "
        "delivering unencrypted to H=mx.example.org [192.0.2.25] (not in hosts_require_tls)",
        _ID + "TLS session: (certificate verification failed): delivering unencrypted to H=mx.example.org "
        "[192.0.2.25] (not in hosts_require_tls)",
        _ID + "[192.0.2.25] SSL verify error: depth=0 error=certificate has expired cert=/CN=mx.example.org",
        _ID + '[192.0.2.25] SSL verify error: certificate name mismatch: DN="/CN=mail.example.net" H="mx.example.org"',
        "(SSL_CTX_use_certificate_chain_file file=/etc/exim4/exim.crt): error:0480006C:PEM routines::no start line",
        # connections, timeouts and protocol errors
        "SMTP connection from [198.51.100.7]:41234 (TCP/IP connection count = 3)",
        "SMTP connection from root",
        "SMTP connection from mail.example.net [198.51.100.7] D=0.1s closed by QUIT",
        "SMTP connection from root D=0s closed by QUIT",
        "SMTP connection from [203.0.113.9]:41234 lost D=12s",
        _ID + "SMTP connection lost after final dot H=mail.example.net [198.51.100.7] P=esmtps",
        "unexpected disconnection while reading SMTP command from (ylmf-pc) [203.0.113.9] D=3s",
        "SMTP command timeout on TLS connection from mail.example.net [198.51.100.7] D=5m",
        "SMTP data timeout (message abandoned) on connection from mail.example.net [198.51.100.7] F=<a@example.net> "
        "D=10m",
        "SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected "
        '"EHLO x" H=[203.0.113.9]:41234 next input="MAIL FROM:<>\\r\\n" (14 bytes)',
        'SMTP protocol error in "DATA" H=(x) [203.0.113.9] valid RCPT command must precede DATA',
        'SMTP syntax error in "MAIL FROM:<"a b>" H=(x) [203.0.113.9] malformed address: "a b> may not follow <"',
        'SMTP call from (ylmf-pc) [203.0.113.9] dropped: too many unrecognized commands (last was "GET / HTTP/1.1")',
        "no MAIL in SMTP connection from (ylmf-pc) [203.0.113.9]:41234 D=31s C=EHLO,AUTH,QUIT",
        "no MAIL in SMTP connection from root D=0s C=QUIT",
        "H=mail.example.net [198.51.100.7] incomplete transaction (RSET) from <a@example.net> for bob@example.com",
        "login authenticator failed for (ylmf-pc) [203.0.113.9]:41234 I=[192.0.2.1]:587: 535 Incorrect "
        "authentication data (set_id=admin)",
        "ignoring AUTH=a@example.net from H=mail.example.net [198.51.100.7] (client not authenticated)",
        "ETRN #example.com received from mail.example.net [198.51.100.7]",
        # DNS
        "no host name found for IP address 203.0.113.9",
        "no IP address found for host mail.example.net (during SMTP connection from [198.51.100.7]:41234)",
        _ID + "no IP address found for host mx.example.org",
        # message handling
        _ID + "frozen by root",
        _ID + "Message is frozen",
        _ID + "cancelled by root",
        _ID + "removed by root",
        _ID + "no immediate delivery: queued by ACL",
        _ID + "no recipients found in headers",
        _ID + "qualify/rewrite: domain missing or malformed",
        "Error while reading message with no usable sender address: message too big (limit set to 52428800)",
        "timed out while reading local message",
        _ID + "c@example.org: error ignored",
        _ID + "<|/usr/local/bin/filter>: address_pipe transport output: filter: spam score 12",
        _ID + "unable to set gid=8 or uid=8 (euid=0): local delivery to c <c@example.com> transport=local_delivery",
        _ID + "appendfile transport process returned non-zero status 0x0100: exit code 1",
        _ID + "remote host address is the local host: mx.example.com",
        _ID + "dnslookup router: skipped error: domain missing or malformed",
        _ID + 'Failed to expand return path "${if" in remote_smtp transport: condition name expected, but found ""',
        "bind of [192.0.2.1]:25 failed",
        "spool directory space check failed: space=1024 inodes=100",
        'exec of "/usr/sbin/exim4 -R example.com" (ETRN) failed: No such file or directory',
        # content scanning
        _ID + "malware acl condition: clamd /var/run/clamav/clamd.ctl : unable to connect to UNIX socket "
        "(/var/run/clamav/clamd.ctl)",
        _ID + "spam acl condition: spamd: failed to connect to any address for 127.0.0.1: Connection refused",
        _ID + "SA: Action: silently tossed message: score=31.0 required=5.0 trigger=30.0 (scanned in 2/2 secs | "
        "Message-Id: 20240301.abc@example.net). From <a@example.net> (host=mail.example.net [198.51.100.7]) for "
        "bob@example.com",
        # DKIM, ARC, Authentication-Results
        _ID + "DKIM: d=example.net s=sel1 c=relaxed/relaxed a=rsa-sha256 b=1024 [verification succeeded]",
        _ID + "DKIM: d=example.net s=sel1 c=relaxed/relaxed a=rsa-sha256 b=2048 i=@example.net t=1709294409 "
        "[verification failed - body hash mismatch (body probably modified in transit)]",
        _ID + "DKIM: d=example.net s=sel1 c=relaxed/relaxed a=rsa-sha256 b=1024 [accept - local policy] extra",
        _ID + "DKIM: signing failed: RSA_LONG_LINE",
        _ID + "ARC: bad message body-hash",
        _ID + "Authentication-Results: mx1.example.com;\\n\tspf=pass smtp.mailfrom=example.net;\\n\tdkim=pass "
        "header.d=example.net header.s=sel1 header.a=rsa-sha256;\\n\tdmarc=pass header.from=example.net",
        # housekeeping
        "Start queue run: pid=1235",
        "exim 4.98 daemon started: pid=1234, -q30m, listening for SMTP on [0.0.0.0]:25",
        "pid 1234: SIGHUP received: re-exec daemon",
        "Daemon cannot be run when mua_wrapper is set",
    ],
}
