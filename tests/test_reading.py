"""Reading in worker processes: the same tables as in this process, and a pool that does not hold the read up."""

from __future__ import annotations

import atexit
import time
from multiprocessing.connection import wait
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from loganalyzer import reading
from loganalyzer.reading import read
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
