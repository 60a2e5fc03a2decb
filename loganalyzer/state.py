"""Where the nightly report stopped reading, so the next run starts there.

A log file is known by a *fingerprint* (sha256 of its first line, decompressed)
and by its device and inode. The fingerprint follows the text through logrotate's
renames and compression (``mail.log`` -> ``mail.log.1`` -> ``mail.log.2.gz`` keeps
its first line but not its inode once gzipped); the inode tells a truncated file
(copytruncate: same inode, new first line) from a new one.

The state file (``state.json`` in the state directory) holds, per configured log
base name, one record for every file the last run read: identity, size, and the
byte offset (in decompressed text) and line number where reading stopped.
:func:`plan` compares these records with the files present now and decides what
to read; it is pure, so every rotation case is tested without sleeping or
rotating real logs.

The state is written atomically (temp file + rename) and only by the caller,
after the report went out; :func:`locked` keeps two runs from overlapping.
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import fcntl
import gzip
import hashlib
import io
import json
import lzma
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .sources import Input
from .sources.readers import BZIP2, GZIP, XZ, ZSTD

__all__ = [
    "SYSTEM_STATE_DIR",
    "FileId",
    "FileRecord",
    "LockedError",
    "Plan",
    "PlannedRead",
    "State",
    "StateError",
    "atomic_write",
    "identify",
    "load",
    "locked",
    "plan",
    "resolve_state_dir",
    "save",
    "user_state_dir",
]

#: Where a system-wide job keeps its state (the Debian/FHS place for it).
SYSTEM_STATE_DIR = "/var/lib/loganalyzer"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
VERSION = 1
#: The fingerprint covers the first line, or this many bytes of a longer one.
FINGERPRINT_BYTES = 4096


class StateError(UserError):
    """The state directory or file cannot be used."""


class LockedError(StateError):
    """Another run holds the lock of the state directory."""


@dataclass(frozen=True)
class FileId:
    """What identifies one log file now: where it is, what it is, how it starts."""

    path: str
    dev: int
    inode: int
    size: int  # bytes on disk (compressed bytes for a compressed file)
    mtime: float
    compression: str  # plain, gzip, bzip2, xz or zstd
    fingerprint: str | None  # None while the first line is not finished (or the file is empty)

    @property
    def plain(self) -> bool:
        return self.compression == "plain"


@dataclass(frozen=True)
class FileRecord:
    """One file as the last run left it: its identity then, and where reading stopped."""

    path: str
    dev: int
    inode: int
    size: int
    mtime: float
    compression: str
    fingerprint: str | None
    offset: int  # bytes of (decompressed) text read, up to the end of the last whole line
    line: int  # number of the next line to read

    @classmethod
    def after(cls, file: FileId, *, offset: int, line: int) -> FileRecord:
        return cls(file.path, file.dev, file.inode, file.size, file.mtime, file.compression, file.fingerprint,
                   offset, line)  # fmt: skip


@dataclass
class State:
    """Every tracked log base name (absolute path) and its file records; how many runs committed."""

    logs: dict[str, list[FileRecord]] = field(default_factory=dict)
    runs: int = 0

    def to_json(self) -> str:
        logs = {base: [asdict(r) for r in records] for base, records in sorted(self.logs.items())}
        return json.dumps({"version": VERSION, "runs": self.runs, "logs": logs}, indent=2) + "\n"


@dataclass(frozen=True)
class PlannedRead:
    """One file to read, from where, and why (the reason is shown in the report)."""

    file: FileId
    offset: int
    line: int
    reason: str

    def input(self) -> Input:
        """The reading layer's input: plain files stop at the last whole line (it may be written to)."""
        return Input(self.file.path, offset=self.offset, first_line=self.line, whole_lines=self.file.plain)


@dataclass
class Plan:
    """What to read of one rotated set, and what the report should say about it."""

    base: str
    reads: list[PlannedRead] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- identity ---------------------------------------------------------------------


