"""The grammar-to-plan compiler (loganalyzer.plans)."""

from __future__ import annotations

import re

import pyparsing as pp
import pytest
from loganalyzer.grammars import FAMILIES
from loganalyzer.grammars.elements import END, field, lit, one_of, opt, seq, text, text_until

from loganalyzer.plans import HEAD, PlanError, compile_plan, dispatch_keys, escape, to_regex


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


def test_every_grammar_compiles() -> None:
    for family in FAMILIES.values():
        for kind in family.kinds:
            plan = compile_plan(family.grammar(kind))
            re.compile(plan.head)
