"""Names, domains and small random helpers shared by the benchmark's log generators.

The generators draw every name from these fixed tuples (never from the
machine's locale or a word list on disk), so a seed gives the same bytes
everywhere. All names are made up; domains are ``example`` domains.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from random import Random
from typing import TypeVar

_T = TypeVar("_T")

FIRST = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "nina",
    "oscar",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yara",
    "zoe",
    "liam",
    "emma",
    "noah",
    "olivia",
    "lucas",
    "mia",
    "leon",
    "sofia",
    "felix",
    "hanna",
    "jonas",
    "lena",
    "paul",
    "clara",
    "max",
    "marie",
    "ben",
    "anna",
    "tom",
    "lisa",
    "jan",
    "eva",
    "tim",
    "julia",
    "nils",
    "sara",
    "kai",
    "nora",
    "finn",
    "ida",
    "omar",
    "aisha",
    "raj",
    "priya",
    "chen",
    "wei",
    "yuki",
    "kenji",
    "diego",
    "lucia",
)
LAST = (
    "smith",
    "jones",
    "miller",
    "davis",
    "garcia",
    "wilson",
    "moore",
    "taylor",
    "thomas",
    "martin",
    "white",
    "clark",
    "lewis",
    "walker",
    "hall",
    "young",
    "king",
    "wright",
    "scott",
    "green",
    "baker",
    "adams",
    "nelson",
    "hill",
    "campbell",
    "mitchell",
    "roberts",
    "carter",
    "phillips",
    "evans",
    "turner",
    "parker",
    "collins",
    "edwards",
    "stewart",
    "morris",
    "murphy",
    "cook",
    "rogers",
    "morgan",
    "peterson",
    "cooper",
    "reed",
    "bailey",
    "bell",
    "mueller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "schulz",
    "hoffmann",
)
WORDS = (
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "aperture",
    "oscorp",
    "vandelay",
    "dunder",
    "prestige",
    "monarch",
    "nakatomi",
    "piedpiper",
    "massive",
    "veridian",
    "virtucon",
    "contoso",
    "fabrikam",
    "northwind",
    "tailspin",
    "adventure",
    "litware",
    "proseware",
    "wingtip",
    "coho",
    "lucerne",
    "margie",
    "trey",
    "alpine",
    "bellows",
    "cascade",
    "delta",
    "ember",
    "fjord",
    "granite",
    "harbor",
    "island",
    "juniper",
    "kestrel",
    "lagoon",
    "meadow",
    "nimbus",
    "orchid",
    "prairie",
    "quartz",
    "river",
    "summit",
    "tundra",
    "vertex",
    "willow",
    "zephyr",
    "beacon",
    "copper",
    "dynamo",
)
ROLES = ("info", "sales", "support", "billing", "office", "contact", "hello", "orders", "jobs", "press", "admin")
NOREPLY = ("noreply", "no-reply", "notifications", "newsletter", "news", "alerts", "mailer", "updates", "service")
BOT_HELOS = ("ylmf-pc", "User", "localhost", "WIN-3CBE9QJ0", "WIN-KQ1LM8P3", "DESKTOP-7H2K", "ADMIN", "mail", "pc")
LOCAL_DOMAINS = ("example.com", "staff.example.com", "lists.example.com", "shop.example.com")
TLD = ("example", "example.net", "example.org", "example.com")
BRUTE_USERS = ("admin", "info", "test", "postmaster", "webmaster", "support", "sales", "office", "user", "root")


def weighted(rng: Random, table: Sequence[tuple[float, _T]]) -> _T:
    """One value of ``table`` drawn with its weight."""
    pick = rng.random() * sum(w for w, _ in table)
    for weight, value in table:
        pick -= weight
        if pick < 0:
            return value
    return table[-1][1]


def cos_hour(hours: float) -> float:
    """The daily cycle: 1 at midnight, -1 at noon."""
    return math.cos(2 * math.pi * hours / 24)


TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def token(rng: Random, n: int) -> str:
    """``n`` random base64 characters."""
    return "".join(rng.choices(TOKEN, k=n))


def cumulate(weights: Sequence[float]) -> Iterator[float]:
    """Running sums of ``weights``, for ``Random.choices(cum_weights=...)``."""
    total = 0.0
    for w in weights:
        total += w
        yield total
