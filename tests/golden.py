"""Golden files: tables as NDJSON, one row per line, only the non-null values.

Readable diffs are the point: a change in a grammar or a correlation rule shows
up as the exact rows and fields that changed. Run ``pytest --update-golden`` to
rewrite the files after checking the diff is what you meant.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def to_ndjson(frame: pl.DataFrame) -> str:
    """Rows as sorted-key JSON lines with nulls and empty lists left out."""
    lines = []
    for row in frame.iter_rows(named=True):
        clean = {k: _plain(v) for k, v in row.items() if v is not None and v != []}
        lines.append(json.dumps(clean, sort_keys=True, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


def check(path: Path, frame: pl.DataFrame, *, update: bool) -> None:
    """Compare ``frame`` with the golden NDJSON file (or write it when updating)."""
    check_text(path, to_ndjson(frame), update=update, unit="row")


def check_text(path: Path, text: str, *, update: bool, unit: str = "line") -> None:
    """Compare text (a rendered report, NDJSON rows) with its golden file, or write it when updating."""
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not update:
            raise AssertionError(f"{path} did not exist; written now - check it and commit it")
        return
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        got, want = text.splitlines(), expected.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        raise AssertionError(
            f"{path.name} differs from golden at {unit} {first + 1} ({len(got)} {unit}s now, {len(want)} golden)\n"
            f"  now:    {got[first] if first < len(got) else '<none>'}\n"
            f"  golden: {want[first] if first < len(want) else '<none>'}\n"
            "run pytest --update-golden if the change is intended"
        )
