"""loganalyzer: name the sending networks that break SMTP's rules.

The public API (see ``__all__``): :func:`read` logs into :class:`Tables` of
polars LazyFrames, :func:`scan` them with the detectors, :func:`load` tables
written earlier, and :func:`evidence_lines` for the raw lines behind a finding.
Every option lives in one frozen :class:`Settings`.
"""

from .detectors import DETECTORS
from .evidence import evidence_lines
from .reading import read
from .scan import ScanResult, scan
from .settings import Settings
from .tables import Tables

__all__ = ["DETECTORS", "ScanResult", "Settings", "Tables", "evidence_lines", "load", "read", "scan"]


def load(directory: str) -> Tables:
    """Tables written by ``loganalyzer parse -o DIR`` (or :meth:`Tables.write`)."""
    return Tables.load(directory)
