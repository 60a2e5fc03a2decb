"""MX lookups for the wrong-domain-mx detector, with a short timeout and a cache.

Only a handful of domains are ever looked up (the parents and siblings of local
domains that mail was addressed to), each once. The first lookup that cannot
reach any name server marks DNS unreachable: the remaining domains are not
tried, and the detector falls back to its log-only rule and says so.

dnspython is imported on the first lookup, not with this module: most scans
(``--no-dns``, or no such domains in the log) never need it, and its import is
about 60 ms of every scan's start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    import dns.resolver

__all__ = ["MX_STATES", "MxChecker", "MxResult"]

#: no-mx: no MX record, mail goes to the A/AAAA record (implicit MX, RFC 5321 5.1);
#: null-mx: "MX 0 ." (RFC 7505), the domain takes no mail; mx: MX hosts exist;
#: nxdomain: the domain does not exist; unknown: not looked up or no answer.
MX_STATES = ("no-mx", "null-mx", "mx", "nxdomain", "unknown")


@dataclass(frozen=True)
class MxResult:
    """What DNS says about one domain's mail exchangers."""

    domain: str
    state: str
    hosts: tuple[str, ...] = ()


@dataclass
class MxChecker:
    """Looks up MX records through ``settings.dns_server`` or the system resolver."""

    settings: Settings
    unreachable: str | None = None
    cache: dict[str, MxResult] = field(default_factory=dict)

    def _resolver(self) -> dns.resolver.Resolver:
        import dns.resolver

        server = self.settings.dns_server
        resolver = dns.resolver.Resolver(configure=server is None)
        if server:
            host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
            resolver.nameservers = [host or server]
            if port:
                resolver.port = int(port)
        resolver.timeout = self.settings.dns_timeout
        resolver.lifetime = self.settings.dns_timeout * 2
        return resolver

    def lookup(self, domains: list[str]) -> dict[str, MxResult]:
        """MX state of each domain (``unknown`` for all when DNS is off or unreachable)."""
        if not self.settings.dns or not domains:
            return {d: MxResult(d, "unknown") for d in domains}
        import dns.exception
        import dns.resolver

        resolver: dns.resolver.Resolver | None = None
        for domain in domains:
            if domain in self.cache:
                continue
            if self.unreachable:
                self.cache[domain] = MxResult(domain, "unknown")
                continue
            try:
                resolver = resolver or self._resolver()
                answer = resolver.resolve(domain, "MX")
            except dns.resolver.NXDOMAIN:
                self.cache[domain] = MxResult(domain, "nxdomain")
            except dns.resolver.NoAnswer:
                self.cache[domain] = MxResult(domain, "no-mx")
            except (
                dns.resolver.NoNameservers,
                dns.exception.Timeout,
                dns.resolver.NoResolverConfiguration,
                OSError,
            ) as exc:
                self.unreachable = f"{type(exc).__name__}: {exc}".split("\n")[0][:200]
                self.cache[domain] = MxResult(domain, "unknown")
            else:
                records = sorted((r.preference, r.exchange.to_text()) for r in answer)
                hosts = tuple(h.rstrip(".").lower() for _, h in records)
                if hosts in ((), ("",)) or (len(records) == 1 and records[0][1] == "."):
                    self.cache[domain] = MxResult(domain, "null-mx")
                else:
                    self.cache[domain] = MxResult(domain, "mx", hosts)
        return {d: self.cache[d] for d in domains}
