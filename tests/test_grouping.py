"""Rows grouped by key, in seq or time order, by one integer per key (loganalyzer.grouping)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from loganalyzer import grouping
from loganalyzer.grouping import grouped, in_seq_order, key_ids, looked_up, numbered, replaced, shared
from loganalyzer.reading import read
from loganalyzer.settings import Settings

from .conftest import SAMPLES

SETTINGS = Settings(timezone="UTC", year=2024, dns=False)


def _grouped_right(frame: pl.DataFrame, keys: list[str]) -> bool:
    """Each key's rows together, in (ts, seq) order within the key."""
    runs = frame.with_columns(
        pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys)
        .fill_null(True)
        .cum_sum()
        .alias("_run")
    )
    one_run_per_key = runs.group_by(keys).agg(pl.col("_run").n_unique()).get_column("_run").max() == 1
    ordered = runs.group_by("_run").agg((pl.struct("ts", "seq").rank("ordinal").diff().drop_nulls() == 1).all())
    return bool(one_run_per_key and ordered.get_column("ts").all())


@pytest.mark.parametrize(
    ("hosts", "pids", "minutes"),
    [
        ([None] * 6, [7, 8, 7, 9, 8, 7], [0, 1, 2, 3, 4, 5]),  # Exim's own files name no host
        (["a", "b", "a", "b", "a", "b"], [7, 7, 7, 7, 7, 7], [0, 1, 2, 3, 4, 5]),
        ([None] * 6, [7, 8, 7, 9, 8, 7], [0, 1, 5, 3, 4, 2]),  # times go back along the seqs: a second file
        ([None, None, None, None], [None, 0, None, 0], [0, 1, 2, 3]),  # two keys, one packed code
    ],
)
def test_rows_are_grouped_by_key_and_time(hosts: list[str | None], pids: list[int | None], minutes: list[int]) -> None:
    frame = pl.DataFrame(
        {
            "seq": range(len(pids)),
            "ts": [datetime(2024, 3, 1, 12, m, tzinfo=UTC) for m in minutes],
            "host": pl.Series(hosts, dtype=pl.String).cast(pl.Categorical),
            "pid": pl.Series(pids, dtype=pl.Int32),
        }
    )
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1)
    assert _grouped_right(grouped(shuffled.lazy(), ["host", "pid"], by_time=True), ["host", "pid"])
    hashed = frame.with_columns(pl.col("pid").cast(pl.String).alias("client_ip"))
    assert _grouped_right(grouped(hashed.lazy(), ["host", "client_ip"], by_time=True), ["host", "client_ip"])


def test_key_ids_are_one_integer_per_distinct_key() -> None:
    frame = pl.DataFrame(
        {
            "host": pl.Series(["a", None, "a", None, "b", "a", None, None], dtype=pl.Categorical),
            "pid": pl.Series([-5, -5, None, None, 0, 0, 2**31 - 1, -(2**31)], dtype=pl.Int32),
            "client_ip": ["1", "1", "2", "2", None, None, "3", "3"],
        }
    )
    packed, exact = key_ids(frame, ["host", "pid"])
    assert exact
    for keys, ids in ((["host", "pid"], packed), (["host", "client_ip"], numbered(frame, ["host", "client_ip"]))):
        distinct = frame.select(keys).with_columns(ids).unique()
        assert distinct.height == frame.select(keys).unique().height == distinct.get_column("_key").n_unique()


def test_a_hash_two_keys_share_is_found() -> None:
    ordered = pl.DataFrame({"_key": [1, 1, 7, 7], "client_ip": ["a", "a", "b", "c"]})
    assert shared(ordered, ["client_ip"])
    assert not shared(ordered.with_columns(pl.Series("_key", [1, 1, 7, 8])), ["client_ip"])


def test_rows_in_seq_order_without_time() -> None:
    frame = pl.DataFrame({"seq": [5, 1, 4, 2, 3, 0], "queue_id": ["B", "A", "A", "B", "A", "C"]})
    out = grouped(frame.lazy(), ["queue_id"], by_time=False)
    assert _runs(out, "queue_id") == {"A": [1, 3, 4], "B": [2, 5], "C": [0]}
    assert out.get_column("_key").n_unique() == 3


def _runs(frame: pl.DataFrame, key: str) -> dict[str, list[int]]:
    """The seqs of each run of equal ``key`` values, in row order; each key must make one run."""
    runs: dict[str, list[int]] = {}
    previous = None
    for value, seq in frame.select(key, "seq").iter_rows():
        if value != previous:
            assert value not in runs, f"{value} comes back after another key"
            runs[value] = []
        runs[value].append(seq)
        previous = value
    return runs


