"""Spilled reads (Parquet files) give exactly the tables of in-memory reads."""

from __future__ import annotations

import gc
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from loganalyzer.reading import read
from loganalyzer.settings import Settings

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


def test_spill_directory_goes_with_the_tables(tmp_path: Path) -> None:
    tables = read(str(SAMPLES / "postfix" / "normal-day.log"), MEMORY.replace(spill_bytes=0, spill_dir=str(tmp_path)))
    assert tables.events.select(pl.len()).collect().item() > 0
    assert len(list(tmp_path.iterdir())) == 1
    del tables
    gc.collect()
    assert not list(tmp_path.iterdir())
