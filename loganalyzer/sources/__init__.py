"""Where lines come from: files, globs, rotated sets, compressed files, stdin.

``expand`` turns user paths into ordered :class:`Input` items; ``open_input``
opens one (decompressing by magic bytes); ``split_lines`` cuts its bytes into
batches of lines that keep their line numbers.
"""

from __future__ import annotations

from .lines import BATCH_BYTES, LineBatch, split_chunks, split_lines, to_batch
from .paths import STDIN, Input, InputError, expand
from .readers import Opened, open_input

__all__ = [
    "BATCH_BYTES",
    "STDIN",
    "Input",
    "InputError",
    "LineBatch",
    "Opened",
    "expand",
    "open_input",
    "split_chunks",
    "split_lines",
    "to_batch",
]
