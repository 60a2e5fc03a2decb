"""Who a simulated mail host deals with, drawn the same way by the Postfix and the Exim generator.

Both generators model the same traffic: mail from freemail providers, ESPs and
organisations, bots on dial-up addresses, our own users submitting mail, and
recipients out on the Internet. This module draws that population: remote
domains and their MX hosts, client addresses and names, senders and
recipients, Message-IDs, sizes and pids. What each MTA logs differently, and
every draw that the two generators make in a different order, stays in the
generator.

The benchmark's logs are cached by name and its figures were measured on them,
so each function here consumes the random generator it is given in exactly the
order the generators did before they shared it. Changing a draw changes both
generators' bytes: bump both ``GENERATOR_VERSIONS`` in :mod:`.logs` when you do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from random import Random

from .words import FIRST, LAST, NOREPLY, ROLES, TLD, WORDS, cumulate

__all__ = [
    "Internet",
    "Pids",
    "bigmail_name",
    "dialup_client",
    "esp_name",
    "ip4",
    "ip6",
    "message_id",
    "message_size",
    "org_name",
    "outlook_name",
    "people",
    "reply_fields",
    "user_client",
    "zipf_cum_weights",
]


def ip4(rng: Random) -> str:
    """A client's IPv4 address: mostly ``10.0.0.0/8``, some from the documentation ranges."""
    r = rng.random()
    if r < 0.06:
        return f"198.51.100.{rng.randint(1, 254)}"
    if r < 0.12:
        return f"203.0.113.{rng.randint(1, 254)}"
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ip6(rng: Random) -> str:
    """A client's IPv6 address in ``2001:db8::/32``."""
    return f"2001:db8:{rng.randint(1, 0xFFFF):x}:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFF):x}"


def people(rng: Random, *, surnames: int) -> list[str]:
    """``first.last`` local parts over the first ``surnames`` of :data:`LAST`, shuffled: a host's users to be."""
    out = [f"{f}.{last}" for f in FIRST for last in LAST[:surnames]]
    rng.shuffle(out)
    return out


class Internet:
    """The remote domains a host exchanges mail with, popular ones first, and mail between them.

    ``dead_after``: domains after this rank may be dead (their MX never
    answers), so that the popular ones always work. ``esp_sender`` draws the
    envelope sender of an ESP's mail; the generators spell (and draw) it
    differently.
    """

    def __init__(self, rng: Random, *, dead_after: int, esp_sender: Callable[[Random, str], str]) -> None:
        self.rng = rng
        self.esp_sender = esp_sender
        self.domains = ["bigmail.example", "outlook.example", "yahoo.example", "mail.example.net", "example.org"]
        self.domains += [f"{word}.{tld}" for word in WORDS for tld in TLD[:3]]
        while len(self.domains) < 3000:
            self.domains.append(f"{rng.choice(WORDS)}{rng.randint(2, 9999)}.{rng.choice(TLD[:3])}")
        self.rank = {d: i for i, d in enumerate(self.domains)}
        self.dead = {d for d in self.domains[dead_after:] if rng.random() < 0.01}

    def mx(self, domain: str) -> tuple[str, str]:
        """The name and address of ``domain``'s MX host: fixed per domain, no draw."""
        index = self.rank.get(domain, 0)
        return f"mx{index % 3 + 1}.{domain}", f"10.{200 + index % 50}.{index // 50 % 256}.{25 + index % 5}"

    def recipient(self) -> str:
        """A remote recipient, in a domain drawn with a heavy tail towards the popular ones."""
        rng = self.rng
        domain = self.domains[min(int(rng.paretovariate(0.7)) - 1, len(self.domains) - 1)]
        return f"{rng.choice(FIRST)}.{rng.choice(LAST)}@{domain}"

    def spam_sender(self) -> str:
        """A forged sender in a random domain; one in ten is the null sender ``""``."""
        rng = self.rng
        if rng.random() < 0.1:
            return ""
        return f"{rng.choice(FIRST)}{rng.randint(1, 9999)}@{rng.choice(self.domains)}"

    def sender(self, kind: str, domain: str) -> str:
        """The envelope sender of mail from a client of ``kind`` (freemail, esp, org; else a bot) in ``domain``."""
        rng = self.rng
        if kind == "freemail":
            return f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 999)}@{domain}"
        if kind == "esp":
            return self.esp_sender(rng, domain)
        if kind == "org":
            pick = rng.random()
            local = rng.choice(ROLES) if pick < 0.4 else rng.choice(NOREPLY) if pick < 0.6 else rng.choice(FIRST)
            return f"{local}@{domain}"
        return self.spam_sender()


# --- the names of legitimate sending servers: each generator draws their addresses in its own order ---


