"""Postfix line grammars, one per line kind, grouped by daemon family.

Shapes come from ``shared/docs/log-formats.md`` sections 2-5 (format strings
read in the Postfix source) and were checked against the third-party corpus.
Every Postfix message may start with ``QUEUEID: `` (or ``NOQUEUE: ``); the
family prefix handles that, and each :class:`~grammars.elements.Kind` says
whether its lines carry it.

Field names are the column names of the ``events`` table (``loganalyzer.schema``).
"""

from __future__ import annotations

import pyparsing as pp

from .elements import Family, Kind, field, lit, one_of, opt, seq, text, text_until
from .openssl import OPENSSL_ERROR

__all__ = ["DAEMONS", "FAMILIES", "QUEUE_ID", "SAMPLES"]

# --- terminals -------------------------------------------------------------

#: Long ids (``enable_long_queue_ids``) first: a short-id match could stop at a
#: prefix of a long one. Base 52 has no vowels; the inode part is base 51 (no z).
_B52 = "0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z"
_B51 = "0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y"
QUEUE_ID_PATTERN = rf"[{_B52}]{{6,}}z[{_B51}]+|[0-9A-F]{{5,}}|NOQUEUE"
QUEUE_ID = field("queue_id", QUEUE_ID_PATTERN)
QUEUE_PREFIX = seq(QUEUE_ID, lit(": "))

CLIENT_NAME = field("client_name", r"[^\[ ]*")
CLIENT_IP = field("client_ip", r"[^\] ]*")
#: ``name[addr]`` plus ``:port`` with ``smtpd_client_port_logging=yes``.
CLIENT = seq(CLIENT_NAME, lit("["), CLIENT_IP, lit("]"), opt(lit(":"), field("client_port", r"[0-9]+")))
#: postscreen and tlsproxy name clients ``[addr]:port``, never by hostname.
BRACKET_CLIENT = seq(lit("["), CLIENT_IP, lit("]:"), field("client_port", r"[0-9]+"))
#: Remote SMTP/LMTP peer of the client side: ``host[addr]:port`` (or a socket).
RELAY_PEER = field("relay", r"[^ \[]*\[[^\]]*\](?::[0-9]+)?")

