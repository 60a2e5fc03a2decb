"""Sessions and messages built one stretch of the log at a time, so that memory stays bounded.

A table of sessions or messages is built by joining the attribute columns of
their lines (client, sender, reply text...) to a narrow index of those lines and
aggregating them per group. Over a whole log that join holds the attributes of
every line at once: 250-300 MB per million lines, the largest transient of a
scan, and what made its peak grow with the log. Built a window at a time, it
holds one window's lines, and the finished rows of each window are handed on
as they come (a spilling read writes them to disk: :meth:`~loganalyzer.store.Store.keep`).

A group (a session, a queue-id lifecycle) is named by the seq of its first line.
The groups are cut into windows of ``width`` lines of the log or more (whole
chunks of the store, so that no chunk's file is read twice) by that seq; a
window reads the events of its own stretch only, up to a quarter window past
its end, and of the line kinds its builder reads and its groups' lines have
(the spill store opens only those files of the chunks in it:
:meth:`loganalyzer.store.Store.between`): a builder takes nothing of the events
but the lines of its index. A group whose lines reach further (a message
deferred for hours) is built apart, first, from its own lines wherever they
are. Every builder aggregates per group, so the rows are the same as those of
one pass (the tests compare both).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import polars as pl

__all__ = ["WINDOW_LINES", "Windows"]

#: Lines of the log per window, at least (a window ends where a chunk does). Smaller windows
#: save memory and cost more: on the 1.27M-line Postfix benchmark log (chunks of about 210,000
#: lines) windows of 250,000 lines or more hold two chunks, and the peak of building the
#: sessions fell from 400 to 343 MB (messages 360 to 313) against 500,000 (three chunks), for
#: 0.1-0.15 s more (sessions and messages together).
WINDOW_LINES = 250_000

#: ``build(events, index)``: the rows of the groups in ``index`` (a lazy query), from the lines of
#: ``events`` that are in the index (``events`` may hold more).
Builder = Callable[[pl.LazyFrame, pl.DataFrame], pl.LazyFrame]
#: ``between(first, last, kinds)``: the events of seqs ``first`` .. ``last`` and, when ``kinds`` is not
#: None, of those line kinds (either may hold more).
Between = Callable[[int, int, Collection[str] | None], pl.LazyFrame]


@dataclass(frozen=True)
class Windows:
    """How to read the events of one stretch of the log: the whole ``events``, or ``between(first, last, kinds)``.

    ``between`` gives the events whose seq lies in ``first .. last`` and, asked
    for some line kinds, of those (it may read more: the builders only take the
    lines of their index). ``width`` 0 builds everything in one pass.
    """

    events: pl.LazyFrame
    between: Between
    width: int = WINDOW_LINES
    #: Seqs where a window may begin: the first lines of the store's chunks, so that a window holds
    #: whole chunks and no chunk's file is read for two windows (empty: every ``width`` lines).
    cuts: tuple[int, ...] = ()

    @classmethod
    def whole(cls, events: pl.LazyFrame) -> Windows:
        """One pass over all of ``events``."""
        return cls(events, lambda first, last, kinds: events.filter(pl.col("seq").is_between(first, last)), 0)

    def starts(self, first: int, last: int) -> list[int]:
        """Where the windows over seqs ``first`` .. ``last`` begin: at least ``width`` lines apart."""
        if not self.cuts:
            return list(range(first, last + 1, self.width))
        starts = [first]
        for cut in sorted(self.cuts):
            if first < cut <= last and cut - starts[-1] >= self.width:
                starts.append(cut)
        return starts

    def build(
        self, index: pl.DataFrame, key: str, build: Builder, kinds: Collection[str] | None = None
    ) -> Iterator[pl.DataFrame]:
        """``build`` for every group of ``index`` (its lines: ``seq`` and the group ``key``): the rows,
        one frame per window as each is built, in ``key`` order (a caller that writes them out holds
        one window's rows at a time: :meth:`loganalyzer.store.Store.keep`).

        ``kinds``: the line kinds ``build`` reads of the events (None: any); a window reads those
        of them its index lines have.
        """

        def wanted(lines: pl.DataFrame) -> list[str] | None:
            have = _kinds(lines)
            return have if kinds is None or have is None else [k for k in have if k in kinds]

        last = 0 if index.is_empty() else int(index.get_column("seq").max())  # type: ignore[arg-type]
        first = 0 if index.is_empty() else int(index.get_column(key).min())  # type: ignore[arg-type]
        starts = [] if index.is_empty() or self.width <= 0 else self.starts(first, last)
        if len(starts) <= 1:  # nothing to build, one pass asked for, or a log within one window
            yield build(self.events, index).collect().sort(key)
            return
        ends = [*(s - 1 for s in starts[1:]), last]
        # a window reads its own lines and at most a quarter window past its end: a group reaching
        # further would make it read far more (one message deferred for hours: the rest of the log)
        # found line by line, not by each group's last line: a group_by over the whole index held
        # about 80 bytes a line (200 MB on a 5M-line log) for a few dozen groups
        window = pl.Series(starts).search_sorted(index.get_column(key), side="right") - 1
        limit = pl.Series(ends).gather(window) + self.width // 4
        long = index.get_column(key).filter(index.get_column("seq") > limit).unique()
        longer, short = None, pl.lit(True)
        if long.len():  # built first, in one pass over their own lines; each goes into its window below
            is_long = pl.col(key).is_in(long.implode())
            lines = index.filter(is_long)
            seqs = lines.get_column("seq")
            events = self.between(int(seqs.min()), int(seqs.max()), wanted(lines))  # type: ignore[arg-type]
            # a few lines spread over the log, which a builder's several queries would each look for
            # in every file: read once, all columns (Exim messages: 0.22 -> 0.1 s on the benchmark log)
            theirs = events.filter(pl.col("seq").is_in(seqs.implode())).collect().lazy()
            longer = build(theirs, lines).collect()
            short = ~is_long  # (the index without them would be a second copy of it while the windows run)
        for start, end in zip(starts, ends, strict=True):
            inside = pl.col(key).is_between(start, end)
            lines = index.filter(inside & short)
            rows = []
            if lines.height:
                top = int(lines.get_column("seq").max())  # type: ignore[arg-type]
                rows.append(build(self.between(start, top, wanted(lines)), lines).collect())
            if longer is not None:
                rows.append(longer.filter(inside))
            if rows:  # the windows follow each other in key order
                yield pl.concat(rows, how="vertical").sort(key)


def _kinds(lines: pl.DataFrame) -> list[str] | None:
    """The line kinds of an index's ``lines`` (None when it has no kind column: then every kind)."""
    if "kind" not in lines.columns:
        return None
    return lines.get_column("kind").unique().cast(pl.String).to_list()
