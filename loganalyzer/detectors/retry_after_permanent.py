"""retry-after-permanent: trying a recipient again after a permanent failure.

RFC 5321 section 4.2.1: a 5yz reply is a permanent negative completion: "the
SMTP client SHOULD NOT repeat the exact request (in the same sequence)".
A sender that retries the same (network, sender, recipient) after a 5xx for
that recipient ignores it -- typically a bulk sender that never processes its
bounces. A later attempt within ``retry_window`` (default one day) counts as a
retry; after that it is more likely a new message to a stale address.
"""

from __future__ import annotations

import polars as pl

from .base import Context, Detector, findings, seconds

ID = "retry-after-permanent"


def available(ctx: Context) -> str | None:
    return ctx.needs_smtp_server()


def detect(ctx: Context) -> pl.LazyFrame:
    window = ctx.settings.retry_window
    perm = pl.col("outcome") == "perm"
    triplet = pl.col("triplet")
    # the most recent 5xx strictly before each attempt, carried forward over the sorted attempts and
    # kept where it belongs to the same triplet
    perm_triplet = pl.when(perm).then(triplet).shift(1).forward_fill()
    before = [
        pl.when(perm_triplet == triplet).then(pl.when(perm).then(pl.col(c)).shift(1).forward_fill()).alias(f"perm_{c}")
        for c in ("ts", "seq")
    ]
    attempts = ctx.triplets.with_columns(before)
    retries = attempts.filter(pl.col("perm_ts").is_not_null() & (seconds(pl.col("ts") - pl.col("perm_ts")) <= window))
    per_triplet = retries.group_by("triplet").agg(
        pl.col("group").first(),
        pl.len().alias("retries"),
        pl.col("perm_seq").unique().alias("perm_seqs"),
        pl.col("seq").alias("retry_seqs"),
        pl.col("perm_ts").min().alias("first_perm"),
        pl.col("ts").max().alias("last"),
    )
    per_group = per_triplet.group_by("group").agg(
        pl.col("retries").sum().alias("count"),
        pl.len().alias("triplets"),
        pl.col("retries").max().alias("most"),
        pl.col("first_perm").min().alias("first_seen"),
        pl.col("last").max().alias("last_seen"),
        pl.col("perm_seqs")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .append(pl.col("retry_seqs").list.explode(keep_nulls=False, empty_as_null=False))
        .unique()
        .alias("evidence"),
    )
    explanation = pl.format(
        "{} attempt(s) repeated a sender/recipient pair after a 5xx for that recipient ({} pair(s), up to {} "
        "retries each, within {} h). RFC 5321 4.2.1: a permanent failure means do not repeat the request.",
        pl.col("count"),
        pl.col("triplets"),
        pl.col("most"),
        pl.lit(round(window / 3600, 1)),
    )
    severity = pl.when(pl.col("most") >= 3).then(pl.lit("high")).otherwise(pl.lit("medium"))
    return findings(per_group.with_columns(severity.alias("severity"), explanation.alias("explanation")), ctx, ID)


DETECTOR = Detector(ID, "attempts repeated after a 5xx for the same recipient", available, detect)