STAGE = field("stage", r"[A-Z][A-Z-]*")
REPLY_CODE = field("reply_code", r"[2-5][0-9][0-9]")
DSN = field("dsn", r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
ADDRESS_CHARS = r"[^>]*"

# --- trailers --------------------------------------------------------------


def _bracketed(key: str, name: str) -> pp.ParserElement:
    """`` key=<value>``; also tolerates the bare ``key=`` of anonymised samples."""
    return opt(lit(f" {key}="), opt(lit("<")), field(name, ADDRESS_CHARS), opt(lit(">")))


#: ``log_whatsup()`` trailer of smtpd/cleanup action lines (smtpd_check.c).
WHATSUP = seq(
    lit(";"),
    _bracketed("from", "sender"),
    _bracketed("to", "recipient"),
    opt(lit(" proto="), field("proto", r"[A-Z]+")),
    _bracketed("helo", "helo"),
    opt(lit(" sasl_method="), field("sasl_method", r"[^ ]*")),
    opt(lit(" sasl_username="), opt(lit("<")), field("sasl_username", r"[^ >]*"), opt(lit(">"))),
    opt(lit(" sasl_sender="), opt(lit("<")), field("sasl_sender", r"[^ >]*"), opt(lit(">"))),
)

# --- smtpd -----------------------------------------------------------------

CONNECT = Kind("connect", seq(lit("connect from "), CLIENT))
#: Statistics ``name=S[/T]`` (and, since 3.9, ``notes=bare_lf``) kept as one field.
DISCONNECT = Kind(
    "disconnect",
    seq(lit("disconnect from "), CLIENT, opt(field("command_stats", r"(?: [a-z_]+=[0-9a-z_,/]+)+"))),
)
CLIENT_LINE = Kind(
    "client",
    seq(
        lit("client="),
        CLIENT,
        opt(lit(", sasl_method="), field("sasl_method", r"[^,]*")),
        opt(lit(", sasl_username="), field("sasl_username", r"[^,]*")),
        opt(lit(", sasl_sender="), field("sasl_sender", r"[^,]*")),
        opt(lit(", orig_queue_id="), field("orig_queue_id", r"[0-9A-Za-z]+")),
        opt(lit(", orig_client="), field("orig_client", r"[^,]*")),
    ),
    prefix="required",
)

#: Actions logged by ``log_whatsup()`` and the milter/proxy reply loggers.
REJECT_ACTIONS = ("reject", "reject_warning", "hangup", "milter-reject", "proxy-reject")
OTHER_ACTIONS = (
    "hold", "delay", "discard", "filter", "redirect", "bcc", "permit", "info", "warn",
    "milter-hold", "milter-discard",
)  # fmt: skip


def _action_line(name: str, actions: tuple[str, ...]) -> Kind:
    """``ACTION: STAGE from CLIENT: [CODE ][DSN ]TEXT; from=<> to=<> ...``."""
    return Kind(
        name,
        seq(
            one_of("action", *actions),
            lit(": "),
            STAGE,
            lit(" from "),
            CLIENT,
            lit(": "),
            opt(REPLY_CODE, lit(" ")),
            opt(DSN, lit(" ")),
            text_until("reason", opt(WHATSUP)),
        ),
        prefix="required",
    )


REJECT = _action_line("reject", REJECT_ACTIONS)
ACCESS = _action_line("access", OTHER_ACTIONS)
PROXY = Kind(
    "proxy",
    seq(
        one_of("action", "proxy-accept", "proxy-reject"),
        lit(": "),
        STAGE,
        lit(": "),
        opt(REPLY_CODE, lit(" ")),
        opt(DSN, lit(" ")),
        text_until("reason", opt(WHATSUP)),
    ),
    prefix="optional",
)
ABORT = Kind("abort", seq(lit("abort: "), STAGE, lit(" from "), CLIENT, lit(": "), text("reason")), prefix="optional")

#: ``lost connection / timeout / too many errors after STAGE[ (N bytes)] from CLIENT``;
#: Postfix 3.10 puts the queue id (or NOQUEUE) first.
SESSION_ERROR = Kind(
    "session-error",
    seq(
        one_of("end_reason", "lost connection", "timeout", "too many errors"),
        lit(" after "),
        STAGE,
        opt(lit(" ("), field("bytes", r"[0-9]+"), lit(" bytes)")),
        lit(" from "),
        CLIENT,
    ),
    prefix="optional",
)
PIPELINING = Kind(
    "improper-pipelining",
    seq(
        lit("improper command pipelining after "),
        STAGE,
        lit(" from "),
        CLIENT,
        opt(lit(":")),
        opt(lit(" ")),
        text("reason"),
    ),
)
SASL_FAILED = Kind(
    "sasl-failure",
    seq(
        lit("warning: "),
        CLIENT,
        lit(": SASL "),
        field("sasl_method", r"[^ ]+"),
        lit(" authentication failed:"),
        opt(lit(" ")),
        text_until("reason", opt(lit(", sasl_username="), field("sasl_username", r"[^ ,]*"))),
    ),
)
FCRDNS = Kind(
    "hostname-mismatch",
    seq(
        lit("warning: hostname "),
        CLIENT_NAME,
        lit(" does not resolve to address "),
        # a bare address followed by ": ": it may not end in the colon (IPv6 has colons)
        field("client_ip", r"[0-9A-Fa-f.:]*[0-9A-Fa-f.]"),
        opt(lit(": ")),
        text("reason"),
    ),
)
NON_SMTP = Kind("non-smtp-command", seq(lit("warning: non-SMTP command from "), CLIENT, lit(": "), text("reason")))
RATE_LIMIT = Kind(
    "rate-limit",
    seq(
        lit("warning: "),
        field("limit", r"[A-Z][a-z]+(?: [a-z]+)* rate limit"),
        lit(" exceeded: "),
        field("count", r"[0-9]+"),
        lit(" from "),
        CLIENT,
        lit(" for service "),
        field("service", r"[^ ]+"),
    ),
)
TABLE_CHANGED = Kind("table-changed", seq(lit("table "), field("table", r"[^ ]+"), lit(" has changed -- restarting")))
BARE_LF = Kind("bare-lf", seq(lit("bare <LF> received after "), STAGE, lit(" from "), CLIENT))
EHLO_DISCARD = Kind("ehlo-discard", seq(lit("discarding EHLO keywords: "), text("reason")))

# --- TLS (smtpd, tlsproxy, smtp, lmtp) -------------------------------------

TLS_TRUST = field("tls_trust", r"Anonymous|Untrusted|Trusted|Verified")
_TLS_SUMMARY = seq(
    lit(": "),
    field("tls_protocol", r"[^ ]+"),
    lit(" with cipher "),
    field("tls_cipher", r"[^ ]+"),
    lit(" ("),
    field("tls_bits", r"[0-9]+"),
    lit("/"),
    field("tls_alg_bits", r"[0-9]+"),
    lit(" bits)"),
    opt(lit(" ")),
    text("tls_details"),
)
TLS_IN = Kind(
    "tls-established",
    seq(
        TLS_TRUST,
        lit(" TLS connection "),
        field("tls_session", r"established|reused"),
        lit(" from "),
        CLIENT,
        opt(lit(" to "), field("tls_sni", r"[^ :]+")),
        _TLS_SUMMARY,
    ),
)
TLS_OUT = Kind(
    "tls-established",
    seq(
        TLS_TRUST,
        lit(" TLS connection "),
        field("tls_session", r"established|reused"),
        lit(" to "),
        RELAY_PEER,
        _TLS_SUMMARY,
    ),
)
SSL_ACCEPT = Kind("tls-accept-error", seq(lit("SSL_accept error from "), CLIENT, lit(": "), text("reason")))
SSL_CONNECT = Kind("tls-connect-error", seq(lit("SSL_connect error to "), RELAY_PEER, lit(": "), text("reason")))
#: ``warning: TLS library problem: [thread:]error:CODE:LIBRARY:FUNCTION:REASON:FILE:LINE:[DATA]``
#: -- OpenSSL 1.0/1.1 fill FUNCTION, 3.x leaves it empty. Match on REASON text.
TLS_PROBLEM = Kind(
    "tls-library-problem",
    seq(
        lit("warning: TLS library problem: "),
        opt(field("tls_thread", r"[0-9]+"), lit(":")),
        OPENSSL_ERROR,
        opt(lit(":"), field("tls_error_file", r"[^:]*"), lit(":"), field("tls_error_line", r"[0-9]+")),
        opt(lit(":")),
        text("tls_error_data"),
    ),
)
STARTTLS_REFUSED = Kind(
    "starttls-refused",
    seq(lit("warning: Refusing STARTTLS request from "), CLIENT, lit(" for service "), field("service", r"[^ ]+")),
)
TLS_USED = Kind("tls-used", seq(lit("Used TLS for "), RELAY_PEER), prefix="optional")

# --- diagnostics shared by every daemon -------------------------------------

#: ``warning:``/``error:``/``fatal:``/``panic:`` lines not matched by a more
#: specific kind (msg_warn and friends; postlogd keeps the same prefixes).
#: msg_warn() puts the queue id, when there is one, after the severity.
DIAGNOSTIC = Kind(
    "diagnostic",
    seq(one_of("severity", "warning", "error", "fatal", "panic"), lit(": "), opt(QUEUE_PREFIX), text("reason")),
)
STATISTICS = Kind("statistics", seq(lit("statistics: "), text("reason")))
#: anvil's peak counters: ``max connection rate 1/60s for (smtpd:192.0.2.1) at Mar  1 12:00:00``;
#: the key is ``service:address`` where an inet service may itself be ``addr:port``.
ANVIL_MAX = Kind(
    "anvil-max",
    seq(
        lit("statistics: max "),
        one_of(
            "limit",
            "connection rate",
            "connection count",
            "message rate",
            "recipient rate",
            "newtls rate",
            "newtls request rate",
            "auth rate",
        ),
        lit(" "),
        field("count", r"[0-9]+"),
        opt(lit("/"), field("period", r"[0-9]+[smhdw]")),
        lit(" for ("),
        field("service", r"[A-Za-z][^:()]*|[0-9.]+:[0-9]+|\[[^\]]*\]:[0-9]+"),
        lit(":"),
        field("client_ip", r"[^()]*"),
        lit(") at "),
        text("reason"),
    ),
)
ANVIL_CACHE = Kind(
    "anvil-max",
    seq(
        lit("statistics: max "),
        one_of("limit", "cache size"),
        lit(" "),
        field("count", r"[0-9]+"),
        lit(" at "),
        text("reason"),
    ),
)

# --- postscreen --------------------------------------------------------------

PS_CONNECT = Kind(
    "connect",
    seq(
        lit("CONNECT from "),
        BRACKET_CLIENT,
        lit(" to ["),
        field("local_ip", r"[^\]]*"),
        lit("]:"),
        field("local_port", r"[0-9]+"),
    ),
)
PS_PASS = Kind("screen-pass", seq(lit("PASS "), field("screen_result", r"NEW|OLD"), lit(" "), BRACKET_CLIENT))
PS_LIST = Kind(
    "screen-list",
    seq(
        one_of(
            "screen_result",
            "ALLOWLISTED", "DENYLISTED", "ALLOWLIST VETO", "WHITELISTED", "BLACKLISTED", "WHITELIST VETO",
        ),
        lit(" "),
        BRACKET_CLIENT,
    ),
)  # fmt: skip
PS_PREGREET = Kind(
    "pregreet",
    seq(
        lit("PREGREET "),
        field("bytes", r"[0-9]+"),
        lit(" after "),
        field("elapsed", r"[0-9.]+"),
        lit(" from "),
        BRACKET_CLIENT,
        lit(": "),
        text("reason"),
    ),
)
PS_DNSBL = Kind("dnsbl-rank", seq(lit("DNSBL rank "), field("dnsbl_rank", r"-?[0-9]+"), lit(" for "), BRACKET_CLIENT))
PS_HANGUP = Kind(
    "hangup",
    seq(
        lit("HANGUP after "),
        field("elapsed", r"[0-9.]+"),
        lit(" from "),
        BRACKET_CLIENT,
        lit(" in "),
        field("screen_phase", r".+"),
    ),
)
PS_PROTOCOL = Kind(
    "screen-violation",
    seq(
        one_of(
            "screen_result",
            "COMMAND PIPELINING", "NON-SMTP COMMAND", "BARE NEWLINE",
            "COMMAND TIME LIMIT", "COMMAND COUNT LIMIT", "COMMAND LENGTH LIMIT",
        ),
        lit(" from "),
        BRACKET_CLIENT,
        lit(" after "),
        field("stage", r"[^ :]+"),
        opt(lit(":")),
        opt(lit(" ")),
        text("reason"),
    ),
)  # fmt: skip
#: The dummy SMTP engine's reject: comma-separated fields, unlike smtpd.
_PS_TRAILER = seq(
    lit(";"),
    opt(opt(lit(",")), _bracketed("from", "sender")),
    opt(opt(lit(",")), _bracketed("to", "recipient")),
    opt(opt(lit(",")), lit(" proto="), field("proto", r"[A-Z]+")),
    opt(opt(lit(",")), _bracketed("helo", "helo")),
)
PS_REJECT = Kind(
    "reject",
    seq(
        one_of("action", "reject"),
        lit(": "),
        STAGE,
        lit(" from "),
        BRACKET_CLIENT,
        lit(": "),
        opt(REPLY_CODE, lit(" ")),
        opt(DSN, lit(" ")),
        text_until("reason", opt(_PS_TRAILER)),
    ),
    prefix="required",
)
PS_NO_RCPT = Kind(
    "data-without-rcpt",
    seq(field("stage", r"DATA|BDAT"), lit(" without valid RCPT from "), BRACKET_CLIENT),
)
PS_DISCONNECT = Kind("disconnect", seq(lit("DISCONNECT "), BRACKET_CLIENT))
#: postscreen and verify cache maintenance.
CACHE_CLEANUP = Kind(
    "cache-cleanup",
    seq(
        lit("cache "),
        field("table", r"[^ ]+"),
        lit(" "),
        field("action", r"full|partial"),
        lit(" cleanup: "),
        text("reason"),
    ),
)

# --- smtp / lmtp / local / virtual / pipe / error / discard -----------------


def _delivery(*, bracketed: bool) -> Kind:
    """``log_adhoc()``: to=<>, [orig_to=<>,] relay=, [conn_use=,] delay=, delays=a/b/c/d,
    [tls=,] dsn=, status=STATUS (TEXT).

    ``bracketed=False`` accepts the bracket-less addresses of hand-edited samples
    (Postfix itself always writes ``to=<...>``); it is tried second.
    """
    # Separators stand before each optional part, never inside it, so that the
    # next byte always decides the branch (Rust regex's fast one-pass engine).
    if bracketed:
        recipient = seq(lit("to=<"), field("recipient", ADDRESS_CHARS), lit(">, "))
        orig_to = opt(lit("orig_to=<"), field("orig_to", ADDRESS_CHARS), lit(">, "))
    else:
        recipient = seq(lit("to="), field("recipient", r"[^<>, ]*"), lit(", "))
        orig_to = opt(lit("orig_to="), field("orig_to", r"[^<>, ]*"), lit(", "))
    return Kind(
        "delivery",
        seq(
            recipient,
            orig_to,
            lit("relay="),
            field("relay", r"[^,]*"),
            lit(", "),
            opt(lit("conn_use="), field("conn_use", r"[0-9]+"), lit(", ")),
            lit("delay="),
            field("delay", r"[0-9.]+"),
            lit(", delays="),
            field("delay_before_queue", r"[0-9.]+"),
            lit("/"),
            field("delay_in_queue", r"[0-9.]+"),
            lit("/"),
            field("delay_connect", r"[0-9.]+"),
            lit("/"),
            field("delay_transmit", r"[0-9.]+"),
            lit(", "),
            opt(lit("tls="), field("tls_status", r"[^,]*"), lit(", ")),
            lit("dsn="),
            field("dsn", r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}"),
            lit(", status="),
            field("status", r"[A-Za-z-]+"),
            lit(" ("),
            text_until("reason", lit(")")),
        ),
        prefix="required",
    )


DELIVERY = _delivery(bracketed=True)
DELIVERY_BARE = _delivery(bracketed=False)
CONNECT_FAILED = Kind("connect-failed", seq(lit("connect to "), RELAY_PEER, lit(": "), text("reason")))
REMOTE_REPLY = Kind(
    "remote-reply",
    seq(
        lit("host "),
        RELAY_PEER,
        lit(" said: "),
        text_until("reason", lit(" (in reply to "), text_until("command", lit(" command)"))),
    ),
    prefix="required",
)
REMOTE_REFUSED = Kind(
    "remote-refused", seq(lit("host "), RELAY_PEER, lit(" refused to talk to me: "), text("reason")), prefix="required"
)
REMOTE_LOST = Kind(
    "remote-lost", seq(lit("lost connection with "), RELAY_PEER, lit(" while "), text("reason")), prefix="required"
)
REMOTE_TIMEOUT = Kind(
    "remote-timeout",
    seq(lit("conversation with "), RELAY_PEER, lit(" timed out while "), text("reason")),
    prefix="required",
)
#: Non-final soft error before a plaintext retry at TLS level ``may``.
TLS_START_FAILED = Kind("tls-start-failed", seq(lit("Cannot start TLS: "), text("reason")), prefix="required")
CERT_FAILED = Kind(
    "tls-verify-failed", seq(lit("certificate verification failed for "), RELAY_PEER, lit(": "), text("reason"))
)
PIX = Kind(
    "pix-workaround",
    seq(lit("enabling PIX workarounds: "), text_until("reason", lit(" for "), RELAY_PEER)),
    prefix="required",
)
SASL_CLIENT = Kind(
    "sasl-client-failure",
    seq(lit("SASL authentication failed; server "), RELAY_PEER, lit(" said: "), text("reason")),
    prefix="required",
)

# --- queue: cleanup, qmgr, pickup, bounce, postsuper -------------------------

MESSAGE_ID = Kind("message-id", seq(lit("message-id="), text("message_id")), prefix="required")
RESENT_MESSAGE_ID = Kind("resent-message-id", seq(lit("resent-message-id="), text("message_id")), prefix="required")
#: cleanup_message.c actions of header_checks/body_checks (and milter header edits).
CONTENT_ACTIONS = (
    "reject", "warning", "info", "filter", "pass", "discard", "hold", "delay", "prepend", "replace",
    "redirect", "bcc", "strip", "milter-header-redirect",
)  # fmt: skip
#: header/body checks and milter header edits:
#: ``ACTION: header|body TEXT from CLIENT; from=<> to=<> proto= helo=<>[: TEXT]``
CONTENT_CHECK = Kind(
    "content-check",
    seq(
        one_of("action", *CONTENT_ACTIONS),
        lit(": "),
        field("check_part", r"header|body"),
        lit(" "),
        text_until(
            "check_text",
            lit(" from "),
            field("client_name", r"[^\[ ;]*"),
            opt(lit("["), CLIENT_IP, lit("]")),
            lit(";"),
            _bracketed("from", "sender"),
            _bracketed("to", "recipient"),
            opt(lit(" proto="), field("proto", r"[A-Z]+")),
            _bracketed("helo", "helo"),
            opt(lit(": ")),
            text("reason"),
        ),
    ),
    prefix="required",
)
QUEUED = Kind(
    "queued",
    seq(
        lit("from=<"),
        field("sender", ADDRESS_CHARS),
        lit(">, size="),
        field("size", r"[0-9]+"),
        lit(", nrcpt="),
        field("nrcpt", r"[0-9]+"),
        lit(" (queue active)"),
    ),
    prefix="required",
)
EXPIRED = Kind(
    "expired",
    seq(
        lit("from=<"),
        field("sender", ADDRESS_CHARS),
        lit(">, status="),
        field("status", r"expired|force-expired"),
        lit(", returned to sender"),
    ),
    prefix="required",
)
REMOVED = Kind("removed", seq(lit("removed"), opt(lit(" ("), field("reason", r"[^)]*"), lit(")"))), prefix="required")
QUEUE_ACTION = Kind(
    "queue-action",
    seq(one_of("action", "skipped, still being delivered", "placed on hold", "released from hold", "requeued")),
    prefix="required",
)
PICKUP = Kind(
    "pickup",
    seq(lit("uid="), field("uid", r"[0-9]+"), lit(" from=<"), field("sender", ADDRESS_CHARS), lit(">")),
    prefix="required",
)
NOTIFICATION = Kind(
    "notification",
    seq(
        field("notification", r"(?:sender|postmaster) (?:non-delivery|delay|delivery status|success) notification"),
        lit(": "),
        field("child_queue_id", QUEUE_ID_PATTERN),
    ),
    prefix="required",
)
#: postsuper's closing counts.
QUEUE_SUMMARY = Kind(
    "queue-summary",
    seq(
        one_of("action", "Deleted", "Requeued", "Placed on hold", "Released from hold"),
        lit(": "),
        field("count", r"[0-9]+"),
        lit(" message"),
        opt(lit("s")),
    ),
)

# --- anvil, dnsblog, master, postfix-script ----------------------------------

DNSBL_LISTED = Kind(
    "dnsbl-listed",
    seq(
        lit("addr "),
        CLIENT_IP,
        lit(" listed by domain "),
        field("dnsbl_domain", r"[^ ]+"),
        lit(" as "),
        field("dnsbl_answer", r"[^ ]+"),
    ),
)
DAEMON_STARTED = Kind(
    "daemon",
    seq(
        one_of("action", "daemon started", "reload"),
        lit(" -- version "),
        field("version", r"[^,]+"),
        lit(", configuration "),
        field("config", r".+"),
    ),
)
DAEMON_STOPPED = Kind("daemon", seq(one_of("action", "terminating on signal"), lit(" "), field("signal", r"[0-9]+")))
#: postfix-script and postsuper print free-form status sentences.
NOTICE = Kind("notice", seq(text("reason")))

# --- families ----------------------------------------------------------------

_COMMON = [DIAGNOSTIC]

FAMILIES = {
    f.name: f
    for f in (
        Family(
            "smtpd",
            [
                CONNECT, DISCONNECT, CLIENT_LINE, REJECT, ACCESS, PROXY, ABORT, SESSION_ERROR, PIPELINING,
                SASL_FAILED, FCRDNS, NON_SMTP, RATE_LIMIT, TABLE_CHANGED, BARE_LF, EHLO_DISCARD, TLS_IN, TLS_OUT,
                SSL_ACCEPT, TLS_PROBLEM, STARTTLS_REFUSED, *_COMMON,
            ],
            prefix=QUEUE_PREFIX,
        ),
        Family(
            "postscreen",
            [
                PS_CONNECT, PS_PASS, PS_LIST, PS_PREGREET, PS_DNSBL, PS_HANGUP, PS_PROTOCOL, PS_REJECT,
                PS_NO_RCPT, PS_DISCONNECT, CACHE_CLEANUP, *_COMMON,
            ],
            prefix=QUEUE_PREFIX,
        ),
        Family(
            "tlsproxy",
            [
                Kind("connect", seq(lit("CONNECT "), one_of("tls_role", "from", "to"), lit(" "), BRACKET_CLIENT)),
                Kind("disconnect", seq(lit("DISCONNECT "), BRACKET_CLIENT)),
                TLS_IN, SSL_ACCEPT, TLS_PROBLEM, *_COMMON,
            ],
            prefix=QUEUE_PREFIX,
        ),
        Family(
            "smtp",
            [
                DELIVERY, DELIVERY_BARE, CONNECT_FAILED, REMOTE_REPLY, REMOTE_REFUSED, REMOTE_LOST, REMOTE_TIMEOUT,
                TLS_START_FAILED, CERT_FAILED, PIX, SASL_CLIENT, TLS_OUT, SSL_CONNECT, TLS_PROBLEM, TLS_USED,
                *_COMMON,
            ],
            prefix=QUEUE_PREFIX,
        ),
        Family("local", [DELIVERY, DELIVERY_BARE, *_COMMON], prefix=QUEUE_PREFIX),
        Family("cleanup", [MESSAGE_ID, RESENT_MESSAGE_ID, REJECT, CONTENT_CHECK, REMOVED, *_COMMON],
               prefix=QUEUE_PREFIX),
        Family("qmgr", [QUEUED, EXPIRED, REMOVED, QUEUE_ACTION, *_COMMON], prefix=QUEUE_PREFIX),
        Family("pickup", [PICKUP, *_COMMON], prefix=QUEUE_PREFIX),
        Family("bounce", [NOTIFICATION, *_COMMON], prefix=QUEUE_PREFIX),
        Family("postsuper", [REMOVED, QUEUE_ACTION, QUEUE_SUMMARY, *_COMMON], prefix=QUEUE_PREFIX),
        Family("anvil", [ANVIL_MAX, ANVIL_CACHE, STATISTICS, *_COMMON], prefix=QUEUE_PREFIX),
        Family("scache", [STATISTICS, *_COMMON], prefix=QUEUE_PREFIX),
        Family("dnsblog", [DNSBL_LISTED, *_COMMON], prefix=QUEUE_PREFIX),
        Family("master", [DAEMON_STARTED, DAEMON_STOPPED, *_COMMON], prefix=QUEUE_PREFIX),
        Family("postfix-script", [*_COMMON, NOTICE], prefix=QUEUE_PREFIX),
        Family("postfix-tool", [CACHE_CLEANUP, *_COMMON], prefix=QUEUE_PREFIX),
    )
}  # fmt: skip

#: Postfix daemon (last component of the syslog tag) -> family.
DAEMONS = {
    "smtpd": "smtpd",
    "postscreen": "postscreen",
    "tlsproxy": "tlsproxy",
    "smtp": "smtp",
    "lmtp": "smtp",
    "local": "local",
    "virtual": "local",
    "pipe": "local",
    "error": "local",
    "retry": "local",
    "discard": "local",
    "cleanup": "cleanup",
    "qmgr": "qmgr",
    "nqmgr": "qmgr",
    "pickup": "pickup",
    "bounce": "bounce",
    "defer": "bounce",
    "trace": "bounce",
    "postsuper": "postsuper",
    "anvil": "anvil",
    "scache": "scache",
    "dnsblog": "dnsblog",
    "master": "master",
    "postfix-script": "postfix-script",
    "postlogd": "postfix-tool",
    "postdrop": "postfix-tool",
    "sendmail": "postfix-tool",
    "postmap": "postfix-tool",
    "postalias": "postfix-tool",
    "postconf": "postfix-tool",
    "postqueue": "postfix-tool",
    "postlog": "postfix-tool",
    "trivial-rewrite": "postfix-tool",
    "verify": "postfix-tool",
    "flush": "postfix-tool",
    "showq": "postfix-tool",
    "proxymap": "postfix-tool",
    "tlsmgr": "postfix-tool",
    "oqmgr": "qmgr",
    "spawn": "postfix-tool",
    "local-delivery": "local",
}

#: Lines each kind must parse (``tests/grammars`` runs them through both paths).
SAMPLES = {
    "smtpd": [
        "connect from mail.example.net[198.51.100.7]",
        "connect from unknown[2001:db8::25]:41822",
        "disconnect from unknown[203.0.113.9] ehlo=1 mail=1 rcpt=0/1 data=0/1 rset=1 quit=1 commands=4/6",
        "disconnect from unknown[203.0.113.9] commands=0/0",
        "disconnect from x[192.0.2.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5 notes=bare_lf",
        "3F2A41C0B7: client=mail.example.net[198.51.100.7], sasl_method=PLAIN, sasl_username=alice",
        "NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 Service unavailable; Client host "
        "[203.0.113.9] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.9; "
        "from=<x@example.org> to=<bob@example.com> proto=ESMTP helo=<ylmf-pc>",
        "3F2A41C0B7: hold: RCPT from mail.example.net[198.51.100.7]: <a@example.net>: Sender address "
        "triggers HOLD action; from=<a@example.net> to=<bob@example.com> proto=ESMTP helo=<mail.example.net>",
        "NOQUEUE: milter-reject: RCPT from x[192.0.2.1]: 451 4.7.1 Service unavailable - try again later; "
        "from=<a@x> to=<b@y> proto=ESMTP helo=<h> sasl_username=<u>",
        "lost connection after AUTH from unknown[203.0.113.9]",
        "NOQUEUE: lost connection after STARTTLS from unknown[203.0.113.20]",
        "timeout after DATA (8192 bytes) from mail.example.net[198.51.100.7]",
        "improper command pipelining after EHLO from unknown[203.0.113.9]: MAIL FROM:<a@example.org>\\r\\n",
        "warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=admin",
        "warning: hostname h-7.example.net does not resolve to address 198.51.100.7: Name or service not known",
        "SSL_accept error from unknown[203.0.113.20]: -1",
        "warning: TLS library problem: error:0A0000C1:SSL routines::no shared cipher:../ssl/statem/statem_srvr.c:2220:",
        "warning: TLS library problem: 12345:error:1408A0C1:SSL routines:ssl3_get_client_hello:"
        "no shared cipher:s3_srvr.c:1435:",
        "Anonymous TLS connection established from mail.example.net[198.51.100.7]: TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits)",
        "warning: Connection rate limit exceeded: 31 from spamhost.example.org[192.0.2.123] for service smtp",
        "warning: some other warning",
    ],
    "postscreen": [
        "CONNECT from [203.0.113.9]:51234 to [192.0.2.10]:25",
        "PREGREET 11 after 0.14 from [203.0.113.9]:51234: EHLO ylmf-pc\\r\\n",
        "DNSBL rank 3 for [203.0.113.9]:51234",
        "HANGUP after 1.9 from [203.0.113.9]:51234 in tests after SMTP handshake",
        "PASS NEW [2001:db8::1]:36051",
        "NOQUEUE: reject: RCPT from [203.0.113.9]:4984: 450 4.3.2 Service currently unavailable; "
        "from=<a@example.org>, to=<b@example.com>, proto=ESMTP, helo=<x>",
        "NOQUEUE: reject: CONNECT from [1.2.3.4]:1337: too many connections",
        "DATA without valid RCPT from [203.0.113.9]:4984",
        "DISCONNECT [203.0.113.9]:4984",
    ],
    "smtp": [
        "3F2A41C0B7: to=<c@example.org>, relay=mx.example.org[192.0.2.25]:25, delay=1.4, "
        "delays=0.07/0.01/0.5/0.82, dsn=2.0.0, status=sent (250 2.0.0 OK (id=1))",
        "3F2A41C0C1: to=<d@example.org>, relay=none, delay=30, delays=0.02/0/30/0, tls=may:none, dsn=4.4.1, "
        "status=deferred (connect to mx2.example.org[192.0.2.26]:25: Connection timed out)",
        "connect to mx2.example.org[192.0.2.26]:25: Connection timed out",
        "3F2A41C0B7: host mx.example.org[192.0.2.25] said: 450 4.2.0 Greylisted (in reply to RCPT TO command)",
        "3F2A41C0B7: Cannot start TLS: handshake failure",
    ],
    "local": [
        "3F2A41C0C3: to=<bob@example.com>, orig_to=<postmaster@example.com>, relay=local, delay=0.03, "
        "delays=0.01/0.01/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)",
    ],
    "cleanup": [
        "3F2A41C0B7: message-id=<20240301.abc@example.net>",
        "3F2A41C0B7: reject: header Subject: You won from unknown[203.0.113.9]; from=<x@example.org> "
        "to=<bob@example.com> proto=ESMTP helo=<ylmf-pc>: 5.7.1 message content rejected",
        "3F2A41C0B7: milter-reject: END-OF-MESSAGE from unknown[203.0.113.9]: 4.7.1 Try again later; "
        "from=<x@example.org> to=<bob@example.com> proto=ESMTP helo=<ylmf-pc>",
    ],
    "qmgr": [
        "3F2A41C0B7: from=<a@example.net>, size=4213, nrcpt=1 (queue active)",
        "3F2A41C0B7: removed",
        "3F2A41C0B7: from=<a@example.net>, status=expired, returned to sender",
    ],
    "bounce": ["3F2A41C0B7: sender non-delivery notification: 3F2A41C0C9"],
    "pickup": ["3F2A41C0B7: uid=0 from=<root>"],
    "dnsblog": ["addr 203.0.113.9 listed by domain zen.spamhaus.org as 127.0.0.4"],
    "master": ["daemon started -- version 3.7.11, configuration /etc/postfix", "terminating on signal 15"],
}