def _open_text(path: str, head: bytes) -> io.BufferedIOBase:
    """The file's decompressed bytes (only the beginning is ever read)."""
    if head.startswith(GZIP):
        return gzip.open(path, "rb")
    if head.startswith(BZIP2):
        return bz2.open(path, "rb")
    if head.startswith(XZ):
        return lzma.open(path, "rb")
    if head.startswith(ZSTD):
        import zstandard  # the reading layer refuses zstd without it, so does this

        opened: io.BufferedIOBase = zstandard.open(path, "rb")
        return opened
    return open(path, "rb")


def _compression(head: bytes) -> str:
    for magic, name in ((GZIP, "gzip"), (BZIP2, "bzip2"), (XZ, "xz"), (ZSTD, "zstd")):
        if head.startswith(magic):
            return name
    return "plain"


def fingerprint(first: bytes) -> str | None:
    """sha256 of the first line (newline included), or of its first 4 KiB; None if unfinished."""
    cut = first.find(b"\n", 0, FINGERPRINT_BYTES)
    if cut >= 0:
        return hashlib.sha256(first[: cut + 1]).hexdigest()
    if len(first) >= FINGERPRINT_BYTES:
        return hashlib.sha256(first[:FINGERPRINT_BYTES]).hexdigest()
    return None


def identify(path: str) -> FileId:
    """Identity of one file. Raises :class:`StateError` when it cannot be read."""
    try:
        with open(path, "rb") as raw:
            st = os.fstat(raw.fileno())
            first = raw.read(FINGERPRINT_BYTES)
    except OSError as exc:
        raise StateError(f"{path}: {exc.strerror or exc}") from None
    compression = _compression(first)
    if compression != "plain":
        try:
            with _open_text(path, first) as text:
                first = text.read(FINGERPRINT_BYTES)
        except (OSError, EOFError, lzma.LZMAError, ImportError):
            pass  # damaged (or zstd without its module): the raw bytes still tell the file apart
    return FileId(path, st.st_dev, st.st_ino, st.st_size, st.st_mtime, compression, fingerprint(first))


# --- planning ---------------------------------------------------------------------


def _same_file(file: FileId, record: FileRecord) -> bool:
    return (file.dev, file.inode) == (record.dev, record.inode)


def _match(file: FileId, records: list[FileRecord]) -> FileRecord | None:
    """The record of this file: same first line, or (first line unknown then) same plain inode."""
    for record in records:
        if file.fingerprint is not None and file.fingerprint == record.fingerprint:
            return record
    for record in records:
        if record.fingerprint is None and file.plain and record.compression == "plain" and _same_file(file, record):
            return record
    return None


def plan(base: str, records: list[FileRecord], members: list[FileId]) -> Plan:
    """Decide what to read of a rotated set (``members`` oldest first, the live file last).

    * no records (first run): the live file from its start; older rotated files
      are left alone (``loganalyzer scan`` reads them);
    * a file whose record matches resumes at the stored offset (a plain file
      now shorter than that offset was truncated and is read from the start);
      a compressed file already read to its end is skipped;
    * a file newer than the oldest matched one and without a record is new
      (rotated in, or the live file after copytruncate): read from the start;
      files older than every matched one were there before tracking began;
    * when no file matches any record (every file read last time is gone), the
      files changed since the last read are read from the start, and always the
      live file;
    * two files with the same first line (``mail.log.1`` and ``mail.log.1.gz``
      after an interrupted compression) are the same text: only the first is read.
    """
    out = Plan(base)
    if not members:
        return out
    if not records:
        live = members[-1]
        out.reads.append(PlannedRead(live, 0, 1, "first run, from the start"))
        older = len(members) - 1
        if older:
            out.notes.append(
                f"first run for {base}: read the live file from its start; {older} older rotated file(s) "
                "left alone (loganalyzer scan reads them)"
            )
        return out
    seen: set[str] = set()
    matched: list[tuple[FileId, FileRecord | None]] = []
    for file in members:
        if file.fingerprint is not None and file.fingerprint in seen:
            out.notes.append(f"{file.path} starts like a file already read (a copy?); skipped")
            continue
        if file.fingerprint is not None:
            seen.add(file.fingerprint)
        matched.append((file, _match(file, records)))
    first = next((i for i, (_, record) in enumerate(matched) if record is not None), None)
    newest = max(r.mtime for r in records)
    if first is None:
        out.notes.append(f"{base}: none of the files read last time is left; read the files changed since then")
    for i, (file, record) in enumerate(matched):
        if record is not None:
            read = _resume(file, record, out.notes)
            if read is not None:
                out.reads.append(read)
            continue
        is_live = i == len(matched) - 1
        if first is not None and i < first:
            continue  # older than anything tracked
        if first is None and file.mtime <= newest and not is_live:
            continue
        truncated = next((r for r in records if r.compression == "plain" and _same_file(file, r)), None)
        if truncated is not None and file.plain:
            reason = "copytruncate, from the start"
            out.notes.append(f"{file.path} was truncated since the last run; read from the start")
        else:
            reason = "new file, from the start"
        out.reads.append(PlannedRead(file, 0, 1, reason))
    return out


