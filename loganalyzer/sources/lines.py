"""Cut decompressed blocks into batches of text lines, fast.

Splitting is done by polars' CSV reader with a field separator byte that does not
occur in the batch, which makes each line one field: it splits on ``\\n``, drops a
``\\r`` before it, and replaces undecodable bytes with U+FFFD in Rust at several
hundred MB/s. Every batch is checked against a plain newline count, and a batch
the trick cannot handle (every candidate separator byte present) is split in
Python instead: nothing is ever dropped.

Undecodable byte sequences are counted (U+FFFD in the output minus the ones that
were literally in the input) and reported per file.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

__all__ = ["BATCH_BYTES", "LineBatch", "split_chunks", "split_lines", "to_batch"]

#: Target size of one batch of lines (the parser's unit of work). Every batch pays fixed costs (each
#: of some sixty regexes compiled again, since polars keeps 32 per thread; a Parquet file per line
#: kind; a few hundred small frame operations): 32 MB batches took 7-15% less worker CPU than 16 MB
#: on the benchmark logs, for a worker peak of 390-415 MB instead of 345 (see reading._parse_chunk).
BATCH_BYTES = 32 << 20

_REPLACEMENT = "\ufffd"
_REPLACEMENT_BYTES = _REPLACEMENT.encode()
_SEPARATORS = [bytes([b]) for b in (*range(1, 9), *range(14, 32))]


@dataclass
class LineBatch:
    """Consecutive lines of one input: ``lines[i]`` is line ``first_line + i``."""

    first_line: int
    lines: pl.Series
    replaced: int  # undecodable byte sequences replaced by U+FFFD
    size: int = 0  # bytes of text the batch was cut from


def _python_split(data: bytes) -> list[str]:
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p[:-1].decode("utf-8", "replace") if p.endswith(b"\r") else p.decode("utf-8", "replace") for p in parts]


def _to_series(data: bytes) -> pl.Series:
    expected = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    sep = next((s for s in _SEPARATORS if s not in data), None)
    if sep is not None:
        frame = pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            separator=sep.decode(),
            quote_char=None,
            new_columns=["line"],
            encoding="utf8-lossy",
            infer_schema=False,
            raise_if_empty=False,
        )
        if frame.width == 1 and frame.height == expected:
            return frame.to_series().fill_null("").alias("line")
    return pl.Series("line", _python_split(data), dtype=pl.String)


def _batch(data: bytes, first_line: int) -> LineBatch:
    lines = _to_series(data)
    found = int(lines.str.count_matches(_REPLACEMENT, literal=True).sum() or 0)
    literal = data.count(_REPLACEMENT_BYTES) if found else 0
    return LineBatch(first_line, lines, max(found - literal, 0), len(data))


def split_chunks(
    blocks: Iterator[bytes], *, batch_bytes: int = BATCH_BYTES, whole_lines: bool = False
) -> Iterator[bytes]:
    """Cut a stream of byte blocks into chunks of about ``batch_bytes`` ending at a newline.

    A chunk ends at the last newline before ``batch_bytes`` (after it, for a
    line longer than that). With ``whole_lines`` a final line that lacks its
    newline is held back (its writer may not be done with it).

    The blocks are kept as they come and joined once per chunk: the cut is
    looked for in the last block, and only its tail is carried over. Growing
    one buffer and slicing chunks off it copied each byte three times, which
    took 0.3 s of the main process's CPU per 190 MB, while the parse workers
    wanted both cores.
    """
    pending: list[bytes] = []
    size = 0
    unended = False  # pending is one line longer than batch_bytes, its newline not seen yet
    for block in blocks:
        pending.append(block)
        size += len(block)
        if unended and b"\n" not in block:
            continue
        while size >= batch_bytes:
            chunk, rest = _cut(pending, size, batch_bytes)
            if chunk is None:  # one very long line: keep reading until it ends
                unended = True
                break
            unended = False
            yield chunk
            pending, size = ([rest], len(rest)) if rest else ([], 0)
    if whole_lines and pending:
        whole = b"".join(pending)
        pending = [whole[: whole.rfind(b"\n") + 1]]
    if any(pending):
        yield b"".join(pending)


def _cut(pending: list[bytes], size: int, batch_bytes: int) -> tuple[bytes | None, bytes]:
    """(chunk, what is left) of ``pending`` (``size`` bytes, at least ``batch_bytes``); chunk None
    when no newline ends a chunk yet."""
    last = pending[-1]
    room = batch_bytes - (size - len(last))  # bytes of the last block that fit in the chunk
    cut = last.rfind(b"\n", 0, room) if room > 0 else -1
    if cut >= 0:  # the usual case: only the last block's tail is copied apart
        head = [*pending[:-1], last[: cut + 1]]
        return b"".join(head), last[cut + 1 :]
    whole = b"".join(pending)
    cut = whole.rfind(b"\n", 0, batch_bytes)
    if cut < 0:
        cut = whole.find(b"\n", batch_bytes)
        if cut < 0:
            pending[:] = [whole]
            return None, b""
    return whole[: cut + 1], whole[cut + 1 :]


def to_batch(data: bytes, first_line: int = 1) -> LineBatch:
    """The lines of one chunk (see :func:`split_chunks`), numbered from ``first_line``."""
    return _batch(data, first_line)


def split_lines(
    blocks: Iterator[bytes], *, batch_bytes: int = BATCH_BYTES, first_line: int = 1, whole_lines: bool = False
) -> Iterator[LineBatch]:
    """Yield line batches of about ``batch_bytes`` from a stream of byte blocks, numbered from ``first_line``."""
    line = first_line
    for data in split_chunks(blocks, batch_bytes=batch_bytes, whole_lines=whole_lines):
        batch = _batch(data, line)
        line += len(batch.lines)
        yield batch
