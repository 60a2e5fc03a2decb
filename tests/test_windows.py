"""Sessions and messages built a window of the log at a time are those of one pass (loganalyzer.windows)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from loganalyzer.bench import EximOptions
from loganalyzer.bench.logs import generate_exim, generate_postfix
from loganalyzer.reading import read
from loganalyzer.settings import Settings
from loganalyzer.store import BUILT, Piece, Store
from loganalyzer.tables import Tables
from loganalyzer.windows import WINDOW_LINES, Windows

SAMPLES = Path(__file__).parent.parent / "samples"
#: Small batches, all spilled: a few thousand lines make a dozen chunks, as a large log makes.
SPILLED = Settings(timezone="UTC", year=2025, jobs=1, batch_bytes=1 << 16, spill_bytes=0)
DERIVED = ("sessions", "session_lines", "messages", "attempts")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("windows")
    return {
        "postfix": generate_postfix(where / "postfix.log", 5000, seed=7, hosts=2).path,
        "exim": generate_exim(
            where / "exim.log", 5000, seed=7, options=EximOptions(upgrade_hours=0.1, extras_hours=0.2)
        ).path,
    }


def _read(path: Path, tmp_path: Path, batch_bytes: int = SPILLED.batch_bytes) -> Tables:
    return read(str(path), SPILLED.replace(spill_dir=str(tmp_path), batch_bytes=batch_bytes))


def _built(tables: Tables, width: int, *, by_chunk: bool = True) -> dict[str, pl.DataFrame]:
    """The derived tables of a read built ``width`` lines at a time (0: in one pass), on tables of their
    own; in windows of whole chunks, or (``by_chunk`` false) of exactly ``width`` lines."""
    fresh = Tables(store=tables.store, stats=tables.stats)
    fresh.window_lines = width
    if not by_chunk:
        fresh.windows = lambda: Windows(fresh.events, fresh.events_between, width)  # type: ignore[method-assign]
    return {name: getattr(fresh, name).collect() for name in DERIVED}


@pytest.mark.parametrize("mta", ["postfix", "exim"])
def test_windows_give_the_rows_of_one_pass(logs: dict[str, Path], mta: str, tmp_path: Path) -> None:
    tables = _read(logs[mta], tmp_path)
    assert tables.store is not None and len(tables.store.spans) > 10
    whole = _built(tables, 0)
    sessions = whole["sessions"]
    assert sessions.height > 100
    # the log holds sessions longer than the smaller window, and spans many of them
    assert (sessions["last_seq"] - sessions["session_id"]).max() >= 150  # type: ignore[operator]
    for width, by_chunk in ((150, True), (2000, True), (333, False)):
        windowed = _built(tables, width, by_chunk=by_chunk)
        for name in DERIVED:
            assert_frame_equal(windowed[name], whole[name])


SMALL = ["postfix/normal-day.log", "postfix/central-syslog.log", "postfix/cut-sessions.log", "exim/normal-day.log"]


@pytest.mark.parametrize("sample", SMALL)
def test_samples_in_windows_of_a_few_lines(sample: str, tmp_path: Path) -> None:
    tables = _read(SAMPLES / sample, tmp_path, batch_bytes=4096)
    whole, windowed = _built(tables, 0), _built(tables, 5, by_chunk=False)
    for name in DERIVED:
        assert_frame_equal(windowed[name], whole[name])


def test_reads_use_windows_and_free_the_session_index(logs: dict[str, Path], tmp_path: Path) -> None:
    tables = read(str(logs["postfix"]), SPILLED.replace(spill_dir=str(tmp_path)))
    assert tables.window_lines == WINDOW_LINES
    assert tables.session_lines.collect().height > 0
    assert "_session_index" not in tables.__dict__  # built the sessions and their lines, then let go


def test_build_visits_each_window_once_and_long_groups_apart() -> None:
    # windows of 10 lines, read up to 2 lines past their end. Groups: 0 (lines 0-2), 4 (4-30: far past
    # its window), 8 (8-11: within reach), 10 (10-12), 17 (17-22: past reach), 25 (25-26)
    rows = {0: [0, 1, 2], 4: [4, 30], 8: [8, 11], 10: [10, 12], 17: [17, 22], 25: [25, 26]}
    pairs = sorted((seq, group) for group, seqs in rows.items() for seq in seqs)
    index = pl.DataFrame({"seq": [s for s, _ in pairs], "group": [g for _, g in pairs]})
    events = pl.LazyFrame({"seq": list(range(40))})
    asked: list[tuple[int, int]] = []

    def between(first: int, last: int, kinds: Collection[str] | None) -> pl.LazyFrame:
        assert kinds is None  # the index has no kind column
        asked.append((first, last))
        return events.filter(pl.col("seq").is_between(first, last))

    def build(events: pl.LazyFrame, lines: pl.DataFrame) -> pl.LazyFrame:
        seen = events.select("seq").collect().get_column("seq").to_list()
        assert set(lines["seq"]) <= set(seen)  # a window reads every line of its groups
        return lines.lazy().group_by("group").agg(pl.len().alias("lines"), pl.col("seq").max().alias("last"))

    parts = list(Windows(events, between, 10).build(index, "group", build))
    # one frame per window: the groups that begin in it, the long ones among them (none in 30-39)
    assert [part["group"].to_list() for part in parts] == [[0, 4, 8], [10, 17], [25], []]
    built = pl.concat(parts)
    assert built.to_dicts() == [{"group": g, "lines": len(s), "last": max(s)} for g, s in sorted(rows.items())]
    # the long groups once over their span, then windows 0-9, 10-19, 20-29 up to their groups' last lines
    assert asked == [(4, 30), (0, 11), (10, 12), (20, 26)]


def test_a_window_asks_for_the_kinds_of_its_lines() -> None:
    index = pl.DataFrame(
        {"seq": [0, 1, 12, 13], "group": [0, 0, 12, 12], "kind": ["connect", "reject", "connect", "disconnect"]}
    )
    index = index.with_columns(pl.col("kind").cast(pl.Categorical))
    events = pl.LazyFrame({"seq": list(range(20))})
    asked: list[list[str] | None] = []

    def between(first: int, last: int, kinds: Collection[str] | None) -> pl.LazyFrame:
        asked.append(sorted(kinds) if kinds is not None else None)
        return events.filter(pl.col("seq").is_between(first, last))

    def build(events: pl.LazyFrame, lines: pl.DataFrame) -> pl.LazyFrame:
        return lines.lazy().group_by("group").agg(pl.len())

    list(Windows(events, between, 10).build(index, "group", build))
    assert asked == [["connect", "reject"], ["connect", "disconnect"]]


def test_windows_hold_whole_chunks() -> None:
    chunks = Windows(pl.LazyFrame(), lambda a, b: pl.LazyFrame(), 250, cuts=(0, 100, 200, 300, 400, 500))
    assert chunks.starts(0, 599) == [0, 300]  # 300 lines, then the rest
    assert chunks.starts(120, 599) == [120, 400]  # the first group's seq starts the first window
    assert Windows(pl.LazyFrame(), lambda a, b: pl.LazyFrame(), 250).starts(0, 599) == [0, 250, 500]


def test_spilled_reads_keep_their_tables_on_disk_a_window_at_a_time(logs: dict[str, Path], tmp_path: Path) -> None:
    tables = _read(logs["postfix"], tmp_path / "spilled")
    tables.window_lines = 1000
    assert tables.store is not None and tables.store.directory is not None
    kept = Path(tables.store.directory) / BUILT
    in_memory = read(str(logs["postfix"]), SPILLED.replace(spill_bytes=1 << 40))
    assert in_memory.store is not None and in_memory.store.directory is None
    in_memory.window_lines = 1000
    for name in DERIVED:
        assert_frame_equal(getattr(tables, name).collect(), getattr(in_memory, name).collect())
        assert sorted(p.name for p in (kept / name).iterdir())[0] == "00000.parquet"
    windows = len(tables.windows().starts(0, tables.stats.lines - 1))
    assert windows > 3
    assert len(list((kept / "sessions").iterdir())) == windows  # one file per window, as each was built
    assert len(list((kept / "attempts").iterdir())) == 1
    assert not (tmp_path / "in-memory").exists()


def test_a_store_in_memory_keeps_a_table_in_one_chunk() -> None:
    table = Store().keep("sessions", [pl.DataFrame({"a": [1, 2]}), pl.DataFrame({"a": [3]})]).collect()
    assert table["a"].to_list() == [1, 2, 3]
    assert table.n_chunks() == 1


def test_a_spilling_store_writes_the_frames_with_rows(tmp_path: Path) -> None:
    store = Store(spill=True, parent=str(tmp_path))
    assert store.directory is not None
    none = pl.DataFrame({"a": []}, schema={"a": pl.Int64})
    table = store.keep("messages", [pl.DataFrame({"a": [1, 2]}), none, pl.DataFrame({"a": [3]})])
    assert table.collect()["a"].to_list() == [1, 2, 3]
    assert len(list((Path(store.directory) / BUILT / "messages").iterdir())) == 2
    empty = store.keep("attempts", [none, none])
    assert empty.collect_schema() == none.schema and empty.collect().is_empty()
    again = store.keep("messages", [pl.DataFrame({"a": [4]})])  # built again: replaces the files
    assert again.collect()["a"].to_list() == [4]
    store.remove()
    with pytest.raises(FileNotFoundError, match="closed"):  # and does not make the directory again
        store.keep("sessions", [pl.DataFrame({"a": [5]})])
    assert not list(tmp_path.iterdir())


def test_store_between_opens_the_chunks_of_a_stretch_only() -> None:
    store = Store()
    for chunk, first in enumerate((0, 100, 200)):
        frame = pl.DataFrame({"seq": list(range(first, first + 100))})
        store.add("postfix/connect", Piece(chunk, frame, False), "connect")
        store.span(chunk, first, 100)
    schema = pl.Schema({"seq": pl.Int64})

    def seqs(parts: list[pl.LazyFrame] | None) -> tuple[int, int]:
        assert parts is not None
        got = pl.concat(parts).collect()["seq"]
        return got.min(), got.max()  # type: ignore[return-value]

    assert seqs(store.between(150, 250, schema)) == (100, 299)
    assert seqs(store.between(0, 99, schema)) == (0, 99)
    assert store.between(400, 500, schema) == []
    # of some kinds: their parts only, while every part's kind is known
    store.add("postfix/disconnect", Piece(1, pl.DataFrame({"seq": [150]}), False), "disconnect")
    assert seqs(store.between(100, 199, schema, ["disconnect"])) == (150, 150)
    assert store.between(100, 199, schema, ["reject"]) == []
    store.add("postfix/reject", Piece(1, pl.DataFrame({"seq": [160]}), False))  # of no known kind
    assert seqs(store.between(100, 199, schema, ["disconnect"])) == (100, 199)  # every part
    store.add("postfix/connect", Piece(3, pl.DataFrame({"seq": [300]}), False))  # a chunk of unknown span
    assert store.between(0, 99, schema) is None
