"""Bytes from one input, decompressed by magic number, in large blocks.

Compression is recognised by the first bytes, never by the file name
(logrotate's ``delaycompress`` and hand-renamed files make names unreliable):
gzip ``1f 8b``, bzip2 ``BZh``, xz ``fd 37 7a 58 5a 00``; zstd ``28 b5 2f fd`` is
read when the ``zstandard`` module is installed and otherwise refused with a clear
message. Multi-member gzip files (``cat a.gz b.gz``) are read whole.

A damaged or truncated compressed stream yields every byte decoded before the
damage and a warning naming the file; it never raises.
"""

from __future__ import annotations

import bz2
import lzma
import os
import stat
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from .paths import Input, InputError

__all__ = ["BLOCK", "Opened", "open_input"]

#: Compressed or plain bytes read per call (the chunker cuts lines from these).
BLOCK = 8 << 20

GZIP = b"\x1f\x8b"
BZIP2 = b"BZh"
XZ = b"\xfd7zXZ\x00"
ZSTD = b"\x28\xb5\x2f\xfd"


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


@dataclass
class Opened:
    """An input ready to read: its blocks, what it is, and what went wrong."""

    input: Input
    compression: str
    mtime: float
    size: int
    blocks: Iterator[bytes]
    warnings: list[str] = field(default_factory=list)
    #: (device, inode) of a regular file, which another process may read again by its path; else None
    identity: tuple[int, int] | None = None


def _raw_blocks(stream: BinaryIO, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while True:
        data = stream.read(BLOCK)
        if not data:
            return
        yield data


def _decompressed(
    raw: Iterator[bytes], make: Callable[[], _Decompressor], name: str, where: str, warnings: list[str]
) -> Iterator[bytes]:
    """Run ``raw`` through fresh decompressors, member after member."""
    decomp = make()
    fed = False
    try:
        for data in raw:
            while data:
                fed = True
                out = decomp.decompress(data)
                if out:
                    yield out
                if decomp.eof:
                    data = decomp.unused_data
                    decomp = make()
                    fed = False
                    # trailing NUL padding after the last member is allowed
                    if data and not data.strip(b"\x00"):
                        data = b""
                else:
                    data = b""
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        warnings.append(f"{where}: {name} data is damaged ({exc}); read the lines before the damage")
        return
    if fed and not decomp.eof:
        warnings.append(f"{where}: {name} stream is truncated; read the lines before the end of the data")


def _skip(blocks: Iterator[bytes], count: int) -> Iterator[bytes]:
    """``blocks`` without their first ``count`` bytes (resuming inside a compressed file)."""
    for block in blocks:
        if count >= len(block):
            count -= len(block)
            continue
        yield block[count:]
        count = 0


def _zstd() -> Callable[[], _Decompressor] | None:
    try:
        import zstandard
    except ImportError:
        return None

    def make() -> _Decompressor:
        decomp: _Decompressor = zstandard.ZstdDecompressor().decompressobj()
        return decomp

    return make


def open_input(item: Input) -> Opened:
    """Open one input for reading. Raises :class:`InputError` when it cannot be opened."""
    identity = None
    if item.is_stdin:
        stream: BinaryIO = sys.stdin.buffer
        mtime, size = time.time(), 0
    else:
        try:
            stream = open(item.path, "rb")  # noqa: SIM115 - closed by the generator below
            st = os.fstat(stream.fileno())
        except OSError as exc:
            raise InputError(f"{item.path}: {exc.strerror or exc}") from exc
        mtime, size = st.st_mtime, st.st_size
        if stat.S_ISREG(st.st_mode):  # not a FIFO or a process substitution (<(zcat ...)): those read once
            identity = (st.st_dev, st.st_ino)
    first = stream.read(BLOCK)
    warnings: list[str] = []
    where = item.path
    raw = _raw_blocks(stream, first)
    makers: dict[bytes, tuple[str, Callable[[], _Decompressor]]] = {
        GZIP: ("gzip", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)),
        BZIP2: ("bzip2", bz2.BZ2Decompressor),
        XZ: ("xz", lzma.LZMADecompressor),
    }
    compression = "plain"
    blocks: Iterator[bytes] = raw
    for magic, (name, make) in makers.items():
        if first.startswith(magic):
            compression = name
            blocks = _decompressed(raw, make, name, where, warnings)
            break
    else:
        if first.startswith(ZSTD):
            zmake = _zstd()
            if zmake is None:
                raise InputError(f"{where}: zstd-compressed; install the 'zstandard' package or decompress it first")
            compression = "zstd"
            blocks = _decompressed(raw, zmake, "zstd", where, warnings)

    if item.offset:
        if compression == "plain" and not item.is_stdin:
            stream.seek(item.offset)
            blocks = _raw_blocks(stream, b"")
        else:
            blocks = _skip(blocks, item.offset)

    def closing(it: Iterator[bytes]) -> Iterator[bytes]:
        try:
            yield from it
        finally:
            if not item.is_stdin:
                stream.close()

    return Opened(item, compression, mtime, size, closing(blocks), warnings, identity)
