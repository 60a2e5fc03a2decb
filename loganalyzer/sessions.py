"""Events to SMTP sessions and queue-id lifecycles (pure LazyFrame queries).

**smtpd sessions.** One smtpd process serves one client at a time, so the lines
of one process id on one host between ``connect from`` and ``disconnect from``
are one session. Within each (host, pid), every ``connect`` opens a new segment;
the lines of a segment up to and including its ``disconnect`` belong to it.
A session without a ``connect`` (the log started mid-session) is partial
``log-start``; one without a ``disconnect`` is partial ``log-end`` when it is the
last of its process, and ``pid-reuse`` when another ``connect`` on the same pid
came first (the process died and its pid was reused, or lines were lost).
Process chatter outside any client session (start-up warnings) makes no row.

**postscreen sessions.** postscreen is one process for all clients and names
them ``[ip]:port``: its sessions are the lines of one (host, ip, port) from one
``CONNECT`` to the next.

**Messages.** Lines with the same (host, queue id) are one message; a ``removed``
line ends a lifecycle, so a queue id reused later starts a new message.

**Exim** lines go into the same tables, correlated by :mod:`.exim_sessions`
(Exim has no smtpd-like process per line to key on); each function here adds
the Exim rows to the Postfix ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl

from . import exim_sessions
from .aggregates import Masked, session_span
from .exim_sessions import delivery_status
from .grammars import DAEMONS, FAMILIES
from .grouping import grouped, key_starts
from .schema import COMMANDS, MESSAGES, SESSIONS
from .tables import align
from .windows import Windows

__all__ = [
    "REFUSED_ACTIONS",
    "SESSION_EVENT_KINDS",
    "build_messages",
    "build_session_lines",
    "build_sessions",
    "delivery_status",
    "lifecycles",
    "number_lifecycles",
    "received_by",
    "reply_class",
    "with_command_pairs",
]

#: ``action`` of a line that refused a client's command: Postfix's and Exim's words.
REFUSED_ACTIONS = ["reject", "milter-reject", *exim_sessions.REFUSED]


def reply_class(code: pl.Expr, dsn: pl.Expr, action: pl.Expr | None = None) -> pl.Expr:
    """4 or 5 (temporary or permanent) from a reply code, else from the DSN's class digit.

    With ``action``, an Exim refusal (which logs no code) is classed by its
    wording: ``temporarily rejected`` is a 4xx, ``rejected`` a 5xx.
    """
    from_dsn = dsn.cast(pl.String).str.slice(0, 1).cast(pl.Int16, strict=False)
    if action is None:
        return pl.coalesce(code.cast(pl.Int16) // 100, from_dsn)
    return pl.coalesce(code.cast(pl.Int16) // 100, from_dsn, exim_sessions.refusal_class(action))


#: Postfix writes the statistics in its command-table order: one pass reads them all.
_ORDERED_STATS = "^" + "".join(rf"(?: {c}=(?P<{c}>[0-9]+(?:/[0-9]+)?))?" for c in COMMANDS) + "$"


def _pairs_from(value: pl.Expr, name: str) -> pl.Expr:
    ok = value.str.extract(r"^([0-9]+)", 1).cast(pl.Int32)
    total = pl.coalesce(value.str.extract(r"/([0-9]+)$", 1).cast(pl.Int32), ok)
    return pl.when(ok.is_not_null()).then(pl.struct(ok=ok, total=total)).alias(f"cmd_{name}")


def with_command_pairs(frame: pl.LazyFrame, stats: str = "command_stats") -> pl.LazyFrame:
    """Add ``cmd_<name>`` ok/total structs parsed from smtpd's disconnect statistics.

    ``name=S`` means S of S succeeded, ``name=S/T`` S of T; a command absent from
    the statistics was never received, so its pair is null. Statistics in
    Postfix's own order are read in one pass; any other order (hand-made samples)
    falls back to one search per command. The rows keep their order only if
    the caller sorts them: this is a join.
    """
    # a server's sessions write a few hundred distinct statistics: read each once, then join
    distinct = frame.select(stats).unique().drop_nulls()
    ordered = pl.col(stats).str.extract_groups(_ORDERED_STATS)
    marked = distinct.with_columns(ordered.alias("_ordered"))
    in_order = pl.any_horizontal(pl.col("_ordered").struct.field(c).is_not_null() for c in COMMANDS)
    fast = marked.filter(in_order).with_columns(_pairs_from(pl.col("_ordered").struct.field(c), c) for c in COMMANDS)
    slow = marked.filter(~in_order).with_columns(
        _pairs_from(pl.col(stats).str.extract(rf" {c}=([0-9]+(?:/[0-9]+)?)", 1), c) for c in COMMANDS
    )
    pairs = pl.concat([fast, slow], how="vertical").drop("_ordered")
    return frame.join(pairs, on=stats, how="left")


#: How each daemon's lines are tied into sessions.
_CORRELATION = {"smtpd": (["host", "pid"], "pid"), "postscreen": (["host", "client_ip", "client_port"], "ip-port")}


def _kinds_of(daemon: str) -> list[str]:
    """The line kinds ``daemon`` writes: those of its grammar family."""
    return sorted({kind.name for kind in FAMILIES[DAEMONS[daemon]].kinds})


def build_session_lines(
    events_of: Callable[..., pl.LazyFrame], *, exim: bool = True, postfix: bool = True
) -> pl.DataFrame:
    """(seq, session_id, kind, ts) of every line inside an SMTP session, plus the session's frame (Exim's
    lines without their time, file and line number: its sessions read those from the events).

    The index is built from four narrow columns only. Within each correlation
    key (host+pid for smtpd, host+ip+port for postscreen), each ``connect``
    opens a segment; a segment's lines up to its ``disconnect`` form a session
    whose id is the ``seq`` of its first line. Columns ``correlation``,
    ``segment`` and ``last_segment`` say how the session was cut.

    Lines are grouped by key, each key's in seq order, once
    (:func:`loganalyzer.grouping.grouped`); everything else is a running sum or a
    fill over that order (a value taken where a key or segment starts and carried
    forward), with no group_by: the index costs about one sort of integers. The
    rows stay in that order: a session's lines are together
    and in seq order, which is all the builders ask (Exim's lines, which its
    builder reads in seq order, are put in it). The whole index in seq order
    would be one more copy of it, about 300 MB for a moment on a 5M-line log.

    ``exim``/``postfix`` false skips that MTA's correlation, which would only
    read columns to find nothing (the Postfix one still runs when both are
    false, for the empty index). ``events_of(*kinds)`` gives the events of some
    kinds (:meth:`Tables.events_of <loganalyzer.tables.Tables.events_of>`, which
    reads only their parts): each correlation asks for the kinds it cuts.
    """
    parts = []
    for daemon, (keys, correlation) in _CORRELATION.items() if postfix or not exim else ():
        keyed = (
            events_of(*_kinds_of(daemon))  # its own kinds' parts only: not the queue's deliveries, say
            .filter(pl.col("daemon") == daemon)
            .select("seq", "ts", "kind", "source", "line_no", *keys)
            .filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        )
        parts.append(
            _segments(grouped(keyed, keys, by_time=False).lazy()).select(
                "seq", "ts", "kind", "source", "line_no", "session_id", "segment", "last_segment",
                pl.lit(daemon, pl.Categorical).alias("daemon"),
                pl.lit(correlation, pl.Categorical).alias("correlation"),
            ).collect()  # each part made and its sorted lines let go before the next
        )  # fmt: skip
    if exim:
        lines = events_of(*exim_sessions.SESSION_KINDS)
        rejections = events_of(*exim_sessions.REJECT_LOG_KINDS)
        parts.append(exim_sessions.build_session_lines(lines, rejections))
    return pl.concat(parts, how="vertical", rechunk=False)


def _segments(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Cut lines grouped by ``_key``, in seq order, into sessions; see :func:`build_session_lines`."""
    connect = (pl.col("kind") == "connect").cast(pl.Int32)
    disconnect = (pl.col("kind") == "disconnect").cast(pl.Int32)
    new_key = key_starts()
    at_key_start = pl.col("_new_key")
    at_start = at_key_start | (connect == 1)
    return (
        lines.with_columns(new_key.alias("_new_key"), connect.cum_sum().alias("_c"), disconnect.cum_sum().alias("_d"))
        .with_columns(
            # connects of this key so far: segment 0 is what came before the first connect
            (pl.col("_c") - pl.when(at_key_start).then(pl.col("_c") - connect).forward_fill()).alias("segment"),
            pl.when(at_start).then(pl.col("seq")).forward_fill().alias("session_id"),
            # disconnects of this segment before this line
            (pl.col("_d") - disconnect - pl.when(at_start).then(pl.col("_d") - disconnect).forward_fill()).alias(
                "_closed_before"
            ),
        )
        .with_columns(
            pl.when(pl.col("_new_key").shift(-1, fill_value=True))
            .then(pl.col("segment"))
            .backward_fill()
            .alias("last_segment")
        )
        .filter(pl.col("_closed_before") == 0)
    )


