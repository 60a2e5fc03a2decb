"""Read inputs into :class:`~loganalyzer.tables.Tables`.

Inputs are read one after the other, in the order :func:`sources.expand` gives;
each is cut into chunks of whole lines. A chunk's lines are counted here (a
newline count), so every chunk knows its place -- ``seq``, the position of its
first line in the whole input, and that line's number -- before it is parsed.
Chunks are then parsed in parallel: by worker processes (one compiled parser
each, started once) when the input is large, in this process for small inputs
where starting workers would cost more than it saves. The main process keeps
reading and decompressing meanwhile, with at most ``jobs + 1`` chunks in flight.
A worker is handed a chunk of a plain file as its place in the file and reads
it there (:class:`_Slice`); compressed text and standard input go to it whole.

A worker settles its chunk's timestamps to UTC, reading year-less ones in a
provisional year (see :mod:`loganalyzer.timestamps`), and leaves the result in
the :class:`~loganalyzer.store.Store`: in memory, or for large inputs as Parquet
files, so that memory does not grow with the log. When a file ends, the chunks
whose provisional year was wrong (a New Year inside the file) are corrected.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

import polars as pl

from . import allocator
from .parse import Parser
from .schema import EVENTS, UNPARSED
from .settings import Settings
from .sources import Input, expand, open_input, split_chunks, to_batch
from .store import UNPARSED_PART, Piece, Store, keep
from .tables import ReadStats, SourceStats, Tables
from .timestamps import PENDING, ChunkTimes, ChunkYears, YearTracker, provisional_year

__all__ = ["read", "read_inputs"]

#: Below this much text, parsing in this process beats starting worker processes.
PROCESS_THRESHOLD = 48 << 20
#: The smallest batch :func:`batch_size` picks (smaller ones spend more on fixed costs than they share out).
MIN_BATCH = 4 << 20


def read(paths: str | Iterable[str], settings: Settings | None = None, *, parser: Parser | None = None) -> Tables:
    """Read log files (paths, globs, directories, rotated sets, ``-``) into tables.

    >>> tables = read("samples/postfix/scenarios/rapid-retry.log", Settings(timezone="UTC", year=2024, dns=False))
    >>> tables.events.select("kind").unique().collect().height > 3
    True
    """
    settings = settings or Settings()
    items = expand([paths] if isinstance(paths, str) else list(paths), rotated=settings.rotated)
    return read_inputs(items, settings, parser=parser)


@dataclass(frozen=True)
class _Slice:
    """Where a chunk lies in a plain file, for a worker process to read it there.

    Handing a worker a 32 MB chunk through the pool's pipe took 0.1 s of its time
    (pickled, written and read 64 kB at a time, unpickled), and the second worker
    waited for the first one's chunk to go through before its own could; reading
    it from the file, which the system has just cached, takes 0.02 s. This process
    still reads every byte (it finds the chunk's last newline and counts its
    lines), and what it saw travels with the slice, so that a worker can tell
    when the file changed in between (rotated away, truncated and written anew):
    the bytes are then sent after all.
    """

    path: str
    offset: int
    size: int
    identity: tuple[int, int]  # (device, inode) of the file this process read
    lines: int
    head: bytes
    tail: bytes

    #: Bytes of each end of the chunk the worker compares.
    ENDS = 64

    @classmethod
    def of(cls, path: str, offset: int, data: bytes, identity: tuple[int, int], lines: int) -> _Slice:
        return cls(path, offset, len(data), identity, lines, data[: cls.ENDS], data[-cls.ENDS :])

    def read(self) -> bytes | None:
        """The chunk's bytes from the file; None when it no longer holds what this slice describes."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if (st.st_dev, st.st_ino) != self.identity:
                    return None
                f.seek(self.offset)
                data = f.read(self.size)
        except OSError:
            return None
        same = len(data) == self.size and data.startswith(self.head) and data.endswith(self.tail)
        return data if same else None


@dataclass
class _Job:
    """One chunk to parse, with its place and how to settle its timestamps.

    Its text is ``data``, or with ``where`` in a file the worker reads. Not frozen:
    the worker drops ``data`` once the lines are split (its pool keeps the job until
    the call returns, and the text is a chunk's worth of memory).
    """

    data: bytes
    source: str
    chunk: int  # number of the chunk in the whole read
    seq: int  # seq of its first line
    line: int  # line number of its first line
    year: int  # provisional year of its year-less lines
    timezone: str
    spill: str | None  # directory for the pieces, or None to send them back
    where: _Slice | None = None


@dataclass
class _Done:
    """What parsing one chunk gave (``stale``: nothing, the file no longer held the chunk's text)."""

    chunk: int
    first_seq: int
    lines: int
    replaced: int
    size: int
    years: ChunkYears
    pieces: dict[str, tuple[pl.DataFrame | str, bool, str | None]]  # part -> (frame or file, pending, kind)
    stale: bool = False

    @classmethod
    def nothing(cls, job: _Job) -> _Done:
        """The answer for a chunk whose file no longer holds it."""
        return cls(job.chunk, job.seq, 0, 0, 0, ChunkYears(), {}, stale=True)


