"""The tables loganalyzer produces, defined once.

Every column of every table is declared here with its type and a one-line
meaning; the parser, the correlators, the detectors, the Parquet writer and the
README all take their names and types from this module. Grammar field names are
event column names (a test checks that every field a grammar can produce has a
column here).

Types are declared as polars types, the engine that builds every table; the
Arrow schema follows from them (:meth:`Table.arrow`). Low-cardinality text
(hosts, programs, kinds, stages, statuses) is dictionary-encoded: ``Categorical``
in polars, ``dictionary(int32, string)`` in Arrow. pyarrow is imported only when
an Arrow schema is asked for (:func:`loganalyzer.to_arrow`): the import alone
takes 38 MB, in the main process and in every parse worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
from polars.datatypes import DataTypeClass

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COMMANDS",
    "EVENTS",
    "FINDINGS",
    "MESSAGES",
    "SESSIONS",
    "TABLES",
    "UNPARSED",
    "Column",
    "Table",
]

TS = pl.Datetime("us", "UTC")
CAT = pl.Categorical()
STR = pl.String()
I16 = pl.Int16()
I32 = pl.Int32()
I64 = pl.Int64()
F64 = pl.Float64()
BOOL = pl.Boolean()
#: ``ok/total`` pair of one command in Postfix's disconnect statistics.
PAIR = pl.Struct({"ok": I32, "total": I32})


@dataclass(frozen=True)
class Column:
    """One column: name, type, meaning."""

    name: str
    type: pl.DataType
    doc: str


@dataclass(frozen=True)
class Table:
    """A named, documented list of columns."""

    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow(self) -> pa.Schema:
        """The Arrow schema (imports pyarrow)."""
        import pyarrow as pa

        return pa.schema([pa.field(c.name, _arrow_type(c.type)) for c in self.columns])

    def polars(self) -> pl.Schema:
        """The polars schema."""
        return pl.Schema({c.name: c.type for c in self.columns})

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


#: Arrow types of the plain polars types the tables use (the nested ones are built from them).
_ARROW_NAMES: dict[object, str] = {
    pl.String: "string",
    pl.Int16: "int16",
    pl.Int32: "int32",
    pl.Int64: "int64",
    pl.Float64: "float64",
    pl.Boolean: "bool_",
}


def _arrow_type(t: pl.DataType | DataTypeClass) -> pa.DataType:
    """The Arrow type a column of polars type ``t`` is given as (categoricals as int32 dictionaries)."""
    import pyarrow as pa

    if isinstance(t, pl.Categorical):
        return pa.dictionary(pa.int32(), pa.string())
    if isinstance(t, pl.Datetime):
        return pa.timestamp(t.time_unit, tz=t.time_zone)
    if isinstance(t, pl.Struct):
        return pa.struct([pa.field(f.name, _arrow_type(f.dtype)) for f in t.fields])
    if isinstance(t, pl.List):
        return pa.list_(_arrow_type(t.inner))
    return getattr(pa, _ARROW_NAMES[t.base_type()])()


def _c(name: str, type_: pl.DataType, doc: str) -> Column:
    return Column(name, type_, doc)


# --- events ---------------------------------------------------------------------

_WHERE = (
    _c("seq", I64, "position of the line in the whole input, in reading order"),
    _c("source", CAT, "file the line came from (`-` for standard input)"),
    _c("line_no", I64, "1-based line number in that file"),
)
_ENVELOPE = (
    _c("ts", TS, "timestamp in UTC"),
    _c("host", CAT, "host that logged the line (several hosts may share one file)"),
    _c("program", CAT, "syslog tag as logged, e.g. postfix/submission/smtpd"),
    _c("daemon", CAT, "last component of the tag: smtpd, postscreen, opendkim, ..."),
    _c("pid", I32, "process id from the tag"),
    _c("kind", CAT, "line kind: the grammar that matched (connect, reject, delivery, ...)"),
)
_FIELDS = (
    _c("queue_id", STR, "Postfix queue id, NOQUEUE, or Exim message id"),
    _c("client_name", STR, "client hostname as logged (`unknown` without forward-confirmed PTR)"),
    _c("client_ip", STR, "client IP address"),
    _c("client_port", I32, "client source port (smtpd_client_port_logging, postscreen)"),
    _c("client_prefix", I32, "prefix length postgrey logged after the address"),
    _c("helo", STR, "HELO/EHLO name"),
    _c("sender", STR, "envelope sender (empty for the null sender <>)"),
    _c("recipient", STR, "envelope recipient"),
    _c("orig_to", STR, "original recipient before rewriting"),
    _c("proto", CAT, "SMTP or ESMTP"),
    _c("action", CAT, "what the daemon did: reject, reject_warning, hold, milter-reject, ..."),
    _c("stage", CAT, "SMTP stage: CONNECT EHLO HELO MAIL RCPT DATA END-OF-MESSAGE BDAT STARTTLS AUTH ..."),
    _c("reply_code", I16, "SMTP reply code (450, 554, ...)"),
    _c("dsn", CAT, "enhanced status code (RFC 3463), e.g. 4.7.1"),
    _c("reason", STR, "reply or reason text"),
    _c("end_reason", CAT, "lost connection, timeout or too many errors"),
    _c("bytes", I64, "bytes received (DATA/BDAT stage) or sent before the greeting (PREGREET)"),
    _c(
        "command_stats",
        STR,
        "smtpd disconnect statistics as logged, e.g. ` ehlo=1 rcpt=0/1 commands=2/3 notes=bare_lf`",
    ),
    _c("sasl_method", CAT, "SASL mechanism"),
    _c("sasl_username", STR, "SASL login name"),
    _c("sasl_sender", STR, "SASL sender"),
    _c("orig_queue_id", STR, "queue id before a content filter"),
    _c("orig_client", STR, "client before a content filter"),
    _c("relay", STR, "next hop: host[ip]:port, socket, transport name or none"),
    _c("conn_use", I32, "times the SMTP connection was reused"),
    _c("delay", F64, "total delivery delay in seconds"),
    _c("delay_before_queue", F64, "seconds before the queue manager, including reception"),
    _c("delay_in_queue", F64, "seconds in the queue manager"),
    _c("delay_connect", F64, "seconds of connection setup (DNS, HELO, TLS)"),
    _c("delay_transmit", F64, "seconds of message transmission"),
    _c("tls_status", STR, "Postfix 3.11+ tls= delivery feature status, e.g. may:none"),
    _c("status", CAT, "delivery status: sent, deferred, bounced, expired, ..."),
    _c("command", STR, "remote SMTP command a reply answered"),
    _c("size", I64, "message size in bytes"),
    _c("nrcpt", I32, "number of recipients"),
    _c("message_id", STR, "Message-ID header value"),
    _c("uid", I32, "local submitter uid"),
    _c("notification", CAT, "kind of bounce notification"),
    _c("child_queue_id", STR, "queue id of the notification message"),
    _c("count", I32, "count logged by the line (rate limits, anvil peaks, postsuper totals)"),
    _c("period", STR, "anvil rate period, e.g. 60s"),
    _c("limit", CAT, "which rate limit"),
    _c("service", CAT, "master.cf service"),
    _c("table", STR, "lookup table"),
    _c("check_part", CAT, "header or body (content checks)"),
    _c("check_text", STR, "header or body text that triggered a content check"),
    _c("severity", CAT, "warning, error, fatal or panic"),
    _c("tls_trust", CAT, "Anonymous, Untrusted, Trusted or Verified"),
    _c("tls_session", CAT, "established or reused"),
    _c("tls_sni", STR, "server name the client asked for"),
    _c("tls_protocol", CAT, "TLS protocol version, e.g. TLSv1.3"),
    _c("tls_cipher", CAT, "TLS cipher"),
    _c("tls_bits", I32, "cipher bits in use"),
    _c("tls_alg_bits", I32, "cipher algorithm bits"),
    _c("tls_details", STR, "key exchange and signature details"),
    _c("tls_role", CAT, "tlsproxy role"),
    _c("tls_thread", I32, "thread number of pre-2.11 TLS errors"),
    _c("tls_error_code", STR, "OpenSSL error code, e.g. 0A0000C1"),
    _c("tls_library", CAT, "OpenSSL library, e.g. SSL routines"),
    _c("tls_function", CAT, "OpenSSL function (empty in OpenSSL 3)"),
    _c("tls_error", CAT, "TLS failure reason, e.g. no shared cipher"),
    _c("tls_error_file", STR, "OpenSSL source file of the error"),
    _c("tls_error_line", I32, "OpenSSL source line of the error"),
    _c("tls_error_data", STR, "OpenSSL error data, e.g. SSL alert number 48"),
    _c("local_ip", STR, "local address the client connected to (postscreen)"),
    _c("local_port", I32, "local port the client connected to (postscreen)"),
    _c("elapsed", F64, "seconds, as logged by postscreen"),
    _c("screen_result", CAT, "postscreen verdict or violation: PASS NEW, PREGREET, ..."),
    _c("screen_phase", STR, "postscreen test phase"),
    _c("dnsbl_rank", I32, "postscreen DNSBL score"),
    _c("dnsbl_domain", STR, "DNSBL zone"),
    _c("dnsbl_answer", STR, "DNSBL answer"),
    _c("greylist_action", CAT, "postgrey action: greylist or pass"),
    _c("greylist_reason", STR, "postgrey reason: new, early-retry (Ns missing), triplet found, ..."),
    _c("greylist_delay", I32, "postgrey: seconds since the triplet was first seen"),
    _c("spf_result", CAT, "SPF result: Pass, Fail, Softfail, Neutral, None, Temperror, Permerror"),
    _c("spf_identity", CAT, "SPF identity checked: mailfrom or helo"),
    _c("spf_comment", STR, "SPF result explanation"),
    _c("spf_receiver", STR, "SPF receiver field"),
    _c("dkim_result", CAT, "DKIM outcome as logged by OpenDKIM"),
    _c("dkim_domain", STR, "DKIM d= domain"),
    _c("dkim_selector", STR, "DKIM s= selector"),
    _c("dkim_algorithm", STR, "DKIM a= algorithm"),
    _c("dkim_signature", STR, "DKIM signature identifier"),
    _c("dmarc_domain", STR, "RFC5322.From domain checked by OpenDMARC"),
    _c("dmarc_result", CAT, "DMARC result"),
    _c("ident", STR, "Exim: RFC 1413 ident or local caller (U=)"),
    _c("connection_id", I64, "Exim 4.93+: connection id (Ci=), ties the lines of one SMTP connection"),
    _c("tls_group", CAT, "Exim: TLS key-exchange group (X=...:group)"),
    _c("tls_verified", CAT, "Exim: peer certificate verification (CV=yes/no/dane)"),
    _c("tls_context", CAT, "Exim: TLS error context, e.g. SSL_accept or a host name"),
    _c("router", CAT, "Exim: router that handled the address (R=)"),
    _c("transport", CAT, "Exim: transport that delivered or deferred it (T=)"),
    _c("relay_ip", STR, "Exim: address of the remote host a delivery went to"),
    _c("relay_port", I32, "Exim: port of the remote host a delivery went to"),
    _c("exim_errno", I32, "Exim: internal error number of a deferral, e.g. -53 for retry time not reached"),
    _c("details", STR, "rest of the line after the fields a grammar models (Exim)"),
    _c("duration", STR, "Exim: connection or message duration as logged (D=, e.g. 1m2s)"),
    _c("dkim_bits", I32, "Exim: DKIM key bits (b=)"),
    _c("tls_peer_dn", STR, "Exim: subject of the peer's certificate (DN=, cert= of an SSL verify error)"),
    _c("spf_domain", STR, "Exim: domain an SPF check used (Authentication-Results smtp.mailfrom/smtp.helo)"),
    _c("scanner", CAT, "Exim: content scanner of a malware or spam acl condition (clamd, spamd, ...)"),
    _c("version", STR, "MTA version (master daemon started)"),
    _c("config", STR, "configuration directory"),
    _c("signal", I32, "signal number"),
)

EVENTS = Table(
    "events",
    "one row per recognised line (lines of programs we do not model have kind `other-program`)",
    _WHERE + _ENVELOPE + _FIELDS,
)

UNPARSED = Table(
    "unparsed",
    "one row per line no grammar matched; counted and reported, never dropped",
    (
        *_WHERE,
        _c("ts", TS, "timestamp in UTC when the envelope parsed"),
        _c("host", CAT, "host when the envelope parsed"),
        _c("program", CAT, "syslog tag when the envelope parsed"),
        _c("problem", CAT, "no-envelope (not a syslog/MTA line) or unknown-shape (a modelled program, no grammar)"),
        _c("raw", STR, "the line as read (undecodable bytes replaced by U+FFFD)"),
    ),
)

#: smtpd disconnect statistics, in Postfix's command-table order (smtpd.c).
COMMANDS = (
    "helo", "ehlo", "xclient", "xforward", "starttls", "auth", "mail", "rcpt", "data", "bdat",
    "rset", "noop", "vrfy", "etrn", "quit", "help", "unknown", "commands",
)  # fmt: skip

REJECT = pl.Struct(
    {"seq": I64, "stage": STR, "reply_code": I16, "dsn": STR, "sender": STR, "recipient": STR, "reason": STR}
)

SESSIONS = Table(
    "sessions",
    "one row per SMTP connection: smtpd by host+pid between connect and disconnect, postscreen by ip:port, "
    "Exim by the best key its log has (see correlation)",
    (
        _c("session_id", I64, "identifier, unique in one read"),
        _c("host", CAT, "host that logged the session"),
        _c("program", CAT, "syslog tag of the server process"),
        _c("daemon", CAT, "smtpd, postscreen or exim"),
        _c("pid", I32, "server process id (Exim: the process forked for the connection, not the daemon)"),
        _c(
            "correlation",
            CAT,
            "how lines were tied together: pid (smtpd) or ip-port (postscreen); Exim: exim-ci (Ci=, "
            "+connection_id), exim-pid (process id: +pid or syslog; the daemon's `SMTP connection from` line is "
            "paired with the next process of that client), exim-ip-port (+incoming_port), exim-ip-time (client "
            "address, lines less than a minute apart)",
        ),
        _c("client_name", STR, "client hostname as logged"),
        _c("client_ip", STR, "client IP address"),
        _c("client_port", I32, "client port when logged"),
        _c("helo", STR, "first HELO name seen in the session"),
        _c("start", TS, "first line of the session"),
        _c("end", TS, "last line of the session"),
        _c("first_seq", I64, "seq of the first line"),
        _c("last_seq", I64, "seq of the last line"),
        _c("source", CAT, "file of the first line"),
        _c("line_no", I64, "line number of the first line"),
        _c("lines", I32, "lines in the session"),
        _c(
            "partial",
            BOOL,
            "the session was cut by the start or end of the log, or by pid reuse, or its start and end are "
            "inferred (an Exim session with no connection line of its own: +smtp_connection off)",
        ),
        _c("partial_reason", CAT, "log-start, log-end, pid-reuse or inferred"),
        _c("starttls", PAIR, "STARTTLS attempts (ok/total) from the statistics (Postfix only)"),
        _c(
            "tls",
            CAT,
            "TLS outcome: established, failed, or none (no STARTTLS seen); Exim: P=esmtps or X= established, "
            "TLS error failed, a P=esmtp arrival none",
        ),
        _c("tls_protocol", CAT, "negotiated TLS protocol (TLS loglevel >= 1; Exim X=)"),
        _c("tls_cipher", CAT, "negotiated cipher (TLS loglevel >= 1; Exim X=)"),
        _c("tls_error", CAT, "first TLS failure reason in the session"),
        *(
            _c(
                f"cmd_{c}",
                PAIR,
                f"{c} commands: ok/total from the disconnect statistics; Exim has none: rcpt, data and unknown "
                "are counted from the lines that show an outcome (lower bounds), the others are null",
            )
            for c in COMMANDS
        ),
        _c("rejects", pl.List(REJECT), "reject lines of the session (Exim logs no reply code of its own)"),
        _c("reject_4xx", I32, "temporary rejections (Exim: temporarily rejected)"),
        _c("reject_5xx", I32, "permanent rejections"),
        _c("queue_ids", pl.List(STR), "queue ids assigned in the session (Exim: ids of its <= and after-DATA lines)"),
        _c("end_reason", CAT, "lost connection, timeout or too many errors, when logged (Exim: also closed by EOF)"),
        _c("end_stage", CAT, "stage of that abnormal end"),
        _c("pipelining_stage", CAT, "stage after which improper pipelining was logged (Exim: a sync error)"),
        _c("pipelining_input", STR, "pending input logged with improper pipelining"),
        _c("sasl_failures", I32, "failed SASL authentications"),
        _c("screen_results", pl.List(STR), "postscreen verdicts and violations"),
    ),
)

DELIVERY = pl.Struct(
    {
        "seq": I64,
        "ts": TS,
        "recipient": STR,
        "orig_to": STR,
        "relay": STR,
        "status": STR,
        "dsn": STR,
        "delay": F64,
        "reason": STR,
    }
)

MESSAGES = Table(
    "messages",
    "one row per queue-id lifecycle (a queue id reused after `removed` starts a new one; Exim: a message id "
    "up to `Completed`)",
    (
        _c("message_key", STR, "host/queue_id/lifecycle: unique in one read (host `-` for Exim's own log files)"),
        _c("host", CAT, "host"),
        _c("queue_id", STR, "queue id (Exim: message id)"),
        _c("first_seen", TS, "first line"),
        _c("last_seen", TS, "last line"),
        _c("first_seq", I64, "seq of the first line"),
        _c("session_id", I64, "SMTP session that received it, when in the log"),
        _c("client_name", STR, "client hostname (smtpd client= line, Exim <= H=)"),
        _c("client_ip", STR, "client IP address"),
        _c("sasl_username", STR, "SASL login that submitted it"),
        _c(
            "origin",
            CAT,
            "smtp (smtpd client=, Exim <= from a host), local (pickup, Exim local <=) or notification (bounce, "
            "Exim <= <> R=)",
        ),
        _c("sender", STR, "envelope sender (qmgr from=, Exim <=)"),
        _c("size", I64, "size in bytes"),
        _c("nrcpt", I32, "recipients (Exim does not log it)"),
        _c("message_id", STR, "Message-ID header"),
        _c(
            "deliveries",
            pl.List(DELIVERY),
            "every delivery attempt, per recipient (Exim => -> >> sent, == deferred, ** bounced; relay host[ip] or "
            "the transport of a local delivery; delay since the <=)",
        ),
        _c("delivered", I32, "recipients with status sent"),
        _c("deferred", I32, "deferred delivery attempts"),
        _c("bounced", I32, "recipients with status bounced"),
        _c("rejected", BOOL, "rejected by a milter or content check (Exim: refused after DATA, or a fake reject)"),
        _c("removed", BOOL, "qmgr or postsuper removed it (Exim: Completed, or removed by a user)"),
        _c("expired", BOOL, "returned to sender as expired (Exim: ** retry timeout exceeded)"),
    ),
)

EVIDENCE = pl.Struct({"source": STR, "line_no": I64})

FINDINGS = Table(
    "findings",
    "one row per (detector, sending network): what it did and the lines that show it",
    (
        _c("detector", STR, "detector id, e.g. rapid-retry"),
        _c("network", STR, "sending network in canonical CIDR form, or the org/asn/ip grouped by"),
        _c("org", STR, "PTR organisation: registrable domain of the client names"),
        _c("asn", STR, "AS number and name (with --asn-db)"),
        _c("count", I64, "how many times the behaviour was seen"),
        _c("first_seen", TS, "first occurrence"),
        _c("last_seen", TS, "last occurrence"),
        _c("severity", STR, "high, medium or low"),
        _c("explanation", STR, "what was seen and which rule it breaks"),
        _c("evidence", pl.List(EVIDENCE), "example lines: source and line number"),
    ),
)

TABLES = {t.name: t for t in (EVENTS, SESSIONS, MESSAGES, UNPARSED, FINDINGS)}
