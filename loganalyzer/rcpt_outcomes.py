"""The attempts table: every RCPT outcome, per client, sender and recipient.

The retry detectors (rapid retries, retries after a 5xx, load-balanced resets,
wrong-domain MX) all ask one question of the log: what happened each time a
client offered a recipient? This module answers it once, from the events and
messages tables, without any setting: the networks of the clients are joined on
later (they depend on ``group_by`` and the prefixes), so the table is a pure
function of the log and the parse cache keeps it with the other derived tables.
"""

from __future__ import annotations

import polars as pl

from .exim_sessions import COPY_IDENTITY, copied_seqs, without_copies
from .grouping import in_seq_order
from .sessions import REFUSED_ACTIONS, reply_class

__all__ = ["build_attempts"]


def build_attempts(events: pl.LazyFrame, messages: pl.LazyFrame) -> pl.DataFrame:
    """Every RCPT outcome: (seq, ts, host, client_ip, client_name, sender, recipient, outcome), in log order.

    ``outcome`` is ``temp`` (4xx), ``perm`` (5xx) or ``accepted``. Rejections
    come from smtpd, postscreen and cleanup (milter) reject lines and Exim's
    ``rejected RCPT`` lines that name a recipient (an Exim rejection logged in
    both mainlog and rejectlog counts once); acceptances are the recipients of
    messages a client handed over (smtpd ``client=`` lines, Exim ``<=`` from a
    host), as the client addressed them (``orig_to`` when the address was
    rewritten), unless a milter or content check then rejected the message.
    Senders and recipients are lower-cased: retries are matched on them.
    Of ``events`` only the ``reject`` lines are read.
    """
    refused = events.filter(  # categoricals compared as they are: by their codes, not as text
        (pl.col("kind") == "reject")
        & pl.col("action").is_in(REFUSED_ACTIONS)
        & pl.col("recipient").is_not_null()
        & pl.col("client_ip").is_not_null()
        & pl.col("stage").ne_missing("MAIL")  # a refused sender is no recipient
    )
    columns = ["seq", "ts", "host", "source", "pid", "daemon", "client_name", "reply_code", "dsn", *COPY_IDENTITY]
    # read once: finding the copies and taking them out would each scan the events again
    refused = refused.select(columns).collect().lazy()
    once = without_copies(refused, copied_seqs(refused))
    rejects = once.select(
        "seq",
        "ts",
        "host",
        "client_ip",
        "client_name",
        pl.col("sender").str.to_lowercase(),
        pl.col("recipient").str.to_lowercase(),
        pl.when(reply_class(pl.col("reply_code"), pl.col("dsn"), pl.col("action")) == 4)
        .then(pl.lit("temp"))
        .otherwise(pl.lit("perm"))
        .alias("outcome"),
    ).collect()
    del refused, once  # the reject lines' other columns: not needed from here on
    delivery = pl.element().struct.field
    accepted = (
        messages.filter((pl.col("origin") == "smtp") & ~pl.col("rejected") & pl.col("client_ip").is_not_null())
        .select(
            pl.col("first_seq").alias("seq"),
            pl.col("first_seen").alias("ts"),
            "host",
            "client_ip",
            "client_name",
            pl.col("sender").str.to_lowercase(),
            # each delivery's address as the client gave it, nothing else of the (wide) deliveries
            pl.col("deliveries")
            .list.eval(pl.coalesce(delivery("orig_to"), delivery("recipient")).str.to_lowercase())
            .alias("recipient"),
            pl.lit("accepted").alias("outcome"),
        )
        .explode("recipient")
        .drop_nulls("recipient")
        .unique(["seq", "recipient"], keep="first", maintain_order=True)
        # message by message, as the streaming engine reads them: the in-memory one would hold every
        # message's deliveries at once (110 MB on a 5M-line log)
        .collect(engine="streaming")
    )
    # the two side by side (no copy), then moved once into seq order, the recipients of one message
    # in their order: reproducible
    both = pl.concat([rejects, accepted], how="vertical_relaxed", rechunk=False).get_columns()
    del rejects, accepted  # the columns are the only holders: each is let go once moved
    return in_seq_order(both)
