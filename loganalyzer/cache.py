"""The parse cache: the tables of an earlier read of the same, unchanged logs.

Parsing is most of a scan's time. An admin who scans the same files again --
with other detector settings, or a cron job that looks at last week's rotated
files once more -- gets the tables of the first read back instead: events,
sessions, messages and unparsed lines as :meth:`Tables.write` writes them,
with the session index, attempts, client map and census the first scan built
from them, so a cached scan only runs the detectors and the report.

An entry is found by a key over everything that decides what reading produces:

* every input in reading order: the path as given (the ``source`` column and
  the evidence keep it, and ``show`` opens the file by it), the resolved path,
  size, mtime in nanoseconds and a fingerprint (blake2b of the size and the
  first and last 64 KiB: cheap on a 200 MB file, and it notices a file
  rewritten with its size and mtime restored);
* the settings that change the rows: ``year`` and ``timezone`` (the inputs
  already reflect ``rotated``; ``jobs`` and the batch size change only speed);
* the loganalyzer and polars versions and a digest of the reading code and
  grammars, so an upgrade or an edited grammar never reuses old rows.

Standard input and reads that resume at an offset (the nightly report's) are
never cached. A log still being written, such as the live ``mail.log``, changes
between runs, so a scan that includes it reads again.

Entries are written under a temporary name in the cache directory and renamed
into place, so an interrupted run or two concurrent scans never leave half an
entry that a later run trusts. An entry is checked before use (key, file sizes,
Parquet footers); one that fails, or fails while the detectors read it, is
deleted and the logs are read again. The least recently used entries go when
the cache outgrows its budget. Nothing here fails a scan: every problem becomes
a message for standard error, and the scan reads the logs as if there were no
cache.

Tables are written as lz4 Parquet after the detectors ran, so the tables they
derived are stored too. lz4 rather than polars' default zstd: on the 1.27M-line
benchmark log the derived tables take 39 MB instead of 22 MB, and writing them
0.43 s instead of 0.61 s, reading them 0.29 s instead of 0.35 s (uncompressed:
91 MB, 0.33 s and 0.27 s). A large read
(see :mod:`loganalyzer.store`) has already written its lines as uncompressed
Parquet while parsing, in a spill directory made inside the cache directory,
and the tables it built from them as lz4 Parquet beside them
(:meth:`~loganalyzer.store.Store.keep`): the entry takes those files over with
a rename (``events.d/``), trading disk space (about 0.8 bytes per byte of log)
for those seconds of the first scan.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import polars as pl

from .reading import read_inputs
from .settings import Settings
from .sources import Input
from .store import BUILT
from .tables import SPILLED, Tables

__all__ = ["FORMAT", "FileState", "Key", "ParseCache", "code_digest", "file_state", "source_digest", "through_cache"]

T = TypeVar("T")

#: Version of the entry layout; part of every key.
FORMAT = 1

#: Bytes at each end of a file that its fingerprint covers.
FINGERPRINT_BYTES = 64 << 10

#: A temporary or half-deleted directory older than this (seconds) was abandoned by a run that died.
STALE = 6 * 3600

#: What reading or writing an entry can raise (a Rust panic in polars is no ``Exception``).
IO_ERRORS = (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException)

KEY_FILE = "key.json"
MANIFEST = "manifest.json"
_ENTRY = re.compile(r"^[0-9a-f]{32}$")
_TEMP = (".tmp-", ".del-")
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by loganalyzer (parsed mail-log tables).\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


@dataclass(frozen=True)
class FileState:
    """One input as the key sees it."""

    path: str  # as given: the tables name their source by it
    resolved: str
    size: int
    mtime_ns: int
    fingerprint: str


def file_state(path: str) -> FileState:
    """Size, mtime and fingerprint of ``path`` (raises ``OSError``)."""
    resolved = os.path.realpath(path)
    with open(resolved, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path}: not a regular file")
        digest = hashlib.blake2b(st.st_size.to_bytes(8, "little"), digest_size=16)
        digest.update(f.read(FINGERPRINT_BYTES))
        if st.st_size > FINGERPRINT_BYTES:
            f.seek(max(FINGERPRINT_BYTES, st.st_size - FINGERPRINT_BYTES))
            digest.update(f.read(FINGERPRINT_BYTES))
    return FileState(path, resolved, st.st_size, st.st_mtime_ns, digest.hexdigest())


def source_digest(directories: Iterable[Path]) -> str:
    """A digest of the ``*.py`` files directly in ``directories`` (names and contents)."""
    digest = hashlib.blake2b(digest_size=16)
    for directory in directories:
        for path in sorted(directory.glob("*.py")):
            digest.update(f"{directory.name}/{path.name}\0".encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"unreadable")
    return digest.hexdigest()


@cache
def code_digest() -> str:
    """A digest of the code that turns log bytes into tables: the package's modules, sources and grammars.

    Every top-level module counts, not only parse, reading and sessions: over-
    invalidating after an edit costs one parse, while missing a module that
    shapes the rows would reuse stale ones. ``detectors/`` and ``report/`` run on
    every scan anyway and are left out.
    """
    from . import grammars, sources

    package = Path(__file__).resolve().parent
    return source_digest([package, Path(sources.__file__).resolve().parent, Path(grammars.__file__).resolve().parent])


@cache
def _version() -> str:
    try:
        return metadata.version("loganalyzer")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Key:
    """What an entry was read from and with; ``name`` is the entry's directory."""

    inputs: tuple[FileState, ...]
    text: str  # canonical JSON of everything the key covers

    @property
    def name(self) -> str:
        return hashlib.blake2b(self.text.encode(), digest_size=16).hexdigest()

    @classmethod
    def of(cls, items: list[Input], settings: Settings) -> Key | None:
        """The key of reading ``items`` with ``settings``; None when that read is not cached."""
        if not items or any(i.is_stdin or i.offset or i.first_line != 1 or i.whole_lines for i in items):
            return None
        try:
            inputs = tuple(file_state(i.path) for i in items)
        except OSError:
            return None  # reading will say what is wrong with the file
        what = {
            "format": FORMAT,
            "loganalyzer": _version(),
            "polars": pl.__version__,
            "code": code_digest(),
            "year": settings.year,
            "timezone": settings.timezone,
            "inputs": [asdict(s) for s in inputs],
        }
        return cls(inputs, json.dumps(what, sort_keys=True, separators=(",", ":")))

    def unchanged(self) -> bool:
        """Whether every input is still as the key says (a log appended to while it was read is not)."""
        try:
            return all(file_state(s.path) == s for s in self.inputs)
        except OSError:
            return False


