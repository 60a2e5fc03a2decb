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

__all__ = ["BSD", "ENVELOPES", "RFC3339", "RFC5424", "SAMPLES", "STAMPED"]

MONTH = field("month", r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
#: Space-padded (rsyslog), zero-padded (journalctl, postlogd) or, in some
#: hand-collected samples, not padded at all.
DAY = field("day", r"[ 0-3]?[0-9]")
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
    field("inner_month", r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"),
    lit(" "),
    field("inner_day", r"[ 0-3]?[0-9]"),
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

#: Tried in this order; a line takes the first that matches.
ENVELOPES = (("bsd", BSD), ("rfc3339", RFC3339), ("stamped", STAMPED), ("rfc5424", RFC5424))

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
    "rfc5424": [
        "<22>1 2024-03-01T12:00:01.123456+01:00 mx1 postfix/smtpd 2817 - - connect from x[192.0.2.1]",
        '<22>1 2024-03-01T12:00:01Z mx1 postfix/qmgr 99 ID47 [ex@32473 a="1"] 3F2A41C0B7: removed',
    ],
}
