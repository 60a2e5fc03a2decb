"""What every detector shares: the context it reads and the findings it returns.

A detector is a :class:`Detector`: an id, what it needs from the logs
(``available``), and ``detect``, a pure polars query from the
:class:`Context`'s LazyFrames to :func:`findings` rows. The context computes,
once, the frames several detectors use: delivery *attempts* (every RCPT outcome
per client, sender and recipient) and their *triplets*, sessions annotated with
their sending network, the per-address network map and the local domains;
:meth:`Context.shared` keeps any other frame a detector module builds for
several detectors. Eight detectors asking one question each of the same
frames is what made a scan slow before these were kept.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from ..networks import ClientMap
from ..schema import FINDINGS
from ..sessions import delivery_status
from ..settings import Settings
from ..tables import Tables, align

__all__ = ["SEVERITIES", "Context", "Detector", "findings", "graded", "seconds"]

#: Daemons that deliver into this server's mailboxes (Postfix); Exim's local deliveries have no relay.
LOCAL_DAEMONS = ["local", "virtual", "lmtp", "pipe"]

#: What a retry repeats: the same sender and recipient from the same sending network (greylisting's triplet,
#: keyed by network so that a retry from another address of the same pool counts).
TRIPLET = ["network", "sender", "recipient"]

#: Most serious first; the report sorts by this order.
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Detector:
    """One detection: id, a one-line description, availability check, query."""

    id: str
    title: str
    available: Callable[[Context], str | None]
    detect: Callable[[Context], pl.LazyFrame]
    #: What the detector cannot see in these logs although it runs (a log setting is off for part
    #: of them); reported with the detections that could not run.
    limits: Callable[[Context], str | None] | None = None


def graded(level: pl.Expr) -> pl.Expr:
    """Severity from a detector's 0/1/2 grade of what it saw: low, medium, high."""
    return pl.when(level == 2).then(pl.lit("high")).when(level == 1).then(pl.lit("medium")).otherwise(pl.lit("low"))


def seconds(delta: pl.Expr) -> pl.Expr:
    """A duration expression in (float) seconds."""
    return delta.dt.total_microseconds().cast(pl.Float64) / 1e6


