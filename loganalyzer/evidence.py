"""Fetch the raw lines behind a finding, so an admin can check the accusation."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from typing import Any

from .settings import Settings
from .sources import Input, open_input, split_lines

__all__ = ["evidence_lines", "normalise_network"]


def normalise_network(text: str, settings: Settings) -> str:
    """``198.51.100.7/24`` or ``198.51.100.0/24`` -> canonical ``198.51.100.0/24`` (other keys as given)."""
    if settings.group_by in ("network", "ip") and "/" in text:
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            pass
    return text.strip()


def evidence_lines(evidence: Iterable[dict[str, Any]] | None) -> Iterator[tuple[str, int, str]]:
    """(source, line_no, text) of each evidence line, in the order given.

    Each source is read once, start to end, keeping only the wanted lines.
    """
    wanted: dict[str, set[int]] = {}
    order: list[tuple[str, int]] = []
    for item in evidence or []:
        wanted.setdefault(item["source"], set()).add(item["line_no"])
        order.append((item["source"], item["line_no"]))
    found: dict[tuple[str, int], str] = {}
    for source, numbers in wanted.items():
        last = max(numbers)
        for batch in split_lines(open_input(Input(source)).blocks):
            for i, text in enumerate(batch.lines.to_list()):
                line_no = batch.first_line + i
                if line_no in numbers:
                    found[(source, line_no)] = text
            if batch.first_line + len(batch.lines) > last:
                break
    for key in order:
        yield key[0], key[1], found.get(key, "<line no longer in the file>")
