"""How polars' allocator gives freed memory back: straight to the system, not "muzzy" first.

polars allocates with jemalloc and configures it, when it is imported, to keep
freed pages for 500 ms and then to mark them free for another second (muzzy:
``MADV_FREE``, which Linux counts in the resident size until it needs the
pages). Each stage of a read builds and drops a few hundred MB (a chunk's
captures in a worker; a join and a ``group_by`` in the main process), so the
garbage of one stage still counts while the next runs. Without the muzzy
state (pages returned with ``MADV_DONTNEED`` after the 500 ms) the peak
resident size of ``parse --stats`` fell by 40 to 60 MB on the benchmark logs
(Exim 707-737 to 673-684 MB, Postfix 694-718 to 658-680), with run times
within the machine's noise. Returning pages after 100 ms took off about 100 MB
but cost half a second more system time a run, and at once about 15% more CPU
in the workers: not taken.

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
#: Freed pages go back to the system when polars' dirty decay (500 ms) ends, not a second later.
JEMALLOC_CONF = "muzzy_decay_ms:0"


def configure() -> None:
    """Set :data:`JEMALLOC_CONF` for this process (if polars is not loaded yet) and the workers it starts."""
    os.environ.setdefault(JEMALLOC_VARIABLE, JEMALLOC_CONF)


configure()
