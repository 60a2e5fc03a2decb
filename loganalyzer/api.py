"""The Python API for exploring one's own logs (a notebook, a REPL, a script).

Every function takes what :func:`~loganalyzer.reading.read` takes -- a path, a
glob, a directory, a rotated set's base name, or a list of them -- or
:class:`~loganalyzer.tables.Tables` already read (:func:`~loganalyzer.reading.read`)
or loaded (:func:`load`), and one :class:`~loganalyzer.settings.Settings`. Pass
tables when calling several functions, so the logs are read once.

The frames the detectors work on come from the same
:class:`~loganalyzer.detectors.base.Context` the detectors use, so what an admin
plots is what a finding was computed from. They are returned collected
(``pl.DataFrame``): they are small next to the events, and already built once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import polars as pl

from .detectors import run as run_detectors
from .detectors.base import Context
from .detectors.rapid_retry import retry_gaps
from .evidence import evidence_lines
from .reading import read
from .schema import TABLES
from .settings import Settings
from .tables import ENGINE, Tables, our_engine

if TYPE_CHECKING:
    import pyarrow as pa  # imported by to_arrow only: 38 MB in every process (see loganalyzer.schema)

__all__ = ["Source", "attempts", "detect", "evidence", "greylist_delay", "load", "retries", "sessions", "to_arrow"]

#: Logs to read (path, glob, directory, base name of a rotated set, or several) or tables already read.
Source: TypeAlias = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Tables

_EVIDENCE_SCHEMA = {"source": pl.String, "line_no": pl.Int64, "text": pl.String}


def _tables(source: Source, settings: Settings) -> Tables:
    if isinstance(source, Tables):
        return source
    if isinstance(source, str | os.PathLike):
        return read(os.fspath(source), settings)
    return read([os.fspath(p) for p in source], settings)


def _context(source: Source, settings: Settings | None) -> Context:
    settings = settings or Settings()
    return Context(_tables(source, settings), settings)


def load(directory: str | os.PathLike[str]) -> Tables:
    """Tables written by ``loganalyzer parse -o DIR`` (or :meth:`Tables.write`), read lazily.

    Parquet or Arrow IPC files; every function here takes the result as its source.

    >>> import tempfile
    >>> settings = Settings(timezone="UTC", year=2024, dns=False)
    >>> with tempfile.TemporaryDirectory() as where:
    ...     written = read("samples/postfix/scenarios/rapid-retry.log", settings).write(where)
    ...     tables = load(where)
    ...     detect(tables, settings)["network"].to_list()
    ['198.18.10.0/24', '2001:db8:7::/48']
    """
    return Tables.load(os.fspath(directory))


def detect(source: Source, settings: Settings | None = None, *, detectors: list[str] | None = None) -> pl.DataFrame:
    """Run the detectors (all, or these ids of ``DETECTORS``) and return the findings, most severe first.

    One row per (detector, sending network), with the columns of
    :data:`loganalyzer.schema.FINDINGS`: detector, network, org, asn, count,
    first_seen, last_seen, severity, explanation and evidence (a list of
    ``{source, line_no}``). Detectors the logs cannot feed are skipped;
    :func:`~loganalyzer.scan.scan` says which and why.

    >>> settings = Settings(timezone="UTC", year=2024, dns=False)
    >>> findings = detect("samples/postfix/scenarios/tls-failures.log", settings)
    >>> findings.select("detector", "network", "severity", "count").rows()
    [('tls-no-shared-cipher', '198.18.50.0/24', 'medium', 2), ('tls-handshake-failure', '2001:db8:9::/48', 'low', 2)]
    >>> detect("samples/postfix/scenarios/tls-failures.log", settings, detectors=["rapid-retry"]).height
    0
    """
    settings = settings or Settings()
    tables = _tables(source, settings)
    with our_engine():
        return run_detectors(tables, settings, only=detectors).findings


def evidence(finding: Mapping[str, Any] | pl.DataFrame | Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """The raw log lines behind a finding: source, line_no and text, as the log has them.

    ``finding`` is a row of :func:`detect` (``findings.row(i, named=True)``), a
    findings frame (the lines of every row, each line once), or a finding's
    evidence list itself. The files are read again, so the lines are exactly
    what the server logged.

    >>> settings = Settings(timezone="UTC", year=2024, dns=False)
    >>> findings = detect("samples/postfix/scenarios/rapid-retry.log", settings)
    >>> lines = evidence(findings.row(0, named=True))
    >>> lines["line_no"].to_list()
    [3, 7, 15, 19]
    >>> print(lines["text"][0][:72])
    Apr 15 08:00:02 mx1 postfix/smtpd[2101]: NOQUEUE: reject: RCPT from mta1
    >>> evidence(findings).height
    8
    """
    items: list[Mapping[str, Any]]
    if isinstance(finding, pl.DataFrame):
        items = [e for row in finding.get_column("evidence").to_list() for e in row or []]
    elif isinstance(finding, Mapping):
        items = list(finding.get("evidence") or [])
    else:
        items = list(finding)
    unique = list(dict.fromkeys((str(e["source"]), int(e["line_no"])) for e in items))
    rows = list(evidence_lines({"source": s, "line_no": n} for s, n in unique))
    return pl.DataFrame(rows, schema=_EVIDENCE_SCHEMA, orient="row")


def attempts(source: Source, settings: Settings | None = None) -> pl.DataFrame:
    """Every delivery attempt (one RCPT) with its outcome and sending network.

    Columns: seq, ts, host, client_ip, client_name, sender, recipient,
    ``outcome`` (``temp`` for a 4xx, ``perm`` for a 5xx, ``accepted``), and the
    client's network, org, asn and group (the key ``group_by`` chose). The rows
    the retry detectors read, in log order.

    >>> settings = Settings(timezone="UTC", year=2024, dns=False)
    >>> tried = attempts("samples/postfix/scenarios/rapid-retry.log", settings)
    >>> bulk = tried.filter(pl.col("network") == "198.18.10.0/24")
    >>> bulk.select(pl.col("ts").dt.strftime("%H:%M:%S"), "outcome").rows()
    [('08:00:02', 'temp'), ('08:00:47', 'temp'), ('08:01:32', 'temp'), ('08:02:17', 'temp')]
    >>> tried.group_by("outcome").len().sort("outcome").rows()
    [('accepted', 3), ('temp', 9)]
    """
    return _context(source, settings).attempts.collect(engine=ENGINE)


def retries(source: Source, settings: Settings | None = None) -> pl.DataFrame:
    """Each temporary failure followed by another attempt, with the gap between them.

    Attempts are paired as the ``rapid-retry`` detector pairs them: by network,
    sender and recipient, so a retry from another address of the same network
    counts. Columns: network, org, asn, group, client_ip, sender, recipient,
    seq and ts (the 4xx), retry_seq, retry_ts, ``retry_outcome`` and ``gap``
    (seconds). Compare ``gap`` with :func:`greylist_delay`.

    >>> settings = Settings(timezone="UTC", year=2024, dns=False)
    >>> gaps = retries("samples/postfix/scenarios/rapid-retry.log", settings)
    >>> shortest = gaps.group_by("network").agg(pl.col("gap").min()).sort("network")
    >>> dict(shortest.rows())
    {'192.0.2.0/24': 540.0, '198.18.10.0/24': 45.0, '198.51.100.0/24': 942.0, '2001:db8:7::/48': 60.0}
    """
    ctx = _context(source, settings)
    gaps = retry_gaps(ctx.triplets).collect(engine=ENGINE)
    # the triplets keep only what the detectors read: the rest of each 4xx's attempt, by its row
    who = ctx.attempts.collect(engine=ENGINE).select(
        "network", "org", "asn", "group", "client_ip", "sender", "recipient"
    )
    found = who[gaps.get_column("attempt")]
    return found.hstack(gaps.select("seq", "ts", "retry_seq", "retry_ts", "retry_outcome", "gap").get_columns()).sort(
        "seq"
    )


def greylist_delay(source: Source, settings: Settings | None = None) -> int:
    """Seconds a client must wait after a greylisting 4xx: postgrey's, read from its lines, else the setting.

    >>> settings = Settings(timezone="UTC", year=2024, dns=False, greylist_delay=600)
    >>> greylist_delay("samples/postfix/scenarios/rapid-retry.log", settings)  # postgrey's early-retry lines say 300
    300
    >>> greylist_delay("samples/postfix/scenarios/tls-failures.log", settings)  # no postgrey lines: the setting
    600
    """
    return _context(source, settings).greylist_delay


def sessions(source: Source, settings: Settings | None = None) -> pl.DataFrame:
    """SMTP sessions with their sending network.

    The :data:`~loganalyzer.schema.SESSIONS` columns plus network, org, asn and group.
    ``tls`` is the session's TLS outcome (``established``, ``failed``, or
    ``none`` when no STARTTLS was seen), with ``tls_error`` the failure reason.

    >>> settings = Settings(timezone="UTC", year=2024, dns=False)
    >>> seen = sessions("samples/postfix/scenarios/tls-failures.log", settings)
    >>> seen.group_by("network", pl.col("tls").cast(pl.String)).len().sort("network", "tls").rows()
    [('192.0.2.0/24', 'established', 1), ('198.18.50.0/24', 'failed', 2), ('2001:db8:9::/48', 'failed', 2)]
    """
    return _context(source, settings).sessions.collect(engine=ENGINE)


def to_arrow(source: Source, settings: Settings | None = None, *, table: str = "events") -> pa.Table:
    """One table (events, sessions, messages or unparsed) as Arrow, typed as :mod:`loganalyzer.schema` declares.

    >>> arrow = to_arrow("samples/postfix/scenarios/tls-failures.log", Settings(timezone="UTC"), table="sessions")
    >>> arrow.num_rows, arrow.schema.field("tls").type
    (5, DictionaryType(dictionary<values=string, indices=int32, ordered=0>))
    """
    if table not in ("events", "sessions", "messages", "unparsed"):
        raise ValueError(f"unknown table {table!r}: events, sessions, messages or unparsed")
    settings = settings or Settings()
    frame = _tables(source, settings).table(table).collect(engine=ENGINE)
    return frame.to_arrow().cast(TABLES[table].arrow())
