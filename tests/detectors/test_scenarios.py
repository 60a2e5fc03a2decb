"""Each scenario log flags exactly the networks planted in it, and nothing else.

The expected (detector, network, severity) sets are written here by hand from
the scenario design (see the comments in each case); the golden files pin the
rest of every finding (counts, explanations, evidence lines).
"""

from __future__ import annotations

import pytest

from loganalyzer.scan import scan
from loganalyzer.settings import Settings

from ..conftest import GOLDEN, SAMPLES
from ..dnsserver import TEST_ZONE, dns_server
from ..golden import check

SCENARIOS = SAMPLES / "postfix" / "scenarios"

#: scenario -> (planted findings, networks of well-behaved senders in the same log)
CASES: dict[str, tuple[set[tuple[str, str, str]], set[str]]] = {
    "rapid-retry": (
        {
            # three tries 45 s apart, then nothing
            ("rapid-retry", "198.18.10.0/24", "high"),
            # hammers every minute, gets through once postgrey's delay has passed (IPv6, no PTR)
            ("rapid-retry", "2001:db8:7::/48", "medium"),
        },
        # greylisted, then retried after 9 and 16 minutes from the same address
        {"192.0.2.0/24", "198.51.100.0/24"},
    ),
    "retry-after-permanent": (
        # 550 user unknown, then the same pair three more times from two relays
        {("retry-after-permanent", "198.18.20.0/24", "high")},
        # one 550 and no retry; a DNSBL 554 twice but for two different senders
        {"192.0.2.0/24", "203.0.113.0/24"},
    ),
    "lb-retry-reset": (
        {
            # one pair retried every 10 min from 4 addresses in 2 networks of one PTR org: never got through
            ("lb-retry-reset", "198.18.30.0/24", "high"),
            ("lb-retry-reset", "198.18.31.0/24", "high"),
            # 2 addresses of one IPv6 /48, delivered on the third try
            ("lb-retry-reset", "2001:db8:5::/48", "medium"),
        },
        {"192.0.2.0/24"},  # greylisted, retried from the same address 9 minutes later
    ),
    "data-after-reject": (
        {
            ("data-after-reject", "198.18.41.0/24", "high"),  # pushed the headers after DATA failed
            ("data-after-reject", "203.0.113.0/24", "medium"),  # postscreen: DATA without valid RCPT
            ("data-after-reject", "198.18.40.0/24", "low"),  # DATA pipelined after a refused RCPT
        },
        {"192.0.2.0/24"},  # refused RCPT, then RSET/QUIT; later a normal delivery
    ),
    "tls-failures": (
        {
            ("tls-no-shared-cipher", "198.18.50.0/24", "medium"),  # OpenSSL 3 and 1.1 wordings
            ("tls-handshake-failure", "2001:db8:9::/48", "low"),  # wrong version number, http request
        },
        {"192.0.2.0/24"},  # TLS 1.3 established
    ),
    "plaintext-fallback": (
        {
            ("plaintext-fallback", "198.18.60.0/24", "high"),  # no shared cipher, 5 min later plaintext
            ("tls-no-shared-cipher", "198.18.60.0/24", "medium"),
            ("tls-handshake-failure", "198.18.61.0/24", "low"),  # plaintext only 3 h 20 min later
            ("tls-handshake-failure", "192.0.2.0/24", "low"),  # dropped mid-handshake, came back with TLS
        },
        {"198.51.100.0/24"},  # never tries TLS at all: not a fallback
    ),
    "wrong-domain-mx": (
        {
            ("wrong-domain-mx", "198.18.70.0/24", "medium"),  # example.org: no MX, implicit MX
            ("wrong-domain-mx", "2001:db8:a::/48", "high"),  # shop.example.org: MX elsewhere, ignored
        },
        # delivers to mail.example.org; tries to relay to an unrelated domain
        {"192.0.2.0/24", "203.0.113.0/24"},
    ),
}


def _settings(dns: str | None) -> Settings:
    return Settings(timezone="UTC", year=2024, dns=dns is not None, dns_server=dns, dns_timeout=1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_scenario_flags_exactly_the_planted_networks(
    name: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(SAMPLES)
    planted, good = CASES[name]
    with dns_server(TEST_ZONE, "example.org.") as server:
        result = scan(f"postfix/scenarios/{name}.log", _settings(server))
    findings = result.detection.findings
    got = {(r["detector"], r["network"], r["severity"]) for r in findings.iter_rows(named=True)}
    assert got == planted
    assert not good & set(findings["network"])
    assert not result.detection.unavailable
    check(GOLDEN / "findings" / f"{name}.ndjson", findings, update=update_golden)


def test_every_scenario_has_a_case() -> None:
    assert {p.stem for p in SCENARIOS.glob("*.log")} == set(CASES)
