"""Read inputs into :class:`~loganalyzer.tables.Tables`.

Inputs are read one after the other, in the order :func:`sources.expand` gives;
each is cut into batches of lines that a small thread pool parses at once (the
heavy work is in polars, which releases the GIL). Every line gets ``seq``, its
position in the whole input. When a file ends, the year of its year-less
timestamps is settled and the timestamps are converted to UTC.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from .parse import BatchResult, Parser
from .settings import Settings
from .sources import Input, LineBatch, Opened, expand, open_input, split_lines
from .tables import ReadStats, SourceStats, Tables
from .timestamps import YEARLESS, YearTracker, compose, naive_to_utc

__all__ = ["read", "read_inputs"]


def read(paths: str | Iterable[str], settings: Settings | None = None, *, parser: Parser | None = None) -> Tables:
    """Read log files (paths, globs, directories, rotated sets, ``-``) into tables.

    >>> tables = read("samples/postfix/greylisting.log")
    >>> tables.events.select("kind").unique().collect().height > 3
    True
    """
    settings = settings or Settings()
    items = expand([paths] if isinstance(paths, str) else list(paths), rotated=settings.rotated)
    return read_inputs(items, settings, parser=parser)


def read_inputs(items: list[Input], settings: Settings, *, parser: Parser | None = None) -> Tables:
    """Read already-expanded inputs."""
    parser = parser or Parser()
    stats = ReadStats()
    parts: dict[str, list[pl.DataFrame]] = {}
    unparsed: list[pl.DataFrame] = []
    seq = 0
    # Each file's mtime anchors its own year; a --year anchors the last line of
    # the whole input instead, so then one tracker spans every file.
    shared = YearTracker() if settings.year is not None else None
    pending: list[tuple[_FileResult, SourceStats]] = []
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        for item in items:
            opened = open_input(item)
            source = SourceStats(
                item.path,
                opened.compression,
                first_seq=seq,
                start_offset=item.offset,
                end_offset=item.offset,
                first_line=item.first_line,
            )
            stats.sources.append(source)
            result = _read_one(opened, source, parser, pool, settings, shared or YearTracker())
            source.warnings.extend(opened.warnings)
            seq += source.lines
            pending.append((result, source))
            if shared is None:
                _collect(result.finish(settings), parts, unparsed)
                pending.clear()
    for result, _ in pending:
        _collect(result.finish(settings), parts, unparsed)
    merged = [pl.concat(frames) if len(frames) > 1 else frames[0] for frames in parts.values()]
    return Tables(merged, unparsed, stats)


def _batches(opened: Opened, source: SourceStats, settings: Settings) -> Iterator[tuple[LineBatch, pl.DataFrame]]:
    item = opened.input
    batches = split_lines(
        opened.blocks, batch_bytes=settings.batch_bytes, first_line=item.first_line, whole_lines=item.whole_lines
    )
    for batch in batches:
        n = len(batch.lines)
        first_seq = source.first_seq + batch.first_line - item.first_line
        frame = pl.DataFrame(
            {
                "seq": pl.int_range(first_seq, first_seq + n, dtype=pl.Int64, eager=True),
                "line_no": pl.int_range(batch.first_line, batch.first_line + n, dtype=pl.Int64, eager=True),
                "line": batch.lines,
            }
        )
        source.lines += n
        source.replaced += batch.replaced
        source.end_offset += batch.size
        yield batch, frame


@dataclass
class _FileResult:
    """One file's parsed rows, before its year-less timestamps are settled."""

    source: str
    mtime: float
    tracker: YearTracker
    parts: dict[str, list[pl.DataFrame]]
    unparsed: list[pl.DataFrame]

    def finish(self, settings: Settings) -> tuple[dict[str, pl.DataFrame], list[pl.DataFrame]]:
        """Parts with UTC timestamps and the source column; helper columns dropped."""
        finish = _timestamp_finisher(self.tracker, self.mtime, settings)
        src = pl.lit(self.source).cast(pl.Categorical).alias("source")
        out = {
            key: _finish(pl.concat(frames) if len(frames) > 1 else frames[0], finish, src)
            for key, frames in self.parts.items()
        }
        return out, [_finish(u, finish, src) for u in self.unparsed]


def _collect(
    finished: tuple[dict[str, pl.DataFrame], list[pl.DataFrame]],
    parts: dict[str, list[pl.DataFrame]],
    unparsed: list[pl.DataFrame],
) -> None:
    for key, frame in finished[0].items():
        parts.setdefault(key, []).append(frame)
    unparsed.extend(finished[1])


def _read_one(
    opened: Opened,
    source: SourceStats,
    parser: Parser,
    pool: ThreadPoolExecutor,
    settings: Settings,
    tracker: YearTracker,
) -> _FileResult:
    parts: dict[str, list[pl.DataFrame]] = {}
    unparsed: list[pl.DataFrame] = []
    inflight: deque[Future[BatchResult]] = deque()

    def collect(result: BatchResult) -> None:
        _observe_years(tracker, result)
        for key, frame in result.parts.items():
            parts.setdefault(key, []).append(frame)
        if result.unparsed is not None:
            unparsed.append(result.unparsed)

    for _, frame in _batches(opened, source, settings):
        inflight.append(pool.submit(parser.parse_batch, frame, source=source.path))
        while len(inflight) > settings.jobs:
            collect(inflight.popleft().result())
    while inflight:
        collect(inflight.popleft().result())
    return _FileResult(source.path, opened.mtime, tracker, parts, unparsed)


def _observe_years(tracker: YearTracker, result: BatchResult) -> None:
    frames = [f.select("seq", "_month", "_day") for f in result.parts.values()]
    if result.unparsed is not None:
        frames.append(result.unparsed.select("seq", "_month", "_day"))
    if not frames:
        return
    yearless = pl.concat(frames).filter(pl.col("_month").is_not_null()).sort("seq")
    tracker.observe(yearless["seq"], yearless["_month"], yearless["_day"])


def _timestamp_finisher(
    tracker: YearTracker, mtime: float, settings: Settings
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def finish(frame: pl.DataFrame) -> pl.DataFrame:
        mask = frame["_month"].is_not_null()
        if not mask.any():
            return frame
        years = tracker.years(frame["seq"], mtime=mtime, tz=settings.timezone, year=settings.year)
        naive = compose(pl.col("_year"), pl.col("_month"), pl.col("_day"), pl.col("_tod_us"))
        return (
            frame.with_columns(years.alias("_year"))
            .with_columns(
                pl.when(pl.col("_month").is_not_null())
                .then(naive_to_utc(naive, settings.timezone))
                .otherwise(pl.col("ts"))
                .alias("ts")
            )
            .drop("_year")
        )

    return finish


def _finish(frame: pl.DataFrame, finish: Callable[[pl.DataFrame], pl.DataFrame], src: pl.Expr) -> pl.DataFrame:
    done = finish(frame).drop(*YEARLESS)
    return done.with_columns(src).select("seq", "source", *[c for c in done.columns if c != "seq"])
