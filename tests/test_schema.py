"""One schema: every grammar field is an events column, types are consistent."""

from __future__ import annotations

import polars as pl
from loganalyzer.grammars import ENVELOPES, FAMILIES

from loganalyzer.plans import compile_plan
from loganalyzer.schema import EVENTS, TABLES


def test_every_grammar_field_is_an_events_column() -> None:
    columns = set(EVENTS.names)
    missing = {}
    for name, family in FAMILIES.items():
        for kind in family.kinds:
            for field in compile_plan(family.grammar(kind)).all_fields():
                if field not in columns:
                    missing[f"{name}/{kind.name}"] = field
    assert not missing


def test_envelope_fields_feed_known_columns() -> None:
    # envelope fields are either events columns or the timestamp parts the parser converts
    converted = {
        "month",
        "day",
        "clock",
        "timestamp",
        "msg",
        "pri",
        "msgid",
        "structured_data",
        "inner_month",
        "inner_day",
        "inner_clock",
        "local_time",
        "tz_offset",
        "exim_timestamp",
        "split_part",
        "split_total",
    }
    for _, grammar in ENVELOPES:
        for field in compile_plan(grammar).all_fields():
            assert field in EVENTS.names or field in converted, field


def test_polars_schemas_derive_from_arrow() -> None:
    for table in TABLES.values():
        schema = table.polars()
        assert list(schema.names()) == table.names
    assert EVENTS.polars()["host"] == pl.Categorical()
    assert EVENTS.polars()["ts"] == pl.Datetime("us", "UTC")


def test_column_names_are_unique() -> None:
    for table in TABLES.values():
        assert len(set(table.names)) == len(table.names), table.name


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    # pyproject.toml lists packages explicitly (grammars/ is mapped into the package): a new
    # subpackage missing from the list would be left out of the wheel without any error
    import tomllib

    from .conftest import ROOT

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"loganalyzer." + ".".join(p.parent.relative_to(ROOT / "loganalyzer").parts) for p in
             (ROOT / "loganalyzer").rglob("__init__.py")}  # fmt: skip
    found = {name.rstrip(".") for name in found} | {"loganalyzer.grammars"}
    assert found == listed
