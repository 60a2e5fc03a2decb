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
"""

from __future__ import annotations

import polars as pl

from .schema import COMMANDS, MESSAGES, SESSIONS
from .tables import align

__all__ = ["build_messages", "build_session_lines", "build_sessions", "reply_class", "with_command_pairs"]


def reply_class(code: pl.Expr, dsn: pl.Expr) -> pl.Expr:
    """4 or 5 (temporary or permanent) from a reply code, else from the DSN's class digit."""
    from_dsn = dsn.cast(pl.String).str.slice(0, 1).cast(pl.Int16, strict=False)
    return pl.coalesce(code.cast(pl.Int16) // 100, from_dsn)


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
    falls back to one search per command.
    """
    ordered = pl.col(stats).str.extract_groups(_ORDERED_STATS)
    marked = frame.with_columns(ordered.alias("_ordered"))
    matched = pl.any_horizontal(pl.col("_ordered").struct.field(c).is_not_null() for c in COMMANDS)
    in_order = pl.col(stats).is_null() | matched
    fast = marked.filter(in_order).with_columns(_pairs_from(pl.col("_ordered").struct.field(c), c) for c in COMMANDS)
    slow = marked.filter(~in_order).with_columns(
        _pairs_from(pl.col(stats).str.extract(rf" {c}=([0-9]+(?:/[0-9]+)?)", 1), c) for c in COMMANDS
    )
    return pl.concat([fast, slow], how="vertical").drop("_ordered")


#: How each daemon's lines are tied into sessions.
_CORRELATION = {"smtpd": (["host", "pid"], "pid"), "postscreen": (["host", "client_ip", "client_port"], "ip-port")}


def build_session_lines(events: pl.LazyFrame) -> pl.LazyFrame:
    """(seq, session_id, kind, ts) of every line inside an SMTP session, plus the session's frame.

    The index is built from four narrow columns only. Within each correlation
    key (host+pid for smtpd, host+ip+port for postscreen), each ``connect``
    opens a segment; a segment's lines up to its ``disconnect`` form a session
    whose id is the ``seq`` of its first line. Columns ``correlation``,
    ``segment`` and ``last_segment`` say how the session was cut.
    """
    parts = []
    for daemon, (keys, correlation) in _CORRELATION.items():
        is_connect = (pl.col("kind") == "connect").cast(pl.Int32)
        is_disconnect = (pl.col("kind") == "disconnect").cast(pl.Int32)
        seg = [*keys, "segment"]
        part = (
            events.filter(pl.col("daemon") == daemon)
            .select("seq", "ts", "kind", "source", "line_no", *keys)
            .filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
            .sort([*keys, "seq"])
            .with_columns(segment=is_connect.cum_sum().over(keys))
            .with_columns(
                closed_before=is_disconnect.cum_sum().over(seg) - is_disconnect,
                last_segment=pl.col("segment").max().over(keys),
                session_id=pl.col("seq").min().over(seg),
            )
            .filter(pl.col("closed_before") == 0)
            .select(
                "seq", "ts", "kind", "source", "line_no", "session_id", "segment", "last_segment",
                pl.lit(daemon).alias("daemon"), pl.lit(correlation).alias("correlation"),
            )
        )  # fmt: skip
        parts.append(part)
    return pl.concat(parts, how="vertical").sort("seq")


def _first(expr: pl.Expr) -> pl.Expr:
    return expr.drop_nulls().first()


def _per_session(events: pl.LazyFrame, lines: pl.LazyFrame, kinds: list[str], columns: list[str],
                 aggregates: list[pl.Expr]) -> pl.LazyFrame:  # fmt: skip
    """Aggregate ``columns`` of the ``kinds`` lines of each session."""
    rows = events.filter(pl.col("kind").is_in(kinds)).select("seq", *[c for c in columns if c != "seq"])
    joined = rows.join(lines.select("seq", "session_id"), on="seq", how="inner").sort("seq")
    return joined.group_by("session_id").agg(aggregates)  # rows keep seq order within each session


def build_sessions(events: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """One row per SMTP connection (schema :data:`~loganalyzer.schema.SESSIONS`).

    ``lines`` is :func:`build_session_lines` of the same events. Each attribute
    comes from the few kinds of line that carry it, joined by seq, so no wide
    frame of mostly-null columns is ever built.
    """
    kind = pl.col("kind")
    frame = lines.group_by("session_id").agg(
        pl.col("daemon").first(),
        pl.col("correlation").first(),
        pl.col("segment").first(),
        pl.col("last_segment").first(),
        pl.col("ts").min().alias("start"),
        pl.col("ts").max().alias("end"),
        pl.col("seq").max().alias("last_seq"),
        pl.col("source").first(),
        pl.col("line_no").first(),
        pl.len().cast(pl.Int32).alias("lines"),
        (kind == "connect").any().alias("_has_connect"),
        (kind == "disconnect").any().alias("_has_disconnect"),
        (kind == "sasl-failure").sum().cast(pl.Int32).alias("sasl_failures"),
        (kind == "tls-established").any().alias("_tls_ok"),
        kind.is_in(["tls-accept-error", "tls-library-problem"]).any().alias("_tls_failed"),
    )
    who = _per_session(
        events, lines, ["connect", "disconnect", "client", "reject", "access", "sasl-failure", "session-error",
                        "improper-pipelining", "tls-accept-error", "tls-established", "pregreet", "dnsbl-rank",
                        "hangup", "screen-pass", "screen-list", "screen-violation", "data-without-rcpt"],
        ["host", "program", "pid", "client_name", "client_ip", "client_port", "helo", "screen_result", "kind"],
        [
            pl.col("host").first(), pl.col("program").first(), pl.col("pid").first(),
            _first(pl.col("client_name")).alias("client_name"), _first(pl.col("client_ip")).alias("client_ip"),
            _first(pl.col("client_port")).alias("client_port"), _first(pl.col("helo")).alias("helo"),
            pl.coalesce(pl.col("screen_result").cast(pl.String), pl.col("kind").cast(pl.String))
            .filter(~pl.col("kind").is_in(["connect", "disconnect", "reject"]))
            .alias("_screen"),
        ],
    )  # fmt: skip
    refused = pl.col("action").cast(pl.String).is_in(["reject", "milter-reject", "hangup"])
    rcls = reply_class(pl.col("reply_code"), pl.col("dsn"))
    rejects = _per_session(
        events, lines, ["reject"],
        ["seq", "action", "stage", "reply_code", "dsn", "sender", "recipient", "reason"],
        [
            pl.struct(
                "seq", pl.col("stage").cast(pl.String), "reply_code", pl.col("dsn").cast(pl.String), "sender",
                "recipient", "reason",
            ).filter(refused).alias("rejects"),
            (refused & (rcls == 4)).sum().cast(pl.Int32).alias("reject_4xx"),
            (refused & (rcls == 5)).sum().cast(pl.Int32).alias("reject_5xx"),
        ],
    )  # fmt: skip
    queues = _per_session(
        events, lines, ["client", "reject", "access"], ["queue_id"],
        [pl.col("queue_id").filter(pl.col("queue_id") != "NOQUEUE").unique(maintain_order=True).alias("queue_ids")],
    )  # fmt: skip
    ends = _per_session(
        events, lines, ["disconnect", "session-error", "improper-pipelining", "tls-established",
                        "tls-library-problem"],
        ["kind", "command_stats", "end_reason", "stage", "reason", "tls_protocol", "tls_cipher", "tls_error"],
        [
            _first(pl.col("command_stats").filter(kind == "disconnect")).alias("command_stats"),
            _first(pl.col("end_reason").filter(kind == "session-error")).alias("end_reason"),
            _first(pl.col("stage").filter(kind == "session-error")).alias("end_stage"),
            _first(pl.col("stage").filter(kind == "improper-pipelining")).alias("pipelining_stage"),
            _first(pl.col("reason").filter(kind == "improper-pipelining")).alias("pipelining_input"),
            _first(pl.col("tls_protocol").filter(kind == "tls-established")).alias("tls_protocol"),
            _first(pl.col("tls_cipher").filter(kind == "tls-established")).alias("tls_cipher"),
            _first(pl.col("tls_error").filter(kind == "tls-library-problem")).alias("tls_error"),
        ],
    )  # fmt: skip
    both = (
        frame.join(who, on="session_id", how="left")
        .join(rejects, on="session_id", how="left")
        .join(queues, on="session_id", how="left")
        .join(ends, on="session_id", how="left")
        .with_columns(
            pl.col("session_id").alias("first_seq"),
            pl.when(pl.col("daemon") == "postscreen").then(pl.col("_screen")).alias("screen_results"),
            pl.col("reject_4xx").fill_null(0),
            pl.col("reject_5xx").fill_null(0),
            pl.col("queue_ids").fill_null([]),
        )
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
    return align(done, SESSIONS)


def build_messages(events: pl.LazyFrame, sessions: pl.LazyFrame) -> pl.LazyFrame:
    """One row per queue-id lifecycle (schema :data:`~loganalyzer.schema.MESSAGES`).

    A narrow (seq, host, queue_id, kind) index numbers the lifecycles (a
    ``removed`` line ends one); each attribute then comes from the kinds that
    carry it, joined by seq.
    """
    kind = pl.col("kind")
    removed = (kind == "removed").cast(pl.Int32)
    index = (
        events.filter(pl.col("queue_id").is_not_null() & (pl.col("queue_id") != "NOQUEUE"))
        .select("seq", "ts", "host", "daemon", "kind", "queue_id")
        .sort("host", "queue_id", "seq")
        .with_columns(lifecycle=removed.cum_sum().over("host", "queue_id") - removed)
        .with_columns(pl.col("seq").min().over("host", "queue_id", "lifecycle").alias("first_seq"))
    )
    messages = index.group_by("first_seq").agg(
        pl.col("host").first(),
        pl.col("queue_id").first(),
        pl.col("lifecycle").first(),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        (kind == "client").any().alias("_smtp"),
        (kind == "pickup").any().alias("_local"),
        (kind == "removed").any().alias("removed"),
        (kind == "expired").any().alias("expired"),
    )
    link = index.select("seq", "first_seq")

    def per_message(kinds: list[str], columns: list[str], aggregates: list[pl.Expr]) -> pl.LazyFrame:
        rows = events.filter(kind.is_in(kinds)).select("seq", *columns)
        return rows.join(link, on="seq", how="inner").sort("seq").group_by("first_seq").agg(aggregates)

    origin = per_message(
        ["client", "queued", "pickup", "expired", "message-id"],
        ["kind", "client_name", "client_ip", "sasl_username", "sender", "size", "nrcpt", "message_id"],
        [
            _first(pl.col("client_name").filter(kind == "client")).alias("client_name"),
            _first(pl.col("client_ip").filter(kind == "client")).alias("client_ip"),
            _first(pl.col("sasl_username").filter(kind == "client")).alias("sasl_username"),
            _first(pl.col("sender").filter(kind.is_in(["queued", "pickup", "expired"]))).alias("sender"),
            _first(pl.col("size").filter(kind == "queued")).alias("size"),
            _first(pl.col("nrcpt").filter(kind == "queued")).alias("nrcpt"),
            _first(pl.col("message_id").filter(kind == "message-id")).alias("message_id"),
        ],
    )
    status = pl.col("status").cast(pl.String)
    deliveries = per_message(
        ["delivery"],
        ["ts", "recipient", "orig_to", "relay", "status", "dsn", "delay", "reason"],
        [
            pl.struct(
                "seq", "ts", "recipient", "orig_to", "relay", status.alias("status"),
                pl.col("dsn").cast(pl.String), "delay", "reason",
            ).alias("deliveries"),
            pl.col("recipient").filter(status == "sent").n_unique().cast(pl.Int32).alias("delivered"),
            (status == "deferred").sum().cast(pl.Int32).alias("deferred"),
            pl.col("recipient").filter(status == "bounced").n_unique().cast(pl.Int32).alias("bounced"),
        ],
    )  # fmt: skip
    # a milter or content check refusing the message itself (smtpd rejects name a recipient, not the message)
    refused = ((kind == "reject") & (pl.col("daemon") == "cleanup")) | (
        (kind == "content-check") & (pl.col("action").cast(pl.String) == "reject")
    )
    checks = per_message(["reject", "content-check"], ["kind", "daemon", "action"], [refused.any().alias("rejected")])
    links = (
        sessions.select("session_id", "host", "queue_ids")
        .explode("queue_ids")
        .rename({"queue_ids": "queue_id"})
        .drop_nulls("queue_id")
        .unique(["host", "queue_id"], keep="first")
    )
    children = (
        events.filter(kind == "notification")
        .select("host", pl.col("child_queue_id").alias("queue_id"))
        .unique()
        .with_columns(pl.lit(True).alias("_notification"))
    )
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
        messages.join(origin, on="first_seq", how="left")
        .join(deliveries, on="first_seq", how="left")
        .join(checks, on="first_seq", how="left")
        .join(links, on=["host", "queue_id"], how="left")
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
        .sort("first_seq")
    )
    return align(done, MESSAGES)
