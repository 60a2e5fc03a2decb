"""Shared rules for the TLS handshake detectors.

The reason of a failed inbound handshake is the OpenSSL error Postfix logs as
``warning: TLS library problem: ...`` (or Exim puts on its ``TLS error`` line);
without one, the ``SSL_accept error from ...: <text>`` detail (``lost
connection``, ``Connection reset by peer``). "No shared cipher" has several
spellings: OpenSSL 1.0/1.1/3.x all say ``no shared cipher``; GnuTLS says ``Could
not negotiate a supported cipher suite`` or ``No supported cipher suites have
been found``.
"""

from __future__ import annotations

import polars as pl

from .base import Context

NO_SHARED_CIPHER = r"(?i)no shared cipher|could not negotiate a supported cipher suite|no supported cipher suites"


def available(ctx: Context) -> str | None:
    """Both TLS detectors need server sessions: Postfix's connect/disconnect lines, or any Exim log."""
    if not ctx.has("connect", "disconnect") and not ctx.exim:  # Exim always logs its TLS errors
        return "no SMTP server sessions (smtpd connect/disconnect lines, or Exim lines) in these logs"
    return None


def failed_handshakes(ctx: Context) -> pl.LazyFrame:
    """Sessions whose TLS handshake failed, with ``reason`` and evidence ``seqs`` (built once per scan)."""
    return ctx.shared(_failed_handshakes)


def _failed_handshakes(ctx: Context) -> pl.LazyFrame:
    accept = ctx.events_of("tls-accept-error").select("seq", pl.col("reason").alias("detail"))
    lines = ctx.session_lines.filter(pl.col("kind").is_in(["tls-accept-error", "tls-library-problem", "tls-error"]))
    per_session = (
        lines.join(accept, on="seq", how="left")
        .group_by("session_id")
        .agg(pl.col("seq").alias("seqs"), pl.col("detail").drop_nulls().first().alias("detail"))
        .collect()
    )
    # the few sessions picked by their ids first: a join would read every column of every session
    ids = per_session.get_column("session_id").implode()
    return (
        ctx.sessions.filter(pl.col("session_id").is_in(ids))
        .join(per_session.lazy(), on="session_id", how="inner")
        .with_columns(
            pl.coalesce(pl.col("tls_error").cast(pl.String), pl.col("detail"), pl.lit("unknown")).alias("reason")
        )
        .with_columns(pl.col("reason").str.contains(NO_SHARED_CIPHER).alias("no_shared_cipher"))
    )
