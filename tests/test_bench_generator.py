"""The benchmark's synthetic Postfix log: deterministic, fully parsed, realistic in kind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from loganalyzer.bench import generate_postfix, iter_postfix_lines
from loganalyzer.reading import read
from loganalyzer.settings import Settings

LINES = 3000


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "postfix.log"
    log = generate_postfix(path, LINES, seed=42)
    assert log.lines == LINES
    assert log.bytes == path.stat().st_size
    return path


def test_same_seed_same_bytes(generated: Path, tmp_path: Path) -> None:
    again = generate_postfix(tmp_path / "again.log", LINES, seed=42)
    assert again.path.read_bytes() == generated.read_bytes()


def test_other_seed_other_bytes(generated: Path, tmp_path: Path) -> None:
    other = generate_postfix(tmp_path / "other.log", LINES, seed=43)
    assert other.path.read_bytes() != generated.read_bytes()


def test_size_limit(tmp_path: Path) -> None:
    log = generate_postfix(tmp_path / "sized.log", None, seed=1, size_bytes=100_000)
    assert 100_000 <= log.bytes < 100_000 + 1000
    assert log.lines == log.path.read_bytes().count(b"\n")


def test_iterator_is_the_file(generated: Path) -> None:
    lines = generated.read_text(encoding="ascii").splitlines()
    assert lines[:200] == [line for _, line in zip(range(200), iter_postfix_lines(42), strict=False)]


def test_every_line_parses(generated: Path) -> None:
    tables = read(str(generated), Settings(timezone="UTC", year=2025))
    assert tables.stats.lines == LINES
    unparsed = tables.unparsed.select("raw").collect()
    assert unparsed.height == 0, unparsed["raw"].to_list()[:5]
    kinds = set(tables.kind_counts())
    expected = {"connect", "disconnect", "reject", "client", "delivery", "queued", "removed", "greylist"}
    assert expected <= kinds, expected - kinds


def test_timestamps_do_not_go_back(generated: Path) -> None:
    tables = read(str(generated), Settings(timezone="UTC", year=2025))
    ts = tables.events.select("seq", "ts").collect().sort("seq")["ts"]
    assert ts.null_count() == 0
    assert (ts.diff().drop_nulls() >= timedelta(0)).all()
    assert ts[-1] > ts[0]
