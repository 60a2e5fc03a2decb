"""Spilled reads (Parquet files) give exactly the tables of in-memory reads."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from loganalyzer.reading import read
from loganalyzer.schema import EVENTS
from loganalyzer.settings import Settings
from loganalyzer.store import UNPARSED_PART

SAMPLES = Path(__file__).parent.parent / "samples"
MEMORY = Settings(timezone="Europe/Berlin", year=2025, jobs=2, batch_bytes=1 << 14, spill_bytes=1 << 40)


@pytest.mark.parametrize(
    "sample", ["postfix/normal-day.log", "postfix/central-syslog.log", "postfix/latin1.log", "postfix/rotated/mail.log"]
)
def test_spilled_tables_equal_in_memory_ones(sample: str, tmp_path: Path) -> None:
    path = str(SAMPLES / sample)
    memory = read(path, MEMORY)
    spilled = read(path, MEMORY.replace(spill_bytes=0, spill_dir=str(tmp_path)))
    assert spilled.store is not None and spilled.store.directory is not None
    assert any(Path(spilled.store.directory).rglob("*.parquet"))
    for name in ("events", "unparsed", "sessions", "messages"):
        key = "session_id" if name == "sessions" else "message_key" if name == "messages" else "seq"
        a = memory.table(name).sort(key).collect()
        b = spilled.table(name).sort(key).collect()
        assert_frame_equal(a, b, categorical_as_str=True)


def test_spill_directory_outlives_the_tables_until_closed(tmp_path: Path) -> None:
    settings = MEMORY.replace(spill_bytes=0, spill_dir=str(tmp_path))
    sample = str(SAMPLES / "postfix" / "normal-day.log")
    # the tables are dropped before the query runs: their files must still be there
    assert read(sample, settings).sessions.select(pl.len()).collect().item() > 0
    gc.collect()
    tables = read(sample, settings)
    assert len(list(tmp_path.iterdir())) == 2
    tables.close()
    assert len(list(tmp_path.iterdir())) == 1
    tables.close()  # twice: nothing more to do
    with pytest.raises(FileNotFoundError):
        tables.sessions  # noqa: B018 -- built after the close: fails, and makes no directory again
    assert len(list(tmp_path.iterdir())) == 1


def test_spill_directory_goes_when_the_process_ends(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from loganalyzer.reading import read\n"
        "from loganalyzer.settings import Settings\n"
        "s = Settings(timezone='UTC', year=2025, jobs=1, spill_bytes=0, spill_dir=sys.argv[2])\n"
        "print(read(sys.argv[1], s).events.collect().height)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(SAMPLES / "postfix" / "normal-day.log"), str(tmp_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert int(done.stdout) > 0
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("sample", ["postfix/nights/night-3.log", "exim/normal-day.log"])
@pytest.mark.parametrize("spill", [False, True])
def test_the_events_of_some_kinds_are_those_of_every_part_filtered(sample: str, spill: bool, tmp_path: Path) -> None:
    settings = MEMORY.replace(spill_bytes=0 if spill else 1 << 40, spill_dir=str(tmp_path))
    tables = read(str(SAMPLES / sample), settings)
    assert tables.store is not None
    # every part's pieces told their kind, so a query of some kinds opens only their parts
    parts = [p for p in tables.store.pieces if p != UNPARSED_PART]
    assert parts and all(tables.store.kinds[p] for p in parts)
    kinds = sorted(tables.kind_counts())
    assert len(kinds) > 5
    for wanted in [[k] for k in kinds] + [kinds[::2], ["no-such-kind"]]:
        got = tables.events_of(*wanted).sort("seq").collect()
        expected = tables.events.filter(pl.col("kind").is_in(wanted)).sort("seq").collect()
        assert_frame_equal(got, expected, categorical_as_str=True)


def test_a_part_whose_kind_is_not_known_makes_every_part_read(tmp_path: Path) -> None:
    tables = read(str(SAMPLES / "postfix" / "normal-day.log"), MEMORY.replace(spill_bytes=0, spill_dir=str(tmp_path)))
    assert tables.store is not None
    part = next(p for p in tables.store.pieces if p != UNPARSED_PART)
    kind = tables.store.kinds[part]
    assert kind is not None
    tables.store.kinds[part] = None
    assert tables.store.of_kinds([kind], EVENTS.polars()) is None
    expected = tables.events.filter(pl.col("kind") == kind).sort("seq").collect()
    assert_frame_equal(tables.events_of(kind).sort("seq").collect(), expected, categorical_as_str=True)