def bigmail_name(rng: Random, i: int) -> str:
    """The ``i``-th outbound server of the big freemail provider, named like Gmail's."""
    return f"mail-{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=2))}1-f{i + 40}.bigmail.example"


def outlook_name(rng: Random, i: int) -> str:
    """The ``i``-th outbound server of the hosted-Exchange provider, named like Microsoft's."""
    region = rng.choice(("db8", "am7", "he1", "vi1", "ve1"))
    return f"mail-{region}eur0{i % 9 + 1}on20{600 + i}.outbound.protection.outlook.example"


def esp_name(rng: Random, i: int, esp: str) -> str:
    """The ``i``-th outbound server of the email service provider ``esp``."""
    return f"o{rng.randint(1, 99)}.{rng.randint(1000, 99999)}.{esp}" if i % 2 else f"mail{i}.{esp}"


def org_name(rng: Random, domain: str) -> str:
    """An organisation's own mail server in ``domain``."""
    return f"{rng.choice(('mail', 'mx', 'smtp', 'mx1', 'mailout', 'out'))}.{domain}"


def zipf_cum_weights(n: int) -> list[float]:
    """Cumulative Zipf-like weights of ``n`` servers, most popular first, for ``Random.choices``."""
    return list(cumulate([1.0 / (rank + 1) ** 0.8 for rank in range(n)]))


# --- clients that are not servers ---------------------------------------------------------


def dialup_client(rng: Random) -> tuple[str, str | None]:
    """A bot's address and its PTR name on a consumer ISP, ``None`` (most, and all IPv6) without one."""
    ip = ip6(rng) if rng.random() < 0.04 else ip4(rng)
    if rng.random() < 0.7 or ":" in ip:
        return ip, None
    dashed = ip.replace(".", "-")
    return ip, f"{rng.choice(('host', 'dyn', 'ip', 'static', 'cpe'))}-{dashed}.{rng.choice(WORDS)}-isp.example.net"


def user_client(rng: Random, user: str) -> tuple[str, str | None, str]:
    """Where our ``user`` submits mail from: address, PTR name (or ``None``) and HELO.

    Whether the user is on IPv6 is seeded by the address itself, so the same
    user keeps a similar kind of connection.
    """
    ip = ip6(rng) if Random(user).random() < 0.15 else ip4(rng)
    name = None if rng.random() < 0.4 or ":" in ip else f"dsl-{ip.replace('.', '-')}.dyn.isp.example.net"
    return ip, name, f"[{ip}]" if rng.random() < 0.6 else "laptop.home"


# --- messages and processes -------------------------------------------------------------------


def message_id(rng: Random, start: datetime, domain: str, t: float) -> str:
    """A Message-ID (without angle brackets) as common mail software makes them, at ``t`` seconds after ``start``."""
    r = rng.random()
    if r < 0.35:
        return f"CA+{rng.getrandbits(120):030x}@mail.{domain}"
    if r < 0.6:
        stamp = (start + timedelta(seconds=t)).strftime("%Y%m%d%H%M%S")
        return f"{stamp}.{rng.getrandbits(40):010x}@{domain}"
    if r < 0.85:
        u = f"{rng.getrandbits(128):032x}"
        return f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}@{domain}"
    return f"{rng.getrandbits(64):016x}.{rng.randint(1, 99999)}@{domain}"


def message_size(rng: Random) -> int:
    """A message size in bytes: log-normal around 15 kB, capped at a 50 MB ``message_size_limit``."""
    return min(int(rng.lognormvariate(9.6, 1.1)) + 600, 50_000_000)


def reply_fields(rng: Random) -> dict[str, str]:
    """The random parts of a remote MX's ``250`` reply to DATA: ids and numbers for its templates.

    They are all drawn whichever template is used, so that the draws do not
    depend on the choice.
    """
    return {
        "hex8": f"{rng.getrandbits(32):08x}",
        "hex4": f"{rng.getrandbits(16):04x}",
        "n": str(rng.randint(1, 99999)),
        "n4": str(rng.randint(1000, 9999)),
        "qid": f"{rng.getrandbits(36):09X}",
    }


class Pids:
    """A kernel's pid counter as a busy host shows it: small random steps, wrapping around before ``pid_max``.

    The first pid is drawn from ``first``; each new one is up to ``step`` higher.
    """

    def __init__(self, rng: Random, first: tuple[int, int], step: int) -> None:
        self.rng = rng
        self.step = step
        self.last = rng.randint(*first)

    def next(self) -> int:
        self.last += self.rng.randint(1, self.step)
        if self.last > 4_190_000:
            self.last = self.rng.randint(300, 1000)
        return self.last
