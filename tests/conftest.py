"""Shared fixtures: paths, one compiled parser, a CLI runner, golden-file updating."""

from __future__ import annotations

from pathlib import Path

import pytest
from loganalyzer.grammars import envelopes, exim, milters, postfix
from typer.testing import CliRunner

from loganalyzer import grammars
from loganalyzer.parse import Parser

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files instead of comparing")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def parser() -> Parser:
    return Parser()


@pytest.fixture()
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``$XDG_CACHE_HOME`` for every test.

    ``loganalyzer scan`` and ``show`` cache parsed tables by default: no test may
    write into the user's ``~/.cache``, nor reuse what another test left there.
    """
    where = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(where))
    return where


def sample_files() -> list[Path]:
    """Every sample log (plain and compressed) the project wrote."""
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and (".log" in p.name or p.name.startswith("mail")))


def grammar_sample_lines() -> list[str]:
    """Every envelope sample, then every line-kind sample of the grammars as a whole log line (Exim's
    in its own log's envelope, the others behind a syslog one of their daemon)."""
    lines = [line for name in envelopes.SAMPLES for line in envelopes.SAMPLES[name]]
    for module in (postfix, milters, exim):
        for family, messages in module.SAMPLES.items():
            daemon = next(d for d, f in grammars.DAEMONS.items() if f == family)
            if family == "exim":
                lines.extend(f"2024-03-01 12:00:00 {m}" for m in messages)
            else:
                lines.extend(f"Mar  1 12:00:00 mx1 postfix/{daemon}[1]: {m}" for m in messages)
    return lines


_skipped_corpus: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "corpus" in report.keywords:
        _skipped_corpus.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With LOGANALYZER_CORPUS set (as in CI), a skipped corpus test fails the run."""
    import os

    if os.environ.get("LOGANALYZER_CORPUS") and _skipped_corpus:
        print(f"\nLOGANALYZER_CORPUS is set but corpus tests were skipped: {_skipped_corpus}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
