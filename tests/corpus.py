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


def _unique(lines: list[CorpusLine]) -> list[CorpusLine]:
    """Each line once (several projects' test files share lines), first occurrence kept."""
    seen: set[str] = set()
    unique = []
    for c in lines:
        if c.line not in seen:
            seen.add(c.line)
            unique.append(c)
    return unique


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
    return _unique(out)


def fail2ban_expectations(root: Path, mta: str = "postfix") -> list[CorpusLine]:
    """fail2ban's lines of one MTA with their failJSON (host = the client IP it extracts)."""
    out = []
    names = (
        ["fail2ban-postfix.expect.jsonl"]
        if mta == "postfix"
        else sorted(p.name for p in (root / "exim").glob("fail2ban-exim*.expect.jsonl"))
    )
    for name in names:
        for i, case in enumerate(_jsonl(root / mta / name), start=1):
            fail = case.get("failJSON") or {}
            out.append(CorpusLine(name, i, case["line"], expect=fail))
    return out


#: What Exim's test harness (``test/runtest``) leaves in its logs and the corpus's ``demunged``
#: file did not replace: its port constants (``PORT_D`` is the daemon's port, 1225, and so on) and
#: the ``p`` it writes before a pid in ``Ci=p1234`` and ``pid p1234:``. Putting the harness's
#: own values back gives the line Exim wrote; the errno it masks as ``dd``/``EEE`` has no known
#: value and is left alone (the grammar accepts the mask).
_RUNTEST_PORTS = {"N": "1223", "S": "1224", "D": "1225", "D2": "1226", "D3": "1227", "D4": "1228"}
_RUNTEST_PORT = re.compile(r"(?<=\]:)PORT_(N|S|D[234]?)\b")
_RUNTEST_PID = re.compile(r"(?<=\bCi=)p(?=[0-9])|(?<=\bpid )p(?=[0-9])")
_SYSLOG_MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}


def _demunge_runtest(line: str) -> str:
    line = _RUNTEST_PORT.sub(lambda m: _RUNTEST_PORTS[m.group(1)], line)
    return _RUNTEST_PID.sub("", line)


def exim_lines(root: Path) -> list[CorpusLine]:
    """Every distinct Exim corpus line as a full log line.

    The ``.log`` files are read whole (the test suite's ``demunged`` variant, with the harness's
    remaining placeholders put back, see :func:`_demunge_runtest`); the jsonl files give their
    ``line``. As for Postfix, sshguard's message-only fragments (no timestamp, no envelope) are
    left out: they are not log lines.
    """
    out: list[CorpusLine] = []
    base = root / "exim"
    for name in (
        "fail2ban-exim.log",
        "fail2ban-exim-spam.log",
        "exim-testsuite-mainlog.demunged.log",
        "exim-exporter-test-mainlog.log",
        "exim-exporter-test-rejectlog.log",
        "exim-exporter-test-paniclog.log",
        "crowdsec-hub-exim.log",
    ):
        for i, line in enumerate((base / name).read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                out.append(CorpusLine(name, i, _demunge_runtest(line) if "testsuite" in name else line))
    for i, case in enumerate(_jsonl(base / "logstash-patterns-exim-spec.jsonl"), start=1):
        out.append(CorpusLine("logstash-patterns-exim-spec.jsonl", i, case["line"]))
    for i, case in enumerate(_jsonl(base / "sshguard-parser-tests.jsonl"), start=1):
        line = case["line"]
        if line[:1].isdigit() or line[:3] in _SYSLOG_MONTHS:
            out.append(CorpusLine("sshguard-parser-tests.jsonl", i, line))
    return _unique(out)
