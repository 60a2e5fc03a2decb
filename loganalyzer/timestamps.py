"""Timestamps: envelope text to UTC, including the year that BSD syslog leaves out.

Year inference (classic syslog, ``journalctl -o short``, postlogd): the file's
modification time anchors the *last* line (a line is not written after the file
was last modified), and walking backwards the year steps back at every Dec -> Jan
wrap. Walking is done forwards in bulk instead: a wrap is a month that drops by
more than six from the previous yearless line (+1 year); a rise of ten months or
more (Jan -> Nov/Dec) is a line from before New Year arriving late, or a clock
stepping back over it (-1 year). A smaller rise is a quiet stretch of the log.
The year of a line is the anchor year, minus all wraps in the file, plus the
wraps before the line. ``--year`` replaces the anchor year.

Chunks of one file are parsed in parallel before its end is seen, so each is
settled in a provisional year (the mtime's) counting only its own wraps;
:class:`YearTracker` then says which chunks are off, and by how many years (none,
for the common file without a New Year in it).

Zone-less times are read in ``--timezone`` (default: the machine's local zone),
then converted to UTC; a local time skipped by a DST change is read as the same
wall time one hour later, an ambiguous one as its first occurrence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

__all__ = [
    "MONTHS",
    "ChunkTimes",
    "ChunkYears",
    "YearTracker",
    "iso_to_utc",
    "local_timezone",
    "month_step",
    "naive_to_utc",
    "provisional_year",
    "settle",
    "validate_timezone",
]

MONTHS = {
    m: i
    for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)
}
UTC = "UTC"
#: Columns carried by lines whose UTC time is settled when their file ends:
#: BSD month/day/time-of-day (the year is not known yet) and ``_local``, a
#: complete local time (Exim) that still needs the ``--timezone``.
YEARLESS = ("_month", "_day", "_tod_us", "_local")
#: What a yearless line keeps until its chunk's year is settled for good.
PENDING = ("_year", "_month", "_day", "_tod_us")
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S%.f"


def local_timezone() -> str:
    """The IANA name of this machine's zone: ``$TZ``, ``/etc/localtime``, ``/etc/timezone``, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and _known(tz):
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        marker = "/zoneinfo/"
        if marker in target:
            name = target.split(marker, 1)[1]
            if _known(name):
                return name
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if _known(name):
            return name
    except OSError:
        pass
    return UTC


