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


def test_arrow_schemas_follow_the_polars_ones() -> None:
    import pyarrow as pa

    for table in TABLES.values():
        assert list(table.polars().names()) == table.names
        assert table.arrow().names == table.names
    assert EVENTS.polars()["host"] == pl.Categorical()
    assert EVENTS.polars()["ts"] == pl.Datetime("us", "UTC")
    assert EVENTS.arrow().field("host").type == pa.dictionary(pa.int32(), pa.string())
    assert EVENTS.arrow().field("ts").type == pa.timestamp("us", tz="UTC")
    sessions = TABLES["sessions"].arrow()
    assert sessions.field("starttls").type == pa.struct([("ok", pa.int32()), ("total", pa.int32())])
    assert sessions.field("rejects").type.value_type.field("reply_code").type == pa.int16()
    assert sessions.field("queue_ids").type == pa.list_(pa.string())
    assert TABLES["messages"].arrow().field("deliveries").type.value_type.field("delay").type == pa.float64()


def test_arrow_tables_keep_their_types_through_polars() -> None:
    # every table written as Arrow and read back by polars gets its declared polars types again
    for table in TABLES.values():
        empty = pl.DataFrame(schema=table.polars())
        arrow = empty.to_arrow().cast(table.arrow())
        assert pl.from_arrow(arrow).schema == table.polars(), table.name


def test_scanning_does_not_import_pyarrow() -> None:
    # pyarrow's import takes 38 MB in the main process and in every parse worker: only to_arrow needs it
    import subprocess
    import sys

    from .conftest import ROOT

    code = (
        "import sys\n"
        "from loganalyzer.cli import app\n"
        "from loganalyzer import Settings, detect\n"
        "detect('samples/postfix/scenarios/tls-failures.log', Settings(timezone='UTC', year=2024, dns=False))\n"
        "print('pyarrow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


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