#: Kinds whose lines name the client (and, in postscreen, its verdicts).
_WHO = ["connect", "disconnect", "client", "reject", "access", "sasl-failure", "session-error", "improper-pipelining",
        "tls-accept-error", "tls-established", "pregreet", "dnsbl-rank", "hangup", "screen-pass", "screen-list",
        "screen-violation", "data-without-rcpt"]  # fmt: skip
#: The event columns sessions are made of.
_ATTRIBUTES = ["program", "host", "pid", "client_name", "client_ip", "client_port", "helo", "screen_result", "action",
               "stage", "reply_code", "dsn", "sender", "recipient", "reason", "queue_id", "command_stats",
               "end_reason", "tls_protocol", "tls_cipher", "tls_error"]  # fmt: skip
_CARRIERS = sorted({*_WHO, "tls-library-problem"})
#: The line kinds :func:`build_sessions` reads of the events, Postfix's and Exim's.
SESSION_EVENT_KINDS = sorted({*_CARRIERS, *exim_sessions.SESSION_KINDS})
#: The kinds and event columns messages are made of.
_MESSAGE_CARRIERS = ["client", "queued", "pickup", "expired", "message-id", "delivery", "reject", "content-check"]
_MESSAGE_ATTRIBUTES = ["daemon", "action", "client_name", "client_ip", "sasl_username", "sender", "size", "nrcpt",
                       "message_id", "recipient", "orig_to", "relay", "status", "dsn", "delay", "reason"]  # fmt: skip


