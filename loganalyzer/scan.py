"""One call from logs to findings: the library behind ``loganalyzer scan``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .detectors import Detection
from .detectors import run as run_detectors
from .reading import read
from .settings import Settings
from .summary import Summary, summarize
from .tables import Tables

__all__ = ["ScanResult", "scan"]


@dataclass
class ScanResult:
    """Everything a report shows: the read summary and the detection."""

    summary: Summary
    detection: Detection
    settings: Settings

    @property
    def mta_lines(self) -> int:
        """Lines written by a mail system we model (not milters, not other programs)."""
        return sum(n for system, n in self.summary.mta.items() if system in ("postfix", "exim"))


def scan(
    paths: str | Iterable[str] | Tables, settings: Settings | None = None, *, detectors: list[str] | None = None
) -> ScanResult:
    """Read logs (or take already-read tables) and run the detectors.

    >>> result = scan("samples/postfix/scenarios/rapid-retry.log", Settings(timezone="UTC", year=2024, dns=False))
    >>> sorted(set(result.detection.findings["detector"]))
    ['rapid-retry']
    """
    settings = settings or Settings()
    tables = paths if isinstance(paths, Tables) else read(paths, settings)
    detection = run_detectors(tables, settings, only=detectors)
    summary = summarize(tables)
    summary.notes = detection.notes
    return ScanResult(summary, detection, settings)
