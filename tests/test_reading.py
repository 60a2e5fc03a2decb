"""Reading in worker processes: the same tables as in this process, and a pool that does not hold the read up."""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.connection import wait
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from loganalyzer import reading
from loganalyzer.reading import _Slice, read
from loganalyzer.settings import Settings

SAMPLES = Path(__file__).parent.parent / "samples"
#: Small batches, so that a sample of a few kB makes several chunks.
SMALL = Settings(timezone="Europe/Berlin", year=2025, batch_bytes=1 << 12, dns=False)
#: How long a worker below takes to exit.
LINGER = 3.0


@pytest.mark.parametrize("sample", ["postfix/normal-day.log", "exim/normal-day.log"])
@pytest.mark.parametrize("spill", [False, True])
def test_worker_processes_give_the_tables_of_one_process(
    sample: str, spill: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(SAMPLES / sample)
    one = read(path, SMALL.replace(jobs=1))
    monkeypatch.setattr(reading, "PROCESS_THRESHOLD", 0)  # workers however small the input
    workers = read(path, SMALL.replace(jobs=2, spill_bytes=0 if spill else 1 << 40, spill_dir=str(tmp_path)))
    assert workers.stats.lines == one.stats.lines > 0
    for name in ("events", "unparsed", "sessions", "messages"):
        key = "session_id" if name == "sessions" else "message_key" if name == "messages" else "seq"
        assert_frame_equal(
            one.table(name).sort(key).collect(), workers.table(name).sort(key).collect(), categorical_as_str=True
        )


def _linger() -> None:
    """In a worker: take :data:`LINGER` seconds to exit."""
    atexit.register(time.sleep, LINGER)


def test_a_read_does_not_wait_for_its_workers_to_exit() -> None:
    with reading._executor(Settings(jobs=2), reading.PROCESS_THRESHOLD) as (pool, remote):
        assert remote
        for future in [pool.submit(_linger) for _ in range(4)]:
            future.result()
        processes = list(pool._processes.values())  # type: ignore[attr-defined]
        leaving = time.perf_counter()
    assert time.perf_counter() - leaving < LINGER / 2
    assert wait([p.sentinel for p in processes], timeout=0) != [p.sentinel for p in processes]  # some still there
    with pytest.raises(RuntimeError):  # but the pool takes no more work
        pool.submit(_linger)
    # and the workers do exit (their sentinels become ready; the pool's own thread reaps them, so no join here)
    waiting = [p.sentinel for p in processes]
    deadline = time.monotonic() + 30
    while waiting and time.monotonic() < deadline:
        for ready in wait(waiting, timeout=1):
            waiting.remove(ready)  # type: ignore[arg-type]
    assert not waiting


def test_a_slice_reads_its_chunk_while_the_file_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_bytes(b"a line\n" * 100 + b"the chunk\n" * 20 + b"after\n")
    st = os.stat(path)
    chunk = b"the chunk\n" * 20
    where = _Slice.of(str(path), 700, chunk, (st.st_dev, st.st_ino), 20)
    assert where.read() == chunk
    with path.open("ab") as f:  # the logger goes on writing: what was read stays
        f.write(b"more\n")
    assert where.read() == chunk


@pytest.mark.parametrize("change", ["rotated", "truncated", "rewritten"])
def test_a_slice_reads_nothing_once_the_file_changed(change: str, tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    text = b"a line\n" * 100 + b"the chunk\n" * 20
    path.write_bytes(text)
    st = os.stat(path)
    where = _Slice.of(str(path), 700, text[700:], (st.st_dev, st.st_ino), 20)
    if change == "rotated":  # logrotate's rename, and a new file where the old one was
        path.rename(tmp_path / "mail.log.1")
        path.write_bytes(text)
    elif change == "truncated":  # copytruncate
        path.write_bytes(b"")
    else:  # copytruncate, and new lines as long as the old ones
        path.write_bytes(b"a line\n" * 100 + b"new lines\n" * 20)
    assert where.read() is None


@contextmanager
def _threads_as_workers(settings: Settings, size: int) -> Iterator[tuple[ThreadPoolExecutor, bool]]:
    """Threads in the place of worker processes: they read plain files by reference too."""
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        yield pool, True


def test_a_chunk_the_file_no_longer_holds_is_sent_after_all(monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(SAMPLES / "postfix" / "nights" / "night-3.log")
    expected = read(path, SMALL.replace(jobs=1))
    monkeypatch.setattr(reading, "_executor", _threads_as_workers)
    asked: list[int] = []
    real = _Slice.read

    def every_other_changed(self: _Slice) -> bytes | None:
        asked.append(self.offset)
        return None if len(asked) % 2 else real(self)

    monkeypatch.setattr(_Slice, "read", every_other_changed)
    got = read(path, SMALL.replace(jobs=2))
    assert len(asked) > 4  # every chunk was read by reference, half of them found changed
    assert got.stats.lines == expected.stats.lines
    assert got.stats.sources[0].end_offset == expected.stats.sources[0].end_offset == os.path.getsize(path)
    for name in ("events", "unparsed", "sessions", "messages"):
        key = "session_id" if name == "sessions" else "message_key" if name == "messages" else "seq"
        assert_frame_equal(
            expected.table(name).sort(key).collect(), got.table(name).sort(key).collect(), categorical_as_str=True
        )
