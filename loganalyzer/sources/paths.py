"""Turn what the user typed into an ordered list of inputs.

* ``-`` is standard input;
* a glob (``/var/log/mail.log*``) expands to the files it matches;
* a directory expands to every rotated set inside it;
* a base name (``/var/log/mail.log``) expands to its rotated set: ``mail.log.3.gz``,
  ``mail.log.2.gz``, ``mail.log.1``, ``mail.log`` (or dated ``mail.log-20240301.gz``
  siblings), oldest first, unless ``rotated=False``.

Rotated sets are read oldest first so that lines come in time order.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

__all__ = ["STDIN", "Input", "InputError", "expand"]

STDIN = "-"

#: ``base`` then ``.N`` or ``-YYYYMMDD`` (logrotate ``dateext``), then a compression suffix.
_ROTATED = re.compile(r"^(?P<base>.+?)(?:\.(?P<n>[0-9]+)|-(?P<date>[0-9]{8,10}))(?:\.(?:gz|bz2|xz|zst))?$")


class InputError(UserError):
    """An input cannot be read (missing, unreadable, a directory with no files...)."""


@dataclass(frozen=True)
class Input:
    """One file (or standard input) to read, as the user will see it named.

    ``offset`` (bytes of decompressed text) and ``first_line`` let an incremental
    reader resume where it stopped; ``whole_lines`` leaves a last line without
    its newline (still being written) for the next run.
    """

    path: str
    offset: int = 0
    first_line: int = 1
    whole_lines: bool = False

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN


def _rotation_key(path: Path) -> tuple[int, int, str]:
    """Sort key putting older rotations first and the live file last."""
    m = _ROTATED.match(path.name)
    if not m:
        return (2, 0, path.name)
    if m.group("n") is not None:
        return (0, -int(m.group("n")), path.name)
    return (1, int(m.group("date")), path.name)


def _rotated_set(base: Path) -> list[Path]:
    """``base`` and its rotated siblings, oldest first."""
    siblings = []
    if base.parent.is_dir():
        for p in base.parent.iterdir():
            m = _ROTATED.match(p.name)
            if m and m.group("base") == base.name and p.is_file():
                siblings.append(p)
    members = sorted(siblings, key=_rotation_key)
    if base.is_file():
        members.append(base)
    return members


def _order(paths: list[Path]) -> list[Path]:
    """Group files into rotated sets (by base name) and put each set oldest first."""
    groups: dict[str, list[Path]] = {}
    for p in paths:
        m = _ROTATED.match(p.name)
        base = str(p.parent / m.group("base")) if m else str(p)
        groups.setdefault(base, []).append(p)
    out: list[Path] = []
    for base in sorted(groups):
        out.extend(sorted(groups[base], key=_rotation_key))
    return out


def expand(paths: list[str], *, rotated: bool = True) -> list[Input]:
    """Expand user paths into inputs, in reading order.

    Raises :class:`InputError` for a path that does not exist, a glob that
    matches nothing, or a directory without files.
    """
    out: list[Input] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        if p not in seen:
            seen.add(p)
            out.append(Input(p))

    for raw in paths:
        if raw == STDIN:
            add(STDIN)
            continue
        path = Path(raw)
        if glob.has_magic(raw) and not path.exists():
            matches = [Path(m) for m in glob.glob(raw) if Path(m).is_file()]
            if not matches:
                raise InputError(f"{raw}: no file matches this pattern")
            for p in _order(matches):
                add(str(p))
        elif path.is_dir():
            files = [p for p in path.iterdir() if p.is_file()]
            if not files:
                raise InputError(f"{raw}: directory holds no files")
            for p in _order(files):
                add(str(p))
        elif path.is_file():
            members = _rotated_set(path) if rotated and not _ROTATED.match(path.name) else [path]
            for p in members:
                add(str(p))
        elif path.exists():
            raise InputError(f"{raw}: not a regular file")
        else:
            raise InputError(f"{raw}: no such file or directory")
    for item in out:
        if not item.is_stdin and not os.access(item.path, os.R_OK):
            raise InputError(f"{item.path}: permission denied (on Debian, mail logs are readable by group adm)")
    return out
