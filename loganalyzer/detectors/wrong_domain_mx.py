"""wrong-domain-mx: mail for a parent or sibling of a local domain.

When this server hosts ``mail.example.org``, mail addressed to
``user@example.org`` (the parent) or ``user@shop.example.org`` (a sibling) that
arrives here was meant for someone else or mis-addressed. Often the domain has
no MX record at all and the sender used its A record -- legal "implicit MX"
(RFC 5321 section 5.1), but the mail lands on a server that does not accept it;
a null MX (RFC 7505) or an MX pointing elsewhere means the sender ignored DNS.

Local domains are the recipient domains of local deliveries in the log
(Postfix local/virtual/lmtp/pipe; Exim ``=>`` through a transport to no remote
host, where the domain may be only in the ``<original>`` address) plus
``--local-domain``. Parents and siblings stop at the registrable
domain (``example.org``, never ``org``). With DNS, each such domain's MX is
looked up once (``--no-dns`` turns that off; unreachable DNS falls back to the
log-only rule and adds a note).
"""

from __future__ import annotations

import polars as pl

from ..dns import MxChecker
from ..networks import org_of
from .base import Context, Detector, findings, graded

ID = "wrong-domain-mx"


def available(ctx: Context) -> str | None:
    if not ctx.local_domains:
        return "no local deliveries in these logs to learn the local domains from; name them with --local-domain"
    return None


def _relatives(local: list[str], domains: list[str]) -> pl.DataFrame:
    """(domain, local, relation) for every domain that is a parent or sibling of a local domain."""
    rows = []
    owners = {d: org_of(d) for d in local}
    local_set = set(local)
    for domain in domains:
        if domain in local_set or "." not in domain:
            continue
        for mine, registrable in owners.items():
            if not registrable or not (domain == registrable or domain.endswith("." + registrable)):
                continue
            parent = mine.split(".", 1)[1] if "." in mine else ""
            if mine.endswith("." + domain):
                rows.append((domain, mine, "parent"))
            elif domain.split(".", 1)[1] == parent and len(parent) >= len(registrable):
                rows.append((domain, mine, "sibling"))
    return pl.DataFrame(rows, schema={"domain": pl.String, "local": pl.String, "relation": pl.String}, orient="row")


def detect(ctx: Context) -> pl.LazyFrame:
    local = ctx.local_domains
    attempts = ctx.attempts.with_columns(pl.col("recipient").str.extract(r"@([^@]+)$", 1).alias("domain"))
    domains = attempts.select("domain").drop_nulls().unique().collect().to_series().to_list()
    relatives = _relatives(local, domains).unique("domain", keep="first")
    checker = MxChecker(ctx.settings)
    ours = {h.lower() for h in ctx.hosts} | set(local)
    verdicts = []
    for domain, result in checker.lookup(relatives["domain"].to_list()).items():
        state = result.state
        if state == "mx" and any(h in ours or h.split(".", 1)[0] in ours for h in result.hosts):
            state = "mx-here"
        verdicts.append((domain, state, ", ".join(result.hosts)))
    if checker.unreachable:
        ctx.notes.append(f"wrong-domain-mx: DNS unreachable ({checker.unreachable}); used the log-only rule")
    elif not ctx.settings.dns and verdicts:
        ctx.notes.append("wrong-domain-mx: DNS lookups off (--no-dns); MX records not checked")
    dns_frame = pl.DataFrame(verdicts, schema={"domain": pl.String, "mx": pl.String, "hosts": pl.String},
                             orient="row")  # fmt: skip
    described = relatives.join(dns_frame, on="domain", how="left").with_columns(
        pl.format(
            "{} ({} of {}; {})",
            pl.col("domain"),
            pl.col("relation"),
            pl.col("local"),
            pl.col("mx").replace_strict(
                {
                    "no-mx": "no MX: implicit MX to its A record",
                    "null-mx": "null MX: takes no mail",
                    "mx": "MX elsewhere: the sender ignored it",
                    "mx-here": "MX is this server",
                    "nxdomain": "does not exist in DNS",
                    "unknown": "MX not checked",
                },
                default="MX not checked",
            ),
        ).alias("what"),
        pl.col("mx").replace_strict({"null-mx": 2, "mx": 2, "no-mx": 1, "nxdomain": 1, "unknown": 1, "mx-here": 0},
                                    default=1, return_dtype=pl.Int8).alias("level"),
    )  # fmt: skip
    hits = attempts.join(described.lazy(), on="domain", how="inner")
    per_group = hits.group_by("group").agg(
        pl.len().alias("count"),
        pl.col("what").unique().sort().str.join("; ").alias("domains"),
        pl.col("level").max().alias("level"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("seq").unique().alias("evidence"),
    )
    severity = graded(pl.col("level"))
    explanation = pl.format(
        "{} attempt(s) to deliver mail for a parent or sibling of a local domain: {}.", pl.col("count"),
        pl.col("domains"),
    )  # fmt: skip
    return findings(per_group.with_columns(severity.alias("severity"), explanation.alias("explanation")), ctx, ID)


DETECTOR = Detector(ID, "mail for a parent or sibling of a local domain", available, detect)
