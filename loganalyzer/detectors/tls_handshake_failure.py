"""tls-handshake-failure: other failed TLS handshakes, with their reason.

Everything ``tls-no-shared-cipher`` does not cover: ``wrong version number``
(plaintext or HTTP sent to a TLS port), ``unsupported protocol`` (TLS older than
the server allows), ``unexpected eof`` and ``lost connection`` (the client gave
up mid-handshake), certificate alerts. Mostly scanners and broken stacks; kept
at low severity with the reasons counted.
"""

from __future__ import annotations

import polars as pl

from .base import Context, Detector, findings
from .handshakes import available, failed_handshakes

ID = "tls-handshake-failure"


def detect(ctx: Context) -> pl.LazyFrame:
    hits = failed_handshakes(ctx).filter(~pl.col("no_shared_cipher"))
    reasons = (
        hits.group_by("group", "reason")
        .agg(pl.len().alias("n"))
        .sort(["group", "n", "reason"], descending=[False, True, False])
        .group_by("group", maintain_order=True)
        .agg(pl.format("{} x{}", pl.col("reason"), pl.col("n")).str.join("; ").alias("reasons"))
    )
    per_group = (
        hits.group_by("group")
        .agg(
            pl.len().alias("count"),
            pl.col("start").min().alias("first_seen"),
            pl.col("end").max().alias("last_seen"),
            pl.col("seqs").list.explode(keep_nulls=False, empty_as_null=False).unique().alias("evidence"),
        )
        .join(reasons, on="group", how="left")
    )
    explanation = pl.format("{} failed TLS handshake(s): {}.", pl.col("count"), pl.col("reasons"))
    rows = per_group.with_columns(pl.lit("low").alias("severity"), explanation.alias("explanation"))
    return findings(rows, ctx, ID)


DETECTOR = Detector(ID, "other failed TLS handshakes, with the reason", available, detect)
