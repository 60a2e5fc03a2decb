"""The benchmark's log files: written once from a generator, then reused while their name matches.

A file's name records everything that decides its bytes (MTA, generator
version, seed, size and the generator's options), so a later run with the same
options reuses it instead of spending a minute generating it again, and a run
with other options never reads a stale one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from .exim import iter_exim_lines
from .postfix import iter_postfix_lines

__all__ = [
    "DEFAULT_LINES",
    "GENERATOR_VERSIONS",
    "MTAS",
    "EximOptions",
    "GeneratedLog",
    "count_arrivals",
    "count_lines",
    "ensure_log",
    "generate_exim",
    "generate_postfix",
    "write_log",
]

#: Bump an MTA's version when its generated text changes, so that cached files are not reused.
GENERATOR_VERSIONS = {"postfix": 1, "exim": 1}
#: Issue 5's protocol log: about 1.3M lines and 190 MB of Postfix syslog (150 bytes a line).
DEFAULT_LINES = 1_270_000
MTAS = ("postfix", "exim")


@dataclass(frozen=True)
class GeneratedLog:
    """A generated (or reused) log file."""

    path: Path
    lines: int
    bytes: int
    seconds: float = 0.0  # time spent generating; 0 when reused

    @property
    def avg_line_bytes(self) -> float:
        return self.bytes / self.lines if self.lines else 0.0


@dataclass(frozen=True)
class EximOptions:
    """When the simulated Exim is upgraded to 4.97 and gains the extra selectors (hours; ``None``: never)."""

    upgrade_hours: float | None = 4.0
    extras_hours: float | None = 12.0

    def tag(self) -> str:
        def hours(value: float | None) -> str:
            return "never" if value is None else f"{value:g}h"

        return f"u{hours(self.upgrade_hours)}-x{hours(self.extras_hours)}"


def write_log(
    path: str | Path, stream: Iterable[str], lines: int | None, *, size_bytes: int | None = None
) -> GeneratedLog:
    """Write ``lines`` lines of ``stream`` (or lines until ``size_bytes``) to ``path``, newline-terminated."""
    if lines is None and size_bytes is None:
        raise ValueError("give lines or size_bytes")
    began = time.perf_counter()
    path = Path(path)
    count = written = 0
    source: Iterator[str] = iter(stream) if lines is None else islice(stream, lines)
    with path.open("w", encoding="ascii", newline="\n") as fh:
        chunk: list[str] = []
        for line in source:
            chunk.append(line)
            written += len(line) + 1
            count += 1
            if len(chunk) >= 8192:
                fh.write("\n".join(chunk) + "\n")
                chunk.clear()
            if size_bytes is not None and written >= size_bytes:
                break
        if chunk:
            fh.write("\n".join(chunk) + "\n")
    return GeneratedLog(path, count, written, time.perf_counter() - began)


def generate_postfix(
    path: str | Path,
    lines: int | None = DEFAULT_LINES,
    seed: int = 1,
    *,
    size_bytes: int | None = None,
    hosts: int = 1,
) -> GeneratedLog:
    """Write ``lines`` lines (or lines up to ``size_bytes``) of synthetic Postfix log to ``path``."""
    return write_log(path, iter_postfix_lines(seed, hosts=hosts), lines, size_bytes=size_bytes)


def generate_exim(
    path: str | Path,
    lines: int | None = DEFAULT_LINES,
    seed: int = 1,
    *,
    size_bytes: int | None = None,
    options: EximOptions | None = None,
) -> GeneratedLog:
    """Write ``lines`` lines (or lines up to ``size_bytes``) of synthetic Exim mainlog to ``path``."""
    options = options or EximOptions()
    stream = iter_exim_lines(seed, upgrade_hours=options.upgrade_hours, extras_hours=options.extras_hours)
    return write_log(path, stream, lines, size_bytes=size_bytes)


def count_lines(path: str | Path) -> int:
    """Newlines in ``path``."""
    n = 0
    with open(path, "rb") as fh:
        while block := fh.read(16 << 20):
            n += block.count(b"\n")
    return n


def count_arrivals(path: str | Path) -> int:
    """Exim ``<=`` lines in ``path``: the messages a report tool should count as received."""
    n = 0
    carry = b""
    with open(path, "rb") as fh:
        while block := fh.read(16 << 20):
            block = carry + block
            cut = block.rfind(b"\n") + 1
            n += block.count(b" <= ", 0, cut)
            carry = block[cut:]
    return n + carry.count(b" <= ")


def log_name(mta: str, *, lines: int | None, size_mb: float | None, seed: int, hosts: int, exim: EximOptions) -> str:
    """The file name that identifies a generated log's contents."""
    size = f"{size_mb:g}MB" if size_mb is not None else f"{lines}lines"
    name = f"{mta}-v{GENERATOR_VERSIONS[mta]}-seed{seed}-{size}"
    if mta == "postfix" and hosts != 1:
        name += f"-{hosts}hosts"
    if mta == "exim":
        name += "-" + exim.tag()
    return name + ".log"


def ensure_log(
    workdir: str | Path,
    *,
    mta: str = "postfix",
    lines: int | None = DEFAULT_LINES,
    size_mb: float | None = None,
    seed: int = 1,
    hosts: int = 1,
    exim: EximOptions | None = None,
) -> GeneratedLog:
    """The benchmark log in ``workdir``: generated once, reused while its name matches the parameters."""
    if mta not in MTAS:
        raise ValueError(f"unknown MTA {mta!r}; choose one of {', '.join(MTAS)}")
    exim = exim or EximOptions()
    directory = Path(workdir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / log_name(mta, lines=lines, size_mb=size_mb, seed=seed, hosts=hosts, exim=exim)
    if path.is_file():
        return GeneratedLog(path, count_lines(path), path.stat().st_size)
    partial = path.with_suffix(".part")
    size_bytes = int(size_mb * 1_000_000) if size_mb is not None else None
    count = None if size_bytes else lines
    if mta == "postfix":
        made = generate_postfix(partial, count, seed, size_bytes=size_bytes, hosts=hosts)
    else:
        made = generate_exim(partial, count, seed, size_bytes=size_bytes, options=exim)
    os.replace(partial, path)
    return GeneratedLog(path, made.lines, made.bytes, made.seconds)
