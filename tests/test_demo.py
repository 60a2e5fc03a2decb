"""The bundled demo log is the scenarios merged, and scanning it finds them all."""

from __future__ import annotations

from loganalyzer.scan import scan
from loganalyzer.settings import Settings

from .demo import DEMO, merged
from .detectors.test_scenarios import CASES


def test_demo_log_is_the_merged_scenarios(update_golden: bool) -> None:
    if update_golden:
        DEMO.write_text(merged())
    assert DEMO.read_text() == merged(), "run pytest --update-golden to rebuild loganalyzer/data/demo.log"


def test_demo_shows_every_planted_finding() -> None:
    result = scan(str(DEMO), Settings(timezone="UTC", year=2024, dns=False, local_domains=("mail.example.org",)))
    got = {(r["detector"], r["network"]) for r in result.detection.findings.iter_rows(named=True)}
    planted = {(d, n) for expected, _ in CASES.values() for d, n, _ in expected}
    assert got == planted
