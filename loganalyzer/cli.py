"""Command line: options -> Settings -> library call -> exit code. Nothing else.

Exit codes: 0 success; 1 a ``--fail-on`` detector matched; 2 usage or input
error (one line on stderr, a traceback only with ``--debug``); 3 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from .errors import UserError
from .settings import Settings, load_config

__all__ = ["app", "main"]

T = TypeVar("T")

DEFAULT_LOG = "/var/log/mail.log"

app = typer.Typer(
    name="loganalyzer",
    help="Name the sending networks that break SMTP's rules, from Postfix and Exim logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Paths = Annotated[
    list[str] | None,
    typer.Argument(help="Log files, globs, directories or rotated-set base names; - for stdin.", show_default=False),
]
Year = Annotated[int | None, typer.Option(help="Year of the last line of files without years (default: from mtime).")]
Timezone = Annotated[str | None, typer.Option(help="Zone of timestamps without one (default: local zone).")]
Jobs = Annotated[int | None, typer.Option(help="Parallel parse workers (default: all cores).")]
NoRotated = Annotated[bool, typer.Option("--no-rotated", help="Read a base name alone, not its rotated set.")]
Config = Annotated[Path | None, typer.Option(help="TOML file with settings (same names as the options).")]
Debug = Annotated[bool, typer.Option(help="Show tracebacks of errors.")]
NoCache = Annotated[
    bool, typer.Option("--no-cache", help="Parse the logs again; neither reuse nor store parsed tables.")
]
CacheDir = Annotated[
    Path | None,
    typer.Option(help="Parsed tables of earlier scans (default $XDG_CACHE_HOME/loganalyzer or ~/.cache/loganalyzer)."),
]


class UsageError(UserError):
    """A bad combination of arguments."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"loganalyzer: {message}", err=True)
    return typer.Exit(code)


def _guard(debug: bool, body: Callable[[], T]) -> T:
    """Run a command body; turn known errors into one-line messages and exit 2."""
    try:
        return body()
    except typer.Exit:
        raise
    except (
        UserError,  # each module's own: a path, a setting, a detector, a server
        OSError,  # the machine's, not ours: a full disk under the spill directory, a file gone mid-read
    ) as exc:
        if debug:
            traceback.print_exc()
        raise _fail(f"error: {exc}") from None
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None
    except BrokenPipeError:
        sys.stderr.close()
        raise typer.Exit(0) from None
    except Exception as exc:
        if debug:
            traceback.print_exc()
        raise _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", 3) from None


def _settings(config: Path | None, **overrides: object) -> Settings:
    base = load_config(config) if config else Settings()
    return base.replace(**overrides)


def bundled_sample() -> Path:
    """The demo log shipped inside the package."""
    return Path(str(resources.files("loganalyzer") / "data" / "demo.log"))


def _default_paths(paths: list[str] | None) -> list[str]:
    if paths:
        return paths
    if os.access(DEFAULT_LOG, os.R_OK):
        typer.echo(f"loganalyzer: no log given; reading {DEFAULT_LOG}", err=True)
        return [DEFAULT_LOG]
    sample = bundled_sample()
    typer.echo(
        f"loganalyzer: no log given and {DEFAULT_LOG} is not readable; scanning the bundled sample {sample}", err=True
    )
    return [str(sample)]


