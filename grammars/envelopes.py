"""Syslog envelopes: the timestamp, host and program tag around a message.

Shapes (see ``shared/docs/log-formats.md`` section 1):

* ``bsd`` -- RFC 3164 files (rsyslog traditional format, day space-padded),
  ``journalctl -o short`` / ``short-precise`` and Postfix's own ``maillog_file``
  (day zero-padded, optional ``.ffffff``). No year and no zone.
* ``rfc3339`` -- rsyslog's default file format and ``journalctl -o short-iso`` /
  ``short-iso-precise``: ISO date with ``T``, optional fraction, ``Z`` or an
  offset written ``+01:00`` (current systemd) or ``+0100`` (older systemd).
* ``rfc5424`` -- ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`` as forwarded by
  rsyslog; ``-`` is the nil value.

Each envelope yields ``host``, ``program``, ``pid`` and the message as ``msg``,
plus the timestamp parts that ``loganalyzer.timestamps`` turns into UTC.
"""

from __future__ import annotations

from .elements import field, lit, opt, seq, text

__all__ = ["BSD", "ENVELOPES", "EXIM", "ISO_SYSLOG", "RFC3339", "RFC5424", "SAMPLES", "STAMPED", "TAGGED"]

#: Month names factored so that every byte decides the branch: Rust's regex
#: crate then uses its one-pass engine, twice as fast as the general one.
MONTH_PATTERN = r"J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec"
MONTH = field("month", MONTH_PATTERN)
#: Space-padded (rsyslog), zero-padded (journalctl, postlogd) or, in some
#: hand-collected samples, not padded at all.
DAY = field("day", r" [0-9]|[0-9][0-9]?")
CLOCK = field("clock", r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?")
ISO_TIMESTAMP = field(
    "timestamp",
    r"[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})",
)
HOST = field("host", r"[^ ]+")
#: A syslog tag: the program (``postfix/smtpd``, ``postfix/submission/smtpd``,
#: ``opendkim``), then ``[pid]`` when the sender logged one.
TAG = seq(field("program", r"[^ \[\]:]+"), opt(lit("["), field("pid", r"[0-9]+"), lit("]")), lit(": "))

BSD = seq(MONTH, lit(" "), DAY, lit(" "), CLOCK, lit(" "), HOST, lit(" "), TAG, text("msg")).set_name("bsd")
RFC3339 = seq(ISO_TIMESTAMP, lit(" "), HOST, lit(" "), TAG, text("msg")).set_name("rfc3339")
#: A BSD line behind a collector's own RFC 3339 time (``docker logs -t``,
#: ``kubectl logs --timestamps``, Go log shippers): the outer time has the year
#: and zone, so it is the one kept.
STAMPED = seq(
    ISO_TIMESTAMP,
    lit(" "),
    field("inner_month", MONTH_PATTERN),
    lit(" "),
    field("inner_day", r" [0-9]|[0-9][0-9]?"),
    lit(" "),
    field("inner_clock", r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?"),
    lit(" "),
    HOST,
    lit(" "),
    TAG,
    text("msg"),
).set_name("stamped")
RFC5424 = seq(
    lit("<"),
    field("pri", r"[0-9]{1,3}"),
    lit(">1 "),
    ISO_TIMESTAMP,
    lit(" "),
    HOST,
    lit(" "),
    field("program", r"[^ ]+"),
    lit(" "),
    field("pid", r"[0-9]+|-"),
    lit(" "),
    field("msgid", r"[^ ]+"),
    lit(" "),
    field("structured_data", r"-|(?:\[[^\]]*\])+"),
    opt(lit(" ")),
    text("msg"),
).set_name("rfc5424")

#: Exim's own log files: ``YYYY-MM-DD HH:MM:SS[.mmm][ ±hhmm][ [pid]] MSG`` (log.c): no host,
#: no program; the time is local unless ``log_timezone`` adds the offset.
EXIM_TIMESTAMP = r"[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{3})?"
#: Written so that the next character always says which part follows (a *one-pass* pattern,
#: which the regex engine captures from several times faster than an ambiguous one).
EXIM = seq(
    field("local_time", EXIM_TIMESTAMP),
    lit(" "),
    opt(field("tz_offset", r"[+-][0-9]{4}"), lit(" ")),
    opt(lit("["), field("pid", r"[0-9]+"), lit("] ")),
    text("msg"),
).set_name("exim")
#: Syslog files written with an ISO date and a space (rsyslog ``%timegenerated:::date-rfc3339%``
#: variants, some appliances): ``YYYY-MM-DD HH:MM:SS host program[pid]: msg``, local time.
ISO_SYSLOG = seq(
    field("local_time", EXIM_TIMESTAMP), lit(" "), HOST, lit(" "), field("program", r"[^ \[\]:]+"), lit("["),
    field("pid", r"[0-9]+"), lit("]: "), text("msg"),
).set_name("iso-syslog")  # fmt: skip
#: ``host program[pid]: msg`` with no time at all (``journalctl -o cat`` with a host prefix); the
#: time then comes from Exim's own timestamp inside the message, when there is one.
TAGGED = seq(
    HOST, lit(" "), field("program", r"[^ \[\]:]+"), lit("["), field("pid", r"[0-9]+"), lit("]: "), text("msg")
).set_name("tagged")

#: Tried in this order; a line takes the first that matches.
ENVELOPES = (
    ("bsd", BSD),
    ("rfc3339", RFC3339),
    ("stamped", STAMPED),
    ("rfc5424", RFC5424),
    ("iso-syslog", ISO_SYSLOG),
    ("exim", EXIM),
    ("tagged", TAGGED),
)

SAMPLES = {
    "bsd": [
        "Mar  1 12:00:01 mx1 postfix/smtpd[2817]: connect from mail.example.net[198.51.100.7]",
        "Mar 01 12:00:01.123456 mx1 postfix/smtpd[2817]: connect from x[192.0.2.1]",
        "Dec 31 23:59:59 mx1.example.com postfix/submission/smtpd[11]: disconnect from x[192.0.2.1]",
    ],
    "rfc3339": [
        "2024-03-01T12:00:01.123456+01:00 mx1 postfix/smtpd[2817]: connect from x[192.0.2.1]",
        "2024-03-01T12:00:01+0100 mx1 postfix/qmgr[99]: 3F2A41C0B7: removed",
        "2024-03-01T11:00:01Z mx1 opendkim[733]: 3F2A41C0B7: DKIM verification successful",
    ],
    "stamped": [
        "2021-06-16T13:53:50+02:00 Jun 16 13:53:50 mailgate postfix/smtpd[20252]: connect from unknown[192.0.2.12]",
    ],
    "iso-syslog": [
        "2019-10-22 03:39:17 mx1.example.com exim[29786]: dovecot_login authenticator failed for (User) "
        "[192.0.2.37]: 535 Incorrect authentication data (set_id=test@example.com)"
    ],
    "exim": [
        "2024-03-01 12:00:01 1pXyZa-00000001aBc-DeFg <= a@example.net H=mail.example.net [198.51.100.7] "
        "P=esmtps S=4213",
        "2024-03-01 12:00:01.123 +0200 [4711] H=(ylmf-pc) [203.0.113.9] F=<x@example.org> rejected RCPT "
        "<bob@example.com>: relay not permitted",
    ],
    "tagged": [
        "mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed for "
        "([192.0.2.17]) [192.0.2.27]: 535 Incorrect authentication data"
    ],
    "rfc5424": [
        "<22>1 2024-03-01T12:00:01.123456+01:00 mx1 postfix/smtpd 2817 - - connect from x[192.0.2.1]",
        '<22>1 2024-03-01T12:00:01Z mx1 postfix/qmgr 99 ID47 [ex@32473 a="1"] 3F2A41C0B7: removed',
    ],
}