def build_sessions(
    events: pl.LazyFrame, lines: pl.LazyFrame, *, exim: bool = True, postfix: bool = True
) -> pl.LazyFrame:
    """One row per SMTP connection (schema :data:`~loganalyzer.schema.SESSIONS`).

    ``lines`` is :func:`build_session_lines` of the same events. The attribute
    columns of the kinds that carry them are joined to the index once, by seq,
    and every attribute is then one aggregate of a single ``group_by``: each
    reads the lines of its own kinds, in seq order.
    """
    exim_lines = lines.filter(pl.col("daemon") == "exim")
    if exim and not postfix:  # (flags as in build_session_lines)
        return exim_sessions.build_sessions(events, exim_lines).sort("session_id")
    lines = lines.filter(pl.col("daemon") != "exim")
    kind = pl.col("kind")
    carriers = events.filter(kind.is_in(_CARRIERS)).select("seq", *_ATTRIBUTES)
    rows = lines.join(carriers, on="seq", how="left", maintain_order="left")
    who = kind.is_in(_WHO)
    refused = pl.col("action").is_in(["reject", "milter-reject", "hangup"]) & (kind == "reject")
    rcls = reply_class(pl.col("reply_code"), pl.col("dsn"))
    queued = kind.is_in(["client", "reject", "access"]) & (pl.col("queue_id") != "NOQUEUE")
    # values masked to the lines that carry them before the group_by (see loganalyzer.aggregates)
    firsts = {  # the session's value: its first
        **{c: pl.when(who).then(pl.col(c)) for c in ("client_name", "client_ip", "client_port", "helo")},
        "command_stats": pl.when(kind == "disconnect").then(pl.col("command_stats")),
        "end_reason": pl.when(kind == "session-error").then(pl.col("end_reason")),
        "end_stage": pl.when(kind == "session-error").then(pl.col("stage")),
        "pipelining_stage": pl.when(kind == "improper-pipelining").then(pl.col("stage")),
        "pipelining_input": pl.when(kind == "improper-pipelining").then(pl.col("reason")),
        "tls_protocol": pl.when(kind == "tls-established").then(pl.col("tls_protocol")),
        "tls_cipher": pl.when(kind == "tls-established").then(pl.col("tls_cipher")),
        "tls_error": pl.when(kind == "tls-library-problem").then(pl.col("tls_error")),
    }
    flags = {  # whether any line is so
        "_has_connect": kind == "connect",
        "_has_disconnect": kind == "disconnect",
        "_has_reject": kind == "reject",
        "_tls_ok": kind == "tls-established",
        "_tls_failed": kind.is_in(["tls-accept-error", "tls-library-problem"]),
    }
    counts = {  # how many
        "sasl_failures": kind == "sasl-failure",
        "reject_4xx": refused & (rcls == 4),
        "reject_5xx": refused & (rcls == 5),
    }
    masked = Masked(firsts, flags, counts)
    frame = rows.with_columns(masked.columns()).group_by("session_id").agg(
        pl.col("daemon").first(),
        pl.col("correlation").first(),
        pl.col("segment").first(),
        pl.col("last_segment").first(),
        *session_span(),
        *masked.aggregates(),
        pl.col("host").filter(who).first(),
        pl.col("program").filter(who).first(),
        pl.col("pid").filter(who).first(),
        pl.coalesce(pl.col("screen_result").cast(pl.String), kind.cast(pl.String))
        .filter(who & ~kind.is_in(["connect", "disconnect", "reject"]))
        .alias("_screen"),
        pl.struct(
            "seq", pl.col("stage").cast(pl.String), "reply_code", pl.col("dsn").cast(pl.String), "sender",
            "recipient", "reason",
        ).filter(refused).alias("rejects"),
        pl.col("queue_id").filter(queued).unique(maintain_order=True).alias("queue_ids"),
    )  # fmt: skip
    both = frame.with_columns(
        pl.col("session_id").alias("first_seq"),
        pl.when(pl.col("daemon") == "postscreen").then(pl.col("_screen")).alias("screen_results"),
        pl.when(pl.col("_has_reject")).then(pl.col("rejects")).alias("rejects"),
    )
    # segment 0 has no connect: the log began inside it; keep it only if it names a client
    both = both.filter((pl.col("segment") > 0) | pl.col("client_ip").is_not_null())
    stats = pl.col("command_stats")
    starttls = pl.col("cmd_starttls")
    tls = (
        pl.when(pl.col("_tls_failed") | (starttls.struct.field("ok") < starttls.struct.field("total")))
        .then(pl.lit("failed"))
        .when(pl.col("_tls_ok") | (starttls.struct.field("ok") > 0))
        .then(pl.lit("established"))
        .when(stats.is_not_null())
        .then(pl.lit("none"))
    )
    partial_reason = (
        pl.when(~pl.col("_has_connect"))
        .then(pl.lit("log-start"))
        .when(~pl.col("_has_disconnect") & (pl.col("daemon") == "smtpd"))
        .then(
            pl.when(pl.col("segment") == pl.col("last_segment")).then(pl.lit("log-end")).otherwise(pl.lit("pid-reuse"))
        )
    )
    done = (
        with_command_pairs(both)
        .with_columns(pl.col("cmd_starttls").alias("starttls"))
        .with_columns(tls.alias("tls"), partial_reason.alias("partial_reason"))
        .with_columns(pl.col("partial_reason").is_not_null().alias("partial"))
        .sort("session_id")
    )
    if not exim:
        return align(done, SESSIONS)
    return pl.concat([align(done, SESSIONS), exim_sessions.build_sessions(events, exim_lines)]).sort("session_id")


