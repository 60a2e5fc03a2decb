"""How polars' allocator gives freed memory back: at once to the system, not "muzzy" first.

polars allocates with jemalloc and configures it, when it is imported, to keep
freed pages for 500 ms and then to mark them free for another second (``muzzy``:
``MADV_FREE``, which Linux counts in the resident size until it needs the
pages). Each stage of a read builds and drops a few hundred MB (a chunk's
captures in a worker; a join and a ``group_by`` in the main process), so the
garbage of one stage is still resident while the next runs and the peaks add
up. Returning pages after 100 ms, and without the muzzy state, took about
40 MB off each worker and 30 to 60 MB off the main process on the benchmark
log, at no measurable cost in time. (Returning them at once costs the workers
about 15% more CPU.)

polars appends an existing ``_RJEM_MALLOC_CONF`` to its own settings, and the
later ones win; jemalloc reads them once, when polars is first imported. This
module is therefore imported before anything imports polars
(``loganalyzer/__init__.py``) and configures on import; the parse workers,
started later, inherit the setting through the environment. A configuration of
the user's own (``_RJEM_MALLOC_CONF`` set already) is kept.
"""

from __future__ import annotations

import os

__all__ = ["JEMALLOC_CONF", "JEMALLOC_VARIABLE", "configure"]

#: The environment variable polars' jemalloc reads (its symbols carry the ``_rjem_`` prefix).
JEMALLOC_VARIABLE = "_RJEM_MALLOC_CONF"
#: Freed pages go back to the system after 100 ms.
JEMALLOC_CONF = "dirty_decay_ms:100,muzzy_decay_ms:0"


def configure() -> None:
    """Set :data:`JEMALLOC_CONF` for this process (if polars is not loaded yet) and the workers it starts."""
    os.environ.setdefault(JEMALLOC_VARIABLE, JEMALLOC_CONF)


configure()
