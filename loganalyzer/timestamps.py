"""Timestamps: envelope text to UTC, including the year that BSD syslog leaves out.

Year inference (classic syslog, ``journalctl -o short``, postlogd): the file's
modification time anchors the *last* line (a line is not written after the file
was last modified), and walking backwards the year steps back at every Dec -> Jan
wrap. Walking is done forwards in bulk instead: a wrap is a month that drops by
more than six from the previous yearless line (+1 year); a rise of ten months or
more (Jan -> Nov/Dec) is a line from before New Year arriving late, or a clock
stepping back over it (-1 year). A smaller rise is a quiet stretch of the log. The year of a line is the
anchor year, minus all wraps in the file, plus the wraps before the line.
``--year`` replaces the anchor year.

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

__all__ = ["MONTHS", "YearTracker", "iso_to_utc", "local_timezone", "naive_to_utc", "validate_timezone"]

MONTHS = {
    m: i
    for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)
}
UTC = "UTC"
#: Columns carried by lines whose UTC time is settled when their file ends:
#: BSD month/day/time-of-day (the year is not known yet) and ``_local``, a
#: complete local time (Exim) that still needs the ``--timezone``.
YEARLESS = ("_month", "_day", "_tod_us", "_local")
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


@dataclass
class YearTracker:
    """Collects month wraps over the yearless lines of one file, in reading order."""

    last_month: int | None = None
    last_day: int | None = None
    wrap_seqs: list[int] = field(default_factory=list)
    wrap_deltas: list[int] = field(default_factory=list)

    def observe(self, seq: pl.Series, month: pl.Series, day: pl.Series) -> None:
        """Record the wraps among these lines (already in reading order, months not null)."""
        if month.is_empty():
            return
        frame = pl.DataFrame({"seq": seq, "m": month.cast(pl.Int16)})
        prev = frame["m"].shift(1, fill_value=self.last_month if self.last_month is not None else frame["m"][0])
        drop = prev - frame["m"]
        delta = pl.Series([0] * len(frame), dtype=pl.Int16)
        delta = delta.set(drop > 6, 1).set(drop <= -10, -1)
        hits = frame.with_columns(delta=delta).filter(pl.col("delta") != 0)
        self.wrap_seqs.extend(hits["seq"].to_list())
        self.wrap_deltas.extend(hits["delta"].to_list())
        self.last_month = int(month[-1])
        self.last_day = int(day[-1]) if day[-1] is not None else None

    def anchor_year(self, mtime: float, tz: str, year: int | None) -> int:
        """Year of the file's last yearless line."""
        if year is not None:
            return year
        anchor = datetime.fromtimestamp(mtime, ZoneInfo(tz))
        if self.last_month is None:
            return anchor.year
        last = (self.last_month, self.last_day or 1)
        return anchor.year if last <= (anchor.month, anchor.day) else anchor.year - 1

    def years(self, seq: pl.Series, *, mtime: float, tz: str, year: int | None) -> pl.Series:
        """The year of each line with these seqs."""
        total = sum(self.wrap_deltas)
        base = self.anchor_year(mtime, tz, year) - total
        if not self.wrap_seqs:
            return pl.Series("year", [base] * len(seq), dtype=pl.Int32)
        cum = pl.Series([0, *_running(self.wrap_deltas)], dtype=pl.Int32)
        idx = pl.Series(self.wrap_seqs, dtype=pl.Int64).search_sorted(seq, side="right")
        return (cum.gather(idx) + base).alias("year")


def _running(values: list[int]) -> list[int]:
    out, acc = [], 0
    for v in values:
        acc += v
        out.append(acc)
    return out