_WORKER_PARSER: Parser | None = None
EVENTS_SCHEMA = EVENTS.polars()
UNPARSED_SCHEMA = UNPARSED.polars()


def count_lines(data: bytes) -> int:
    """Lines in a chunk, as :func:`~loganalyzer.sources.to_batch` will split them."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _worker_parser() -> Parser:
    """The parser of this worker process, built on first use."""
    global _WORKER_PARSER
    _WORKER_PARSER = _WORKER_PARSER or Parser()
    return _WORKER_PARSER


def _start_worker() -> None:
    """A worker's first task: import and build its parser before its first chunk arrives."""
    _worker_parser()


def _parse_chunk(job: _Job, parser: Parser | None = None) -> _Done:
    """Parse one chunk, settle its times and leave its pieces (runs in a worker or in-process)."""
    parser = parser or _worker_parser()
    data = job.data if job.where is None else job.where.read()
    job.data = b""
    if data is None:
        return _Done.nothing(job)
    size = len(data)
    batch = to_batch(data)
    del data
    n = len(batch.lines)
    if job.where is not None and n != job.where.lines:
        return _Done.nothing(job)
    frame = pl.DataFrame(
        {
            "seq": pl.int_range(job.seq, job.seq + n, dtype=pl.Int64, eager=True),
            "line_no": pl.int_range(job.line, job.line + n, dtype=pl.Int64, eager=True),
            "line": batch.lines,
        }
    )
    times = ChunkTimes(job.year, job.timezone)
    result = parser.parse_batch(frame, source=job.source, times=times)
    frames = dict(result.parts)
    if result.unparsed is not None:
        frames[UNPARSED_PART] = result.unparsed
    source = pl.lit(job.source).cast(pl.Categorical).alias("source")
    pieces: dict[str, tuple[pl.DataFrame | str, bool, str | None]] = {}
    for part, piece in frames.items():
        # year-less lines keep their parts while their year may still change
        pending = bool(piece.get_column("_month").is_not_null().any())
        settled = piece.drop("_local") if pending else piece.drop("_local", *PENDING)
        settled = _conform(settled.with_columns(source), UNPARSED_SCHEMA if part == UNPARSED_PART else EVENTS_SCHEMA)
        pieces[part] = (keep(settled, job.spill, part, job.chunk), pending, _kind_of(settled))
    return _Done(job.chunk, job.seq, n, batch.replaced, size, times.years, pieces)


def _kind_of(piece: pl.DataFrame) -> str | None:
    """The line kind of a part's piece: one grammar's, the same on every row (None: no kind, or no rows)."""
    if "kind" not in piece.columns or piece.is_empty():
        return None
    kind = piece.get_column("kind")
    return str(kind[0]) if kind.n_unique() == 1 else None


def _conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Columns in the table's order and types (pending ones last): every piece of a part reads alike."""
    have = frame.schema
    known = [pl.col(c) if have[c] == schema[c] else pl.col(c).cast(schema[c]) for c in schema if c in have]
    return frame.select(*known, *[c for c in have if c not in schema])


