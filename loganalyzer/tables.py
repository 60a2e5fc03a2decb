"""The result of reading logs: the four tables and what reading them was like.

Events are kept as *parts*, one per line kind, each with only the columns its
grammar fills: a wide table of ~100 mostly-null columns would cost far more
memory than the lines themselves. :attr:`Tables.events` presents the parts as one
LazyFrame with the full :data:`~loganalyzer.schema.EVENTS` schema; polars pushes
column selections into the parts, so a query that reads five columns never
builds the others.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Final, Literal

import polars as pl

from .schema import EVENTS, UNPARSED, Table
from .store import Store, built, spilled
from .windows import WINDOW_LINES, Windows

__all__ = ["ENGINE", "ReadStats", "SourceStats", "Tables", "align", "our_engine"]

#: Where :meth:`Tables.write` puts the Parquet files of a spilled read it adopts.
SPILLED = "events.d"

#: Parquet compressions polars writes.
ParquetCompression = Literal["lz4", "uncompressed", "snappy", "gzip", "brotli", "zstd"]

#: Tables derived from the events that :meth:`Tables.write` keeps when asked (the parse cache does).
DERIVED = ("session_lines", "attempts", "census")

#: File name (without suffix) of the client maps :meth:`Tables.write` keeps, one ``settings_key`` each.
CLIENT_MAPS = "client_maps"

#: The polars engine of loganalyzer's own queries. On these narrow, join-heavy
#: queries polars 2's in-memory engine used about a third less CPU and a fifth
#: less peak memory than its default streaming engine (1M-line benchmark log).
ENGINE: Final = "in-memory"


def our_engine() -> pl.Config:
    """Context in which ``collect()`` uses :data:`ENGINE` (the caller's default is restored after)."""
    return pl.Config(engine_affinity=ENGINE)


def align(frame: pl.LazyFrame | pl.DataFrame, table: Table) -> pl.LazyFrame:
    """``frame`` with exactly ``table``'s columns, in order and type (missing ones null)."""
    lazy = frame.lazy()
    have = lazy.collect_schema()
    cols = []
    for name, dtype in table.polars().items():
        if name in have:
            cols.append(pl.col(name) if have[name] == dtype else pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return lazy.select(cols)


@dataclass
class SourceStats:
    """Reading one input."""

    path: str
    compression: str = "plain"
    lines: int = 0
    replaced: int = 0
    first_seq: int = 0
    start_offset: int = 0  # bytes of text skipped (an incremental read resumes there)
    end_offset: int = 0  # bytes of text consumed, up to the end of the last line read
    first_line: int = 1  # line number of the first line read
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReadStats:
    """Reading all inputs."""

    sources: list[SourceStats] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(s.lines for s in self.sources)

    @property
    def replaced(self) -> int:
        return sum(s.replaced for s in self.sources)

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.sources for w in s.warnings]


def _lines_of(sessions: pl.LazyFrame, index: pl.DataFrame) -> pl.DataFrame:
    """(seq, session_id, kind) of the index lines whose session made a row, in the index's order:
    each session's lines together, in seq order.

    Not put in seq order as a whole: no reader needs it (they pick lines by kind or
    session), and the sort held 140 MB for a moment on a 5M-line log.
    """
    kept = sessions.select("session_id").collect().get_column("session_id")
    return index.select("seq", "session_id", "kind").filter(pl.col("session_id").is_in(kept.implode()))


def _written(where: Path, name: str) -> pl.LazyFrame | None:
    """Table ``name`` as :meth:`Tables.write` left it in ``where``; None when it is not there.

    Built while reading and moved with the spilled pieces
    (:meth:`Store.keep <loganalyzer.store.Store.keep>`), else one Parquet or Arrow IPC file.
    """
    moved = where / SPILLED
    kept = built(moved, name) if moved.is_dir() else None
    if kept is not None:
        return kept
    parquet, arrow = where / f"{name}.parquet", where / f"{name}.arrow"
    if parquet.exists():
        return pl.scan_parquet(parquet)
    if arrow.exists():
        return pl.scan_ipc(arrow)
    return None


class Tables:
    """Events, sessions, messages and unparsed lines of one read, as LazyFrames.

    ``sessions`` and ``messages`` are derived from ``events`` on first use and
    kept, so every detector sees the same rows: in the spill directory when the
    read spilled (:meth:`Store.keep <loganalyzer.store.Store.keep>`), else in memory.
    """

    def __init__(
        self,
        parts: list[pl.DataFrame] | None = None,
        unparsed: list[pl.DataFrame] | None = None,
        stats: ReadStats | None = None,
        *,
        lazy_parts: list[pl.LazyFrame] | None = None,
        store: Store | None = None,
    ) -> None:
        self._parts = [p.lazy() for p in parts or []] + list(lazy_parts or [])
        self._unparsed = [u.lazy() for u in unparsed or []]
        #: Whether every event part is the store's (then a window of the log reads only its chunks' files).
        self._store_only = not self._parts
        if store is not None:
            self._parts += store.parts(EVENTS.polars())
            self._unparsed += store.unparsed(UNPARSED.polars())
        self.store = store  # keeps a spill directory alive while these tables are
        self.stats = stats or ReadStats()
        #: Lines of the log per window when sessions and messages are built (0: in one pass; see :mod:`.windows`).
        self.window_lines = WINDOW_LINES
        #: Client maps built on these tables (``networks.ClientMap`` frames), by the settings that shaped
        #: each (``ClientMap.settings_key``): the parse cache stores them with the tables.
        self.client_maps: dict[str, pl.LazyFrame] = {}

    @cached_property
    def events(self) -> pl.LazyFrame:
        """One row per recognised line (see :data:`loganalyzer.schema.EVENTS`)."""
        if not self._parts:
            return align(pl.DataFrame(schema=EVENTS.polars()), EVENTS)
        return align(pl.concat(self._parts, how="diagonal_relaxed"), EVENTS)

    def close(self) -> None:
        """Delete the spill directory of a large read now, not when the process ends: these tables
        (and any query of them) cannot be read afterwards. Nothing to do for a read held in memory."""
        if self.store is not None:
            self.store.remove()

    @property
    def _chunked(self) -> Store | None:
        """The store, when every event part is its own: a stretch of the log is then read chunk by chunk."""
        return self.store if self._store_only else None

    def events_of(self, *kinds: str) -> pl.LazyFrame:
        """The events of these line kinds, reading only the parts that hold them when the store knows
        each part's kind (a read's own store does; tables loaded from disk filter every part)."""
        parts = self._chunked.of_kinds(kinds, EVENTS.polars()) if self._chunked else None
        return self._events_in(parts, pl.col("kind").is_in(list(kinds)))

    def events_between(self, first: int, last: int, kinds: Collection[str] | None = None) -> pl.LazyFrame:
        """The events of lines ``first`` .. ``last`` (seqs), reading only the chunks that hold them when it
        can; with ``kinds``, only the parts of those kinds when the store knows them (other kinds may come
        too: a caller that wants only these filters them)."""
        parts = self._chunked.between(first, last, EVENTS.polars(), kinds) if self._chunked else None
        return self._events_in(parts, pl.col("seq").is_between(first, last))

    def _events_in(self, parts: list[pl.LazyFrame] | None, wanted: pl.Expr) -> pl.LazyFrame:
        """The events ``wanted`` of the store's ``parts`` (those that may hold them); None: of every part."""
        if parts is None:
            return self.events.filter(wanted)
        if not parts:
            return align(pl.DataFrame(schema=EVENTS.polars()), EVENTS)
        return align(pl.concat(parts, how="diagonal_relaxed"), EVENTS).filter(wanted)

    def windows(self) -> Windows:
        """How sessions and messages read the events: :attr:`window_lines` at a time, in whole chunks."""
        cuts = tuple(first for first, _ in self._chunked.spans.values()) if self._chunked else ()
        return Windows(self.events, self.events_between, self.window_lines, cuts)

    @cached_property
    def unparsed(self) -> pl.LazyFrame:
        """Lines no grammar matched (see :data:`loganalyzer.schema.UNPARSED`)."""
        if not self._unparsed:
            return align(pl.DataFrame(schema=UNPARSED.polars()), UNPARSED)
        return align(pl.concat(self._unparsed, how="diagonal_relaxed"), UNPARSED)

    @cached_property
    def census(self) -> pl.DataFrame:
        """Lines per (kind, daemon, host), with the first and last time among them.

        One pass over the events answers every count the summary and the
        detectors' availability checks ask for (kinds, daemons, hosts, time span).
        polars' streaming engine counts file by file: the in-memory one first
        read the four columns of every line (5M-line log: 430 MB more and 0.6 s,
        against 2 MB and 0.3 s).
        """
        return (
            self.events.group_by("kind", "daemon", "host")
            .agg(pl.len().alias("lines"), pl.col("ts").min().alias("first_ts"), pl.col("ts").max().alias("last_ts"))
            .collect(engine="streaming")
        )

    def counts_by(self, column: str) -> dict[str | None, int]:
        """Lines per value of ``kind``, ``daemon`` or ``host`` (None: lines without one)."""
        totals = self.census.group_by(column).agg(pl.col("lines").sum())
        return {None if k is None else str(k): int(n) for k, n in totals.iter_rows()}

    @cached_property
    def daemons(self) -> frozenset[str]:
        """The daemons (last part of the syslog tag) that wrote the lines of this read."""
        return frozenset(d for d in self.counts_by("daemon") if d is not None)

    @property
    def has_exim(self) -> bool:
        """Whether Exim wrote any of the lines (its correlation is skipped otherwise)."""
        from .exim_sessions import EXIM_DAEMONS

        return not self.daemons.isdisjoint(EXIM_DAEMONS)

    @property
    def has_postfix(self) -> bool:
        """Whether Postfix (or any modelled program but Exim) wrote a line (its correlation is skipped otherwise)."""
        from .grammars import DAEMONS

        return any(DAEMONS.get(d) not in (None, "exim") for d in self.daemons)

    @cached_property
    def _session_index(self) -> pl.DataFrame:
        """Every session line (:func:`~loganalyzer.sessions.build_session_lines`); dropped once the
        sessions and :attr:`session_lines` are built from it."""
        from .sessions import build_session_lines

        with our_engine():
            return build_session_lines(self.events_of, exim=self.has_exim, postfix=self.has_postfix)

    @cached_property
    def sessions(self) -> pl.LazyFrame:
        """One row per SMTP connection (see :data:`loganalyzer.schema.SESSIONS`)."""
        from .sessions import SESSION_EVENT_KINDS, build_sessions

        exim, postfix = self.has_exim, self.has_postfix

        def build(events: pl.LazyFrame, lines: pl.DataFrame) -> pl.LazyFrame:
            return build_sessions(events, lines.lazy(), exim=exim, postfix=postfix)

        index = self._session_index
        with our_engine():
            sessions = self._keep("sessions", self.windows().build(index, "session_id", build, SESSION_EVENT_KINDS))
            if "session_lines" not in self.__dict__:
                self.__dict__["session_lines"] = self._keep("session_lines", [_lines_of(sessions, index)])
        del self.__dict__["_session_index"]  # its work is done: ~55 bytes a line, free it
        return sessions

    @cached_property
    def session_lines(self) -> pl.LazyFrame:
        """(seq, session_id, kind) of every line that belongs to a session; a session's lines are
        together, in seq order."""
        if "sessions" not in self.__dict__:
            self.sessions  # noqa: B018 -- builds the session lines with the sessions
            return self.__dict__["session_lines"]
        with our_engine():  # sessions read from a cache without their lines
            lines = self._keep("session_lines", [_lines_of(self.sessions, self._session_index)])
        del self.__dict__["_session_index"]
        return lines

    @cached_property
    def messages(self) -> pl.LazyFrame:
        """One row per queue-id lifecycle (see :data:`loganalyzer.schema.MESSAGES`)."""
        from .sessions import build_messages

        with our_engine():
            messages = build_messages(
                self.events, self.sessions, exim=self.has_exim, postfix=self.has_postfix, windows=self.windows()
            )
            return self._keep("messages", messages)

    @cached_property
    def attempts(self) -> pl.LazyFrame:
        """Every RCPT outcome, per client, sender and recipient (see :mod:`loganalyzer.rcpt_outcomes`)."""
        from .rcpt_outcomes import build_attempts

        with our_engine():
            # its rejections are the events it reads: of those alone the files are opened
            return self._keep("attempts", [build_attempts(self.events_of("reject"), self.messages)])

    def _keep(self, name: str, frames: Iterable[pl.DataFrame]) -> pl.LazyFrame:
        """A table built from the events, its rows ``frames``: where the store keeps it (see :meth:`Store.keep`)."""
        return (self.store or Store()).keep(name, frames)

    def table(self, name: str) -> pl.LazyFrame:
        """A table by name: events, sessions, messages or unparsed."""
        if name not in ("events", "sessions", "messages", "unparsed"):
            raise KeyError(name)
        frame: pl.LazyFrame = getattr(self, name)
        return frame

    def kind_counts(self) -> Counter[str]:
        """Lines per event kind."""
        return Counter({str(k): n for k, n in self.counts_by("kind").items()})

    @classmethod
    def load(cls, directory: str | Path) -> Tables:
        """Tables written by :meth:`write` (Parquet or Arrow IPC), read lazily."""
        where = Path(directory)
        frames: dict[str, pl.LazyFrame] = {}
        moved = where / SPILLED
        # written with move_spill: the pieces of a spilled read, part by part when their layout says what each
        # holds (then a query of a few kinds reads their files only), else as one scan (an older entry)
        store = Store.reopen(moved) if moved.is_dir() else None
        if moved.is_dir() and store is None:
            for name, table in (("events", EVENTS), ("unparsed", UNPARSED)):
                scan = spilled(moved, table.polars(), unparsed=name == "unparsed")
                frames[name] = scan if scan is not None else align(pl.DataFrame(), table)
        for name in ("sessions", "messages") if store is not None else ("events", "sessions", "messages", "unparsed"):
            found = frames.get(name)
            if found is None:
                found = _written(where, name)
            if found is None:
                raise FileNotFoundError(f"{where}: no {name}.parquet or {name}.arrow (written by loganalyzer parse -o)")
            frames[name] = found
        stats = ReadStats()
        info = where / "sources.json"
        if info.exists():
            stats.sources = [SourceStats(**s) for s in json.loads(info.read_text())]
        if store is not None:
            tables = cls(stats=stats, store=store)
        else:
            tables = cls(lazy_parts=[frames["events"]], stats=stats)
            tables._unparsed = [frames["unparsed"]]
        tables.__dict__["sessions"] = frames["sessions"]
        tables.__dict__["messages"] = frames["messages"]
        for name in DERIVED:  # written with derived=True; else rebuilt from the events on first use
            derived = _written(where, name)
            if derived is not None:
                tables.__dict__[name] = derived
        if "census" in tables.__dict__:  # a DataFrame, not a LazyFrame
            tables.__dict__["census"] = tables.__dict__["census"].collect()
        maps = where / f"{CLIENT_MAPS}.parquet"
        if maps.exists():
            scan = pl.scan_parquet(maps)
            keys = scan.select(pl.col("settings_key").unique()).collect().to_series().to_list()
            tables.client_maps = {k: scan.filter(pl.col("settings_key") == k).drop("settings_key") for k in keys}
        return tables

    def write(
        self,
        directory: str | Path,
        *,
        fmt: str = "parquet",
        derived: bool = False,
        move_spill: bool = False,
        compression: ParquetCompression = "zstd",
    ) -> list[Path]:
        """Write every table to ``directory`` as Parquet or Arrow IPC; returns the files.

        ``sources.json`` beside them keeps what reading was like (compression,
        line counts, warnings) for :meth:`load`. ``derived`` also writes the
        :data:`DERIVED` tables and the client maps built so far, which
        :meth:`load` then uses instead of rebuilding them from the events (about
        two seconds per million lines together; the parse cache keeps them).
        ``move_spill`` moves the Parquet files of a spilled read into
        ``directory/events.d`` instead of writing the events again (the parse
        cache: a rename instead of seconds of encoding), with the tables built
        from them so far (:meth:`Store.keep <loganalyzer.store.Store.keep>`);
        these tables then read them there. ``compression`` is that of the Parquet files written.
        """
        if fmt not in ("parquet", "arrow"):
            raise ValueError(f"unknown format {fmt!r}: parquet or arrow")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "sources.json").write_text(json.dumps([asdict(s) for s in self.stats.sources], indent=1))
        frames = {name: self.table(name) for name in ("events", "sessions", "messages", "unparsed")}
        if derived:
            frames |= {name: self.__dict__[name].lazy() for name in DERIVED if name in self.__dict__}
            if self.client_maps:
                frames[CLIENT_MAPS] = pl.concat(
                    [m.with_columns(pl.lit(k).alias("settings_key")) for k, m in sorted(self.client_maps.items())]
                )
        written = []
        if move_spill and fmt == "parquet" and self.store is not None and self.store.directory is not None:
            del frames["events"], frames["unparsed"]  # the spilled pieces themselves
            for name in self._kept():  # and the tables built from them
                frames.pop(name, None)
            self.store.move_to(out / SPILLED)
            self.store.save_layout()
            self._reopen()
            written.extend(sorted((out / SPILLED).rglob("*.parquet")))
            # the rest was built before the move, in memory: safe to write after it
        for name, frame in frames.items():
            path = out / f"{name}.{fmt}"
            if fmt == "parquet":
                frame.sink_parquet(path, compression=compression)
            else:
                frame.sink_ipc(path)
            written.append(path)
        return written

    def _kept(self) -> dict[str, pl.LazyFrame]:
        """The tables built so far that the store keeps on disk, as they are there now."""
        if self.store is None or self.store.directory is None:
            return {}
        where = Path(self.store.directory)
        found = {name: built(where, name) for name in ("sessions", "messages", *DERIVED)}
        return {name: table for name, table in found.items() if table is not None}

    def _reopen(self) -> None:
        """Scan the store's pieces and the tables it keeps where they are now (after :meth:`Store.move_to`)."""
        assert self.store is not None and self.store.directory is not None
        self._parts = self.store.parts(EVENTS.polars())
        self._unparsed = self.store.unparsed(UNPARSED.polars())
        for name in ("events", "unparsed"):
            self.__dict__.pop(name, None)
        self.__dict__.update(self._kept())
