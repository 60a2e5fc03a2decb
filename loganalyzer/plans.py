"""Compile a line grammar into a bulk extraction plan.

The grammars in :mod:`loganalyzer.grammars` are pyparsing objects. Calling
``parse_string`` on each of a million lines is far too slow, so this module walks
the very same objects and turns each one into a :class:`Plan`: a few regular
expressions that polars runs over a whole column at once (Rust ``regex``).

Measured on this project's logs, a Rust regex group that captures a long free-text
tail costs 5-10x more than one that captures a short fixed-shape field. A plan
therefore captures only the *head* of a line (everything up to the first free
text) and takes free text by slicing:

* :class:`~loganalyzer.grammars.elements.Free` (rest of line): the text after the
  head;
* ``text_until`` (free text, then a structured trailer): the first match of the
  trailer's non-capturing pattern, anchored at the end of the line, is removed
  from the remainder (``str.replace`` finds the leftmost match, which is exactly
  pyparsing's ``SkipTo``); what is left is the text, and the trailer is parsed by
  the next plan.

Rust's regex captures fastest with its *one-pass* engine, which it uses when
every byte of a line says which part of the pattern it belongs to and the
pattern has at most 16 groups. Two markers of the grammars serve it (both in
:mod:`loganalyzer.grammars.elements`):

* ``FIELD_END`` (a space or the end of the line) ends each field of a list of
  optional ``KEY=value`` fields; it is compiled as a space, and the plan then
  runs on the line plus one space (``Plan.sentinel``), so that the last field
  ends with a space too;
* ``CUT`` splits a line grammar in two plans: the second runs on the text the
  first did not take (``Plan.then`` without ``until``).

Both halves of the pair (pyparsing and the plan) come from one object, and
``tests/test_differential.py`` proves they agree field by field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pyparsing as pp

from .grammars.elements import Cut, FieldEnd, Free

__all__ = ["Plan", "PlanError", "compile_plan", "dispatch_keys", "field_names", "required_literals", "to_regex"]

#: Characters that must be escaped to stand for themselves in both Python ``re``
#: and Rust ``regex`` (outside a character class). Deliberately not ``re.escape``:
#: that escapes spaces and ``-``, which Rust rejects or reads differently.
_META = set("\\.+*?()|[]{}^$")

HEAD = "__h"  # group name of the whole head match (its length locates the tail)


class PlanError(ValueError):
    """A grammar uses a construct the bulk path cannot express."""


def escape(text: str) -> str:
    """Escape literal text for both regex dialects."""
    return "".join("\\" + c if c in _META else c for c in text)


def _flatten(expr: pp.ParserElement) -> list[pp.ParserElement]:
    """Inline unnamed nested sequences: ``seq(a, seq(b, c))`` -> ``[a, b, c]``."""
    if isinstance(expr, pp.And) and not expr.resultsName:
        out: list[pp.ParserElement] = []
        for sub in expr.exprs:
            out.extend(_flatten(sub))
        return out
    return [expr]


def to_regex(expr: pp.ParserElement, *, capture: bool = True) -> str:
    """The regular expression equivalent to ``expr``.

    With ``capture`` every results name becomes a named group; without, the
    pattern has no groups at all (used for the trailer searches).
    """

    def named(body: str, *, atomic: bool = False) -> str:
        # ``atomic`` parts (literal text, a concatenation) need no group of
        # their own: every context that could split them adds one.
        name = expr.resultsName
        if capture and name:
            return f"(?P<{name}>{body})"
        return body if atomic else f"(?:{body})"

    if isinstance(expr, Free):
        if capture and expr.resultsName:
            raise PlanError(f"free text {expr.resultsName!r} must be taken by slicing")
        return ".*"
    if isinstance(expr, pp.Regex):
        return named(str(expr.pattern))
    if isinstance(expr, Cut):
        raise PlanError("a cut may only stand at the top level of a line grammar")
    if isinstance(expr, FieldEnd):
        return " "  # the plan runs on the line plus a space (Plan.sentinel)
    if isinstance(expr, pp.Literal):
        return named(escape(expr.match), atomic=True)
    if isinstance(expr, pp.StringEnd):
        return "$"
    if isinstance(expr, pp.And):
        return named(_sequence(_flatten(pp.And(expr.exprs)), capture=capture), atomic=True)
    if isinstance(expr, (pp.MatchFirst, pp.Or)):
        return named("|".join(to_regex(e, capture=capture) for e in expr.exprs))
    if isinstance(expr, pp.Opt):
        if capture and expr.resultsName:
            raise PlanError("name the parts of an optional, not the optional")
        return f"(?:{to_regex(expr.expr, capture=capture)})?"
    if isinstance(expr, pp.SkipTo):
        if capture:
            raise PlanError("text_until may only stand at the top level of a line grammar")
        return ".*?"
    raise PlanError(f"unsupported grammar element {type(expr).__name__}: {expr}")


def _without_lead_space(expr: pp.ParserElement) -> list[pp.ParserElement] | None:
    """The parts of ``expr`` minus the space its first literal starts with; None if it does not start so."""
    parts = _flatten(expr)
    first = parts[0]
    if not isinstance(first, pp.Literal) or first.resultsName or not first.match.startswith(" "):
        return None
    rest = first.match[1:]
    return ([pp.Literal(rest)] if rest else []) + parts[1:]


def _sequence(elements: list[pp.ParserElement], *, capture: bool) -> str:
    """The regex of ``elements`` in a row, with shared leading spaces factored out.

    Grammars write optional fields the way the logs read, each with the space
    before it: `` I=[ip]:port`` then `` D=1s`` then `` closed``. As a regex,
    ``(?: I=X)?(?: D=Y)? closed`` gives the engine three ways to go at every
    space, and it falls back to its backtracking capture engine. A run of
    such optionals ending in a required part that starts with a space is
    rewritten ``' (?:I=X )?(?:D=Y )?closed'``: the same strings, the same
    choices in the same order of preference, so the same captures; but each
    byte now says which part follows (a *one-pass* pattern, captured several
    times faster).
    """
    out: list[str] = []
    i = 0
    while i < len(elements):
        j = i
        stripped: list[list[pp.ParserElement]] = []
        while j < len(elements):
            element = elements[j]
            inner = _without_lead_space(element.expr) if isinstance(element, pp.Opt) else None
            if inner is None:
                break
            stripped.append(inner)
            j += 1
        end = _without_lead_space(elements[j]) if j < len(elements) and not isinstance(elements[j], pp.Opt) else None
        if not stripped or end is None:
            out.append(to_regex(elements[i], capture=capture))
            i += 1
            continue
        options = "".join(f"(?:{_sequence(inner, capture=capture)} )?" for inner in stripped)
        out.append(f" {options}{_sequence(end, capture=capture)}")
        i = j + 1
    return "".join(out)


def _walk(expr: pp.ParserElement) -> Iterator[pp.ParserElement]:
    """``expr`` and every element inside it, depth first, in order of appearance."""
    yield expr
    if isinstance(expr, pp.ParseExpression):
        for sub in expr.exprs:
            yield from _walk(sub)
    elif isinstance(expr, pp.ParseElementEnhance):
        yield from _walk(expr.expr)


def field_names(expr: pp.ParserElement) -> list[str]:
    """Every results name in ``expr``, in order of appearance."""
    return [e.resultsName for e in _walk(expr) if e.resultsName]


@dataclass(frozen=True)
class Plan:
    """How to pull the fields of one grammar out of a string column.

    ``head`` is an anchored pattern whose group ``__h`` spans the head; ``fields``
    are its named groups. Then one of: nothing (the head reaches the end of the
    line), ``rest`` (field taking the remainder), ``until`` (field taking the
    remainder minus the first end-anchored match of ``until_pattern``, the rest
    parsed by ``then``) or, at a cut, ``then`` alone (the remainder parsed by
    it). With ``sentinel`` (set on the outermost plan only) the patterns are
    matched against the line plus one space, and free text is taken from the
    line itself.
    """

    head: str
    fields: tuple[str, ...]
    rest: str | None = None
    until: str | None = None
    until_pattern: str | None = None
    then: Plan | None = None
    sentinel: bool = False

    def all_fields(self) -> tuple[str, ...]:
        """Every field this plan produces, in order."""
        out = list(self.fields)
        if self.rest:
            out.append(self.rest)
        if self.until:
            out.append(self.until)
        if self.then:
            out.extend(self.then.all_fields())
        return tuple(out)


def _compile_elements(elements: list[pp.ParserElement], *, sentinel: bool) -> Plan:
    head: list[pp.ParserElement] = []
    fields: list[str] = []
    for i, element in enumerate(elements):
        if isinstance(element, Free):
            tail = elements[i + 1 :]
            if any(not isinstance(e, pp.StringEnd) for e in tail):
                raise PlanError("free text must end the line")
            return Plan(_anchor(head, end=False), tuple(fields), rest=element.resultsName)
        if isinstance(element, Cut):
            then = _compile_elements(elements[i + 1 :], sentinel=sentinel)
            return Plan(_anchor(head, end=False), tuple(fields), then=then)
        if isinstance(element, pp.SkipTo):
            if sentinel:
                raise PlanError("text_until and FIELD_END cannot share a line grammar")
            trailer = elements[i + 1 :]
            target = to_regex(element.expr, capture=False)  # ends the line: has "$"
            if to_regex(pp.And(trailer), capture=False).replace("$", "") != target.replace("$", ""):
                raise PlanError("text_until must be followed by its own trailer")
            return Plan(
                _anchor(head, end=False),
                tuple(fields),
                until=element.resultsName,
                until_pattern=target,
                then=_compile_elements(trailer, sentinel=False),
            )
        head.append(element)
        fields.extend(field_names(element))
    return Plan(_anchor(head, end=True, sentinel=sentinel), tuple(fields))


def _anchor(parts: list[pp.ParserElement], *, end: bool, sentinel: bool = False) -> str:
    body = _sequence(parts, capture=True)
    if end and not body.endswith("$"):
        body += "$"
    # at the end of the line, the sentinel space is left over unless a FIELD_END took it
    tail = ("(?: )?$" if sentinel else "$") if end else ""
    return f"^(?P<{HEAD}>{body.rstrip('$')})" + tail


def compile_plan(grammar: pp.ParserElement) -> Plan:
    """Compile a line grammar (built with :mod:`grammars.elements`) into a plan."""
    sentinel = any(isinstance(e, FieldEnd) for e in _walk(grammar))
    plan = _compile_elements(_flatten(grammar), sentinel=sentinel)
    if sentinel:
        plan = replace(plan, sentinel=True)
    names = plan.all_fields()
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise PlanError(f"field names used twice in one grammar: {sorted(dupes)}")
    return plan


def dispatch_keys(body: pp.ParserElement) -> tuple[str, ...]:
    """The literal prefixes a line body can start with, for dispatch.

    A body starting with a literal has that literal as its key; one starting
    with ``one_of`` has each word; anything else (a regex) has the empty key,
    which makes it the catch-all of its program family.
    """
    first = _flatten(body)[0]
    if isinstance(first, pp.Literal):
        return (first.match,)
    if isinstance(first, pp.MatchFirst) and all(isinstance(e, pp.Literal) for e in first.exprs):
        return tuple(e.match for e in first.exprs)  # type: ignore[attr-defined]
    return ("",)


def required_literals(body: pp.ParserElement) -> tuple[str, ...]:
    """Texts every match of ``body`` contains, longest first: its runs of literals that nothing
    optional interrupts, up to the first free text or cut.

    A line without one of them cannot be taken by the grammar, so a search for
    the text (``memmem``, a few tens of ns a line) can stand in for a test by
    the head's regex: Exim's connection lines share their dispatch key with its
    disconnection lines, and a regex test told them apart only at the end of
    the line (0.4 us a line), ``(TCP/IP connection count = `` at once. Only
    plain literals count: an optional, an alternative or a field ends a run.
    """
    runs: list[str] = []
    current: list[str] = []

    def end_run() -> None:
        if current:
            runs.append("".join(current))
            current.clear()

    def visit(elements: list[pp.ParserElement]) -> bool:
        """Collect the runs of ``elements``; False once free text or a cut ends what the head holds."""
        for element in elements:
            if isinstance(element, (Free, Cut, pp.SkipTo)):
                return False
            if isinstance(element, pp.Literal) and not isinstance(element, pp.CaselessLiteral):
                current.append(element.match)
            elif isinstance(element, pp.And):  # a named sequence (unnamed ones are flattened already)
                if not visit([part for sub in element.exprs for part in _flatten(sub)]):
                    return False
            else:
                end_run()
        return True

    visit(_flatten(body))
    end_run()
    return tuple(sorted({r for r in runs if r.strip()}, key=lambda r: (-len(r), r)))
