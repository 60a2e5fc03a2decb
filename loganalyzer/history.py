"""Nightly counts per sending network and detector, kept to show trends.

Every nightly run appends its rows to ``history.parquet`` in the state
directory: one row per (detector, network) with the finding's count, and one
marker row (detector and network ``*``, count = lines read) that says a run
covered that day, so a quiet night counts as zero instead of as missing.

Rows carry the run's key (a digest of where the run started reading): a rerun
after a crash between writing the history and writing the state has the same
key and replaces those rows instead of counting the night twice.

:func:`trends` compares tonight with the nights before: new offenders, networks
worse or better than their 7-night average, and daily totals for sparklines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from .state import StateError, atomic_write

__all__ = ["HISTORY_FILE", "MARKER", "SCHEMA", "NetworkTrend", "Trends", "append", "load", "rows", "trends"]

HISTORY_FILE = "history.parquet"
MARKER = "*"
SCHEMA = pl.Schema(
    {
        "day": pl.Date(),  # local date of the last line the run read
        "run": pl.String(),  # run key: where the run started reading
        "detector": pl.String(),
        "network": pl.String(),
        "org": pl.String(),
        "count": pl.Int64(),
    }
)
#: Rows older than this (before the newest day) are dropped when appending.
KEEP_DAYS = 400
#: Nights an average covers, and nights a sparkline shows.
AVERAGE_NIGHTS = 7
SPARK_NIGHTS = 14
#: Worse: at least this factor of the average and this many more; better: at most this factor.
WORSE_FACTOR = 1.5
WORSE_MARGIN = 2
BETTER_FACTOR = 0.5


def rows(findings: pl.DataFrame, *, day: date, run: str, lines: int) -> pl.DataFrame:
    """History rows of one run: counts per (detector, network), and the marker row."""
    counts = (
        findings.group_by("detector", "network")
        .agg(pl.col("org").drop_nulls().first(), pl.col("count").sum().cast(pl.Int64))
        .with_columns(pl.lit(day, pl.Date()).alias("day"), pl.lit(run).alias("run"))
    )
    marker = pl.DataFrame(
        {"day": [day], "run": [run], "detector": [MARKER], "network": [MARKER], "org": [None], "count": [lines]},
        schema=SCHEMA,
    )
    return pl.concat([marker, counts.select(SCHEMA.names()).cast(SCHEMA)]).sort("detector", "network")


def load(state_dir: Path) -> pl.DataFrame:
    """Every stored row (none before the first run)."""
    path = state_dir / HISTORY_FILE
    if not path.exists():
        return pl.DataFrame(schema=SCHEMA)
    try:
        return pl.read_parquet(path).select(SCHEMA.names()).cast(SCHEMA)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise StateError(f"{path} cannot be read ({exc}); move it away to start a new history") from None


def append(state_dir: Path, new: pl.DataFrame) -> None:
    """Add one run's rows (replacing rows of an unfinished attempt of that run), atomically."""
    keys = new["run"].unique().to_list()
    merged = pl.concat([load(state_dir).filter(~pl.col("run").is_in(keys)), new])
    newest = merged["day"].max()
    if isinstance(newest, date):
        merged = merged.filter(pl.col("day") >= newest - timedelta(days=KEEP_DAYS))
    buffer = io.BytesIO()
    merged.sort("day", "run", "detector", "network").write_parquet(buffer)
    try:
        atomic_write(state_dir / HISTORY_FILE, buffer.getvalue())
    except OSError as exc:
        raise StateError(f"{state_dir / HISTORY_FILE}: cannot write the history: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class NetworkTrend:
    """One network tonight, against the nights before."""

    network: str
    org: str | None
    detectors: tuple[str, ...]  # detectors that flagged it tonight
    tonight: int
    average: float | None  # mean per night over the previous nights with a run; None without any
    nights: tuple[int | None, ...]  # SPARK_NIGHTS daily totals, oldest first, tonight last; None: no run


@dataclass(frozen=True)
class Trends:
    """Tonight's networks sorted into what changed."""

    day: date
    past_nights: int  # nights with a run in the AVERAGE_NIGHTS before tonight
    history_nights: int  # nights with a run before tonight, in the whole history
    new: tuple[NetworkTrend, ...]  # flagged tonight, never before
    worse: tuple[NetworkTrend, ...]
    better: tuple[NetworkTrend, ...]
    top: tuple[NetworkTrend, ...]  # most counts tonight


def trends(history: pl.DataFrame, tonight: pl.DataFrame, *, top: int = 10) -> Trends:
    """Compare tonight's rows (:func:`rows`) with the stored history."""
    day: date = tonight["day"][0]
    run_keys = tonight["run"].unique().to_list()
    past = history.filter(~pl.col("run").is_in(run_keys))
    everything = pl.concat([past, tonight])
    ran = set(everything.filter(pl.col("detector") == MARKER)["day"].to_list())
    counts = everything.filter(pl.col("detector") != MARKER)
    daily: dict[str, dict[date, int]] = {}
    for network, when, n in counts.group_by("network", "day").agg(pl.col("count").sum()).iter_rows():
        daily.setdefault(network, {})[when] = int(n)
    orgs: dict[str, str | None] = {}
    for network, org in counts.sort("day").select("network", "org").iter_rows():
        orgs[network] = org or orgs.get(network)
    detectors: dict[str, tuple[str, ...]] = {}
    for network, found in (
        tonight.filter(pl.col("detector") != MARKER).group_by("network").agg(pl.col("detector").sort()).iter_rows()
    ):
        detectors[network] = tuple(found)
    before = set(past.filter((pl.col("detector") != MARKER) & (pl.col("day") <= day))["network"].to_list())
    window = [day - timedelta(days=i) for i in range(1, AVERAGE_NIGHTS + 1)]
    window_ran = [d for d in window if d in ran]
    spark_days = [day - timedelta(days=i) for i in range(SPARK_NIGHTS - 1, -1, -1)]

    def trend(network: str) -> NetworkTrend:
        per_day = daily.get(network, {})
        average = sum(per_day.get(d, 0) for d in window_ran) / len(window_ran) if window_ran else None
        return NetworkTrend(
            network,
            orgs.get(network),
            detectors.get(network, ()),
            per_day.get(day, 0),
            average,
            tuple(per_day.get(d, 0) if d in ran else None for d in spark_days),
        )

    candidates = [trend(n) for n in sorted(set(detectors) | {n for n, d in daily.items() if set(d) & set(window)})]
    history_nights = len({d for d in ran if d < day})
    new = [t for t in candidates if t.network in detectors and t.network not in before] if history_nights else []
    worse = [
        t
        for t in candidates
        if t.average is not None
        and t.network in before
        and t.tonight >= t.average * WORSE_FACTOR
        and t.tonight - t.average >= WORSE_MARGIN
    ]
    better = [
        t for t in candidates if t.average is not None and t.average >= 1 and t.tonight <= t.average * BETTER_FACTOR
    ]
    ranked = sorted((t for t in candidates if t.tonight > 0), key=lambda t: (-t.tonight, t.network))
    return Trends(
        day=day,
        past_nights=len(window_ran),
        history_nights=history_nights,
        new=tuple(sorted(new, key=lambda t: (-t.tonight, t.network))),
        worse=tuple(sorted(worse, key=lambda t: (-(t.tonight - (t.average or 0)), t.network))),
        better=tuple(sorted(better, key=lambda t: (t.tonight - (t.average or 0), t.network))),
        top=tuple(ranked[:top]),
    )
