"""loganalyzer: name the sending networks that break SMTP's rules.

The public API (see ``__all__``), one frozen :class:`Settings` for every option:

- :func:`read` logs into :class:`Tables` of polars LazyFrames (events, sessions,
  messages, unparsed; :func:`to_arrow` gives one as an Arrow table), or
  :func:`load` tables written earlier by ``loganalyzer parse -o DIR``;
- :func:`detect` runs all or some of the :data:`DETECTORS` and returns the
  findings as a DataFrame; :func:`scan` also returns what reading was like
  (a :class:`ScanResult`, what ``loganalyzer scan`` prints);
- :func:`evidence` (a DataFrame) or :func:`evidence_lines` (an iterator) fetch
  the raw log lines behind a finding;
- :func:`attempts`, :func:`retries`, :func:`greylist_delay` and :func:`sessions`
  give the frames the detectors read, per sending network, to slice and plot.

Every function that reads logs takes a path (or several) or tables already read:

>>> import loganalyzer as la
>>> import polars as pl
>>> settings = la.Settings(timezone="UTC", year=2024, dns=False)
>>> tables = la.read("samples/postfix/scenarios/rapid-retry.log", settings)
>>> findings = la.detect(tables, settings)
>>> findings.select("detector", "network", "org", "count").rows()
[('rapid-retry', '198.18.10.0/24', 'bulkmailer.example', 3), ('rapid-retry', '2001:db8:7::/48', None, 3)]
>>> for source, line_no, text in la.evidence_lines(findings.row(0, named=True)["evidence"][:1]):
...     print(f"{source}:{line_no}: {text[:40]}")
samples/postfix/scenarios/rapid-retry.log:3: Apr 15 08:00:02 mx1 postfix/smtpd[2101]:
>>> la.retries(tables, settings).filter(pl.col("gap") < la.greylist_delay(tables, settings)).height
6
>>> sorted(la.DETECTORS)[:3]
['data-after-reject', 'lb-retry-reset', 'plaintext-fallback']
>>> result = la.scan(tables, settings)
>>> result.summary.sessions, result.detection.unavailable
(12, [])
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import allocator  # noqa: F401 (first: polars' allocator reads its settings when polars is imported)

if TYPE_CHECKING:
    from .api import Source, attempts, detect, evidence, greylist_delay, load, retries, sessions, to_arrow
    from .detectors import DETECTORS
    from .evidence import evidence_lines
    from .reading import read
    from .scan import ScanResult, scan
    from .settings import Settings
    from .tables import Tables

#: The module of each public name. They are imported when first used, not with the package: a parse
#: worker, which imports the package before its parser, then loads only what parsing needs (0.37 s
#: of CPU before its first chunk instead of 0.51), and ``loganalyzer --help`` answers sooner.
_HOMES = {
    **dict.fromkeys(
        ["Source", "attempts", "detect", "evidence", "greylist_delay", "load", "retries", "sessions", "to_arrow"],
        "api",
    ),
    "DETECTORS": "detectors",
    "evidence_lines": "evidence",
    "read": "reading",
    "ScanResult": "scan",
    "scan": "scan",
    "Settings": "settings",
    "Tables": "tables",
}

__all__ = [
    "DETECTORS",
    "ScanResult",
    "Settings",
    "Source",
    "Tables",
    "attempts",
    "detect",
    "evidence",
    "evidence_lines",
    "greylist_delay",
    "load",
    "read",
    "retries",
    "scan",
    "sessions",
    "to_arrow",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


class _Package(ModuleType):
    """This package: its public names stay the API's when a submodule of the same name loads.

    The import system names each submodule on its package once it is loaded, and three
    share a name with a public function (``scan``, ``sessions``, ``evidence``): imported
    after the package, they would replace it.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _HOMES and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