def batch_size(size: int | None, jobs: int, most: int) -> int:
    """Bytes per batch for ``size`` bytes of text (None: unknown) and ``jobs`` workers: ``most``, or
    less so that every worker gets two batches.

    A batch's fixed costs make large batches cheaper a line (``sources.BATCH_BYTES``), but
    with few batches some workers wait: 100 MB in 32 MB batches would keep four of eight
    cores busy. Never below :data:`MIN_BATCH`, unless ``most`` is; an input of unknown
    size (standard input) gets ``most``.
    """
    if size is None:
        return most
    return min(most, max(MIN_BATCH, -(-size // (2 * jobs))))


def _estimated_size(items: list[Input]) -> int | None:
    """Bytes of text the inputs hold, compressed files counted eight times; None with standard input."""
    total = 0
    for item in items:
        if item.is_stdin:
            return None
        try:
            size = os.path.getsize(item.path)
        except OSError:
            continue
        with open(item.path, "rb") as f:
            compressed = f.read(2) in (b"\x1f\x8b", b"BZ", b"\xfd7")
        total += size * (8 if compressed else 1) - item.offset
    return total


def _one_thread() -> None:
    """Worker start: polars on one thread (the workers are the parallelism); set before its pool exists."""
    os.environ["POLARS_MAX_THREADS"] = "1"


@contextmanager
def _executor(settings: Settings, size: int) -> Iterator[tuple[Executor, bool]]:
    """A pool of worker processes for large inputs, else a thread pool in this process."""
    if settings.jobs > 1 and size >= PROCESS_THRESHOLD:
        context = multiprocessing.get_context("spawn")
        with allocator.for_workers():
            pool = ProcessPoolExecutor(max_workers=settings.jobs, mp_context=context, initializer=_one_thread)
            # the pool starts a worker per task while none is idle: one task each starts them all now,
            # and they import and build their parsers while this process reads the first chunks
            for _ in range(settings.jobs):
                pool.submit(_start_worker)
        try:
            yield pool, True
        finally:
            # every chunk is back (or the read failed): the workers exit while this process goes on;
            # waiting for them cost 0.1 s a read (the pool still joins them at interpreter exit)
            pool.shutdown(wait=False, cancel_futures=True)
    else:
        with ThreadPoolExecutor(max_workers=settings.jobs) as threads:
            yield threads, False


def _spill_parent(settings: Settings) -> str | None:
    """Where to spill: ``spill_dir``, else the cache directory (on disk, where ``/tmp`` may be
    memory), else the system's temporary directory (None)."""
    for candidate in (settings.spill_dir, settings.cache_dir):
        if candidate:
            try:
                os.makedirs(candidate, mode=0o700, exist_ok=True)
            except OSError:
                continue
            if os.access(candidate, os.W_OK):
                return candidate
    return None


def read_inputs(items: list[Input], settings: Settings, *, parser: Parser | None = None) -> Tables:
    """Read already-expanded inputs."""
    parser = parser or Parser()
    known = _estimated_size(items)
    size = PROCESS_THRESHOLD if known is None else known  # unknown: assume large enough for workers
    spill = size >= settings.spill_bytes
    store = Store(spill=spill, parent=_spill_parent(settings) if spill else None)
    reader = _Reader(settings, store, batch_size(known, settings.jobs, settings.batch_bytes))
    # Each file's mtime anchors its own year; a --year anchors the last line of
    # the whole input instead, so then one tracker spans every file.
    shared = YearTracker() if settings.year is not None else None
    with _executor(settings, size) as (pool, remote):
        for item in items:
            tracker = shared or YearTracker()
            mtime = reader.read_one(item, pool, None if remote else parser, tracker)
            if shared is None:
                year = provisional_year(mtime, settings.timezone, None)
                fix = tracker.corrections(year, mtime=mtime, tz=settings.timezone, year=None)
                store.correct(fix, settings.timezone)
    if shared is not None:
        fix = shared.corrections(settings.year or 0, mtime=0, tz=settings.timezone, year=settings.year)
        store.correct(fix, settings.timezone)
    store.settled()
    allocator.give_back()  # what the chunks took: the tables' peaks come later
    return Tables(store=store, stats=reader.stats)


class _Reader:
    """Reads inputs chunk by chunk, numbering lines across all of them."""

    def __init__(self, settings: Settings, store: Store, batch_bytes: int) -> None:
        self.settings = settings
        self.store = store
        self.batch_bytes = batch_bytes
        self.stats = ReadStats()
        self.seq = 0
        self.chunk = 0

    def read_one(self, item: Input, pool: Executor, parser: Parser | None, tracker: YearTracker) -> float:
        """Parse one input into the store (``parser`` None: in the worker processes); returns its mtime."""
        settings = self.settings
        opened = open_input(item)
        source = SourceStats(
            item.path,
            opened.compression,
            first_seq=self.seq,
            start_offset=item.offset,
            end_offset=item.offset,
            first_line=item.first_line,
        )
        self.stats.sources.append(source)
        year = provisional_year(opened.mtime, settings.timezone, settings.year)
        # a worker process reads a plain file's chunks itself (a chunk handed to it goes through a pipe)
        identity = opened.identity if parser is None and opened.compression == "plain" else None
        inflight: deque[tuple[Future[_Done], _Job, bytes | None]] = deque()
        line = item.first_line
        offset = item.offset

        def collect(done: _Done) -> None:
            source.lines += done.lines
            source.replaced += done.replaced
            source.end_offset += done.size
            tracker.add(done.chunk, done.years)
            self.store.span(done.chunk, done.first_seq, done.lines)
            for part, (data, pending, kind) in done.pieces.items():
                self.store.add(part, Piece(done.chunk, data, pending), kind)

        def finish(future: Future[_Done], job: _Job, data: bytes | None) -> None:
            done = future.result()
            if done.stale:  # the file changed since this process read it: send what it read
                assert data is not None, "only a chunk read by reference is stale, and its text is kept"
                done = pool.submit(_parse_chunk, replace(job, data=data, where=None), parser).result()
            collect(done)

        for data in split_chunks(opened.blocks, batch_bytes=self.batch_bytes, whole_lines=item.whole_lines):
            n = count_lines(data)
            where = _Slice.of(item.path, offset, data, identity, n) if identity else None
            offset += len(data)
            job = _Job(
                b"" if where else data, source.path, self.chunk, self.seq, line, year, settings.timezone,
                self.store.directory, where,
            )  # fmt: skip
            # kept for a chunk read by reference until it is parsed (the file may change); the pool keeps the others
            inflight.append((pool.submit(_parse_chunk, job, parser), job, data if where else None))
            self.chunk += 1
            self.seq += n
            line += n
            while len(inflight) > settings.jobs:
                finish(*inflight.popleft())
        while inflight:
            finish(*inflight.popleft())
        source.warnings.extend(opened.warnings)
        return opened.mtime
