"""Access to the shared third-party corpus (``LOGANALYZER_CORPUS``).

The corpus is reference data from other projects (see its README); it is never
copied into this repository. Tests that need it use :func:`corpus_dir`, which
skips when the corpus is absent, and fails instead when ``LOGANALYZER_CORPUS`` is
set but does not point at it (CI sets it, so corpus tests cannot silently skip).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ENV = "LOGANALYZER_CORPUS"
#: The corpus README: "some carry a trailing ' 93'/' 215' artefact from the original
#: collection". It is stripped so that the line Postfix wrote is what gets tested.
_SEKOIA_ARTEFACT = re.compile(r"(?<=[\w>)\]]) [0-9]{2,3}$")
#: Envelope put in front of corpus lines that carry only the message part.
SYNTHETIC = "Jan  1 00:00:00 corpus {program}[1]: {message}"


@dataclass(frozen=True)
class CorpusLine:
    """One third-party line: where it came from, the full syslog line, expectations."""

    file: str
    index: int
    line: str
    program: str | None = None
    expect: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def corpus_dir() -> Path:
    """The corpus folder, or skip (or fail, when LOGANALYZER_CORPUS is set and wrong)."""
    configured = os.environ.get(ENV)
    root = Path(configured) if configured else Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    if not (root / "README.md").is_file():
        if configured:
            pytest.fail(f"{ENV}={configured} does not hold the corpus")
        pytest.skip(f"corpus not available (set {ENV})")
    return root


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def postfix_lines(root: Path) -> list[CorpusLine]:
    """Every distinct Postfix-side corpus line as a full syslog line.

    Full lines come from the ``.log`` files and sshguard's tests; message-only
    cases (grok patterns, SEKOIA) get a synthetic envelope with the program their
    source names. Cases with no program, and grok field fragments, are left out:
    they are not lines.
    """
    out: list[CorpusLine] = []
    base = root / "postfix"
    for name in (
        "fail2ban-postfix.log",
        "lightmeter-go-test-lines.log",
        "crowdsec-hub-postfix.log",
        "postfix-exporter-tests.log",
    ):
        for i, line in enumerate((base / name).read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip() and not line.startswith("{"):  # one filebeat JSON document: not a syslog line
                out.append(CorpusLine(name, i, line))
    for i, case in enumerate(_jsonl(base / "sshguard-parser-tests.jsonl"), start=1):
        if case["line"][:1].isalpha() and case["line"][:3] != "war" and case["line"][:3] != "los":
            out.append(CorpusLine("sshguard-parser-tests.jsonl", i, case["line"]))
    for i, case in enumerate(_jsonl(base / "grok-patterns-cases.jsonl"), start=1):
        # a case spanning several lines is a YAML convenience, not a log line
        if (
            case.get("kind") == "message-without-syslog-prefix"
            and case.get("program_hint")
            and "\n" not in case["line"]
        ):
            program = case["program_hint"]
            out.append(
                CorpusLine(
                    "grok-patterns-cases.jsonl",
                    i,
                    SYNTHETIC.format(program=program, message=case["line"]),
                    program,
                    {"grok": case.get("expected")},
                )
            )
    for i, case in enumerate(_jsonl(base / "sekoia-postfix-cases.jsonl"), start=1):
        program = case.get("appname") or ""
        message = _SEKOIA_ARTEFACT.sub("", case["line"])
        if "](mailto:" in message:
            continue  # a wiki export rewrote these into Markdown links: not log output
        if "/" in program or program in ("postgrey", "policyd-spf", "opendkim", "opendmarc"):
            out.append(
                CorpusLine("sekoia-postfix-cases.jsonl", i, SYNTHETIC.format(program=program, message=message), program)
            )
    seen: set[str] = set()
    unique = []
    for c in out:
        if c.line not in seen:
            seen.add(c.line)
            unique.append(c)
    return unique


def fail2ban_expectations(root: Path) -> list[CorpusLine]:
    """fail2ban's postfix lines with their failJSON (host = the client IP it extracts)."""
    out = []
    for i, case in enumerate(_jsonl(root / "postfix" / "fail2ban-postfix.expect.jsonl"), start=1):
        fail = case.get("failJSON") or {}
        out.append(CorpusLine("fail2ban-postfix.expect.jsonl", i, case["line"], expect=fail))
    return out
