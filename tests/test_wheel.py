"""The wheel installs into a fresh virtualenv and runs there (issue 2).

Slow (builds a wheel, creates a venv, installs dependencies): marked ``slow``.
It also proves the grammars ship as ``loganalyzer.grammars`` and that no bare
top-level ``grammars`` package lands in site-packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheels = list((work / "dist").glob("loganalyzer-*.whl"))
    assert len(wheels) == 1
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", str(wheels[0])], check=True, capture_output=True)
    return env_dir


def _run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_scan_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, str(installed / "bin" / "loganalyzer"), "scan", "--timezone", "UTC", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lines read" in result.stdout


def test_grammars_are_inside_the_package(installed: Path, tmp_path: Path) -> None:
    code = (
        "import importlib.util, loganalyzer.grammars as g;"
        "assert importlib.util.find_spec('grammars') is None, 'bare grammars package installed';"
        "assert 'site-packages' in g.__file__; print(len(g.FAMILIES))"
    )
    result = _run(installed, str(installed / "bin" / "python"), "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 10


def test_explain_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    line = "Mar  1 12:00:01 mx1 postfix/smtpd[2817]: connect from mail.example.net[198.51.100.7]"
    result = _run(installed, str(installed / "bin" / "loganalyzer"), "explain", line, cwd=tmp_path)
    assert result.returncode == 0 and "kind: connect" in result.stdout
