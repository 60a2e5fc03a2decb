"""The grammar-to-plan compiler (loganalyzer.plans)."""

from __future__ import annotations

import re

import polars as pl
import pyparsing as pp
import pytest
from loganalyzer.grammars import FAMILIES
from loganalyzer.grammars.elements import CUT, END, FIELD_END, field, lit, one_of, opt, seq, text, text_until

from loganalyzer.parse import Parser
from loganalyzer.plans import HEAD, PlanError, compile_plan, dispatch_keys, escape, required_literals, to_regex

from .conftest import grammar_sample_lines


def test_escape_keeps_spaces_and_dashes_plain() -> None:
    assert escape("a-b c") == "a-b c"
    assert escape("x[1].(y)*") == r"x\[1\]\.\(y\)\*"
    assert re.fullmatch(escape("status=sent (250 ok)"), "status=sent (250 ok)")


def test_head_only_grammar_is_anchored_at_both_ends() -> None:
    plan = compile_plan(seq(lit("connect from "), field("client_name", r"[^\[]*"), END))
    assert plan.head == rf"^(?P<{HEAD}>connect from (?P<client_name>[^\[]*))$"
    assert plan.fields == ("client_name",) and plan.rest is None and plan.until is None


def test_free_text_is_sliced_not_captured() -> None:
    plan = compile_plan(seq(lit("x "), text("reason"), END))
    assert plan.rest == "reason"
    assert "reason" not in plan.head


def test_text_until_compiles_trailer_search_and_plan() -> None:
    grammar = seq(lit("a "), text_until("reason", lit(";"), opt(lit(" to=<"), field("recipient", "[^>]*"), lit(">"))))
    plan = compile_plan(grammar)
    assert plan.until == "reason"
    assert plan.until_pattern is not None and plan.until_pattern.endswith("$")
    assert "(?P<" not in plan.until_pattern  # the search captures nothing
    assert plan.then is not None and plan.then.fields == ("recipient",)


def test_duplicate_field_names_are_refused() -> None:
    with pytest.raises(PlanError, match="twice"):
        compile_plan(seq(field("a", "x"), lit(" "), field("a", "y"), END))


def test_free_text_must_end_the_line() -> None:
    with pytest.raises(PlanError):
        compile_plan(seq(text("a"), lit("x"), END))


def test_unsupported_elements_are_refused() -> None:
    with pytest.raises(PlanError, match="unsupported"):
        to_regex(pp.Word(pp.alphas))


def test_dispatch_keys() -> None:
    assert dispatch_keys(seq(lit("connect from "), field("x", "y"))) == ("connect from ",)
    assert set(dispatch_keys(seq(one_of("action", "reject", "hold"), lit(": ")))) == {"reject", "hold"}
    assert dispatch_keys(seq(field("x", "[a-z]+"), lit(" "))) == ("",)


def test_required_literals_are_the_unbroken_runs_of_literals_before_free_text() -> None:
    grammar = seq(
        lit("SMTP connection"), opt(lit(" Ci="), field("id", "[0-9]+")), lit(" from "), field("host", "[^ ]+"),
        seq(lit(" ("), lit("count = ")), field("count", "[0-9]+"), lit(")"), one_of("x", " a", " b"), lit(": "),
        text("rest"),
    )  # fmt: skip
    assert required_literals(grammar) == ("SMTP connection", " (count = ", " from ", ": ", ")")
    named = seq(lit("SMTP connection"), seq(lit(" ("), lit("count = "))("opening"), field("count", "[0-9]+"))
    assert required_literals(named) == ("SMTP connection (count = ",)  # a named sequence's literals run on
    assert required_literals(seq(lit("a: "), text("reason"))) == ("a: ",)  # nothing of the free text
    assert required_literals(seq(field("x", "[a-z]+"), opt(lit(" optional")))) == ()
    cut = seq(lit("head "), field("x", "[a-z]+"), CUT, lit(" tail"))
    assert required_literals(cut) == ("head ",)  # only what the first plan reads


def test_every_grammar_sample_holds_the_literals_of_its_kind(parser: Parser) -> None:
    lines = grammar_sample_lines()
    frame = pl.DataFrame({"seq": range(len(lines)), "line_no": range(1, len(lines) + 1), "line": lines})
    checked = 0
    for part, rows in parser.parse_batch(frame.cast({"seq": pl.Int64, "line_no": pl.Int64}), source="t").parts.items():
        if "/" not in part:
            continue
        family, index = part.split("/")
        literals = parser._candidate(family, int(index)).literals
        for seq_ in rows.get_column("seq"):
            assert all(t in lines[seq_] for t in literals), (lines[seq_], literals)
            checked += 1
    assert checked > 150


def test_every_grammar_compiles() -> None:
    for family in FAMILIES.values():
        for kind in family.kinds:
            plan = compile_plan(family.grammar(kind))
            re.compile(plan.head)


_CLOSED = seq(
    lit("from "), field("host", "[a-z]+"), opt(lit(" I="), field("port", "[0-9]+")),
    opt(lit(" D="), field("duration", "[^ ]+")), lit(" closed"), opt(lit(" by "), field("reason", "[A-Z]+")), END,
)  # fmt: skip
#: The same grammar, written as a regex the way the logs read: every optional field with its space.
_CLOSED_AS_WRITTEN = (
    r"^from (?P<host>[a-z]+)(?: I=(?P<port>[0-9]+))?(?: D=(?P<duration>[^ ]+))? closed(?: by (?P<reason>[A-Z]+))?$"
)


