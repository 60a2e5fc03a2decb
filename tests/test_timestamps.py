"""Year inference, zones and DST (loganalyzer.timestamps via the reader)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from loganalyzer.reading import read
from loganalyzer.settings import Settings, SettingsError
from loganalyzer.timestamps import ChunkYears, YearTracker, local_timezone

from .conftest import SAMPLES


def _line(stamp: str, n: int) -> str:
    return f"{stamp} mx1 postfix/qmgr[9]: 3F2A41C0B{n}: removed\n"


def _times(path: Path, settings: Settings) -> list[datetime]:
    return read(str(path), settings).events.sort("seq").select("ts").collect().to_series().to_list()


def _at(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_dec_to_jan_wrap_anchored_on_mtime(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_text(_line("Dec 31 23:59:58", 1) + _line("Jan  1 00:00:02", 2) + _line("Jan  3 10:00:00", 3))
    _at(path, datetime(2025, 1, 3, 10, 0, 5, tzinfo=UTC))
    ts = _times(path, Settings(timezone="UTC"))
    assert [t.year for t in ts] == [2024, 2025, 2025]
    assert ts[1] - ts[0] == (datetime(2025, 1, 1, 0, 0, 2) - datetime(2024, 12, 31, 23, 59, 58))


def test_last_line_after_mtime_date_means_previous_year(tmp_path: Path) -> None:
    path = tmp_path / "mail.log.1"
    path.write_text(_line("Dec 31 23:59:59", 1))
    _at(path, datetime(2025, 1, 1, 0, 0, 3, tzinfo=UTC))  # rotated just after midnight
    assert _times(path, Settings(timezone="UTC"))[0].year == 2024


def test_year_option_anchors_the_last_line(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_text(_line("Nov 30 10:00:00", 1) + _line("Feb  1 10:00:00", 2))
    _at(path, datetime(2030, 6, 1, tzinfo=UTC))
    ts = _times(path, Settings(timezone="UTC", year=2019))
    assert [(t.year, t.month) for t in ts] == [(2018, 11), (2019, 2)]


def test_two_wraps_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_text(
        _line("Dec  1 00:00:00", 1)
        + _line("Jun  1 00:00:00", 2)
        + _line("Dec 31 00:00:00", 3)
        + _line("Jan  2 00:00:00", 4)
    )
    # Dec -> Jun is a drop of 6 (not a wrap), Dec -> Jan is one: 2 years in all
    ts = _times(path, Settings(timezone="UTC", year=2026))
    assert [t.year for t in ts] == [2025, 2025, 2025, 2026]


def test_clock_stepping_back_over_new_year_is_not_a_wrap(tmp_path: Path) -> None:
    path = tmp_path / "jump.log"
    path.write_text(_line("Jan  1 00:00:05", 1) + _line("Dec 31 23:59:59", 2) + _line("Jan  1 00:00:07", 3))
    ts = _times(path, Settings(timezone="UTC", year=2025))
    assert [t.year for t in ts] == [2025, 2024, 2025]


def test_rotated_set_crossing_new_year(tmp_path: Path) -> None:
    rotated = SAMPLES / "postfix" / "rotated"
    for f in rotated.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    for name, when in [
        ("mail.log.3.gz", datetime(2024, 12, 31, 0, 0, 1)),
        ("mail.log.2.gz", datetime(2025, 1, 1, 0, 1)),
        ("mail.log.1", datetime(2025, 1, 2, 0, 0, 2)),
        ("mail.log", datetime(2025, 1, 2, 8)),
    ]:
        _at(tmp_path / name, when.replace(tzinfo=UTC))
    ts = _times(tmp_path / "mail.log", Settings(timezone="UTC"))
    assert ts == sorted(ts)
    assert ts[0] == datetime(2024, 12, 30, 22, 10, tzinfo=UTC)
    assert ts[-1] == datetime(2025, 1, 2, 7, 30, tzinfo=UTC)


def test_timezone_and_dst(tmp_path: Path) -> None:
    path = tmp_path / "dst.log"
    # 2024-03-31 02:30 does not exist in Berlin; 2024-10-27 02:30 happens twice
    path.write_text(_line("Mar 31 01:30:00", 1) + _line("Mar 31 02:30:00", 2) + _line("Oct 27 02:30:00", 3))
    ts = _times(path, Settings(timezone="Europe/Berlin", year=2024))
    assert ts[0] == datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    assert ts[1] == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # read as 03:30 CEST
    assert ts[2] == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # first occurrence, CEST


def test_zoned_formats_ignore_the_timezone_option() -> None:
    a = _times(SAMPLES / "postfix" / "rfc3339.log", Settings(timezone="America/New_York"))
    b = _times(SAMPLES / "postfix" / "rfc3339.log", Settings(timezone="Asia/Tokyo"))
    assert a == b
    assert a[0] == datetime(2024, 6, 11, 7, 14, 2, 512304, tzinfo=UTC)


def test_impossible_dates_become_null_not_errors(tmp_path: Path) -> None:
    path = tmp_path / "feb29.log"
    path.write_text(_line("Feb 29 12:00:00", 1) + _line("Mar  1 12:00:00", 2))
    tables = read(str(path), Settings(timezone="UTC", year=2023))
    ts = tables.events.sort("seq").select("ts").collect().to_series().to_list()
    assert ts[0] is None and ts[1] == datetime(2023, 3, 1, 12, tzinfo=UTC)
    assert tables.events.select(pl.len()).collect().item() == 2


def test_tracker_counts_wraps_across_chunks() -> None:
    # chunk 0: Nov 30, Dec 31 | chunk 1: Jan 1, Jan 2 (the wrap is at the boundary)
    # chunk 2: Dec 1 (a late line from before New Year), Jan 3 (a wrap inside the chunk)
    chunks = [
        ChunkYears.of(pl.Series([0, 1]), pl.Series([11, 12], dtype=pl.Int8), pl.Series([30, 31], dtype=pl.Int8)),
        ChunkYears.of(pl.Series([2, 3]), pl.Series([1, 1], dtype=pl.Int8), pl.Series([1, 2], dtype=pl.Int8)),
        ChunkYears.of(pl.Series([4, 5]), pl.Series([12, 1], dtype=pl.Int8), pl.Series([1, 3], dtype=pl.Int8)),
    ]
    assert chunks[2].wrap_seqs == (5,) and chunks[2].wrap_steps == (1,)
    assert chunks[2].offsets(pl.Series([4, 5])).to_list() == [0, 1]
    tracker = YearTracker()
    for i, chunk in enumerate(chunks):
        tracker.add(i, chunk)
    # the last line (Jan 3) is in 2025: chunk 0 and the Dec 1 line are in 2024
    assert tracker.corrections(2025, mtime=0, tz="UTC", year=2025) == {0: -1, 2: -1}
    assert tracker.corrections(2026, mtime=0, tz="UTC", year=2025) == {0: -2, 1: -1, 2: -2}


def test_new_year_inside_a_file_settles_across_chunks_in_memory_and_spilled(tmp_path: Path) -> None:
    path = tmp_path / "newyear.log"
    days = ["Dec 30 23:00:00", "Dec 31 23:59:59", "Jan  1 00:00:01", "Jan  2 10:00:00"]
    path.write_text("".join(_line(d, i) for i, d in enumerate(days) for _ in range(200)))
    want = [datetime(2024, 12, 30, 23, tzinfo=UTC), datetime(2025, 1, 2, 10, tzinfo=UTC)]
    for spill in (1 << 40, 0):
        settings = Settings(timezone="UTC", year=2025, batch_bytes=4096, spill_bytes=spill, spill_dir=str(tmp_path))
        tables = read(str(path), settings)
        ts = tables.events.sort("seq").select("ts").collect().to_series()
        assert [ts[0], ts[-1]] == want, spill
        assert ts.is_sorted() and ts.null_count() == 0
        assert (tables.store is not None and tables.store.directory is not None) == (spill == 0)


def test_bad_timezone_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus")


def test_local_timezone_prefers_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Paris")
    assert local_timezone() == "Europe/Paris"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert local_timezone() != "Not/AZone"
