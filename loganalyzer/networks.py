"""Client IP -> sending network, PTR organisation and (optionally) AS number.

Findings are about networks, not single addresses: large senders spread their
traffic over pools, so one misbehaving system shows up as many IPs of one
``/24`` (IPv4) or ``/48`` (IPv6) -- both configurable -- written in canonical
CIDR form. Networks also carry the *PTR organisation*: the registrable domain
(ICANN section of the Public Suffix List, shipped by the ``publicsuffixlist``
package, no download at run time) of the reverse name the MTA logged, e.g.
``a8-12.smtp-out.amazonses.com`` -> ``amazonses.com``; ``unknown`` (no or
unconfirmed PTR) has none. With an ``.mmdb`` ASN database (MaxMind GeoLite2-ASN,
ipinfo, DB-IP; read with ``maxminddb``), networks also carry ``AS<number> <name>``.

The mapping is computed once per distinct address (far fewer than lines) and
joined onto the detectors' frames.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl
from publicsuffixlist import PublicSuffixList

from .settings import Settings

__all__ = ["ClientMap", "NetworkError", "network_of", "org_of"]


class NetworkError(ValueError):
    """The ASN database cannot be used."""


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


def network_of(ip: str | None, *, v4: int = 24, v6: int = 48) -> str | None:
    """``198.51.100.7`` -> ``198.51.100.0/24``; ``2001:db8:2::25`` -> ``2001:db8:2::/48``.

    Returns None for text that is not an address (``unknown``, empty).
    """
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    prefix = v4 if addr.version == 4 else v6
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def org_of(name: str | None) -> str | None:
    """Registrable domain of a reverse name; None for ``unknown``, IP literals and bare suffixes."""
    if not name or name == "unknown" or "." not in name:
        return None
    name = name.strip(".").lower()
    try:
        ipaddress.ip_address(name.strip("[]"))
        return None
    except ValueError:
        pass
    result: str | None = _psl().privatesuffix(name)
    return result


@dataclass
class ClientMap:
    """Per-address attributes: network, org, asn and the grouping key.

    Build with :meth:`build` from every (client_ip, client_name) pair seen; an
    address logged under several names takes the most frequent resolved one.
    """

    frame: pl.DataFrame

    @classmethod
    def build(cls, pairs: pl.DataFrame, settings: Settings) -> ClientMap:
        """``pairs``: columns client_ip, client_name (any number of rows)."""
        names: dict[str, Counter[str]] = {}
        for ip, name in pairs.select("client_ip", "client_name").unique().iter_rows():
            if ip is None:
                continue
            counter = names.setdefault(ip, Counter())
            if name and name != "unknown":
                counter[name] += 1
        reader = _open_asn(settings.asn_db) if settings.asn_db else None
        rows: list[dict[str, Any]] = []
        orgs: dict[str, str | None] = {}
        for ip, counter in names.items():
            name = counter.most_common(1)[0][0] if counter else None
            network = network_of(ip, v4=settings.ipv4_prefix, v6=settings.ipv6_prefix)
            if (name or "") not in orgs:
                orgs[name or ""] = org_of(name)
            org = orgs[name or ""]
            asn = _asn(reader, ip) if reader else None
            rows.append({"client_ip": ip, "network": network, "org": org, "asn": asn, "ptr": name})
        if reader:
            reader.close()
        frame = pl.DataFrame(
            rows,
            schema={"client_ip": pl.String, "network": pl.String, "org": pl.String, "asn": pl.String,
                    "ptr": pl.String},
        )  # fmt: skip
        key = {
            "network": pl.col("network"),
            "org": pl.coalesce(pl.col("org"), pl.col("network")),
            "asn": pl.coalesce(pl.col("asn"), pl.col("network")),
            "ip": pl.col("client_ip"),
        }[settings.group_by]
        return cls(frame.with_columns(key.alias("group")))

    def annotate(self, frame: pl.LazyFrame, ip: str = "client_ip") -> pl.LazyFrame:
        """Add network, org, asn and group columns to ``frame`` by its ``ip`` column."""
        return frame.join(self.frame.lazy().drop("ptr"), left_on=ip, right_on="client_ip", how="left")


def _open_asn(path: str) -> Any:
    try:
        import maxminddb
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise NetworkError("--asn-db needs the maxminddb package") from exc
    try:
        return maxminddb.open_database(path)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise NetworkError(f"{path}: not a readable MaxMind/ipinfo .mmdb file ({exc})") from None


def _asn(reader: Any, ip: str) -> str | None:
    """``AS64500 Example Net`` from GeoLite2-ASN, ipinfo or DB-IP style records."""
    try:
        record = reader.get(ip.strip("[]"))
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    number = record.get("autonomous_system_number") or record.get("asn")
    name = record.get("autonomous_system_organization") or record.get("as_name") or record.get("name")
    if number is None:
        return None
    number = str(number)
    label = number if number.upper().startswith("AS") else f"AS{number}"
    return f"{label} {name}" if name else label
