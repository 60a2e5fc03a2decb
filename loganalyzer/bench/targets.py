"""Issue 5's speed and memory targets, and issue 4's Exim parse speed, checked against measured figures.

The check is pure (figures in, verdicts out), so a test can feed it made-up
measurements; :func:`figures` derives the figures from a benchmark's results.
A target whose figure was not measured (say, no ``--growth`` run) has no
verdict rather than a failing one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .runs import ToolResult

__all__ = ["TARGETS", "Check", "Target", "check_targets", "figures"]


@dataclass(frozen=True)
class Target:
    """A limit on one figure: ``figure op limit`` must hold."""

    key: str
    label: str
    op: str  # "<=", "<" or ">="
    limit: float

    def holds(self, value: float) -> bool:
        compare: Callable[[float, float], bool] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge}[self.op]
        return compare(value, self.limit)


TARGETS = (
    Target("scan_vs_baseline", "scan wall / baseline wall", "<=", 0.33),
    Target("scan_lines_per_s", "scan lines/s", ">=", 450_000),
    Target("peak_rss_mb", "peak RSS MB (largest mode)", "<=", 400),
    Target("growth_rss_ratio", "scan peak RSS, growth log / 1x log", "<=", 1.5),
    Target("cached_vs_first", "scan-cached wall / scan wall", "<", 0.25),
    Target("exim_parse_vs_postfix", "parse lines/s, Exim / Postfix log, round by round", ">=", 1.0),
)


@dataclass(frozen=True)
class Check:
    """One target and what was measured for it (``None``: not measured, no verdict)."""

    target: Target
    value: float | None

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.target.holds(self.value)

    @property
    def verdict(self) -> str:
        return {None: "not measured", True: "pass", False: "FAIL"}[self.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.key,
            "label": self.target.label,
            "op": self.target.op,
            "limit": self.target.limit,
            "measured": None if self.value is None else round(self.value, 3),
            "passed": self.passed,
        }


def figures(results: Sequence[ToolResult]) -> dict[str, float | None]:
    """The figures the targets limit, from medians of the results (``None`` where a tool did not run)."""
    by_name = {r.name: r for r in results if r.runs}
    scan = by_name.get("loganalyzer scan")
    cached = by_name.get("loganalyzer scan-cached")
    baseline = next((r for r in results if r.role == "baseline" and r.runs), None)
    growth = next((r for r in results if r.role == "growth" and r.runs), None)
    reference = next((r for r in results if r.role == "reference" and r.runs), None)
    parse = by_name.get("loganalyzer parse")
    ours = [r for r in by_name.values() if r.role == "loganalyzer"]
    return {
        "scan_vs_baseline": scan.median_wall_s / baseline.median_wall_s if scan and baseline else None,
        "scan_lines_per_s": scan.lines_per_s if scan else None,
        "peak_rss_mb": max(r.median_rss_mb for r in ours) if ours else None,
        "growth_rss_ratio": growth.median_rss_mb / scan.median_rss_mb if growth and scan else None,
        "cached_vs_first": cached.median_wall_s / scan.median_wall_s if cached and scan else None,
        "exim_parse_vs_postfix": parse.paired_speed_ratio(reference) if parse and reference else None,
    }


def check_targets(values: Mapping[str, float | None], targets: Sequence[Target] = TARGETS) -> list[Check]:
    """Each target with its figure from ``values`` (missing keys count as not measured)."""
    return [Check(t, values.get(t.key)) for t in targets]
