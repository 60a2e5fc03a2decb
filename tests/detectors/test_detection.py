"""Detector behaviour beyond the scenarios: options, grouping, DNS failure, ASN."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import polars as pl
import pytest

from loganalyzer import networks
from loganalyzer.detectors import DETECTORS, UnknownDetectorError, run
from loganalyzer.networks import ClientMap, NetworkError, network_of, org_of
from loganalyzer.reading import read
from loganalyzer.scan import scan
from loganalyzer.settings import Settings

from ..conftest import SAMPLES

SCENARIOS = SAMPLES / "postfix" / "scenarios"
BASE = Settings(timezone="UTC", year=2024, dns=False)


def _found(path: Path, settings: Settings = BASE, **kw) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    return scan(str(path), settings, **kw).detection.findings


def test_networks_are_canonical_cidr() -> None:
    assert network_of("198.51.100.7") == "198.51.100.0/24"
    assert network_of("2001:db8:2::25") == "2001:db8:2::/48"
    assert network_of("::ffff:192.0.2.9") == "192.0.2.0/24"
    assert network_of("198.51.100.7", v4=16) == "198.51.0.0/16"
    assert network_of("unknown") is None and network_of("") is None
    assert network_of("fe80::1%eth0", v6=128) == "fe80::1/128"  # a network has no zone
    assert network_of("10.1.2.3", v4=0) == "0.0.0.0/0" and network_of("10.1.2.3", v4=32) == "10.1.2.3/32"


@pytest.mark.parametrize("v6", [32, 33, 48, 56, 64, 128])
def test_bulk_client_map_agrees_with_network_of(v6: int) -> None:
    ips = ["198.51.100.7", "2001:db8:2::25", "2001:DB8:2:0:1::9", "2001:db8::1", "::ffff:198.51.100.7",
           "[2001:db8:3::1]", "2001:db8:2:ffff::1", "fe80::1%eth0", "garbage", "2001:db8:4:5:6:7:8:9",
           "2001:db8:2:1:2:3:4:5:6:7", "2001:db8:2:zzzz::1", "2001:db8:2::1::2", "999.1.2.3"]  # fmt: skip
    names = ["a.mail.example.com", "unknown", "[192.0.2.1]", "198.51.100.7", "example.co.uk", "x.y.example.co.uk",
             None, "2001:db8::1", "co.uk", "MX1.Example.ORG.", "localhost", None, None, None]  # fmt: skip
    settings = Settings(timezone="UTC", dns=False, ipv6_prefix=v6)
    frame = ClientMap.build(pl.DataFrame({"client_ip": ips, "client_name": names}), settings).frame
    got = dict(zip(frame["client_ip"], zip(frame["network"], frame["org"], strict=True), strict=True))
    for ip, name in zip(ips, names, strict=True):
        want = (network_of(ip, v6=v6), org_of(name))
        assert got[ip] == want, (ip, name)


@pytest.mark.parametrize("seed", range(3))
def test_ipv6_networks_by_the_c_library_agree_with_the_standard_library(seed: int) -> None:
    # hextets zero in runs of every length and place (where "::" goes, and whether a /n ends inside one)
    rng = random.Random(seed)
    ips = ["::", "::1", "::1.2.3.4", "::ffff:0:1.2.3.4", "1::", "0:0:1::", "::5:0:0:1", "2001:DB8::", "0001:0db8::01"]
    for _ in range(300):
        words = [rng.choice([0, 0, 0, 1, 0xFFFF, rng.randrange(1 << 16)]) for _ in range(8)]
        ips.append(str(ipaddress.IPv6Address(b"".join(w.to_bytes(2, "big") for w in words))))
        ips.append(":".join(f"{w:x}" for w in words))  # the same, spelt out
    for v6 in (0, 1, 16, 17, 31, 32, 47, 48, 56, 63, 64, 65, 96, 128):
        got = networks._other_networks(ips, v4=24, v6=v6)
        assert got == {ip: network_of(ip, v6=v6) for ip in ips}, v6


def test_an_address_under_several_names_takes_the_one_on_most_lines() -> None:
    settings = Settings(timezone="UTC", dns=False)
    ip = "198.51.100.7"
    counted = pl.DataFrame(
        {"client_ip": [ip, ip, ip], "client_name": ["a.example.org", "b.example.net", "unknown"], "lines": [1, 3, 9]}
    )
    assert ClientMap.build(counted, settings).frame.row(0, named=True)["ptr"] == "b.example.net"
    # without counts each row is a line; among equals the first name in alphabetical order
    rows = pl.DataFrame({"client_ip": [ip] * 3, "client_name": ["b.example.net", "a.example.org", "b.example.net"]})
    assert ClientMap.build(rows, settings).frame.row(0, named=True)["org"] == "example.net"
    tie = pl.DataFrame({"client_ip": [ip] * 2, "client_name": ["b.example.net", "a.example.org"]})
    assert ClientMap.build(tie, settings).frame.row(0, named=True)["org"] == "example.org"


def test_annotate_adds_the_map_columns_row_by_row() -> None:
    settings = Settings(timezone="UTC", dns=False)
    pairs = pl.DataFrame({"client_ip": ["198.51.100.7", "2001:db8:2::25"], "client_name": ["a.example.com", None]})
    clients = ClientMap.build(pairs, settings)
    # several chunks, repeated and unknown addresses, rows in no particular order: each row keeps its own
    frame = pl.concat(
        [
            pl.DataFrame({"seq": [3, 1], "client_ip": ["2001:db8:2::25", "198.51.100.7"]}),
            pl.DataFrame(
                {"seq": [2, 0], "client_ip": [None, "198.51.100.7"]}, schema={"seq": pl.Int64, "client_ip": pl.String}
            ),
        ],
        rechunk=False,
    )
    joined = frame.join(clients.frame.drop("ptr"), on="client_ip", how="left", maintain_order="left")
    assert clients.annotate(frame.lazy()).collect().to_dicts() == joined.to_dicts()
    networks = clients.annotate(frame.lazy()).collect()["network"].to_list()
    assert networks == ["2001:db8:2::/48", "198.51.100.0/24", None, "198.51.100.0/24"]


def test_ptr_organisation_uses_the_public_suffix_list() -> None:
    assert org_of("a8-12.smtp-out.amazonses.com") == "amazonses.com"
    assert org_of("mail.example.co.uk") == "example.co.uk"
    assert org_of("bucket.s3.amazonaws.com") == "amazonaws.com"  # ICANN section only
    assert org_of("unknown") is None and org_of("192.0.2.1") is None and org_of("co.uk") is None


def test_group_by_org_merges_a_pool_across_networks() -> None:
    found = _found(SCENARIOS / "lb-retry-reset.log", BASE.replace(group_by="org"))
    assert set(found["network"]) == {"bigmail.example", "2001:db8:5::/48"}  # no PTR: its network


def test_group_by_ip() -> None:
    found = _found(SCENARIOS / "rapid-retry.log", BASE.replace(group_by="ip"))
    assert set(found["network"]) == {"198.18.10.21", "2001:db8:7:1::25"}


def test_longer_greylist_delay_flags_the_polite_sender_too(tmp_path: Path) -> None:
    # without postgrey lines the setting rules; a 30-minute delay makes a 9-minute retry rapid
    lines = [
        line
        for line in (SCENARIOS / "rapid-retry.log").read_text().splitlines()
        if "postgrey[" not in line and ("192.0.2.44" in line or "8A1B2C3D4E" in line)
    ]
    path = tmp_path / "no-postgrey.log"
    path.write_text("\n".join(lines) + "\n")
    assert _found(path).is_empty()
    assert set(_found(path, BASE.replace(greylist_delay=1800))["network"]) == {"192.0.2.0/24"}


def test_postgrey_delay_is_inferred_and_noted() -> None:
    result = scan(str(SCENARIOS / "rapid-retry.log"), BASE.replace(greylist_delay=1200))
    assert any("inferred from postgrey" in n and "300 s" in n for n in result.detection.notes)
    assert {r["network"] for r in result.detection.findings.iter_rows(named=True)} == {
        "198.18.10.0/24",
        "2001:db8:7::/48",
    }


def test_retry_window() -> None:
    assert not _found(SCENARIOS / "retry-after-permanent.log").is_empty()
    # the retries come 15 to 61 minutes after the first 5xx; a 10-minute window sees none
    assert _found(SCENARIOS / "retry-after-permanent.log", BASE.replace(retry_window=600)).is_empty()


def test_plaintext_window() -> None:
    found = _found(SCENARIOS / "plaintext-fallback.log", BASE.replace(plaintext_window=4 * 3600))
    fallback = set(found.filter(pl.col("detector") == "plaintext-fallback")["network"])
    assert fallback == {"198.18.60.0/24", "198.18.61.0/24"}


def test_wrong_domain_without_dns_uses_the_log_only_rule() -> None:
    result = scan(str(SCENARIOS / "wrong-domain-mx.log"), BASE)
    found = result.detection.findings
    assert set(found["severity"]) == {"medium"}
    assert any("MX records not checked" in n for n in result.detection.notes)


def test_wrong_domain_with_unreachable_dns_says_so() -> None:
    settings = BASE.replace(dns=True, dns_server="127.0.0.1:9", dns_timeout=0.2)
    result = scan(str(SCENARIOS / "wrong-domain-mx.log"), settings)
    assert len(result.detection.findings) == 2
    assert any("DNS unreachable" in n for n in result.detection.notes)


def test_local_domain_option_and_unavailable_without_local_domains(tmp_path: Path) -> None:
    rejects = [line for line in (SCENARIOS / "wrong-domain-mx.log").read_text().splitlines() if "reject" in line]
    path = tmp_path / "rejects-only.log"
    path.write_text("\n".join(rejects) + "\n")
    detection = run(read(str(path), BASE), BASE)
    assert "local deliveries" in dict(detection.unavailable)["wrong-domain-mx"]
    given = BASE.replace(local_domains=("mail.example.org",))
    found = run(read(str(path), given), given).findings
    assert set(found.filter(pl.col("detector") == "wrong-domain-mx")["network"]) == {
        "198.18.70.0/24",
        "2001:db8:a::/48",
    }


def test_no_disconnect_statistics_makes_data_after_reject_unavailable(tmp_path: Path) -> None:
    lines = [line for line in (SCENARIOS / "data-after-reject.log").read_text().splitlines() if "smtpd" in line]
    old = [line.split(" ehlo=")[0] if "disconnect from" in line else line for line in lines]  # Postfix 2.x
    path = tmp_path / "postfix2.log"
    path.write_text("\n".join(old) + "\n")
    detection = run(read(str(path), BASE), BASE)
    reasons = dict(detection.unavailable)
    assert "disconnect statistics" in reasons["data-after-reject"]
    assert "plaintext-fallback" in reasons


def test_only_some_detectors_and_unknown_ids() -> None:
    found = _found(SCENARIOS / "plaintext-fallback.log", detectors=["plaintext-fallback"])
    assert set(found["detector"]) == {"plaintext-fallback"}
    with pytest.raises(UnknownDetectorError, match="no-such"):
        _found(SCENARIOS / "plaintext-fallback.log", detectors=["no-such"])


def test_asn_database(tmp_path: Path) -> None:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    writer.insert_network(
        IPSet(["198.18.0.0/15"]),
        {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Transit"},
    )
    db = tmp_path / "asn.mmdb"
    writer.to_db_file(str(db))
    found = _found(SCENARIOS / "rapid-retry.log", BASE.replace(asn_db=str(db)))
    asn = dict(zip(found["network"], found["asn"], strict=True))
    assert asn == {"198.18.10.0/24": "AS64500 Example Transit", "2001:db8:7::/48": None}
    grouped = _found(SCENARIOS / "rapid-retry.log", BASE.replace(asn_db=str(db), group_by="asn"))
    assert set(grouped["network"]) == {"AS64500 Example Transit", "2001:db8:7::/48"}


def test_a_bad_asn_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"not a database")
    with pytest.raises(NetworkError, match="not a readable"):
        _found(SCENARIOS / "rapid-retry.log", BASE.replace(asn_db=str(bad)))


def test_empty_log_runs_every_detector_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_text("")
    detection = run(read(str(path), BASE), BASE)
    assert detection.findings.is_empty()
    assert len(detection.unavailable) + len(detection.ran) == len(DETECTORS)


def test_many_hosts_in_one_log() -> None:
    found = _found(SAMPLES / "postfix" / "central-syslog.log")
    assert found.is_empty()  # two hosts sharing pid 4242 do not merge into one odd session
