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

from .settings import Settings, SettingsError, load_config
from .sources import InputError

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


class UsageError(Exception):
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
    except (InputError, SettingsError, UsageError) as exc:
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


@app.command()
def scan(
    paths: Paths = None,
    year: Year = None,
    timezone: Timezone = None,
    jobs: Jobs = None,
    no_rotated: NoRotated = False,
    config: Config = None,
    table_format: Annotated[str, typer.Option(help="tabulate table format.")] = "simple",
    debug: Debug = False,
) -> None:
    """Scan logs and report sending networks that break SMTP's rules.

    With no PATH, scans /var/log/mail.log when readable and otherwise the bundled sample.
    """
    from .reading import read
    from .report.text import render_summary
    from .summary import summarize

    def body() -> None:
        settings = _settings(config, year=year, timezone=timezone, jobs=jobs, rotated=False if no_rotated else None)
        tables = read(_default_paths(paths), settings)
        typer.echo(render_summary(summarize(tables), table_format=table_format))

    _guard(debug, body)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
