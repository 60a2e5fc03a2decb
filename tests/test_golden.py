"""Golden tables of every sample log the project wrote (parse + correlation)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from loganalyzer.reading import read
from loganalyzer.settings import Settings

from .conftest import GOLDEN, SAMPLES
from .golden import check

#: sample -> path to read (a rotated set is read through its base name)
CASES = {
    "normal-day": "postfix/normal-day.log",
    "rfc3339": "postfix/rfc3339.log",
    "rfc5424": "postfix/rfc5424.log",
    "journal-short-precise": "postfix/journal-short-precise.log",
    "central-syslog": "postfix/central-syslog.log",
    "cut-sessions": "postfix/cut-sessions.log",
    "latin1": "postfix/latin1.log",
    "rotated": "postfix/rotated/mail.log",
    **{f"scenario-{p.stem}": f"postfix/scenarios/{p.name}" for p in (SAMPLES / "postfix" / "scenarios").glob("*.log")},
    **{p.stem: f"postfix/nights/{p.name}" for p in (SAMPLES / "postfix" / "nights").glob("*.log")},  # issue 6
    # issue 4: Exim's own mainlog format (one scenario syslog-wrapped), in the same tables
    "exim-normal-day": "exim/normal-day.log",
    **{f"exim-scenario-{p.stem}": f"exim/scenarios/{p.name}" for p in (SAMPLES / "exim" / "scenarios").glob("*.log")},
}
SETTINGS = Settings(timezone="Europe/Berlin", year=2025, jobs=2)
ORDER = {"events": "seq", "sessions": "session_id", "messages": "message_key", "unparsed": "seq"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_tables(name: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SAMPLES)  # sources are recorded relative to samples/
    tables = read(CASES[name], SETTINGS)
    for table, key in ORDER.items():
        frame = tables.table(table).collect().sort(key)
        if table == "events":
            frame = frame.drop("seq")  # line_no + source say the same, readably
        check(GOLDEN / name / f"{table}.ndjson", frame, update=update_golden)


def test_golden_files_exist_for_every_sample() -> None:
    listed = {str(Path(p)) for p in CASES.values()}
    for path in [*(SAMPLES / "postfix").rglob("*"), *(SAMPLES / "exim").rglob("*")]:
        if path.is_file() and path.parent.name != "rotated":
            assert str(path.relative_to(SAMPLES)) in listed, f"{path} has no golden test"


def test_events_have_typed_columns() -> None:
    tables = read(str(SAMPLES / "postfix" / "normal-day.log"), SETTINGS)
    schema = tables.events.collect_schema()
    assert schema["reply_code"] == pl.Int16 and schema["size"] == pl.Int64 and schema["delay"] == pl.Float64
    assert schema["kind"] == pl.Categorical() and schema["ts"] == pl.Datetime("us", "UTC")
