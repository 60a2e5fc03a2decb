"""One call from logs to findings: the library behind ``loganalyzer scan``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .cache import through_cache
from .detectors import Detection
from .detectors import run as run_detectors
from .reading import read
from .settings import Settings
from .sources import expand
from .summary import Summary, summarize
from .tables import Tables, our_engine

__all__ = ["ScanResult", "scan"]


@dataclass
class ScanResult:
    """Everything a report shows: the read summary and the detection.

    ``messages`` are for standard error, not the report (the parse cache says
    there when it reused tables, so that nobody mistakes them for a fresh read).
    """

    summary: Summary
    detection: Detection
    settings: Settings
    messages: list[str] = field(default_factory=list)

    @property
    def mta_lines(self) -> int:
        """Lines written by a mail system we model (not milters, not other programs)."""
        return sum(n for system, n in self.summary.mta.items() if system in ("postfix", "exim"))


def scan(
    paths: str | Iterable[str] | Tables,
    settings: Settings | None = None,
    *,
    detectors: list[str] | None = None,
    cache: bool = False,
) -> ScanResult:
    """Read logs (or take already-read tables) and run the detectors.

    ``cache`` reuses the tables of an earlier read of the same unchanged files
    from ``settings.cache_dir``, or stores them there (see :mod:`loganalyzer.cache`);
    off by default for library callers, on for ``loganalyzer scan``.

    >>> result = scan("samples/postfix/scenarios/rapid-retry.log", Settings(timezone="UTC", year=2024, dns=False))
    >>> sorted(set(result.detection.findings["detector"]))
    ['rapid-retry']
    """
    settings = settings or Settings()
    if isinstance(paths, Tables):
        return _detect(paths, settings, detectors)
    if not cache:
        return _detect(read(paths, settings), settings, detectors)
    items = expand([paths] if isinstance(paths, str) else list(paths), rotated=settings.rotated)
    result, messages = through_cache(items, settings, lambda tables: _detect(tables, settings, detectors))
    result.messages.extend(messages)
    return result


def _detect(tables: Tables, settings: Settings, detectors: list[str] | None) -> ScanResult:
    with our_engine():
        detection = run_detectors(tables, settings, only=detectors)
        summary = summarize(tables)
    summary.notes = detection.notes
    return ScanResult(summary, detection, settings)
