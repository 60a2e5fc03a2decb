"""Issue 6: the Parquet history of nightly counts, and the trends drawn from it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from loganalyzer import history
from loganalyzer.schema import FINDINGS

DAY = date(2024, 4, 17)


def _findings(*rows: tuple[str, str, str | None, int]) -> pl.DataFrame:
    data = [
        {"detector": d, "network": n, "org": o, "count": c, "severity": "high", "explanation": "", "evidence": []}
        for d, n, o, c in rows
    ]
    return pl.DataFrame(data, schema=FINDINGS.polars())


def _night(day: date, *rows: tuple[str, str, str | None, int], run: str | None = None) -> pl.DataFrame:
    return history.rows(_findings(*rows), day=day, run=run or f"run-{day}", lines=100)


def test_rows_sum_per_detector_and_network_and_mark_the_run() -> None:
    frame = _night(
        DAY, ("rapid-retry", "198.18.10.0/24", "bulk.example", 2), ("rapid-retry", "198.18.10.0/24", None, 3)
    )
    assert frame.schema == history.SCHEMA
    marker = frame.filter(pl.col("detector") == history.MARKER)
    assert marker["count"].to_list() == [100]
    counts = frame.filter(pl.col("detector") != history.MARKER)
    assert counts.select("network", "org", "count").rows() == [("198.18.10.0/24", "bulk.example", 5)]


def test_append_replaces_the_rows_of_an_unfinished_attempt(tmp_path: Path) -> None:
    history.append(tmp_path, _night(DAY - timedelta(days=1), ("rapid-retry", "a", None, 1)))
    history.append(tmp_path, _night(DAY, ("rapid-retry", "a", None, 5), run="k"))
    history.append(tmp_path, _night(DAY, ("rapid-retry", "a", None, 7), run="k"))  # the rerun
    stored = history.load(tmp_path)
    assert stored.filter(pl.col("detector") != history.MARKER)["count"].to_list() == [1, 7]
    assert stored.filter(pl.col("detector") == history.MARKER).height == 2


def test_append_forgets_rows_older_than_the_keep_window(tmp_path: Path) -> None:
    old = DAY - timedelta(days=history.KEEP_DAYS + 1)
    history.append(tmp_path, _night(old, ("rapid-retry", "a", None, 1)))
    history.append(tmp_path, _night(DAY, ("rapid-retry", "a", None, 1)))
    assert history.load(tmp_path)["day"].unique().to_list() == [DAY]


def test_trends_new_worse_better_and_sparklines() -> None:
    past = pl.concat(
        [
            _night(DAY - timedelta(days=2), ("rapid-retry", "bulk", "bulk.example", 2), ("tls", "old", None, 2)),
            _night(DAY - timedelta(days=1), ("rapid-retry", "bulk", "bulk.example", 1), ("tls", "old", None, 3)),
        ]
    )
    tonight = _night(DAY, ("rapid-retry", "bulk", None, 6), ("data-after-reject", "fresh", None, 2))
    t = history.trends(past, tonight)
    assert (t.day, t.past_nights, t.history_nights) == (DAY, 2, 2)
    assert [x.network for x in t.new] == ["fresh"]
    assert [(x.network, x.tonight, x.average) for x in t.worse] == [("bulk", 6, 1.5)]
    assert [(x.network, x.tonight, x.average) for x in t.better] == [("old", 0, 2.5)]
    assert [x.network for x in t.top] == ["bulk", "fresh"]
    bulk = t.top[0]
    assert bulk.org == "bulk.example"  # remembered from the history
    assert len(bulk.nights) == history.SPARK_NIGHTS
    assert bulk.nights[-3:] == (2, 1, 6) and bulk.nights[0] is None  # no run that night


def test_a_quiet_night_counts_as_zero_not_as_missing() -> None:
    past = pl.concat(
        [
            _night(DAY - timedelta(days=2), ("rapid-retry", "bulk", None, 4)),
            _night(DAY - timedelta(days=1)),  # a run, nothing found
        ]
    )
    t = history.trends(past, _night(DAY, ("rapid-retry", "bulk", None, 6)))
    assert t.top[0].average == 2.0 and t.top[0].nights[-2:] == (0, 6)


def test_the_first_night_has_no_trends_but_a_top_list() -> None:
    t = history.trends(pl.DataFrame(schema=history.SCHEMA), _night(DAY, ("rapid-retry", "bulk", None, 6)))
    assert t.history_nights == 0 and t.new == () and t.worse == () and t.better == ()
    assert [x.network for x in t.top] == ["bulk"] and t.top[0].average is None
