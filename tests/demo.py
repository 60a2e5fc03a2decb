"""The bundled demo log: every scenario merged in time order.

``loganalyzer scan`` with no log and no readable /var/log/mail.log scans
``loganalyzer/data/demo.log``. It is not edited by hand: it is the scenario logs
of ``samples/postfix/scenarios`` merged by timestamp, and tests/test_demo.py
keeps the two in step (``pytest --update-golden`` rewrites it).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "loganalyzer" / "data" / "demo.log"
SCENARIOS = ROOT / "samples" / "postfix" / "scenarios"


def merged() -> str:
    """The scenario lines, stably sorted by their (year-less) timestamp."""
    lines = []
    for order, path in enumerate(sorted(SCENARIOS.glob("*.log"))):
        for i, line in enumerate(path.read_text().splitlines()):
            stamp = datetime.strptime(line[:15].replace("  ", " 0"), "%b %d %H:%M:%S")
            lines.append((stamp, order, i, line))
    return "\n".join(line for *_, line in sorted(lines)) + "\n"
