"""Read inputs into :class:`~loganalyzer.tables.Tables`.

Inputs are read one after the other, in the order :func:`sources.expand` gives;
each is cut into chunks of whole lines that are parsed in parallel: by worker
processes (one compiled parser each, started once) when the input is large, in
this process for small inputs where starting workers would cost more than it
saves. The main process keeps reading and decompressing meanwhile. Results come
back in order and get their place: ``seq``, the position of the line in the
whole input, and its line number. When a file ends, the year of its year-less
timestamps is settled and the timestamps are converted to UTC.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl

from .parse import BatchResult, Parser
from .settings import Settings
from .sources import Input, Opened, expand, open_input, split_chunks, to_batch
from .tables import ReadStats, SourceStats, Tables
from .timestamps import YEARLESS, YearTracker, compose, naive_to_utc

__all__ = ["read", "read_inputs"]

#: Below this much text, parsing in this process beats starting worker processes.
PROCESS_THRESHOLD = 48 << 20


def read(paths: str | Iterable[str], settings: Settings | None = None, *, parser: Parser | None = None) -> Tables:
    """Read log files (paths, globs, directories, rotated sets, ``-``) into tables.

    >>> tables = read("samples/postfix/scenarios/rapid-retry.log", Settings(timezone="UTC", year=2024, dns=False))
    >>> tables.events.select("kind").unique().collect().height > 3
    True
    """
    settings = settings or Settings()
    items = expand([paths] if isinstance(paths, str) else list(paths), rotated=settings.rotated)
    return read_inputs(items, settings, parser=parser)


@dataclass
class _Chunk:
    """What parsing one chunk of lines gave, numbered from 0 (seq) and 1 (line_no)."""

    result: BatchResult
    lines: int
    replaced: int
    size: int


_WORKER_PARSER: Parser | None = None


def _parse_chunk(data: bytes, source: str, parser: Parser | None = None) -> _Chunk:
    """Split ``data`` into lines and parse them (runs in a worker or in-process)."""
    global _WORKER_PARSER
    if parser is None:
        _WORKER_PARSER = _WORKER_PARSER or Parser()
        parser = _WORKER_PARSER
    batch = to_batch(data)
    n = len(batch.lines)
    frame = pl.DataFrame(
        {
            "seq": pl.int_range(0, n, dtype=pl.Int64, eager=True),
            "line_no": pl.int_range(1, n + 1, dtype=pl.Int64, eager=True),
            "line": batch.lines,
        }
    )
    return _Chunk(parser.parse_batch(frame, source=source), n, batch.replaced, len(data))


def _estimated_size(items: list[Input]) -> int:
    total = 0
    for item in items:
        if item.is_stdin:
            return PROCESS_THRESHOLD  # unknown: assume large
        try:
            size = os.path.getsize(item.path)
        except OSError:
            continue
        with open(item.path, "rb") as f:
            compressed = f.read(2) in (b"\x1f\x8b", b"BZ", b"\xfd7")
        total += size * (8 if compressed else 1) - item.offset
    return total


@contextmanager
def _executor(settings: Settings, items: list[Input], parser: Parser) -> Iterator[tuple[Executor, bool]]:
    """A pool of worker processes for large inputs, else a thread pool in this process."""
    if settings.jobs > 1 and _estimated_size(items) >= PROCESS_THRESHOLD:
        # each worker runs polars on one thread: the workers are the parallelism
        previous = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = "1"
        context = multiprocessing.get_context("spawn")
        try:
            with ProcessPoolExecutor(max_workers=settings.jobs, mp_context=context) as pool:
                yield pool, True
        finally:
            if previous is None:
                os.environ.pop("POLARS_MAX_THREADS", None)
            else:
                os.environ["POLARS_MAX_THREADS"] = previous
    else:
        with ThreadPoolExecutor(max_workers=settings.jobs) as threads:
            yield threads, False


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
    pending: list[_FileResult] = []
    with _executor(settings, items, parser) as (pool, remote):
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
            result = _read_one(opened, source, None if remote else parser, pool, settings, shared or YearTracker())
            source.warnings.extend(opened.warnings)
            seq += source.lines
            pending.append(result)
            if shared is None:
                _collect(result.finish(settings), parts, unparsed)
                pending.clear()
    for result in pending:
        _collect(result.finish(settings), parts, unparsed)
    merged = [pl.concat(frames) if len(frames) > 1 else frames[0] for frames in parts.values()]
    return Tables(merged, unparsed, stats)


def _placed(result: BatchResult, seq: int, line: int) -> BatchResult:
    """``result`` moved to its place: seq counts from ``seq``, line numbers from ``line``."""
    shift = [pl.col("seq") + seq, pl.col("line_no") + (line - 1)]
    parts = {key: frame.with_columns(shift) for key, frame in result.parts.items()}
    unparsed = result.unparsed.with_columns(shift) if result.unparsed is not None else None
    return BatchResult(parts, unparsed)


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
    parser: Parser | None,
    pool: Executor,
    settings: Settings,
    tracker: YearTracker,
) -> _FileResult:
    """Parse one input chunk by chunk (``parser`` None: in the worker processes)."""
    parts: dict[str, list[pl.DataFrame]] = {}
    unparsed: list[pl.DataFrame] = []
    inflight: deque[Future[_Chunk]] = deque()
    item = opened.input

    def collect(chunk: _Chunk) -> None:
        result = _placed(chunk.result, source.first_seq + source.lines, item.first_line + source.lines)
        source.lines += chunk.lines
        source.replaced += chunk.replaced
        source.end_offset += chunk.size
        _observe_years(tracker, result)
        for key, frame in result.parts.items():
            parts.setdefault(key, []).append(frame)
        if result.unparsed is not None:
            unparsed.append(result.unparsed)

    for data in split_chunks(opened.blocks, batch_bytes=settings.batch_bytes, whole_lines=item.whole_lines):
        inflight.append(pool.submit(_parse_chunk, data, source.path, parser))
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
        yearless = bool(frame["_month"].is_not_null().any())
        local = bool(frame["_local"].is_not_null().any())
        if not yearless and not local:
            return frame
        tz = settings.timezone
        ts = pl.col("ts")
        if local:
            ts = pl.when(pl.col("_local").is_not_null()).then(naive_to_utc(pl.col("_local"), tz)).otherwise(ts)
        if yearless:
            years = tracker.years(frame["seq"], mtime=mtime, tz=tz, year=settings.year)
            frame = frame.with_columns(years.alias("_year"))
            naive = compose(pl.col("_year"), pl.col("_month"), pl.col("_day"), pl.col("_tod_us"))
            ts = pl.when(pl.col("_month").is_not_null()).then(naive_to_utc(naive, tz)).otherwise(ts)
        return frame.with_columns(ts.alias("ts")).drop("_year", strict=False)

    return finish


def _finish(frame: pl.DataFrame, finish: Callable[[pl.DataFrame], pl.DataFrame], src: pl.Expr) -> pl.DataFrame:
    done = finish(frame).drop(*YEARLESS)
    return done.with_columns(src).select("seq", "source", *[c for c in done.columns if c != "seq"])
