"""Issue 6: the HTML report is one self-contained file that renders cleanly in a real browser.

The Chromium test runs whenever a ``chromium`` binary exists (``.ci/run`` installs
it); ``pytest --update-golden`` also refreshes the README's screenshot.
"""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from loganalyzer.report.html import render_html, spark_svg

from ..conftest import ROOT
from ..nights import three_nights

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = ROOT / "docs" / "report-sample.png"
_URL = re.compile(r"""(?:src|href|action|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture()
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    *_, third = three_nights()
    return render_html(third.report)


def test_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert not _URL.search(page), _URL.search(page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.count("<svg") >= 8  # sparklines and count bars, inline


def test_shows_the_findings_and_trends(page: str) -> None:
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for needle in ("198.18.10.0/24", "bulkmailer.example", "198.18.41.0/24", "2001:db8:9::/48",
                   "New offenders tonight", "Worse than their 7-night avg", "Top networks tonight",
                   "rapid-retry: retries sooner than the greylist delay", "mail.log:57,58,62,63"):  # fmt: skip
        assert needle in text, needle


def test_everything_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    *_, third = three_nights()
    report = dataclasses.replace(third.report, notes=('<script>alert("x")</script>',))
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_sparkline_svg_marks_nights_without_a_run() -> None:
    svg = spark_svg([None, 0, 3, 6])
    assert svg.count("<circle") == 1 and svg.count("<rect") == 3
    assert "no run, 0, 3, 6" in svg


def _chromium(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    args = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *extra, url,
    ]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _console(stderr: str) -> list[str]:
    """Console messages (script errors, console calls, blocked fetches) Chromium logged."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (.ci/run installs it)")


@needs_chromium
def test_the_console_check_catches_script_errors_and_fetches(tmp_path: Path) -> None:
    """The check below would fail on a broken page: prove it on one."""
    bad = tmp_path / "bad.html"
    csp = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:">'
    bad.write_text(f'<!DOCTYPE html><html><head>{csp}</head><body><img src="https://example.invalid/x.png">'
                   "</body></html>")  # fmt: skip
    assert any(
        "Content Security Policy" in line for line in _console(_chromium(bad.as_uri(), tmp_path, "--dump-dom").stderr)
    )
    bad.write_text("<!DOCTYPE html><html><body><script>throw new Error('kaboom')</script></body></html>")
    assert any("kaboom" in line for line in _console(_chromium(bad.as_uri(), tmp_path, "--dump-dom").stderr))


@needs_chromium
def test_renders_in_chromium_without_console_errors(page: str, tmp_path: Path, update_golden: bool) -> None:
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    done = _chromium(path.as_uri(), tmp_path, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == []
    text = html.unescape(re.sub(r"<[^>]+>", " ", done.stdout))
    for needle in ("198.18.10.0/24", "data-after-reject", "tls-handshake-failure", "bulkmailer.example",
                   "6 retries came sooner than the 300 s greylist delay"):  # fmt: skip
        assert needle in text, needle
    if update_golden:
        _screenshot(path, tmp_path)


def _screenshot(path: Path, tmp_path: Path) -> None:
    """The README's picture: the top of the report, palette-reduced to stay small."""
    shot = tmp_path / "shot.png"
    done = _chromium(path.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=820,1250", "--hide-scrollbars")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    SCREENSHOT.parent.mkdir(exist_ok=True)
    try:
        from PIL import Image
    except ImportError:
        shutil.copyfile(shot, SCREENSHOT)
        return
    with Image.open(shot) as image:
        image.convert("RGB").quantize(colors=64).save(SCREENSHOT, optimize=True)