@dataclass
class Context:
    """The tables of one read, annotated for detection, plus settings and notes."""

    tables: Tables
    settings: Settings
    notes: list[str] = field(default_factory=list)
    _shared: dict[Callable[[Context], pl.LazyFrame], pl.LazyFrame] = field(default_factory=dict, repr=False)

    # -- shared frames ---------------------------------------------------------

    @cached_property
    def events(self) -> pl.LazyFrame:
        return self.tables.events

    def events_of(self, *kinds: str) -> pl.LazyFrame:
        """The events of these line kinds, reading only their parts (:meth:`Tables.events_of`)."""
        return self.tables.events_of(*kinds)

    @cached_property
    def source_ranges(self) -> pl.DataFrame:
        """(first_seq, source, first_line) of every input: seq -> (source, line_no) by arithmetic.

        Reading numbers lines consecutively, so line ``first_line + k`` of a source
        has seq ``first_seq + k``; no join against the events is needed.
        """
        return pl.DataFrame(
            {
                "seq": [s.first_seq for s in self.tables.stats.sources],
                "first_seq": [s.first_seq for s in self.tables.stats.sources],
                "source": [s.path for s in self.tables.stats.sources],
                "first_line": [s.first_line for s in self.tables.stats.sources],
            },
            schema={"seq": pl.Int64, "first_seq": pl.Int64, "source": pl.String, "first_line": pl.Int64},
        )

    @cached_property
    def clients(self) -> ClientMap:
        """Network, org, asn and group of every client address in the log.

        Built once per read and settings: the tables keep the map, and the parse
        cache stores it with them (its Public Suffix List lookups and IPv6
        arithmetic took 0.9 s for the 75,000 addresses of the benchmark log).
        """
        key = ClientMap.settings_key(self.settings)
        kept = self.tables.client_maps.get(key) if key else None
        if kept is not None:
            return ClientMap(kept.collect())
        # a scan and a count per pair (an address logged under several names takes the name on most
        # lines), which polars' streaming engine does file by file: the in-memory engine would first
        # hold both columns of every line (400 MB on a 5M-line log)
        pairs = (
            self.events.filter(pl.col("client_ip").is_not_null())
            .group_by("client_ip", "client_name")
            .agg(pl.len().alias("lines"))
            .collect(engine="streaming")
        )
        built = ClientMap.build(pairs, self.settings)
        if key:
            self.tables.client_maps[key] = built.frame.lazy()
        return built

    @cached_property
    def group_info(self) -> pl.DataFrame:
        """(group, org, asn) of every group: the most frequent org and asn among its addresses."""
        return (
            self.clients.frame.lazy()
            .group_by("group")
            .agg(
                pl.col("org").drop_nulls().mode().sort().first().alias("org"),
                pl.col("asn").drop_nulls().mode().sort().first().alias("asn"),
            )
            .collect()
        )

    @cached_property
    def sessions(self) -> pl.LazyFrame:
        """Sessions with network, org, asn and group."""
        sessions = self.tables.sessions  # built before the client map: see attempts
        return self.clients.annotate(sessions)

    @cached_property
    def session_lines(self) -> pl.LazyFrame:
        """(seq, session_id, kind) of every line that belongs to a session."""
        return self.tables.session_lines

    @cached_property
    def attempts(self) -> pl.LazyFrame:
        """Every RCPT outcome (:attr:`Tables.attempts`, in seq order) with the client's network, org, asn and group.

        The attempts (and the sessions and messages they are made from) are built
        before the client map: the map's build, a pass over every line's client,
        and what it leaves in memory would otherwise sit under their peaks (a
        scan of the 5M-line benchmark log peaked at 500 MB instead of 451).
        """
        attempts = self.tables.attempts
        return self.clients.annotate(attempts)

    @cached_property
    def triplets(self) -> pl.LazyFrame:
        """(triplet, attempt, ts, seq, outcome, group) of the attempts sorted by (network, sender,
        recipient, ts, seq): ``triplet`` is a number per triplet, ``attempt`` the row in :attr:`attempts`.

        The retry detectors all follow triplets. After this one sort, "the next
        attempt of the same triplet" is a shift and a comparison of integers,
        with no window grouping on three text columns. Only the columns they
        read are sorted and kept (the rest is ``attempt`` away): the sorted copy
        of every column of the attempts took 130 MB on a 5M-line log.
        """
        new = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in TRIPLET)
        numbered = (
            self.attempts.with_row_index("attempt")
            .select(*TRIPLET, "attempt", "ts", "seq", "outcome", "group")
            .sort([*TRIPLET, "ts", "seq"])
            .select(new.cast(pl.Int64).cum_sum().alias("triplet"), "attempt", "ts", "seq", "outcome", "group")
        )
        return numbered.collect().lazy()

    @cached_property
    def greylist_delay(self) -> int:
        """The greylist delay: postgrey's own, inferred from its lines, else the setting.

        An ``early-retry (Ns missing)`` line at time t for a triplet first seen
        (``reason=new``) at t0 means the delay is (t - t0) + N.
        """
        grey = (
            self.events_of("greylist")
            .select("seq", "ts", "client_ip", "sender", "recipient", "greylist_reason")
            .collect()
        )
        new = grey.filter(pl.col("greylist_reason") == "new").select(
            "client_ip", "sender", "recipient", pl.col("ts").alias("first")
        )
        early = grey.filter(pl.col("greylist_reason").str.starts_with("early-retry")).with_columns(
            pl.col("greylist_reason").str.extract(r"\(([0-9]+)s missing\)", 1).cast(pl.Int64).alias("missing")
        )
        joined = early.join(new, on=["client_ip", "sender", "recipient"], how="inner").filter(
            pl.col("first") <= pl.col("ts")
        )
        if joined.is_empty():
            return self.settings.greylist_delay
        joined = (
            joined.sort("first")
            .group_by("seq")
            .agg(pl.col("ts").first(), pl.col("first").last(), pl.col("missing").first())
        )
        values = (seconds(pl.col("ts") - pl.col("first")) + pl.col("missing")).alias("d")
        inferred = round(statistics.median(joined.select(values)["d"].to_list()))
        if inferred > 0 and inferred != self.settings.greylist_delay:
            self.notes.append(
                f"greylist delay {inferred} s, inferred from postgrey's early-retry lines "
                f"(the setting says {self.settings.greylist_delay} s)"
            )
        return inferred if inferred > 0 else self.settings.greylist_delay

    def shared(self, build: Callable[[Context], pl.LazyFrame]) -> pl.LazyFrame:
        """``build(self)``, collected on first use and kept: a frame that several detectors read."""
        if build not in self._shared:
            self._shared[build] = build(self).collect().lazy()
        return self._shared[build]

    # -- what the logs can show -----------------------------------------------

    @cached_property
    def kinds(self) -> dict[str, int]:
        return dict(self.tables.kind_counts())

    def has(self, *kinds: str) -> bool:
        """Whether any of ``kinds`` occurs in the log."""
        return any(self.kinds.get(k, 0) for k in kinds)

    def needs_smtp_server(self) -> str | None:
        """None when the log has SMTP server lines (RCPT outcomes); else why not."""
        if self.has("connect", "client", "reject", "disconnect", "arrival"):
            return None
        return "no SMTP server lines (smtpd connect, client or reject; Exim <= or rejected) in these logs"

    @cached_property
    def exim(self) -> bool:
        """Whether (part of) the log was written by Exim."""
        return self.tables.has_exim

    def exim_lacks(self, kinds: list[str], selectors: list[str]) -> str | None:
        """Why an Exim log cannot show something: the ``log_selector`` line that adds ``kinds``.

        None when the log has no Exim lines, or has some of ``kinds`` (the
        setting is on). Exim logs many useful lines only when asked, and a
        default log says nothing about them being missing.
        """
        if not self.exim or self.has(*kinds):
            return None
        return "log_selector = " + " ".join(f"+{s}" for s in selectors)

    @cached_property
    def hosts(self) -> list[str]:
        """Names of the hosts that wrote the log (this server, as syslog calls it)."""
        return [h for h in self.tables.counts_by("host") if h is not None]

    @cached_property
    def local_domains(self) -> list[str]:
        """Domains this server delivers for: those of its local deliveries, plus the configured ones."""
        here = pl.col("daemon").cast(pl.String).is_in(LOCAL_DAEMONS) | (
            pl.col("transport").is_not_null() & pl.col("relay_ip").is_null()
        )
        domain = pl.coalesce(pl.col(c).str.extract(r"@([^@>]+)$", 1) for c in ("recipient", "orig_to"))
        seen = (
            self.events_of("delivery")
            .filter(here & (delivery_status(pl.col("status"), pl.col("action")) == "sent"))
            .select(domain.str.to_lowercase().alias("domain"))
            .drop_nulls()
            .unique()
            .collect()
            .to_series()
            .to_list()
        )
        return sorted(set(seen) | set(self.settings.local_domains))

    @cached_property
    def has_command_stats(self) -> bool:
        return bool(
            self.events_of("disconnect").filter(pl.col("command_stats").is_not_null()).select(pl.len()).collect().item()
        )


def findings(frame: pl.LazyFrame, ctx: Context, detector: str) -> pl.LazyFrame:
    """Findings rows from per-group rows.

    ``frame`` has ``group`` (the network, org, asn or ip grouped by), ``count``,
    ``first_seen``, ``last_seen``, ``severity``, ``explanation`` and ``evidence``
    (a list of event seqs). Adds the group's org and asn, and turns the seqs into
    (source, line_no) pairs in log order.
    """
    seqs = frame.select("group", pl.col("evidence").alias("seq")).explode("seq").drop_nulls("seq").unique()
    where = (
        seqs.sort("seq")
        .join_asof(ctx.source_ranges.lazy(), on="seq", strategy="backward")
        .select(
            "group",
            "source",
            (pl.col("seq") - pl.col("first_seq") + pl.col("first_line")).alias("line_no"),
        )
        .group_by("group", maintain_order=True)
        .agg(pl.struct("source", "line_no").alias("evidence"))
    )
    out = (
        frame.drop("evidence")
        .join(where, on="group", how="left")
        .join(ctx.group_info.lazy(), on="group", how="left")
        .with_columns(pl.lit(detector).alias("detector"), pl.col("group").alias("network"))
    )
    return align(out, FINDINGS)
