"""Where one read keeps its parsed event parts: in memory, or as Parquet files.

Small inputs stay in memory. Large ones are *spilled*: each parse worker writes
the parts of its chunk as uncompressed Parquet files into a spill directory and
sends back only their names, so the reading process never holds the events, and
memory does not grow with the log. Queries then scan those files; polars reads
only the columns and kinds a query needs. Uncompressed, because writing it costs
the workers about half as much CPU as lz4/zstd and reading it back is as fast,
while the files stay about half the size of the log text.

A part is one line kind of one grammar family (see :mod:`loganalyzer.parse`); a
piece is what one chunk produced for one part. Pieces whose year-less
timestamps may still be corrected (see :class:`~loganalyzer.timestamps.YearTracker`)
keep the pending columns until :meth:`Store.correct` has run.

The tables built from the events (sessions, messages, attempts...) go into the
spill directory too, a window's rows at a time as they are built
(:meth:`Store.keep`): held in memory they would grow with the log, about 130 MB
per million lines together. Written as lz4 Parquet, as the parse cache keeps
them, which then takes them over with the rest of the directory.

The store also knows which lines (seqs) each chunk holds, so that a query of
one stretch of the log (:meth:`Store.between`) opens only the files of the
chunks in it: the sessions and messages are built a window at a time that way
(:mod:`loganalyzer.windows`).
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .timestamps import PENDING, settle

__all__ = ["BUILT", "LAYOUT", "UNPARSED_PART", "Piece", "Store", "built", "keep", "spilled"]

#: The part name of unparsed lines.
UNPARSED_PART = "unparsed"
#: The folder of a spill directory that holds the tables built from the events, one folder each.
BUILT = "_built"
#: The file of a spill directory handed over (:meth:`Store.move_to`) that says what each part
#: holds: its line kind and the lines of each chunk (:meth:`Store.reopen`).
LAYOUT = "layout.json"


def _file_name(part: str) -> str:
    return part.replace("/", "~")


def _part_name(file_name: str) -> str:
    """The part a folder of the spill directory holds (the inverse of :func:`_file_name`)."""
    return file_name.replace("~", "/")


def spilled(directory: Path, schema: pl.Schema, *, unparsed: bool) -> pl.LazyFrame | None:
    """The event (or unparsed) pieces a spilled store left in ``directory``, as one scan; None if none."""
    parts = [d for d in sorted(directory.iterdir()) if d.is_dir() and d.name != BUILT]
    folders = [d for d in parts if (d.name == UNPARSED_PART) == unparsed]
    files = [str(f) for d in folders for f in sorted(d.glob("*.parquet"))]
    if not files:
        return None
    return pl.scan_parquet(files, schema=schema, missing_columns="insert", extra_columns="ignore")


def built(directory: Path, name: str) -> pl.LazyFrame | None:
    """The table ``name`` that :meth:`Store.keep` wrote in the spill directory ``directory``; None if none."""
    files = sorted((directory / BUILT / name).glob("*.parquet"))
    return pl.scan_parquet(files) if files else None


def keep(frame: pl.DataFrame, directory: str | None, part: str, chunk: int) -> pl.DataFrame | str:
    """Where a worker leaves one piece: written under ``directory`` (returns its path), or the frame itself."""
    if directory is None:
        return frame
    folder = Path(directory) / _file_name(part)
    folder.mkdir(exist_ok=True)
    path = folder / f"{chunk:08d}.parquet"
    frame.write_parquet(path, compression="uncompressed", statistics=False)
    return str(path)


@dataclass
class Piece:
    """What one chunk produced for one part."""

    chunk: int
    data: pl.DataFrame | str
    pending: bool  # yearless lines whose year may still change

    def frame(self) -> pl.DataFrame:
        return self.data if isinstance(self.data, pl.DataFrame) else pl.read_parquet(self.data)


class _Removal:
    """Deletes one spill directory when the process ends, unless it was handed over or deleted before."""

    def __init__(self, path: str) -> None:
        self.path: str | None = path
        atexit.register(self)

    def __call__(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None

    def cancel(self) -> None:
        self.path = None


class Store:
    """The pieces of one read, by part; with ``spill`` on disk in a new directory under ``parent``.

    The spill directory is deleted when the process ends (or by :meth:`remove`),
    unless :meth:`move_to` handed it over. Not when the store is garbage-collected:
    a query of the tables may outlive them (``read(log).sessions.collect()`` drops
    the tables before it collects).
    """

    def __init__(self, *, spill: bool = False, parent: str | None = None) -> None:
        self.pieces: dict[str, list[Piece]] = {}
        #: The line kind of each part's rows, when every piece said the same (else None).
        self.kinds: dict[str, str | None] = {}
        #: The seqs of each chunk's lines, first and last (chunk -> (first, last)).
        self.spans: dict[int, tuple[int, int]] = {}
        self.directory: str | None = None
        self._removal: _Removal | None = None
        if spill:
            # a name the parse cache clears when a crashed run left it behind in its directory
            self.directory = tempfile.mkdtemp(prefix=".tmp-spill-", dir=parent)
            self._removal = _Removal(self.directory)

    def remove(self) -> None:
        """Delete the spill directory now (the tables reading it can no longer be queried)."""
        if self._removal is not None:
            self._removal()

    def move_to(self, target: Path) -> None:
        """Move the spill directory to ``target`` (e.g. into a parse-cache entry), which then owns it."""
        assert self.directory is not None
        old = self.directory
        shutil.move(old, target)  # a rename on one file system
        if self._removal is not None:
            self._removal.cancel()
        self.directory = str(target)
        for pieces in self.pieces.values():
            for piece in pieces:
                if isinstance(piece.data, str):
                    piece.data = str(target / Path(piece.data).relative_to(old))

    def save_layout(self) -> None:
        """Write :data:`LAYOUT` into the spill directory: each part's line kind and each chunk's lines,
        which the directory's files do not say, for :meth:`reopen`."""
        assert self.directory is not None
        layout = {
            "kinds": {_file_name(part): kind for part, kind in self.kinds.items()},
            "spans": {str(chunk): list(span) for chunk, span in self.spans.items()},
        }
        (Path(self.directory) / LAYOUT).write_text(json.dumps(layout, indent=1, sort_keys=True))

    @classmethod
    def reopen(cls, directory: Path) -> Store | None:
        """The store of a spill directory handed over with its :data:`LAYOUT` (a parse-cache entry),
        so that a query of some kinds or of a stretch of the log reads their files only, as in the
        read that wrote it; None without a layout (an entry written before there was one).

        The store does not own the directory (nothing deletes it) and keeps nothing in it:
        :meth:`keep` holds what is built in memory.
        """
        try:
            layout = json.loads((directory / LAYOUT).read_text())
        except FileNotFoundError:
            return None
        store = cls()
        for folder in sorted(d for d in directory.iterdir() if d.is_dir() and d.name != BUILT):
            part = _part_name(folder.name)
            for path in sorted(folder.glob("*.parquet")):
                store.pieces.setdefault(part, []).append(Piece(int(path.stem), str(path), False))
            store.kinds[part] = layout["kinds"].get(folder.name)
        store.spans = {int(chunk): (first, last) for chunk, (first, last) in layout["spans"].items()}
        return store

    def keep(self, name: str, frames: Iterable[pl.DataFrame]) -> pl.LazyFrame:
        """The table ``name`` built from the events, ``frames`` its rows in order (at least one frame).

        A spilling store writes each frame as it comes and scans the files, so that
        only one frame is in memory at a time; otherwise the frames are copied into
        one chunk in memory (polars would copy a many-chunk table each time a
        column is added to it or it is filtered: the detectors do both).
        """
        if self.directory is None:
            return pl.concat(frames, how="vertical", rechunk=True).lazy()
        if not Path(self.directory).is_dir():  # not made again here, where nothing would delete it
            raise FileNotFoundError(f"{self.directory}: the spill directory of these tables is gone (closed)")
        folder = Path(self.directory) / BUILT / name
        shutil.rmtree(folder, ignore_errors=True)  # built again (a table read from a cache and rebuilt)
        folder.mkdir(parents=True)
        written, empty = 0, None
        for frame in frames:
            if frame.is_empty():  # a window whose groups gave no rows
                empty = frame
                continue
            frame.write_parquet(folder / f"{written:05d}.parquet", compression="lz4")
            written += 1
        if not written:  # no rows at all: one empty file gives the columns
            assert empty is not None, f"no frame of {name} to keep"
            empty.write_parquet(folder / "00000.parquet", compression="lz4")
        table = built(Path(self.directory), name)
        assert table is not None
        return table

    def add(self, part: str, piece: Piece, kind: str | None = None) -> None:
        """One more piece of ``part``, whose rows are all of line kind ``kind`` (None: not known)."""
        self.kinds[part] = kind if part not in self.pieces or self.kinds.get(part) == kind else None
        self.pieces.setdefault(part, []).append(piece)

    def span(self, chunk: int, first_seq: int, lines: int) -> None:
        """Chunk ``chunk`` holds the lines ``first_seq`` .. ``first_seq + lines - 1``."""
        if lines:
            self.spans[chunk] = (first_seq, first_seq + lines - 1)

    def correct(self, chunks: dict[int, int], tz: str) -> None:
        """Move the yearless lines of these chunks by so many years (chunk -> years)."""
        if not chunks:
            return
        for pieces in self.pieces.values():
            for piece in pieces:
                years = chunks.get(piece.chunk)
                if not years or not piece.pending:
                    continue
                frame = settle(piece.frame().with_columns(pl.col("_year") + years), tz)
                if isinstance(piece.data, str):
                    frame.write_parquet(piece.data, compression="uncompressed", statistics=False)
                else:
                    piece.data = frame

    def settled(self) -> None:
        """Every year is final: in-memory pieces drop their pending columns."""
        for pieces in self.pieces.values():
            for piece in pieces:
                if piece.pending and isinstance(piece.data, pl.DataFrame):
                    piece.data = piece.data.drop(PENDING, strict=False)
                piece.pending = False

    def lazy(self, parts: list[str], schema: pl.Schema, *, chunks: set[int] | None = None) -> list[pl.LazyFrame]:
        """These parts (of these ``chunks`` only, if given) as LazyFrames: one scan over all their
        files, plus one frame per in-memory part.

        A single scan with the full ``schema`` (columns a file lacks read as null,
        pending ones are ignored) keeps polars from opening hundreds of scans at once.
        """
        chosen = {part: [p for p in self.pieces[part] if chunks is None or p.chunk in chunks] for part in parts}
        files = [p.data for part in parts for p in chosen[part] if isinstance(p.data, str)]
        lazies = []
        if files:
            lazies.append(pl.scan_parquet(files, schema=schema, missing_columns="insert", extra_columns="ignore"))
        for part in parts:
            frames = [p.data for p in chosen[part] if isinstance(p.data, pl.DataFrame)]
            if frames:
                merged = pl.concat(frames, how="diagonal_relaxed", rechunk=False)
                lazies.append(merged.lazy().drop(PENDING, strict=False))
        return lazies

    def _event_parts(self) -> list[str]:
        """The names of the event parts (every part but the unparsed lines')."""
        return [part for part in self.pieces if part != UNPARSED_PART]

    def _event_parts_of(self, kinds: Collection[str]) -> list[str] | None:
        """The names of the event parts of these line ``kinds``; None when some part's kind is not known."""
        parts = self._event_parts()
        if any(self.kinds.get(part) is None for part in parts):
            return None
        return [part for part in parts if self.kinds[part] in kinds]

    def parts(self, schema: pl.Schema) -> list[pl.LazyFrame]:
        """Every event part."""
        return self.lazy(self._event_parts(), schema)

    def of_kinds(self, kinds: Collection[str], schema: pl.Schema) -> list[pl.LazyFrame] | None:
        """The event parts that hold lines of these ``kinds``, as :meth:`lazy` gives them; None when
        some part's kind is not known (then filter all parts).

        A query of a few kinds then opens their files only: one of the postgrey lines read
        the 256 files of the 1.27M-line benchmark log's events in 30-45 ms, its 6 in 3-5 ms.
        """
        parts = self._event_parts_of(kinds)
        return None if parts is None else self.lazy(parts, schema)

    def between(
        self, first: int, last: int, schema: pl.Schema, kinds: Collection[str] | None = None
    ) -> list[pl.LazyFrame] | None:
        """The event parts of the chunks that hold lines ``first`` .. ``last`` (a seq range), as
        :meth:`lazy` gives them; None when some chunk's lines are not known (then filter all parts).

        With ``kinds``, only the parts of those line kinds, when every part's kind is known
        (else every part: the caller filters what it wants). A window of the 1.27M-line
        benchmark log then opens the few files its lines' kinds are in, not its chunks' 90.
        """
        chunks = {p.chunk for pieces in self.pieces.values() for p in pieces}
        if not chunks <= self.spans.keys():
            return None
        inside = {c for c in chunks if self.spans[c][0] <= last and self.spans[c][1] >= first}
        parts = self._event_parts_of(kinds) if kinds is not None else None
        return self.lazy(parts if parts is not None else self._event_parts(), schema, chunks=inside)

    def unparsed(self, schema: pl.Schema) -> list[pl.LazyFrame]:
        return self.lazy([UNPARSED_PART], schema) if UNPARSED_PART in self.pieces else []