def test_spaces_before_optional_fields_are_factored_out() -> None:
    # each byte says which part follows: Rust's regex captures such a pattern in one pass
    head = compile_plan(_CLOSED).head
    factored = r"from (?P<host>[a-z]+) (?:I=(?P<port>[0-9]+) )?(?:D=(?P<duration>[^ ]+) )?closed"
    assert head == rf"^(?P<{HEAD}>{factored}(?: by (?P<reason>[A-Z]+))?)$"


@pytest.mark.parametrize(
    "line",
    [
        "from a closed", "from a I=1 closed", "from a D=2s closed by QUIT", "from a I=1 D=2s closed",
        "from a D=2s I=1 closed", "from a  closed", "from a I=1  closed", "from a I= closed", "from a I=1D=2 closed",
        "from a D=closed closed", "from a D= closed", "from a closed by", "from a D=2s closed by EOF ",
    ],
)  # fmt: skip
def test_factored_pattern_captures_what_the_written_one_does(line: str) -> None:
    head = compile_plan(_CLOSED).head
    written, factored = re.match(_CLOSED_AS_WRITTEN, line), re.match(head, line)
    assert (written is None) == (factored is None)
    if written and factored:
        assert {k: v for k, v in factored.groupdict().items() if k != HEAD} == written.groupdict()


def test_optional_fields_before_a_part_without_space_keep_their_spaces() -> None:
    head = compile_plan(
        seq(lit("from "), field("host", "[a-z]+"), opt(lit(" I="), field("port", "[0-9]+")), lit(": x"), END)
    ).head
    assert "(?: I=(?P<port>[0-9]+))?: x" in head


def test_a_lone_space_ends_a_factorable_run() -> None:
    grammar = seq(lit("a"), opt(lit(" X="), field("x", "[0-9]+")), lit(" "), field("b", "[a-z]+"), END)
    assert compile_plan(grammar).head == rf"^(?P<{HEAD}>a (?:X=(?P<x>[0-9]+) )?(?P<b>[a-z]+))$"


#: Space-separated optional fields, each ended by FIELD_END, cut in two plans, then free text.
_FIELDS = seq(
    field("a", "[a-z]+"), FIELD_END, opt(lit("S="), field("s", "[0-9]+"), FIELD_END), CUT,
    opt(lit("SNI="), field("sni", "[^ ]+"), FIELD_END), opt(lit("K"), FIELD_END), text("details"), END,
)  # fmt: skip
#: The same fields with nothing after them: the plan is anchored at the end of the line.
_FIELDS_TO_END = seq(field("a", "[a-z]+"), FIELD_END, opt(lit("K"), FIELD_END), END)


def test_field_end_is_a_space_of_a_line_with_a_sentinel_space() -> None:
    plan = compile_plan(_FIELDS)
    assert plan.sentinel and plan.head == rf"^(?P<{HEAD}>(?P<a>[a-z]+) (?:S=(?P<s>[0-9]+) )?)"
    assert plan.then is not None and plan.then.head == rf"^(?P<{HEAD}>(?:SNI=(?P<sni>[^ ]+) )?(?:K )?)"
    assert plan.then.rest == "details" and plan.all_fields() == ("a", "s", "sni", "details")
    # ended by the line, the pattern accepts the sentinel space that no FIELD_END took
    assert compile_plan(_FIELDS_TO_END).head == rf"^(?P<{HEAD}>(?P<a>[a-z]+) (?:K )?)(?: )?$"
    assert not compile_plan(seq(lit("x "), text("reason"), END)).sentinel


_FIELD_LINES = [
    "abc", "abc ", "abc  ", "abc S=12", "abc S=12 K", "abc S=12x", "abc K rest of it", "abc S=1 K ", "abc  S=1",
    "abc SNI=x.example K", "abc S=1 SNI=", "abc SNI=a S=1", "abc K", "abc K ", "abc Kx", "abc K x", "ABC", "",
]  # fmt: skip


@pytest.mark.parametrize("grammar", [_FIELDS, _FIELDS_TO_END], ids=["free text", "to the end"])
def test_plans_with_field_ends_and_cuts_agree_with_pyparsing(grammar: pp.ParserElement) -> None:
    plan = compile_plan(grammar)
    fields, ok = Parser.run_plan(pl.DataFrame({"line": _FIELD_LINES}), "line", plan)
    for line, row, matched in zip(_FIELD_LINES, fields.iter_rows(named=True), ok, strict=True):
        try:
            expected = grammar.parse_string(line, parse_all=True).as_dict()
        except pp.ParseException:
            assert not matched, line
            continue
        assert matched, line
        assert {k: v for k, v in row.items() if v is not None} == expected, line


def test_cuts_stand_at_the_top_level_only() -> None:
    with pytest.raises(PlanError, match="top level"):
        compile_plan(seq(lit("a"), opt(CUT, lit("b")), END))


def test_field_end_and_text_until_do_not_mix() -> None:
    with pytest.raises(PlanError, match="FIELD_END"):
        compile_plan(seq(field("a", "[a-z]+"), FIELD_END, text_until("r", lit(";"), text("x"))))
