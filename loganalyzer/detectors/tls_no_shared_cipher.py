"""tls-no-shared-cipher: clients whose STARTTLS fails for want of a common cipher.

A client offering only ciphers the server no longer accepts (export, RC4, 3DES,
or TLS versions below the server's minimum) cannot complete STARTTLS; many then
deliver in plaintext (see plaintext-fallback) or not at all. OpenSSL logs
``no shared cipher`` at any TLS log level (Postfix ``tls_misc.c``); the wordings
of OpenSSL 1.0, 1.1 and 3.x and of GnuTLS are all recognised.
"""

from __future__ import annotations

import polars as pl

from .base import Context, Detector, findings
from .handshakes import available, failed_handshakes

ID = "tls-no-shared-cipher"


def detect(ctx: Context) -> pl.LazyFrame:
    hits = failed_handshakes(ctx).filter(pl.col("no_shared_cipher"))
    per_group = hits.group_by("group").agg(
        pl.len().alias("count"),
        pl.col("client_ip").n_unique().alias("ips"),
        pl.col("start").min().alias("first_seen"),
        pl.col("end").max().alias("last_seen"),
        pl.col("seqs").list.explode(keep_nulls=False, empty_as_null=False).unique().alias("evidence"),
    )
    explanation = pl.format(
        '{} TLS handshake(s) from {} address(es) failed with "no shared cipher": the client offers no cipher '
        "the server accepts (outdated TLS stack or settings).",
        pl.col("count"),
        pl.col("ips"),
    )
    rows = per_group.with_columns(pl.lit("medium").alias("severity"), explanation.alias("explanation"))
    return findings(rows, ctx, ID)


DETECTOR = Detector(ID, 'STARTTLS failing with "no shared cipher"', available, detect)