def number_lifecycles(lines: pl.LazyFrame, ends: pl.Expr) -> pl.LazyFrame:
    """``lines`` (with seq, host, queue_id) grouped by (host, queue id), each in seq order, with
    ``lifecycle`` (lines that ended one before, per queue id) and ``first_seq`` (where the
    lifecycle began).

    One sort of integers (:func:`loganalyzer.grouping.grouped`), then running sums
    and fills: a queue id reused after a line that ``ends`` it (Postfix
    ``removed``, Exim ``Completed``) starts a new lifecycle.
    """
    end = ends.cast(pl.Int32)
    new_key = key_starts()
    before = pl.col("_r") - pl.col("_end")
    return (
        grouped(lines, ["host", "queue_id"], by_time=False)
        .lazy()
        .with_columns(new_key.alias("_new_key"), end.alias("_end"), end.cum_sum().alias("_r"))
        .with_columns(
            (before - pl.when(pl.col("_new_key")).then(before).forward_fill()).alias("lifecycle"),
            pl.when(pl.col("_new_key") | (pl.col("_end").shift(1) == 1))
            .then(pl.col("seq"))
            .forward_fill()
            .alias("first_seq"),
        )
        .drop("_key", "_new_key", "_end", "_r")
    )


def build_messages(
    events: pl.LazyFrame,
    sessions: pl.LazyFrame,
    *,
    exim: bool = True,
    postfix: bool = True,
    windows: Windows | None = None,
) -> Iterator[pl.DataFrame]:
    """One row per queue-id lifecycle (schema :data:`~loganalyzer.schema.MESSAGES`), yielded a window
    of the log at a time as the rows are built, in ``first_seq`` order.

    A narrow (seq, host, queue_id, kind) index, grouped by (host, queue id), each
    in seq order (:func:`number_lifecycles`), numbers the lifecycles (a ``removed`` line ends one) with running sums and
    fills, as :func:`build_session_lines` does; the attribute columns of the kinds
    that carry them are then joined by seq once, and each attribute is one
    aggregate of a single ``group_by``. The index is built over the whole log
    (a queue id's lifecycles are numbered across it); the rest ``windows`` at a
    time (:mod:`loganalyzer.windows`; default: one pass). A log of both Postfix
    and Exim lines gives one frame, the two merged.
    """
    windows = windows or Windows.whole(events)
    built: list[Iterator[pl.DataFrame]] = []
    if postfix or not exim:  # (flags as in build_session_lines)
        index = lifecycles(events).collect()
        # what a lifecycle's rows take from outside its own lines: read once for every window
        # (each builder has its own names: the parts are built after both are set up)
        links = received_by(sessions).collect().lazy()
        children = _notified(events).collect().lazy()
        built.append(
            windows.build(
                index, "first_seq", lambda ev, idx: _messages(ev, idx.lazy(), links, children), _MESSAGE_CARRIERS
            )
        )
    if exim:
        exim_index = exim_sessions.lifecycles(events).collect()
        exim_links = exim_sessions.keyed_links(received_by(sessions.filter(exim_sessions.EXIM_SESSION)).collect())
        built.append(
            windows.build(
                exim_index,
                "first_seq",
                lambda ev, idx: exim_sessions.build_messages(ev, exim_links, idx),
                exim_sessions.MESSAGE_KINDS,
            )
        )
    if len(built) == 1:
        yield from built[0]
    else:
        yield pl.concat([part for parts in built for part in parts], how="vertical").sort("first_seq")


