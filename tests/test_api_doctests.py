"""The examples in the public API's docstrings run, and say what really happens (issue 7)."""

from __future__ import annotations

import doctest
import importlib

import pytest

import loganalyzer

from .conftest import ROOT

# Modules whose docstrings hold the API's examples (run from the repository root,
# where the examples' sample paths are).
MODULES = ["loganalyzer", "loganalyzer.api", "loganalyzer.scan", "loganalyzer.reading"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    # importlib, not attribute access: loganalyzer.scan is the function, the module is in sys.modules.
    module = importlib.import_module(name)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name}: no examples found"
    assert result.failed == 0, "".join(report)


def test_every_public_function_has_an_example() -> None:
    """Each callable in __all__ defined in the package shows how it is called."""
    finder = doctest.DocTestFinder(recurse=False)
    missing = []
    for name in loganalyzer.__all__:
        obj = getattr(loganalyzer, name)
        if callable(obj) and getattr(obj, "__module__", "").startswith("loganalyzer"):
            tests = finder.find(obj, name, module=False, globs={})
            if not any(t.examples for t in tests):
                missing.append(name)
    # Classes and helpers documented by the package docstring's example instead.
    assert set(missing) <= {"ScanResult", "Settings", "Tables", "evidence_lines"}, missing


def test_readme_python_api_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's example is real code: run it on the demo log instead of /var/log/mail.log."""
    import re

    section = (ROOT / "README.md").read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    assert '"/var/log/mail.log"' in code
    monkeypatch.chdir(ROOT)
    code = code.replace('"/var/log/mail.log"', '"loganalyzer/data/demo.log"')
    code = code.replace('la.Settings(timezone="UTC"', 'la.Settings(timezone="UTC", year=2024')
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "loganalyzer/data/demo.log" in out and "198.18.10.0/24" in out


def test_public_names_load_on_first_use_and_stay_the_api() -> None:
    """``import loganalyzer`` loads no detector; the three public functions named like a submodule
    (scan, sessions, evidence) are still the functions once their submodules are imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import loganalyzer.reading\n"  # what a parse worker imports
        "print(sorted(m for m in ('loganalyzer.api', 'loganalyzer.detectors', 'loganalyzer.sessions')"
        " if m in sys.modules))\n"
        "import loganalyzer.scan, loganalyzer.sessions, loganalyzer.evidence\n"
        "import loganalyzer as la\n"
        "print([type(getattr(la, n)).__name__ for n in ('scan', 'sessions', 'evidence', 'read', 'DETECTORS')])\n"
        "print(set(la.__all__) <= set(dir(la)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:3] == [
        "[]",
        "['function', 'function', 'function', 'function', 'dict']",
        "True",
    ], out.stderr
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        loganalyzer.nothing  # noqa: B018


def test_every_user_error_is_one_the_command_line_reports() -> None:
    """The CLI catches UserError alone (so it need not import every module): each error a user can
    fix derives from it."""
    from loganalyzer.cli import UsageError
    from loganalyzer.detectors import UnknownDetectorError
    from loganalyzer.errors import UserError
    from loganalyzer.networks import NetworkError
    from loganalyzer.nightly import ReportError
    from loganalyzer.report.mail import DeliveryError
    from loganalyzer.settings import SettingsError
    from loganalyzer.sources import InputError
    from loganalyzer.state import StateError

    errors = [UsageError, UnknownDetectorError, NetworkError, ReportError, DeliveryError, SettingsError, InputError]
    assert all(issubclass(e, UserError) for e in [*errors, StateError])
    assert all(issubclass(e, ValueError) for e in (UnknownDetectorError, NetworkError, SettingsError))
