"""lb-retry-reset: retries of one message from ever-changing addresses.

Greylisting keys on the client address (postgrey on its /24, milter-greylist and
many others on the exact address). A sender whose retries leave from another
address of its pool each time is greylisted afresh on every attempt: however
politely it waits, the triplet is never "found" and the mail may never arrive.

For every (sender, recipient), the pool is the PTR organisation of the clients
when they have one (large senders spread one queue over many /24s), else their
network. Two or more different addresses of one pool each receiving a 4xx for
the same pair is a reset retry; the finding says how many addresses took part
and whether the mail got through in the end.
"""

from __future__ import annotations

import polars as pl

from .base import Context, Detector, findings

ID = "lb-retry-reset"
PAIR = ["pool", "sender", "recipient"]


def available(ctx: Context) -> str | None:
    return ctx.needs_smtp_server()


def detect(ctx: Context) -> pl.LazyFrame:
    attempts = ctx.attempts.with_columns(pl.coalesce(pl.col("org"), pl.col("network")).alias("pool"))
    temp = attempts.filter(pl.col("outcome") == "temp").collect().lazy()  # read twice below: the files once
    pairs = (
        temp.group_by(PAIR)
        .agg(
            pl.col("client_ip").n_unique().alias("ips"),
            pl.col("network").n_unique().alias("networks"),
        )
        .filter(pl.col("ips") >= 2)
    )
    # only the accepted attempts of those pairs: a unique over every accepted attempt held all their text
    delivered = (
        attempts.filter(pl.col("outcome") == "accepted")
        .join(pairs.select(PAIR), on=PAIR, how="semi")
        .select(*PAIR, pl.lit(True).alias("delivered"))
        .unique()
    )
    pairs = pairs.join(delivered, on=PAIR, how="left").with_columns(pl.col("delivered").fill_null(False))
    rows = temp.join(pairs, on=PAIR, how="inner")
    per_group = rows.group_by("group").agg(
        pl.struct("sender", "recipient").n_unique().alias("count"),
        pl.col("client_ip").n_unique().alias("group_ips"),
        pl.col("ips").max().alias("pool_ips"),
        pl.col("networks").max().alias("pool_networks"),
        pl.struct("sender", "recipient").filter(~pl.col("delivered")).n_unique().alias("lost"),
        pl.col("pool").first(),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("seq").unique().alias("evidence"),
    )
    explanation = pl.format(
        "{} sender/recipient pair(s) were retried from up to {} different addresses of {} ({} network(s)), "
        "each greylisted afresh because greylisting keys on the client address; {} pair(s) never got through. "
        "Retry from the address that was greylisted (see RFC 6647 on greylisting).",
        pl.col("count"),
        pl.col("pool_ips"),
        pl.col("pool"),
        pl.col("pool_networks"),
        pl.col("lost"),
    )
    severity = pl.when(pl.col("lost") > 0).then(pl.lit("high")).otherwise(pl.lit("medium"))
    return findings(per_group.with_columns(severity.alias("severity"), explanation.alias("explanation")), ctx, ID)


DETECTOR = Detector(ID, "retries from other addresses of one pool, each greylisted afresh", available, detect)
