"""What a read contained: line counts, parse ratio, time span, hosts, problems.

Pure data (a dataclass of plain values) so that every report format -- text,
JSON, HTML -- renders the same numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from .grammars import DAEMONS, MTA
from .parse import NO_ENVELOPE, OTHER_PROGRAM, UNKNOWN_SHAPE
from .tables import Tables

__all__ = ["Summary", "summarize"]


@dataclass
class Summary:
    """Counts of one read."""

    lines: int = 0
    parsed: int = 0  # lines of modelled programs that matched a grammar
    other_program: int = 0  # lines of programs we do not model (dovecot, amavis...)
    unparsed: int = 0  # modelled-program lines no grammar matched
    no_envelope: int = 0  # lines that are not syslog/MTA lines at all
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    hosts: list[str] = field(default_factory=list)
    mta: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    messages: int = 0
    replaced: int = 0
    sources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def unparsed_ratio(self) -> float:
        """Share of modelled-program lines (and non-log lines) that did not parse."""
        denominator = self.parsed + self.unparsed + self.no_envelope
        return (self.unparsed + self.no_envelope) / denominator if denominator else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_ts"] = self.first_ts.isoformat() if self.first_ts else None
        out["last_ts"] = self.last_ts.isoformat() if self.last_ts else None
        out["unparsed_ratio"] = round(self.unparsed_ratio, 6)
        return out


def summarize(tables: Tables, *, with_correlation: bool = True) -> Summary:
    """Count what ``tables`` holds."""
    kinds = tables.kind_counts()
    problems = tables.unparsed.group_by("problem").len().collect()
    by_problem = {str(p): int(n) for p, n in problems.iter_rows()}
    span = tables.census.select(pl.col("first_ts").min(), pl.col("last_ts").max())
    s = Summary(
        lines=tables.stats.lines,
        other_program=kinds.get(OTHER_PROGRAM, 0),
        unparsed=by_problem.get(UNKNOWN_SHAPE, 0),
        no_envelope=by_problem.get(NO_ENVELOPE, 0),
        first_ts=span["first_ts"][0],
        last_ts=span["last_ts"][0],
        hosts=sorted(h for h in tables.counts_by("host") if h is not None),
        kinds=dict(sorted(((k, n) for k, n in kinds.items() if k != OTHER_PROGRAM), key=lambda kv: (-kv[1], kv[0]))),
        replaced=tables.stats.replaced,
        warnings=tables.stats.warnings,
        sources=[
            {"path": src.path, "compression": src.compression, "lines": src.lines, "replaced": src.replaced}
            for src in tables.stats.sources
        ],
    )
    s.parsed = sum(s.kinds.values())
    for daemon, n in tables.counts_by("daemon").items():
        family = DAEMONS.get(str(daemon))
        system = MTA.get(family, "other") if family else "other"
        s.mta[system] = s.mta.get(system, 0) + n
    s.mta = dict(sorted(s.mta.items(), key=lambda kv: (-kv[1], kv[0])))  # the same text on every run
    if with_correlation:
        s.sessions = tables.sessions.select(pl.len()).collect().item()
        s.messages = tables.messages.select(pl.len()).collect().item()
    return s
