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

__all__ = ["build_messages", "build_session_lines", "build_sessions", "command_pairs", "reply_class"]

_SMTPD_COLUMNS = (
    "seq", "source", "line_no", "ts", "host", "program", "daemon", "pid", "kind", "queue_id",
    "client_name", "client_ip", "client_port", "helo", "sender", "recipient", "action", "stage",
    "reply_code", "dsn", "reason", "end_reason", "command_stats", "tls_protocol", "tls_cipher",
    "tls_error", "screen_result",
)  # fmt: skip


def reply_class(code: pl.Expr, dsn: pl.Expr) -> pl.Expr:
    """4 or 5 (temporary or permanent) from a reply code, else from the DSN's class digit."""
    from_dsn = dsn.cast(pl.String).str.slice(0, 1).cast(pl.Int16, strict=False)
    return pl.coalesce(code.cast(pl.Int16) // 100, from_dsn)


def command_pairs(stats: pl.Expr) -> list[pl.Expr]:
    """``cmd_<name>`` ok/total structs parsed from smtpd's disconnect statistics.

    ``name=S`` means S of S succeeded, ``name=S/T`` S of T; a command absent from
    the statistics was never received, so its pair is null.
    """
    out = []
    for name in COMMANDS:
        pair = stats.str.extract_groups(rf" {name}=(?P<ok>[0-9]+)(?:/(?P<total>[0-9]+))?")
        ok = pair.struct.field("ok").cast(pl.Int32)
        total = pl.coalesce(pair.struct.field("total").cast(pl.Int32), ok)
        out.append(pl.when(ok.is_not_null()).then(pl.struct(ok=ok, total=total)).alias(f"cmd_{name}"))
    return out


def _segments(events: pl.LazyFrame, keys: list[str], *, daemon: str) -> pl.LazyFrame:
    """Events of ``daemon`` numbered into connect-delimited segments per ``keys``."""
    lf = (
        events.filter(pl.col("daemon") == daemon)
        .select(_SMTPD_COLUMNS)
        .filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        .sort([*keys, "seq"])
    )
    is_connect = (pl.col("kind") == "connect").cast(pl.Int32)
    is_disconnect = (pl.col("kind") == "disconnect").cast(pl.Int32)
    lf = lf.with_columns(segment=is_connect.cum_sum().over(keys))
    seg = [*keys, "segment"]
    return lf.with_columns(
        closed_before=(is_disconnect.cum_sum().over(seg) - is_disconnect),
        last_segment=pl.col("segment").max().over(keys),
    ).filter(pl.col("closed_before") == 0)


def _first(expr: pl.Expr) -> pl.Expr:
    return expr.drop_nulls().first()


def _common_aggregates(*, screen: bool = False) -> list[pl.Expr]:
    kind = pl.col("kind")
    is_reject = (kind == "reject") & pl.col("action").cast(pl.String).is_in(["reject", "milter-reject", "hangup"])
    rcls = reply_class(pl.col("reply_code"), pl.col("dsn"))
    reject = pl.struct(
        pl.col("seq"),
        pl.col("stage").cast(pl.String),
        pl.col("reply_code"),
        pl.col("dsn").cast(pl.String),
        pl.col("sender"),
        pl.col("recipient"),
        pl.col("reason"),
    )
    return [
        pl.col("seq").min().alias("session_id"),
        pl.col("program").first(),
        _first(pl.col("client_name")).alias("client_name"),
        _first(pl.col("client_ip")).alias("client_ip"),
        _first(pl.col("client_port")).alias("client_port"),
        _first(pl.col("helo")).alias("helo"),
        pl.col("ts").min().alias("start"),
        pl.col("ts").max().alias("end"),
        pl.col("seq").min().alias("first_seq"),
        pl.col("seq").max().alias("last_seq"),
        pl.col("source").first(),
        pl.col("line_no").first(),
        pl.len().cast(pl.Int32).alias("lines"),
        (kind == "connect").any().alias("_has_connect"),
        (kind == "disconnect").any().alias("_has_disconnect"),
        reject.filter(is_reject).alias("rejects"),
        (is_reject & (rcls == 4)).sum().cast(pl.Int32).alias("reject_4xx"),
        (is_reject & (rcls == 5)).sum().cast(pl.Int32).alias("reject_5xx"),
        pl.col("queue_id")
        .filter(kind.is_in(["client", "reject", "access"]) & (pl.col("queue_id") != "NOQUEUE"))
        .unique(maintain_order=True)
        .alias("queue_ids"),
        _first(pl.col("command_stats").filter(kind == "disconnect")).alias("command_stats"),
        _first(pl.col("end_reason").filter(kind == "session-error")).alias("end_reason"),
        _first(pl.col("stage").filter(kind == "session-error")).alias("end_stage"),
        _first(pl.col("stage").filter(kind == "improper-pipelining")).alias("pipelining_stage"),
        _first(pl.col("reason").filter(kind == "improper-pipelining")).alias("pipelining_input"),
        (kind == "sasl-failure").sum().cast(pl.Int32).alias("sasl_failures"),
        _first(pl.col("tls_protocol").filter(kind == "tls-established")).alias("tls_protocol"),
        _first(pl.col("tls_cipher").filter(kind == "tls-established")).alias("tls_cipher"),
        _first(pl.col("tls_error").filter(kind == "tls-library-problem")).alias("tls_error"),
        (kind == "tls-established").any().alias("_tls_ok"),
        kind.is_in(["tls-accept-error", "tls-library-problem"]).any().alias("_tls_failed"),
        (
            pl.coalesce(pl.col("screen_result").cast(pl.String), kind.cast(pl.String)).filter(
                ~kind.is_in(["connect", "disconnect", "reject"])
            )
            if screen
            else pl.lit(None, dtype=pl.List(pl.String))
        ).alias("screen_results"),
        pl.col("last_segment").first(),
    ]


_SMTPD_KEYS = ["host", "pid"]
_SCREEN_KEYS = ["host", "client_ip", "client_port"]


def build_session_lines(events: pl.LazyFrame, sessions: pl.LazyFrame) -> pl.LazyFrame:
    """(seq, session_id, kind) of every line that belongs to one of ``sessions``."""
    parts = []
    for keys, daemon in ((_SMTPD_KEYS, "smtpd"), (_SCREEN_KEYS, "postscreen")):
        parts.append(
            _segments(events, keys, daemon=daemon).select(
                "seq", "kind", pl.col("seq").min().over([*keys, "segment"]).alias("session_id")
            )
        )
    ids = sessions.select("session_id")
    return pl.concat(parts).join(ids, on="session_id", how="semi").sort("seq")


def build_sessions(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per SMTP connection (schema :data:`~loganalyzer.schema.SESSIONS`)."""
    smtpd = (
        _segments(events, _SMTPD_KEYS, daemon="smtpd")
        .group_by("host", "pid", "segment")
        .agg(*_common_aggregates())
        .with_columns(pl.lit("smtpd").alias("daemon"), pl.lit("pid").alias("correlation"))
    )
    screen = (
        _segments(events, _SCREEN_KEYS, daemon="postscreen")
        .group_by("host", "client_ip", "client_port", "segment")
        .agg(
            *[a for a in _common_aggregates(screen=True) if a.meta.output_name() not in ("client_ip", "client_port")],
            pl.col("pid").first(),
        )
        .with_columns(pl.lit("postscreen").alias("daemon"), pl.lit("ip-port").alias("correlation"))
    )
    both = pl.concat([smtpd, screen], how="diagonal_relaxed")
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
        both.with_columns(command_pairs(stats))
        .with_columns(pl.col("cmd_starttls").alias("starttls"))
        .with_columns(tls.alias("tls"), partial_reason.alias("partial_reason"))
        .with_columns(pl.col("partial_reason").is_not_null().alias("partial"))
        .sort("session_id")
    )
    return align(done, SESSIONS)


def build_messages(events: pl.LazyFrame, sessions: pl.LazyFrame) -> pl.LazyFrame:
    """One row per queue-id lifecycle (schema :data:`~loganalyzer.schema.MESSAGES`)."""
    kind = pl.col("kind")
    lf = (
        events.filter(pl.col("queue_id").is_not_null() & (pl.col("queue_id") != "NOQUEUE"))
        .select(
            "seq", "ts", "host", "daemon", "kind", "queue_id", "client_name", "client_ip", "sasl_username",
            "sender", "size", "nrcpt", "message_id", "recipient", "orig_to", "relay", "status", "dsn",
            "delay", "reason", "action", "stage",
        )
        .sort("host", "queue_id", "seq")
    )  # fmt: skip
    removed = (kind == "removed").cast(pl.Int32)
    lf = lf.with_columns(lifecycle=(removed.cum_sum().over("host", "queue_id") - removed))
    delivery = pl.struct(
        "seq", "ts", "recipient", "orig_to", "relay", pl.col("status").cast(pl.String),
        pl.col("dsn").cast(pl.String), "delay", "reason",
    )  # fmt: skip
    is_delivery = kind == "delivery"
    status = pl.col("status").cast(pl.String)
    rejected = ((kind == "reject") & (pl.col("daemon") == "cleanup")) | (
        (kind == "content-check") & (pl.col("action").cast(pl.String) == "reject")
    )
    messages = lf.group_by("host", "queue_id", "lifecycle").agg(
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("seq").min().alias("first_seq"),
        _first(pl.col("client_name").filter(kind == "client")).alias("client_name"),
        _first(pl.col("client_ip").filter(kind == "client")).alias("client_ip"),
        _first(pl.col("sasl_username").filter(kind == "client")).alias("sasl_username"),
        (kind == "client").any().alias("_smtp"),
        (kind == "pickup").any().alias("_local"),
        _first(pl.col("sender").filter(kind.is_in(["queued", "pickup", "expired"]))).alias("sender"),
        _first(pl.col("size").filter(kind == "queued")).alias("size"),
        _first(pl.col("nrcpt").filter(kind == "queued")).alias("nrcpt"),
        _first(pl.col("message_id").filter(kind == "message-id")).alias("message_id"),
        delivery.filter(is_delivery).alias("deliveries"),
        pl.col("recipient").filter(is_delivery & (status == "sent")).n_unique().cast(pl.Int32).alias("delivered"),
        (is_delivery & (status == "deferred")).sum().cast(pl.Int32).alias("deferred"),
        pl.col("recipient").filter(is_delivery & (status == "bounced")).n_unique().cast(pl.Int32).alias("bounced"),
        rejected.any().alias("rejected"),
        (kind == "removed").any().alias("removed"),
        (kind == "expired").any().alias("expired"),
    )
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
    origin = (
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
            origin.alias("origin"),
            pl.concat_str([host_str, pl.col("queue_id"), pl.col("lifecycle").cast(pl.String)], separator="/").alias(
                "message_key"
            ),
        )
        .sort("first_seq")
    )
    return align(done, MESSAGES)
