"""plaintext-fallback: after a failed STARTTLS, the mail comes again in the clear.

Opportunistic TLS (RFC 3207; Postfix ``smtp_tls_security_level = may``) lets a
client that cannot complete the handshake retry without TLS. The message then
crosses the network unencrypted although both sides support TLS -- exactly what
an active attacker provokes, and what a sender with a broken TLS stack does all
day. Postfix shows it without any TLS logging: a session with a failed
handshake (``starttls=0/1``, an SSL_accept error), then, from the same sender
within ``plaintext_window`` (default one hour), a session with no ``starttls``
at all that completes a transaction. Exim shows it at its default settings: a
``TLS error on connection`` line, then an arrival ``<=`` with ``P=esmtp`` (no
``s``: no TLS). Both are sessions whose ``tls`` is ``failed``, then ``none``.
"The same sender" is the client's PTR organisation when it has one (pools
spread over several networks), else its network: unrelated hosts that share a
/24 are not confused.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from .base import Context, Detector, findings, seconds

ID = "plaintext-fallback"


def available(ctx: Context) -> str | None:
    if not ctx.has_command_stats and not ctx.exim:
        return (
            "no smtpd disconnect statistics in these logs: whether a later session tried STARTTLS cannot be told "
            "(Postfix >= 3.0 logs `starttls=` in `disconnect from` lines)"
        )
    return None


def detect(ctx: Context) -> pl.LazyFrame:
    window = ctx.settings.plaintext_window
    delivered = (
        (pl.col("queue_ids").list.len() > 0)
        | (pl.col("cmd_data").struct.field("ok") >= 1)
        | (pl.col("cmd_bdat").struct.field("ok") >= 1)
    )
    # the two kinds of session in one read of the sessions (a table on disk: its files read once)
    s = (
        ctx.sessions.filter((pl.col("tls") == "failed") | ((pl.col("tls") == "none") & delivered))
        .select("tls", "session_id", "client_ip", "start", "end", "group", pl.coalesce("org", "network").alias("pool"))
        .collect()
        .lazy()
    )
    failed = s.filter(pl.col("tls") == "failed").select(
        "pool", "group", "client_ip", pl.col("session_id").alias("failed_id"), pl.col("end").alias("failed_at")
    )
    plain = (
        s.filter(pl.col("tls") == "none")
        .select("pool", pl.col("client_ip").alias("plain_ip"), pl.col("session_id").alias("plain_id"), "start")
        .sort("start", "plain_id")  # ties in time: the earlier session, whatever order polars made
    )
    pairs = (
        failed.sort("failed_at", "failed_id")
        .join_asof(
            plain,
            left_on="failed_at",
            right_on="start",
            by="pool",
            strategy="forward",
            tolerance=timedelta(seconds=window),
            check_sortedness=False,  # both sides sorted above; polars cannot check within groups
        )
        .filter(pl.col("plain_id").is_not_null())
        .with_columns(seconds(pl.col("start") - pl.col("failed_at")).alias("after"))
    )
    wanted = ["tls-accept-error", "tls-library-problem", "client", "disconnect", "tls-error", "arrival"]
    lines = ctx.session_lines.filter(pl.col("kind").is_in(wanted))
    failed_lines = lines.join(pairs.select(pl.col("failed_id").alias("session_id")), on="session_id", how="semi")
    plain_lines = lines.join(pairs.select(pl.col("plain_id").alias("session_id")), on="session_id", how="semi")
    evidence = (
        pl.concat([failed_lines, plain_lines])
        .join(
            pl.concat(
                [
                    pairs.select(pl.col("failed_id").alias("session_id"), "group"),
                    pairs.select(pl.col("plain_id").alias("session_id"), "group"),
                ]
            ).unique(),
            on="session_id",
        )
        .group_by("group")
        .agg(pl.col("seq").unique().alias("evidence"))
    )
    per_group = (
        pairs.group_by("group")
        .agg(
            pl.len().alias("count"),
            (pl.col("client_ip") == pl.col("plain_ip")).sum().alias("same_ip"),
            pl.col("after").median().alias("after"),
            pl.col("failed_at").min().alias("first_seen"),
            pl.col("start").max().alias("last_seen"),
        )
        .join(evidence, on="group", how="left")
    )
    explanation = pl.format(
        "{} time(s) a failed STARTTLS was followed, a median {} s later and within {} min, by a transaction "
        "without STARTTLS ({} from the same address): mail sent in plaintext although TLS was tried "
        "(RFC 3207 section 6 warns against this downgrade).",
        pl.col("count"),
        pl.col("after").round(0).cast(pl.Int64),
        pl.lit(window // 60),
        pl.col("same_ip"),
    )
    rows = per_group.with_columns(pl.lit("high").alias("severity"), explanation.alias("explanation"))
    return findings(rows, ctx, ID)


DETECTOR = Detector(ID, "a transaction without TLS soon after a failed STARTTLS", available, detect)