class _Damaged(Exception):
    """An entry that cannot be trusted."""


class ParseCache:
    """One cache directory: entries named by their key, plus temporary directories being written."""

    def __init__(self, root: Path, max_bytes: int, messages: list[str] | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.messages = messages if messages is not None else []  # for standard error

    @classmethod
    def open(cls, settings: Settings, messages: list[str]) -> ParseCache | None:
        """The cache ``settings`` names, created if needed; None (and a message) when it cannot be used."""
        if settings.cache_dir is None:
            messages.append("no directory for the parse cache (set cache_dir or $XDG_CACHE_HOME); reading without it")
            return None
        root = Path(settings.cache_dir).expanduser()
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            tag = root / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text(_TAG)
            if not os.access(root, os.W_OK | os.X_OK):
                raise PermissionError(f"{root}: not writable")
        except OSError as exc:
            messages.append(f"cannot use the parse cache {root} ({exc.strerror or exc}); reading without it")
            return None
        return cls(root, settings.cache_max_mb << 20, messages)

    # -- finding ---------------------------------------------------------------

    def load(self, key: Key) -> tuple[Tables, str] | None:
        """The tables of ``key``'s entry and a line saying so, or None (a damaged entry is deleted)."""
        entry = self.root / key.name
        if not entry.is_dir():
            return None
        try:
            created = self._check(entry, key)
            tables = Tables.load(entry)
        except (_Damaged, ValueError, KeyError, TypeError, *IO_ERRORS) as exc:
            self.discard(key, str(exc) or type(exc).__name__)
            return None
        with contextlib.suppress(OSError):
            os.utime(entry / MANIFEST)  # its mtime is the entry's last use
        parsed = datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M")
        return tables, f"reused parsed tables from {entry} (parsed {parsed}, files unchanged; --no-cache reads again)"

    @staticmethod
    def _check(entry: Path, key: Key) -> float:
        """When a complete entry for ``key`` was written; raises for anything else."""
        manifest = json.loads((entry / MANIFEST).read_text())
        if (entry / KEY_FILE).read_text() != key.text:
            raise _Damaged("its key does not match")
        files = manifest["files"]
        moved = any(name.startswith(f"{SPILLED}/") for name in files)  # a spilled read's own files
        for name in ("sessions", "messages") if moved else ("events", "sessions", "messages", "unparsed"):
            kept = f"{SPILLED}/{BUILT}/{name}/"  # built while reading, moved with the spilled pieces
            if f"{name}.parquet" not in files and not any(f.startswith(kept) for f in files):
                raise _Damaged(f"no {name}.parquet")
        for name, size in files.items():
            path = entry / name
            if path.stat().st_size != size:
                raise _Damaged(f"{name} is {path.stat().st_size} bytes, not {size}")
            if name.endswith(".parquet"):
                pl.read_parquet_schema(path)  # a truncated or overwritten file has no valid footer
        return float(manifest["created"])

    def discard(self, key: Key, why: str) -> None:
        """Delete ``key``'s entry, which turned out unusable, and say so."""
        entry = self.root / key.name
        self._remove(entry)
        self.messages.append(f"cache entry {entry} was unusable ({why}); deleted it and reading the logs again")

    # -- writing ---------------------------------------------------------------

    def store(self, key: Key, tables: Tables) -> Path | None:
        """Write ``tables`` as ``key``'s entry (atomically), then evict beyond the budget."""
        if not key.unchanged():
            return None  # the rows are not what the key describes; the next run reads again anyway
        entry = self.root / key.name
        temp: Path | None = None
        try:
            temp = Path(tempfile.mkdtemp(prefix=f"{_TEMP[0]}{key.name}-", dir=self.root))
            tables.write(temp, derived=True, move_spill=True, compression="lz4")
            (temp / KEY_FILE).write_text(key.text)
            files = {str(p.relative_to(temp)): p.stat().st_size for p in sorted(temp.rglob("*")) if p.is_file()}
            manifest = {"created": time.time(), "loganalyzer": _version(), "files": files, "bytes": sum(files.values())}
            (temp / MANIFEST).write_text(json.dumps(manifest, indent=1))
            try:
                temp.rename(entry)
            except OSError:
                if not entry.is_dir():
                    raise
                shutil.rmtree(temp, ignore_errors=True)  # a concurrent scan stored the same entry first
            temp = None
        except IO_ERRORS as exc:
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)
            self.messages.append(f"could not write the parse cache in {self.root} ({exc}); the scan is not affected")
            return None
        self.evict(keep=entry)
        return entry if entry.is_dir() else None

    # -- evicting --------------------------------------------------------------

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, path) of every entry, least recently used first."""
        found = []
        for child in self.root.iterdir():
            if not _ENTRY.match(child.name) or not child.is_dir():
                continue
            try:
                manifest = child / MANIFEST
                used = manifest.stat().st_mtime
                size = int(json.loads(manifest.read_text())["bytes"])
            except (OSError, ValueError, KeyError, TypeError):
                used, size = 0.0, _du(child)  # damaged: first to go
            found.append((used, size, child))
        return sorted(found, key=lambda e: (e[0], e[2].name))

    def evict(self, *, keep: Path | None = None) -> None:
        """Delete least recently used entries until the cache fits its budget, and abandoned temporary directories.

        ``keep`` (the entry just written) goes last: only when it alone is over
        the budget, with a message, as keeping it would crowd out everything else.
        """
        try:
            now = time.time()
            for child in self.root.iterdir():
                if child.name.startswith(_TEMP) and child.is_dir() and now - child.stat().st_mtime > STALE:
                    shutil.rmtree(child, ignore_errors=True)
            entries = self.entries()
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if total <= self.max_bytes:
                return
            if path != keep:
                self._remove(path)
                total -= size
        kept = next((size for _, size, path in entries if path == keep), 0)
        if kept > self.max_bytes and keep is not None:
            self._remove(keep)
            self.messages.append(
                f"parsed tables of these logs ({kept / 2**20:.0f} MiB) exceed the parse cache budget "
                f"({self.max_bytes >> 20} MiB, setting cache_max_mb); not kept"
            )

    def _remove(self, entry: Path) -> None:
        """Delete an entry: renamed away first, so no reader finds it half deleted."""
        gone = self.root / f"{_TEMP[1]}{entry.name}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            entry.rename(gone)
        except OSError:
            return  # already gone (a concurrent run evicted it)
        shutil.rmtree(gone, ignore_errors=True)


def _du(path: Path) -> int:
    total = 0
    for child in path.rglob("*"):
        with contextlib.suppress(OSError):
            total += child.stat().st_size if child.is_file() else 0
    return total


def through_cache(items: list[Input], settings: Settings, use: Callable[[Tables], T]) -> tuple[T, list[str]]:
    """``use(tables)`` on the tables of ``items``: reloaded when the cache has them, else read and then stored.

    Returns what ``use`` returned and the messages for standard error. ``use``
    runs before the tables are stored, so the sessions and messages it made
    are stored with them. When ``use`` fails on cached tables with an I/O or
    polars error (a damaged file the checks could not see), the entry is
    deleted and the logs are read and used again.
    """
    messages: list[str] = []
    store = ParseCache.open(settings, messages)
    key = Key.of(items, settings) if store is not None else None
    if store is not None and key is not None:
        found = store.load(key)
        if found is not None:
            tables, line = found
            try:
                result = use(tables)
            except IO_ERRORS as exc:
                store.discard(key, f"{type(exc).__name__}: {exc}")
            else:
                messages.append(line)
                return result, messages
    # a large read spills its parsed lines next to the entries: storing them is then a rename
    tables = read_inputs(items, settings.replace(spill_dir=str(store.root)) if store is not None else settings)
    result = use(tables)
    if store is not None and key is not None:
        store.store(key, tables)
    return result, messages