@app.command()
def parse(
    paths: Paths = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the tables to this directory.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or arrow.")] = "parquet",
    stats: Annotated[bool, typer.Option("--stats", help="Print counts per table and kind.")] = False,
    year: Year = None,
    timezone: Timezone = None,
    jobs: Jobs = None,
    no_rotated: NoRotated = False,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Parse logs into events, sessions, messages and unparsed tables."""
    from .reading import read
    from .report.text import render_summary
    from .summary import summarize

    def body() -> None:
        if not paths:
            raise UsageError("parse needs at least one PATH (use - for standard input)")
        if fmt not in ("parquet", "arrow"):
            raise UsageError(f"--format must be parquet or arrow, not {fmt!r}")
        if output is None and not stats:
            raise UsageError("nothing to do: give --output DIR and/or --stats")
        settings = _settings(config, year=year, timezone=timezone, jobs=jobs, rotated=False if no_rotated else None)
        tables = read(paths, settings)
        if output is not None:
            for path in tables.write(output, fmt=fmt):
                typer.echo(f"wrote {path}", err=True)
        if stats:
            typer.echo(render_summary(summarize(tables), kinds=True))

    _guard(debug, body)


@app.command()
def explain(
    line: Annotated[str, typer.Argument(help="One log line (quote it).")],
    debug: Debug = False,
) -> None:
    """Show which grammar matches LINE and every field, or where the closest grammar failed."""
    from .explain import explain as explain_line

    def body() -> None:
        matched, text = explain_line(line)
        typer.echo(text)
        if not matched:
            raise typer.Exit(1)

    _guard(debug, body)


Format = Annotated[str, typer.Option("--format", help="text, json, csv or markdown.")]
TableFormat = Annotated[str, typer.Option(help="tabulate table format for text output (simple, grid, ...).")]
FailOn = Annotated[
    str | None, typer.Option(help="Exit 1 when these detectors (comma-separated, or any) find something.")
]
Top = Annotated[
    int,
    typer.Option(min=0, help="Networks shown per detector in text and markdown, most serious first (0: all)."),
]
GroupBy = Annotated[str | None, typer.Option(help="Group findings by network, org, asn or ip.")]
Ipv4Prefix = Annotated[int | None, typer.Option(help="IPv4 sending-network prefix length (default 24).")]
Ipv6Prefix = Annotated[int | None, typer.Option(help="IPv6 sending-network prefix length (default 48).")]
GreylistDelay = Annotated[
    int | None, typer.Option(help="Seconds a client must wait after a 4xx (default 300; postgrey's lines win).")
]
RetryWindow = Annotated[int | None, typer.Option(help="Seconds after a 5xx in which a repeat counts as a retry.")]
PlaintextWindow = Annotated[
    int | None, typer.Option(help="Seconds after a failed STARTTLS in which plaintext counts as a fallback.")
]
LocalDomain = Annotated[
    list[str] | None, typer.Option("--local-domain", help="A domain this server receives mail for (repeatable).")
]
NoDns = Annotated[bool, typer.Option("--no-dns", help="Do not look up MX records.")]
DnsServer = Annotated[str | None, typer.Option(help="Name server for MX lookups, host[:port].")]
AsnDb = Annotated[Path | None, typer.Option(help="MaxMind/ipinfo .mmdb ASN database.")]
Evidence = Annotated[int | None, typer.Option(help="Example lines per finding in reports (default 5).")]
DetectorIds = Annotated[
    list[str] | None, typer.Option("--detector", help="Run only this detector (repeatable).", show_default=False)
]


def _detect_settings(config: Path | None, **options: object) -> Settings:
    if options.pop("no_dns", False):
        options["dns"] = False
    if options.pop("no_rotated", False):
        options["rotated"] = False
    domains = options.pop("local_domain", None)
    if isinstance(domains, list) and domains:
        options["local_domains"] = tuple(domains)
    cache_dir = options.pop("cache_dir", None)
    if cache_dir is not None:
        options["cache_dir"] = str(cache_dir)
    asn_db = options.pop("asn_db", None)
    if asn_db is not None:
        if not Path(str(asn_db)).is_file():
            raise UsageError(f"--asn-db {asn_db}: no such file")
        options["asn_db"] = str(asn_db)
    return _settings(config, **options)


def _fail_on(value: str | None) -> set[str]:
    from .detectors import DETECTORS

    if not value:
        return set()
    wanted = {v.strip() for v in value.split(",") if v.strip()}
    if "any" in wanted:
        return set(DETECTORS)
    unknown = wanted - set(DETECTORS)
    if unknown:
        raise UsageError(f"--fail-on: unknown detector {', '.join(sorted(unknown))}; use any or {', '.join(DETECTORS)}")
    return wanted


def _echo_messages(messages: list[str]) -> None:
    """What the library said for standard error (the parse cache: reused, damaged, not writable)."""
    for message in messages:
        typer.echo(f"loganalyzer: {message}", err=True)


def _use_colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


@app.command()
def scan(
    paths: Paths = None,
    fmt: Format = "text",
    table_format: TableFormat = "simple",
    top: Top = 25,
    fail_on: FailOn = None,
    detector: DetectorIds = None,
    group_by: GroupBy = None,
    ipv4_prefix: Ipv4Prefix = None,
    ipv6_prefix: Ipv6Prefix = None,
    greylist_delay: GreylistDelay = None,
    retry_window: RetryWindow = None,
    plaintext_window: PlaintextWindow = None,
    local_domain: LocalDomain = None,
    no_dns: NoDns = False,
    dns_server: DnsServer = None,
    asn_db: AsnDb = None,
    evidence: Evidence = None,
    year: Year = None,
    timezone: Timezone = None,
    jobs: Jobs = None,
    no_rotated: NoRotated = False,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Scan logs and report the sending networks that break SMTP's rules.

    With no PATH, scans /var/log/mail.log when readable and otherwise the bundled sample.
    """
    from .report.findings import FORMATS, render
    from .scan import scan as run_scan

    def body() -> None:
        if fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        failing = _fail_on(fail_on)
        settings = _detect_settings(
            config, year=year, timezone=timezone, jobs=jobs, no_rotated=no_rotated, group_by=group_by,
            ipv4_prefix=ipv4_prefix, ipv6_prefix=ipv6_prefix, greylist_delay=greylist_delay,
            retry_window=retry_window, plaintext_window=plaintext_window, local_domain=local_domain,
            no_dns=no_dns, dns_server=dns_server, asn_db=asn_db, evidence=evidence, cache_dir=cache_dir,
        )  # fmt: skip
        result = run_scan(_default_paths(paths), settings, detectors=detector, cache=not no_cache)
        _echo_messages(result.messages)
        if result.summary.lines and not result.mta_lines:
            typer.echo(
                f"loganalyzer: none of the {result.summary.lines:,} lines came from Postfix or Exim "
                "(no postfix/... or exim program tags): is this a mail log?",
                err=True,
            )
        colour = fmt == "text" and _use_colour()
        typer.echo(render(result, fmt, table_format=table_format, colour=colour, top=top), nl=False)
        hit = set(result.detection.findings["detector"].to_list()) & failing
        if hit:
            raise typer.Exit(1)

    _guard(debug, body)


@app.command()
def show(
    paths: Paths = None,
    network: Annotated[str, typer.Option(help="The network (CIDR), or org/asn/ip when grouping by those.")] = "",
    detector: DetectorIds = None,
    group_by: GroupBy = None,
    ipv4_prefix: Ipv4Prefix = None,
    ipv6_prefix: Ipv6Prefix = None,
    greylist_delay: GreylistDelay = None,
    retry_window: RetryWindow = None,
    plaintext_window: PlaintextWindow = None,
    local_domain: LocalDomain = None,
    no_dns: NoDns = False,
    dns_server: DnsServer = None,
    asn_db: AsnDb = None,
    year: Year = None,
    timezone: Timezone = None,
    jobs: Jobs = None,
    no_rotated: NoRotated = False,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Print the raw log lines behind the findings for one network, in order."""
    from .evidence import evidence_lines, normalise_network
    from .scan import scan as run_scan

    def body() -> None:
        if not paths:
            raise UsageError("show needs the PATH(s) that were scanned")
        if not network:
            raise UsageError("show needs --network CIDR (as printed by scan)")
        settings = _detect_settings(
            config, year=year, timezone=timezone, jobs=jobs, no_rotated=no_rotated, group_by=group_by,
            ipv4_prefix=ipv4_prefix, ipv6_prefix=ipv6_prefix, greylist_delay=greylist_delay,
            retry_window=retry_window, plaintext_window=plaintext_window, local_domain=local_domain,
            no_dns=no_dns, dns_server=dns_server, asn_db=asn_db, cache_dir=cache_dir,
        )  # fmt: skip
        key = normalise_network(network, settings)
        result = run_scan(paths, settings, detectors=detector, cache=not no_cache)
        _echo_messages(result.messages)
        found = result.detection.findings.filter(result.detection.findings["network"] == key)
        if found.is_empty():
            typer.echo(f"loganalyzer: no finding for {key}" + (f" by {', '.join(detector)}" if detector else ""),
                       err=True)  # fmt: skip
            raise typer.Exit(1)
        for row in found.iter_rows(named=True):
            typer.echo(f"# {row['detector']} ({row['severity']}): {row['explanation']}")
            for source, line_no, text in evidence_lines(row["evidence"]):
                typer.echo(f"{source}:{line_no}: {text}")

    _guard(debug, body)


StateDir = Annotated[
    Path | None,
    typer.Option(help="State and history directory (default /var/lib/loganalyzer, else ~/.local/state/loganalyzer)."),
]
Since = Annotated[
    str | None, typer.Option(help="Report from then on, without state: 24h, 7d, yesterday, 2024-04-16, ...")
]
Until = Annotated[str | None, typer.Option(help="Report up to then, without state (default: now).")]


@app.command()
def report(
    paths: Paths = None,
    state_dir: StateDir = None,
    since: Since = None,
    until: Until = None,
    fmt: Annotated[str, typer.Option("--format", help="text, markdown or html.")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    mail_to: Annotated[
        list[str] | None, typer.Option("--mail-to", help="Mail the report (text + HTML) to ADDR (repeatable).")
    ] = None,
    mail_from: Annotated[str | None, typer.Option(help="Sender address (default loganalyzer@<hostname>).")] = None,
    smtp_host: Annotated[str, typer.Option(help="Mail server to hand the report to, host[:port].")] = "localhost:25",
    top: Annotated[int, typer.Option(help="Networks in the top list with sparklines.")] = 10,
    fail_on: FailOn = None,
    detector: DetectorIds = None,
    group_by: GroupBy = None,
    ipv4_prefix: Ipv4Prefix = None,
    ipv6_prefix: Ipv6Prefix = None,
    greylist_delay: GreylistDelay = None,
    retry_window: RetryWindow = None,
    plaintext_window: PlaintextWindow = None,
    local_domain: LocalDomain = None,
    no_dns: NoDns = False,
    dns_server: DnsServer = None,
    asn_db: AsnDb = None,
    evidence: Evidence = None,
    year: Year = None,
    timezone: Timezone = None,
    jobs: Jobs = None,
    config: Config = None,
    debug: Debug = False,
) -> None:
    """Report what the logs gained since the last run (for cron), or an ad-hoc --since/--until window.

    With no PATH, follows /var/log/mail.log. The state advances only after the report was
    written and delivered; exit 2 when another run holds the lock or delivery failed.
    """
    from datetime import UTC, datetime

    from .nightly import Output, parse_when, run, run_window
    from .report.mail import MailOptions, default_sender, parse_smtp_host

    def body() -> None:
        if top < 1:
            raise UsageError("--top must be at least 1")
        failing = _fail_on(fail_on)
        settings = _detect_settings(
            config, year=year, timezone=timezone, jobs=jobs, group_by=group_by, ipv4_prefix=ipv4_prefix,
            ipv6_prefix=ipv6_prefix, greylist_delay=greylist_delay, retry_window=retry_window,
            plaintext_window=plaintext_window, local_domain=local_domain, no_dns=no_dns, dns_server=dns_server,
            asn_db=asn_db, evidence=evidence,
        )  # fmt: skip
        mail = None
        if mail_to:
            host, port = parse_smtp_host(smtp_host)
            mail = MailOptions(tuple(mail_to), mail_from or default_sender(), host, port)
        out = Output(fmt, output, mail, lambda text: typer.echo(text, nl=False))
        logs = paths or [DEFAULT_LOG]
        if since or until:
            if state_dir is not None:
                raise UsageError("--since/--until report a window without state; leave out --state-dir")
            now = datetime.now(UTC)
            start = parse_when(since, now=now, tz=settings.timezone) if since else None
            end = parse_when(until, now=now, tz=settings.timezone) if until else None
            outcome = run_window(logs, settings, since=start, until=end, output=out, detectors=detector)
        else:
            outcome = run(logs, settings, state_dir=state_dir, output=out, detectors=detector, top=top)
        if set(outcome.report.result.detection.findings["detector"].to_list()) & failing:
            raise typer.Exit(1)

    _guard(debug, body)


def main() -> None:
    """Console-script entry point."""
    import polars as pl

    from .tables import ENGINE

    pl.Config.set_engine_affinity(ENGINE)
    app()


if __name__ == "__main__":
    main()