def lifecycles(events: pl.LazyFrame) -> pl.LazyFrame:
    """The Postfix queue-id lines (seq, ts, host, kind, queue_id), numbered by :func:`number_lifecycles`."""
    return number_lifecycles(
        events.filter(pl.col("queue_id").is_not_null() & (pl.col("queue_id") != "NOQUEUE"))
        .filter(~exim_sessions.is_exim(pl.col("daemon")))  # Exim message ids: exim_sessions.lifecycles
        .select("seq", "ts", "host", "kind", "queue_id"),
        pl.col("kind") == "removed",
    )


def received_by(sessions: pl.LazyFrame) -> pl.LazyFrame:
    """(host, queue_id, session_id): the session (of ``sessions``) that received each queue id."""
    return (
        sessions.select("session_id", "host", "queue_ids")
        .explode("queue_ids")
        .rename({"queue_ids": "queue_id"})
        .drop_nulls("queue_id")
        .unique(["host", "queue_id"], keep="first")
    )


def _notified(events: pl.LazyFrame) -> pl.LazyFrame:
    """(host, queue_id) of the notifications (bounces) Postfix created, each once."""
    return (
        events.filter(pl.col("kind") == "notification")
        .select("host", pl.col("child_queue_id").alias("queue_id"))
        .unique()
        .with_columns(pl.lit(True).alias("_notification"))
    )


