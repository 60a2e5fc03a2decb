"""How freed memory goes back to the system: polars' allocator returns it straight, not
"muzzy" first, and in the main process after 100 ms; the C library's heap is trimmed after
reading (:func:`give_back`).

polars allocates with jemalloc and configures it, when it is imported, to keep
freed pages for 500 ms and then to mark them free for another second (muzzy:
``MADV_FREE``, which Linux counts in the resident size until it needs the
pages). Each stage of a read builds and drops a few hundred MB (a chunk's
captures in a worker; a join and a ``group_by`` in the main process), so the
garbage of one stage still counts while the next runs. Without the muzzy
state (pages returned with ``MADV_DONTNEED`` after the 500 ms) the peak
resident size of ``parse --stats`` fell by 40 to 60 MB on the benchmark logs
(Exim 707-737 to 673-684 MB, Postfix 694-718 to 658-680), with run times
within the machine's noise.

Returning pages after 100 ms instead of 500 everywhere took off about 100 MB
but cost half a second more system time a run, and about 15% more CPU in the
parse workers, which allocate and free the most. The main process alone
returns them after 100 ms: its peak is the scan's, and it frees less often.
``scan`` of the 1.27M-line benchmark log then peaked at 477-485 MB instead of
511-524, the 5.08M-line log at 733-741 MB instead of 762-812, with run times
within the machine's noise (two to three runs each).

polars appends an existing ``_RJEM_MALLOC_CONF`` to its own settings, and the
later ones win; jemalloc reads them once, when polars is first imported. This
module is therefore imported before anything imports polars
(``loganalyzer/__init__.py``) and configures on import; the parse workers,
started later, read the variable again, which :func:`for_workers` sets for
them while their pool starts them. A configuration of the user's own
(``_RJEM_MALLOC_CONF`` set already) is kept, in the workers too.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

__all__ = ["JEMALLOC_CONF", "JEMALLOC_VARIABLE", "WORKER_CONF", "configure", "for_workers", "give_back"]

#: The environment variable polars' jemalloc reads (its symbols carry the ``_rjem_`` prefix).
JEMALLOC_VARIABLE = "_RJEM_MALLOC_CONF"
#: This process: freed pages go back to the system 100 ms after they are freed, not 500, and not a second later.
JEMALLOC_CONF = "muzzy_decay_ms:0,dirty_decay_ms:100"
#: The parse workers: polars' 500 ms, not a second later (see the module's doc).
WORKER_CONF = "muzzy_decay_ms:0"

#: Whether the setting is ours (not one the user gave): only ours is changed for the workers.
_ours = False


def configure() -> None:
    """Set :data:`JEMALLOC_CONF` for this process (if polars is not loaded yet and the user set nothing)."""
    global _ours
    if JEMALLOC_VARIABLE not in os.environ:
        os.environ[JEMALLOC_VARIABLE] = JEMALLOC_CONF
        _ours = True


@contextmanager
def for_workers() -> Iterator[None]:
    """Processes started inside get :data:`WORKER_CONF` instead of this process's setting (a user's own is kept).

    polars has read this process's setting long before (and put its own in front
    of it in the variable): only the processes started from now on read it again.
    """
    before = os.environ.get(JEMALLOC_VARIABLE)
    if not _ours or before is None or not before.endswith(JEMALLOC_CONF):
        yield
        return
    os.environ[JEMALLOC_VARIABLE] = before[: -len(JEMALLOC_CONF)] + WORKER_CONF
    try:
        yield
    finally:
        os.environ[JEMALLOC_VARIABLE] = before


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the C library this process already uses
    except (OSError, TypeError):  # pragma: no cover - Windows has no process-wide C library to open
        return None
    trim: Callable[[int], int] | None = getattr(libc, "malloc_trim", None)  # glibc's; musl and macOS have none
    return trim


def give_back() -> bool:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``); False where there is none.

    Python's own objects and buffers (not polars') live in the C library's
    heap. glibc serves large blocks from it too once a block as large as a
    32 MB chunk has been freed (its mmap threshold then grows to that size),
    and keeps the heap's free pages as long as something small lies above
    them. Reading leaves some 40 MB so: in the main process, the chunks it cut
    and sent, held under every later peak once the modules the detectors need
    are imported after it (``scan`` of the benchmark log: 368-371 MB instead of 328).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


configure()