def _resume(file: FileId, record: FileRecord, notes: list[str]) -> PlannedRead | None:
    renamed = file.path != record.path
    if not file.plain:
        if record.compression == file.compression and record.size == file.size and _same_file(file, record):
            return None  # read to its end already, and compressed files do not grow
        how = "rotated, resumed" if renamed else "compressed, resumed"
        return PlannedRead(file, record.offset, record.line, how)
    if file.size < record.offset:
        notes.append(f"{file.path} is shorter than where the last run stopped (truncated); read from the start")
        return PlannedRead(file, 0, 1, "truncated, from the start")
    if renamed:
        notes.append(f"{record.path} was rotated to {file.path} since the last run; finished it")
        return PlannedRead(file, record.offset, record.line, "rotated, resumed")
    return PlannedRead(file, record.offset, record.line, "resumed")


# --- persistence ------------------------------------------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dirfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


def load(state_dir: Path) -> State:
    """The state left by the last successful run (empty before the first)."""
    path = state_dir / STATE_FILE
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return State()
    except OSError as exc:
        raise StateError(f"{path}: {exc.strerror or exc}") from None
    except ValueError:
        data = None
    try:
        if data["version"] != VERSION:
            raise StateError(f"{path}: state version {data['version']} is not {VERSION}; move it away to start over")
        logs = {base: [FileRecord(**r) for r in records] for base, records in data["logs"].items()}
        return State(logs, runs=int(data.get("runs", 0)))
    except (TypeError, KeyError, AttributeError):
        raise StateError(
            f"{path} is damaged; move it away to start over (the next run then reads the live file from its start)"
        ) from None


def save(state: State, state_dir: Path) -> None:
    """Write the state atomically."""
    try:
        atomic_write(state_dir / STATE_FILE, state.to_json().encode())
    except OSError as exc:
        raise StateError(f"{state_dir / STATE_FILE}: cannot write the state: {exc.strerror or exc}") from None


@contextlib.contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """Hold the state directory's lock (``flock``; released when the process ends, even by a crash)."""
    path = state_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"{path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StateError(f"{path}: {exc.strerror or exc}") from None
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            message = f"another loganalyzer report is running{who}: {path} is locked; this run did nothing"
            raise LockedError(message) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


# --- where ------------------------------------------------------------------------


def user_state_dir(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/loganalyzer``, else ``~/.local/state/loganalyzer``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "loganalyzer"


def _usable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def resolve_state_dir(
    explicit: str | Path | None, *, system: str | Path | None = None, user: Path | None = None
) -> Path:
    """The state directory: ``explicit`` (created if missing), else ``system`` when writable, else ``user``.

    ``system`` defaults to :data:`SYSTEM_STATE_DIR`, ``user`` to :func:`user_state_dir`.
    """
    system = SYSTEM_STATE_DIR if system is None else system
    if explicit is not None:
        directory = Path(explicit)
        if not _usable(directory):
            raise StateError(f"state directory {directory} cannot be created or written")
        return directory
    for directory in (Path(system), user or user_state_dir()):
        if _usable(directory):
            return directory
    raise StateError(f"neither {system} nor {user or user_state_dir()} can be written; give --state-dir")
