"""rapid-retry: retrying sooner than the greylist delay after a temporary failure.

RFC 5321 section 4.5.4.1: after a 4yz reply the client should retry later
("the retry interval SHOULD be at least 30 minutes"); greylisting relies on it
and refuses every attempt for the same (client, sender, recipient) triplet
until its delay (postgrey: 300 s) has passed (RFC 6647). A sender that comes back sooner
only earns more 4xx replies; one that tries a few times in quick succession and
then stops never delivers the mail at all ("three tries 45 s apart, then
nothing").

Triplets are keyed by the client's *network*, so a retry from another address of
the same pool counts. Every gap between a 4xx and the next attempt of its
triplet that is shorter than the delay is a rapid retry.
"""

from __future__ import annotations

import polars as pl

from .base import Context, Detector, findings, seconds

ID = "rapid-retry"


def available(ctx: Context) -> str | None:
    return ctx.needs_smtp_server()


def retry_gaps(triplets: pl.LazyFrame) -> pl.LazyFrame:
    """Every 4xx followed by another attempt of its triplet: ``retry_seq``, ``retry_ts``,
    ``retry_outcome`` and ``gap`` (seconds) added to the 4xx's own columns (and ``triplet``).

    ``triplets`` are the attempts numbered by triplet (:attr:`Context.triplets`)."""
    same_next = pl.col("triplet") == pl.col("triplet").shift(-1)
    following = [pl.when(same_next).then(pl.col(c).shift(-1)).alias(f"retry_{c}") for c in ("seq", "ts", "outcome")]
    return (
        triplets.with_columns(following)
        .filter((pl.col("outcome") == "temp") & pl.col("retry_ts").is_not_null())
        .with_columns(seconds(pl.col("retry_ts") - pl.col("ts")).alias("gap"))
    )


def detect(ctx: Context) -> pl.LazyFrame:
    delay = ctx.greylist_delay
    attempts = ctx.triplets
    rapid = retry_gaps(attempts).filter(pl.col("gap") < delay)
    per_triplet = (
        attempts.group_by("triplet")
        .agg(
            pl.col("ts").filter(pl.col("outcome") == "temp").min().alias("first_temp"),
            pl.col("ts").max().alias("last_ts"),
            (pl.col("outcome") == "accepted").any().alias("delivered"),
        )
        .with_columns(
            (~pl.col("delivered") & (seconds(pl.col("last_ts") - pl.col("first_temp")) < delay)).alias("gave_up")
        )
    )
    offenders = rapid.join(per_triplet, on="triplet", how="left")
    per_group = offenders.group_by("group").agg(
        pl.len().alias("count"),
        pl.col("triplet").n_unique().alias("triplets"),
        pl.col("triplet").filter(pl.col("gave_up")).n_unique().alias("gave_up"),
        pl.col("gap").min().alias("gap_min"),
        pl.col("gap").median().alias("gap_median"),
        pl.col("gap").max().alias("gap_max"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("retry_ts").max().alias("last_seen"),
        pl.col("seq").append(pl.col("retry_seq")).unique().alias("evidence"),
    )
    explanation = pl.format(
        "{} retries came sooner than the {} s greylist delay after a 4xx (gaps min/median/max {}/{}/{} s) "
        "for {} sender/recipient pair(s); {} pair(s) gave up before the delay ever passed. "
        "RFC 5321 4.5.4.1: after a temporary failure retry later (at least 30 minutes), not within the delay.",
        pl.col("count"),
        pl.lit(delay),
        pl.col("gap_min").round(0).cast(pl.Int64),
        pl.col("gap_median").round(0).cast(pl.Int64),
        pl.col("gap_max").round(0).cast(pl.Int64),
        pl.col("triplets"),
        pl.col("gave_up"),
    )
    severity = pl.when(pl.col("gave_up") > 0).then(pl.lit("high")).otherwise(pl.lit("medium"))
    rows = per_group.with_columns(severity.alias("severity"), explanation.alias("explanation"))
    return findings(rows, ctx, ID)


DETECTOR = Detector(ID, "retries sooner than the greylist delay after a 4xx", available, detect)