def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA zone, else raise ValueError with a hint."""
    if not _known(name):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC")
    return name


def clock_to_us(clock: pl.Expr) -> pl.Expr:
    """``HH:MM:SS[.ffffff]`` -> microseconds since midnight (a leap second reads as :59)."""
    fixed = clock.str.replace(r":60", ":59", literal=True)
    return (fixed.str.strptime(pl.Time, "%H:%M:%S%.f", strict=False).cast(pl.Int64) // 1000).alias("_tod_us")


def yearless_columns(month: pl.Expr, day: pl.Expr, clock: pl.Expr) -> list[pl.Expr]:
    """The helper columns of a BSD timestamp, resolved later by :class:`YearTracker`."""
    return [
        month.replace_strict(MONTHS, default=None, return_dtype=pl.Int8).alias("_month"),
        day.str.strip_chars(" ").cast(pl.Int8, strict=False).alias("_day"),
        clock_to_us(clock),
    ]


def local_columns(text: pl.Expr, offset: pl.Expr | None = None) -> list[pl.Expr]:
    """``YYYY-MM-DD HH:MM:SS[.mmm]`` (Exim): UTC now when an offset was logged, else ``_local``."""
    naive = text.str.to_datetime(LOCAL_FORMAT, time_unit="us", strict=False)
    if offset is None:
        return [pl.lit(None, dtype=pl.Datetime("us", UTC)).alias("ts"), naive.alias("_local")]
    zoned = pl.concat_str([text, pl.lit(" "), offset]).str.to_datetime(
        LOCAL_FORMAT + " %z", time_unit="us", time_zone=UTC, strict=False
    )
    return [zoned.alias("ts"), pl.when(offset.is_null()).then(naive).alias("_local")]


def iso_to_utc(text: pl.Expr) -> pl.Expr:
    """RFC 3339 / ISO 8601 with an offset (``Z``, ``+01:00`` or ``+0100``) -> UTC datetime."""
    normal = text.str.replace(r"Z$", "+00:00")
    return normal.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_unit="us", time_zone=UTC, strict=False)


def naive_to_utc(naive: pl.Expr, tz: str) -> pl.Expr:
    """Local wall time in ``tz`` -> UTC (DST gaps read one hour later, overlaps as the first)."""
    if tz == UTC:
        return naive.dt.replace_time_zone(UTC)
    direct = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    shifted = (naive + pl.duration(hours=1)).dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return pl.coalesce(direct, shifted).dt.convert_time_zone(UTC)


def _days_in_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    leap = ((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))).cast(pl.Int32)
    return pl.when(month == 2).then(28 + leap).when(month.is_in([4, 6, 9, 11])).then(30).otherwise(31)


def compose(year: pl.Expr, month: pl.Expr, day: pl.Expr, tod_us: pl.Expr) -> pl.Expr:
    """Naive datetime from parts; impossible dates (Feb 29 of a common year) become null."""
    valid = (
        month.is_between(1, 12)
        & day.is_between(1, 31)
        & (day.cast(pl.Int32) <= _days_in_month(year, month.cast(pl.Int32)))
        & tod_us.is_not_null()
    )
    safe_day = pl.when(valid).then(day).otherwise(1)
    safe_month = pl.when(valid).then(month).otherwise(1)
    base = pl.datetime(year, safe_month, safe_day, time_unit="us")
    return pl.when(valid).then(base + pl.duration(microseconds=tod_us)).otherwise(None)


def month_step(previous: int, month: int) -> int:
    """+1 for a new year between two yearless lines (Dec -> Jan), -1 for a line from before it, else 0."""
    drop = previous - month
    return 1 if drop > 6 else -1 if drop <= -10 else 0


def settle(frame: pl.DataFrame, tz: str) -> pl.DataFrame:
    """``ts`` in UTC for the lines whose time was pending.

    Yearless lines are composed from ``_year`` (provisional or corrected),
    ``_month``, ``_day`` and ``_tod_us``; local ones (``_local``) only need the
    zone. Other lines keep their ``ts``.
    """
    ts = pl.col("ts")
    if "_local" in frame.columns and frame["_local"].is_not_null().any():
        ts = pl.when(pl.col("_local").is_not_null()).then(naive_to_utc(pl.col("_local"), tz)).otherwise(ts)
    if "_year" in frame.columns:
        naive = compose(pl.col("_year"), pl.col("_month"), pl.col("_day"), pl.col("_tod_us"))
        ts = pl.when(pl.col("_month").is_not_null()).then(naive_to_utc(naive, tz)).otherwise(ts)
    return frame.with_columns(ts.alias("ts"))


@dataclass(frozen=True)
class ChunkYears:
    """What one chunk of lines says about years: its wraps and its first and last yearless line.

    ``wrap_seqs``/``wrap_steps`` are the wraps *inside* the chunk (the wrap at its
    first line, against the chunk before, is the tracker's business).
    """

    first_month: int | None = None
    last_month: int | None = None
    last_day: int | None = None
    wrap_seqs: tuple[int, ...] = ()
    wrap_steps: tuple[int, ...] = ()

    @classmethod
    def of(cls, seq: pl.Series, month: pl.Series, day: pl.Series) -> ChunkYears:
        """From the yearless lines of a chunk, in reading order (months not null)."""
        if month.is_empty():
            return cls()
        m = month.cast(pl.Int16)
        drop = m.shift(1, fill_value=m[0]) - m
        step = pl.select(pl.when(drop > 6).then(1).when(drop <= -10).then(-1).otherwise(0).cast(pl.Int16)).to_series()
        hits = pl.DataFrame({"seq": seq, "step": step}).filter(pl.col("step") != 0)
        last_day = day[-1]
        return cls(
            int(m[0]),
            int(m[-1]),
            int(last_day) if last_day is not None else None,
            tuple(hits["seq"].to_list()),
            tuple(hits["step"].to_list()),
        )

    def offsets(self, seq: pl.Series) -> pl.Series:
        """Years to add to the chunk's first line's year, for lines with these seqs."""
        if not self.wrap_seqs:
            return pl.Series("offset", [0] * len(seq), dtype=pl.Int16)
        cum = pl.Series([0, *_running(list(self.wrap_steps))], dtype=pl.Int16)
        idx = pl.Series(self.wrap_seqs, dtype=pl.Int64).search_sorted(seq, side="right")
        return cum.gather(idx).alias("offset")


@dataclass
class ChunkTimes:
    """Settles the times of one chunk of lines, year-less ones in a provisional ``year``.

    :meth:`settle` runs once over all the chunk's enveloped lines (not once per
    line kind) and keeps what the chunk says about years in :attr:`years` for the
    :class:`YearTracker`.
    """

    year: int
    timezone: str
    years: ChunkYears = field(default_factory=lambda: ChunkYears())

    def settle(self, frame: pl.DataFrame, *, observe: bool = True) -> pl.DataFrame:
        """``ts`` in UTC for every line; year-less lines get ``_year`` (provisional) as well."""
        month = pl.col("_month")
        yearless = frame.filter(month.is_not_null()).select("seq", "_month", "_day").sort("seq")
        if yearless.is_empty():
            return settle(frame, self.timezone)
        years = ChunkYears.of(yearless["seq"], yearless["_month"], yearless["_day"]) if observe else self.years
        if observe:
            self.years = years
        year = (self.year + years.offsets(frame["seq"])).cast(pl.Int16)
        frame = frame.with_columns(pl.when(month.is_not_null()).then(year).alias("_year"))
        return settle(frame, self.timezone)


@dataclass
class YearTracker:
    """Settles the year of the chunks of one file (or of the whole input with ``--year``).

    Chunks are parsed in parallel, each as if its first yearless line were in a
    *provisional* anchor year; :meth:`add` takes them in reading order and
    :meth:`corrections` says, once the last one is in, how many years each chunk
    is off.
    """

    last_month: int | None = None
    last_day: int | None = None
    total: int = 0
    before: dict[int, int] = field(default_factory=dict)

    def add(self, chunk: int, years: ChunkYears) -> None:
        """Take the next chunk in reading order."""
        if years.first_month is None:
            return
        if self.last_month is not None:
            self.total += month_step(self.last_month, years.first_month)
        self.before[chunk] = self.total
        self.total += sum(years.wrap_steps)
        self.last_month, self.last_day = years.last_month, years.last_day

    def anchor_year(self, mtime: float, tz: str, year: int | None) -> int:
        """Year of the last yearless line read."""
        if year is not None:
            return year
        anchor = datetime.fromtimestamp(mtime, ZoneInfo(tz))
        if self.last_month is None:
            return anchor.year
        last = (self.last_month, self.last_day or 1)
        return anchor.year if last <= (anchor.month, anchor.day) else anchor.year - 1

    def corrections(self, provisional: int, *, mtime: float, tz: str, year: int | None) -> dict[int, int]:
        """Chunk -> years to add to its provisional years (chunks that are right are left out)."""
        base = self.anchor_year(mtime, tz, year) - self.total - provisional
        return {chunk: base + before for chunk, before in self.before.items() if base + before}


def provisional_year(mtime: float, tz: str, year: int | None) -> int:
    """The year chunks are parsed in before the file is read to the end (usually right)."""
    return year if year is not None else datetime.fromtimestamp(mtime, ZoneInfo(tz)).year


def _running(values: list[int]) -> list[int]:
    out, acc = [], 0
    for v in values:
        acc += v
        out.append(acc)
    return out