def _one_value(frame: pl.DataFrame, keys: list[str]) -> tuple[pl.Series, bool]:
    return pl.Series("_key", [0] * frame.height, dtype=pl.UInt64), False


def test_keys_sharing_a_hash_are_numbered_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    # in seq order the keys alternate: with one hash value for all, only the numbering puts them together
    frame = pl.DataFrame({"seq": [3, 1, 2, 0, 4], "ts": [None] * 5, "client_ip": ["b", "b", "a", "a", "c"]})
    expected = {"a": [0, 2], "b": [1, 3], "c": [4]}
    assert _runs(grouped(frame.lazy(), ["client_ip"], by_time=False), "client_ip") == expected
    monkeypatch.setattr(grouping, "key_ids", _one_value)  # every key one hash value: the clash is found
    assert _runs(grouped(frame.lazy(), ["client_ip"], by_time=False), "client_ip") == expected


@pytest.mark.parametrize(
    "name", ["postfix/normal-day.log", "postfix/central-syslog.log", "postfix/scenarios/data-after-reject.log"]
)
def test_postfix_keys_sharing_a_hash_give_the_same_tables(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # postscreen's (host, address, port) and the queue ids are hashed: every key hashed to one value, the
    # collision is found and the keys numbered, and the sessions, their lines and the messages do not change
    path = str(SAMPLES / name)
    assert Path(path).exists()
    before = read(path, SETTINGS)
    expected = {t: getattr(before, t).collect() for t in ("sessions", "messages")}
    lines = before.session_lines.collect().sort("seq")
    monkeypatch.setattr(grouping, "key_ids", _one_value)
    after = read(path, SETTINGS)
    for table, frame in expected.items():
        assert getattr(after, table).collect().equals(frame), table
    assert after.session_lines.collect().sort("seq").equals(lines)


def test_in_seq_order_moves_the_columns_it_is_given() -> None:
    """Stable by seq; the list is emptied, so that a column no one else holds is let go once moved."""
    frame = pl.DataFrame({"seq": [3, 1, 3, 2, 1], "kind": ["a", "b", "c", "d", "e"], "n": [0, 1, 2, 3, 4]})
    columns = frame.get_columns()
    out = in_seq_order(columns)
    assert columns == []
    assert out.rows() == [(1, "b", 1), (1, "e", 4), (2, "d", 3), (3, "a", 0), (3, "c", 2)]


@pytest.mark.parametrize("spread", [1, 3, 1000])
@pytest.mark.parametrize("seed", range(3))
def test_looked_up_is_an_inner_join_on_seq_in_the_rows_order(seed: int, spread: int) -> None:
    # an index of groups over a stretch of seqs (spread far apart: joined), rows partly outside it, in any order
    rng = random.Random(seed)
    seqs = rng.sample(range(0, 300 * spread), 200)
    index = pl.DataFrame({"seq": seqs, "first_seq": [s - rng.randrange(0, 5) for s in seqs]})
    wanted = [*rng.sample(seqs, 120), -5, max(seqs) + 1, *rng.sample(range(300 * spread), 40)]
    rows = pl.DataFrame({"seq": wanted, "text": [f"line {s}" for s in wanted]}).unique("seq", maintain_order=True)
    expected = rows.join(index, on="seq", how="inner", maintain_order="left")
    got = looked_up(rows, index, "first_seq")
    assert got.equals(expected)
    assert 0 < got.height < rows.height
    assert looked_up(rows.head(0), index, "first_seq").equals(expected.head(0))


@pytest.mark.parametrize("spread", [1, 1000])
@pytest.mark.parametrize("seed", range(3))
def test_replaced_is_series_replace(seed: int, spread: int) -> None:
    # distinct old values among the values (some repeated, some never replaced), and values outside old's range
    rng = random.Random(seed)
    old = rng.sample(range(100 * spread, 400 * spread), 60)
    values = pl.Series("v", [rng.choice(old) for _ in range(150)] + [rng.randrange(0, 500 * spread) for _ in range(50)])
    new = [v - rng.randrange(1, 50) for v in old]
    expected = values.replace(old, new)
    got = replaced(values, pl.Series(old), pl.Series(new))
    assert got.equals(expected)
    assert got.name == "v" and (got != values).sum() >= 100
    assert replaced(values, pl.Series([], dtype=pl.Int64), pl.Series([], dtype=pl.Int64)).equals(values)
