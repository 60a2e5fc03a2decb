"""loganalyzer sets polars' allocator before polars reads it, and keeps a user's own setting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from loganalyzer import allocator
from loganalyzer.allocator import JEMALLOC_CONF, JEMALLOC_VARIABLE, WORKER_CONF

# polars appends a setting it finds to its own, and the later keys win
SHOW = f"import os, loganalyzer, polars; print(os.environ.get({JEMALLOC_VARIABLE!r}, ''))"


def _setting_after_import(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != JEMALLOC_VARIABLE}
    if env_value is not None:
        env[JEMALLOC_VARIABLE] = env_value
    done = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_our_setting_is_the_last_word_when_loganalyzer_comes_first() -> None:
    # if polars were imported before the allocator module, it would have set the variable first
    # and ours would not be in it at all
    assert _setting_after_import(None).endswith("," + JEMALLOC_CONF)


def test_a_users_own_setting_is_kept() -> None:
    setting = _setting_after_import("dirty_decay_ms:2000")
    assert setting.endswith(",dirty_decay_ms:2000")
    assert JEMALLOC_CONF not in setting


def test_the_workers_get_their_own_setting_while_their_pool_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_ours", True)
    monkeypatch.setenv(JEMALLOC_VARIABLE, "polars:1," + JEMALLOC_CONF)
    with allocator.for_workers():
        assert os.environ[JEMALLOC_VARIABLE] == "polars:1," + WORKER_CONF
    assert os.environ[JEMALLOC_VARIABLE] == "polars:1," + JEMALLOC_CONF


def test_the_workers_keep_a_users_own_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_ours", False)
    monkeypatch.setenv(JEMALLOC_VARIABLE, "polars:1," + JEMALLOC_CONF)  # the user's, though it reads like ours
    with allocator.for_workers():
        assert os.environ[JEMALLOC_VARIABLE] == "polars:1," + JEMALLOC_CONF


# glibc keeps freed heap pages under a small block allocated after them; malloc_trim returns them
RETAINED = """
import sys
from loganalyzer import allocator

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmRSS"))

big = bytearray(16 << 20); del big      # as a chunk: glibc's mmap threshold grows to its size
blocks = [bytearray(1 << 20) for _ in range(120)]   # now from the heap, touched
pin = [bytearray(64) for _ in range(1000)]          # small blocks above them
del blocks
held = rss_mb()
gave = allocator.give_back()
print(gave, held - rss_mb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap")
def test_give_back_returns_the_heaps_free_pages() -> None:
    done = subprocess.run([sys.executable, "-c", RETAINED], capture_output=True, text=True, check=True)
    gave, freed_mb = done.stdout.split()
    if gave == "False":
        pytest.skip("not glibc: no malloc_trim")
    assert int(freed_mb) >= 80, done.stdout
