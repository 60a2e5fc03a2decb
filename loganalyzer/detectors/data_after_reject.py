"""data-after-reject: DATA after every RCPT was refused, and content pushed anyway.

RFC 5321 section 3.3: with no accepted recipient the DATA command must fail.
Sending DATA anyway is allowed when the client pipelines (RFC 2920 section 3.1:
DATA may end a group of MAIL/RCPT/DATA sent without waiting) -- then it must
read the reply to DATA and, when that is a failure, send no message content.
A client that streams the message regardless breaks the protocol, and is
usually a spam engine that never reads replies.

Postfix >= 3.0 shows the first part in its disconnect statistics (``rcpt=0/N
data=0/1``: the "no valid recipients" reply itself is never logged); the second
as ``improper command pipelining after DATA`` carrying header text, a run of
``unknown`` commands (each content line read as a command) or ``too many errors``.
postscreen's dummy engine logs ``DATA without valid RCPT``. Exim shows the
first part, with ``+smtp_protocol_error``, as ``SMTP protocol error in "DATA"
... valid RCPT command must precede DATA`` (not when the client pipelined
legitimately: then Exim only answers 503); the second as content read as
commands (``SMTP syntax error ... unrecognized command`` with
``+smtp_syntax_error``) and, always, ``SMTP call from ... dropped: too many
syntax or protocol errors (last command was "<content>", C=...,DATA)``.

Severity: high when content was pushed; medium for postscreen's dummy engine;
low when only DATA was sent, which RFC 2920 pipelining allows (listed so the
pattern can be seen, not as a violation).
"""

from __future__ import annotations

import polars as pl

from .base import Context, Detector, findings, graded

ID = "data-after-reject"


def available(ctx: Context) -> str | None:
    if not ctx.has_command_stats and not ctx.has("data-without-rcpt") and not ctx.exim:
        return (
            "no smtpd disconnect statistics (Postfix >= 3.0 logs `disconnect from ... rcpt=0/1 data=0/1`) "
            "and no postscreen `DATA without valid RCPT` lines in these logs"
        )
    return None


def limits(ctx: Context) -> str | None:
    selector = ctx.exim_lacks(["protocol-error"], ["smtp_protocol_error", "smtp_syntax_error"])
    if selector:
        return (
            "Exim logs DATA sent after every RCPT was refused, and the content it then reads as commands, only "
            f"with `{selector}`; without it only clients it drops for too many errors show"
        )
    return None


def detect(ctx: Context) -> pl.LazyFrame:
    s = ctx.sessions
    rcpt, data, bdat, unknown = (pl.col(f"cmd_{c}") for c in ("rcpt", "data", "bdat", "unknown"))
    sent_data = (data.struct.field("total") >= 1) | (bdat.struct.field("total") >= 1)
    all_refused = (rcpt.struct.field("ok") == 0) & (rcpt.struct.field("total") >= 1) & (pl.col("reject_4xx") == 0)
    pushed = (
        ((pl.col("pipelining_stage") == "DATA") & (pl.col("pipelining_input").str.len_chars() > 0))
        | (unknown.struct.field("total") >= 2)
        | ((pl.col("end_reason") == "too many errors") & pl.col("end_stage").is_in(["DATA", "UNKNOWN", "BDAT"]))
    )
    screen = pl.col("screen_results").list.contains("data-without-rcpt")
    server = (pl.col("daemon") != "postscreen") & sent_data & all_refused & (pl.col("reject_5xx") >= 1)
    hits = (
        s.filter(server | screen)
        .with_columns(
            pl.when(server & pushed).then(pl.lit(2)).when(screen).then(pl.lit(1)).otherwise(pl.lit(0)).alias("level")
        )
        .select("session_id", "group", "level", "start", "end")
        .collect()  # a few sessions, read twice below: the sessions' files once
        .lazy()
    )
    shown = ["reject", "improper-pipelining", "session-error", "disconnect", "data-without-rcpt", "protocol-error",
             "sync-error", "dropped"]  # fmt: skip
    lines = ctx.session_lines.join(hits.select("session_id"), on="session_id", how="semi").filter(
        pl.col("kind").is_in(shown)
    )
    evidence = lines.group_by("session_id").agg(pl.col("seq").alias("seqs"))
    per_group = (
        hits.join(evidence, on="session_id", how="left")
        .group_by("group")
        .agg(
            pl.len().alias("count"),
            (pl.col("level") == 2).sum().alias("pushed"),
            (pl.col("level") == 1).sum().alias("screened"),
            pl.col("level").max().alias("level"),
            pl.col("start").min().alias("first_seen"),
            pl.col("end").max().alias("last_seen"),
            pl.col("seqs").list.explode(keep_nulls=False, empty_as_null=False).unique().alias("evidence"),
        )
    )
    severity = graded(pl.col("level"))
    explanation = pl.format(
        "{} session(s) sent DATA after every RCPT was refused; {} then pushed message content without waiting "
        "for the reply to DATA (RFC 2920 3.1, RFC 5321 3.3: after a failed DATA send no content); {} seen by "
        "postscreen's dummy engine. DATA alone after refused recipients is allowed when pipelining.",
        pl.col("count"),
        pl.col("pushed"),
        pl.col("screened"),
    )
    return findings(per_group.with_columns(severity.alias("severity"), explanation.alias("explanation")), ctx, ID)


DETECTOR = Detector(ID, "DATA after every RCPT was refused (content pushed anyway)", available, detect, limits)