def _messages(events: pl.LazyFrame, index: pl.LazyFrame, links: pl.LazyFrame, children: pl.LazyFrame) -> pl.LazyFrame:
    """The Postfix messages of the lifecycles in ``index`` (see :func:`build_messages`)."""
    kind = pl.col("kind")
    carriers = events.filter(kind.is_in(_MESSAGE_CARRIERS)).select("seq", *_MESSAGE_ATTRIBUTES)
    rows = index.join(carriers, on="seq", how="left", maintain_order="left")  # still in seq order per lifecycle
    status = pl.col("status")  # categorical: compared by its codes, cast to text only where it is kept
    delivery = kind == "delivery"
    # a milter or content check refusing the message itself (smtpd rejects name a recipient, not the message)
    refused = ((kind == "reject") & (pl.col("daemon") == "cleanup")) | (
        (kind == "content-check") & (pl.col("action") == "reject")
    )
    # masked before the group_by, as in build_sessions
    firsts = {
        **{c: pl.when(kind == "client").then(pl.col(c)) for c in ("client_name", "client_ip", "sasl_username")},
        "sender": pl.when(kind.is_in(["queued", "pickup", "expired"])).then(pl.col("sender")),
        **{c: pl.when(kind == "queued").then(pl.col(c)) for c in ("size", "nrcpt")},
        "message_id": pl.when(kind == "message-id").then(pl.col("message_id")),
    }
    flags = {
        "_smtp": kind == "client",
        "_local": kind == "pickup",
        "removed": kind == "removed",
        "expired": kind == "expired",
        "_has_delivery": delivery,
        "rejected": refused,
    }
    masked = Masked(firsts, flags, counts={"deferred": delivery & (status == "deferred")})
    messages = rows.with_columns(masked.columns()).group_by("first_seq").agg(
        pl.col("host").first(),
        pl.col("queue_id").first(),
        pl.col("lifecycle").first(),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        *masked.aggregates(),
        pl.struct(
            "seq", "ts", "recipient", "orig_to", "relay", status.cast(pl.String).alias("status"),
            pl.col("dsn").cast(pl.String), "delay", "reason",
        ).filter(delivery).alias("deliveries"),
        pl.col("recipient").filter(delivery & (status == "sent")).n_unique().cast(pl.Int32).alias("delivered"),
        pl.col("recipient").filter(delivery & (status == "bounced")).n_unique().cast(pl.Int32).alias("bounced"),
    )  # fmt: skip
    messages = messages.with_columns(pl.when(pl.col("_has_delivery")).then(pl.col("deliveries")).alias("deliveries"))
    origin_kind = (
        pl.when(pl.col("_smtp"))
        .then(pl.lit("smtp"))
        .when(pl.col("_local"))
        .then(pl.lit("local"))
        .when(pl.col("_notification"))
        .then(pl.lit("notification"))
    )
    host_str = pl.col("host").cast(pl.String)
    done = (
        messages.join(links, on=["host", "queue_id"], how="left")
        .join(children, on=["host", "queue_id"], how="left")
        .with_columns(
            origin_kind.alias("origin"),
            pl.concat_str([host_str, pl.col("queue_id"), pl.col("lifecycle").cast(pl.String)], separator="/").alias(
                "message_key"
            ),
            pl.col("rejected").fill_null(False),
            pl.col("delivered").fill_null(0),
            pl.col("deferred").fill_null(0),
            pl.col("bounced").fill_null(0),
        )
    )
    return align(done, MESSAGES)
