"""Building blocks for line grammars.

Every grammar in this package is written with these few helpers so that it stays
inside a small, regular subset of pyparsing: sequences, ordered choice, optional
parts, literal text, named ``pp.Regex`` terminals and two kinds of free text.
That subset has an exact regular-expression equivalent, which is what lets
``loganalyzer.plans`` compile each grammar into the bulk (polars) hot path while
``parse_string`` on the very same objects stays available for diagnostics.

Rules the helpers enforce or assume:

* No whitespace skipping: every space in a log line is written out, so a grammar
  matches exactly what the daemon printed (``leave_whitespace`` everywhere).
* A field name appears at most once per line grammar (regex groups are unique).
* Terminal patterns use the syntax shared by Python ``re`` and Rust ``regex``
  (no look-around, no backreferences) and are written so that they cannot eat the
  text that follows them (PEG does not backtrack into a terminal; a regex would).
* Free text is either the rest of the line (:func:`text`) or the text up to a
  structured trailer that ends the line (:func:`text_until`).
* Two markers exist for the compiler's sake only (see ``loganalyzer.plans``):
  :data:`FIELD_END` ends a field of a space-separated list, and :data:`CUT`
  splits a long line into plans small enough for the fast capture engine.
"""

from __future__ import annotations

import pyparsing as pp

__all__ = [
    "CUT",
    "END",
    "FIELD_END",
    "Cut",
    "Family",
    "FieldEnd",
    "Free",
    "Kind",
    "field",
    "lit",
    "one_of",
    "opt",
    "seq",
    "skip",
    "text",
    "text_until",
]

#: End of the line; every line grammar ends with it (``parse_all`` semantics).
END = pp.StringEnd().set_name("end of line")


class Free(pp.Regex):
    """Free text running to the end of the line: ``.*`` with a field name.

    A distinct class (rather than a plain ``pp.Regex(".*")``) so that the
    compiler recognises it and takes the text by slicing instead of capturing it
    with a regex group, which is several times slower for long tails.
    """

    def __init__(self) -> None:
        super().__init__(r".*")
        self.leave_whitespace()


class FieldEnd(pp.Token):
    """A space, or the end of the line: what ends a field in a list of optional ``KEY=value`` fields.

    Exim writes its arrival line as fields each preceded by a space. Written that
    way (``opt(lit(" S="), ...)``), every space of a regex could start any of the
    following fields, and the regex engine must try them in turn. Written as
    ``opt(lit("S="), ..., FIELD_END)`` every byte says which field it belongs to,
    so the compiled pattern is *one-pass* (captured several times faster). The
    compiler writes it as a space and runs the plan on the line plus one space.
    """

    def __init__(self) -> None:
        super().__init__()
        self.leave_whitespace()
        self.mayReturnEmpty = True
        self.set_name("space or end of line")

    def parseImpl(self, instring: str, loc: int, do_actions: bool = True) -> tuple[int, list[str]]:
        if loc >= len(instring):
            return loc, []
        if instring[loc] == " ":
            return loc + 1, []
        raise pp.ParseException(instring, loc, self.errmsg, self)


class Cut(pp.Empty):
    """Where the compiler splits a line grammar into two plans; matches nothing.

    Rust's one-pass capture engine handles at most 16 groups, and needs every
    byte to say which part of the pattern it belongs to: two optional fields
    whose keys share a first letter (``SNI=`` and ``S=``) must be in different
    plans. The second plan runs on the text the first one did not take.
    """

    def __init__(self) -> None:
        super().__init__()
        self.leave_whitespace()
        self.set_name("cut")


#: See :class:`FieldEnd`.
FIELD_END = FieldEnd()
#: See :class:`Cut`.
CUT = Cut()


def lit(text: str) -> pp.ParserElement:
    """Literal text, matched exactly (spaces included)."""
    return pp.Literal(text).leave_whitespace()


def field(name: str, pattern: str) -> pp.ParserElement:
    """A named regex terminal: the value of column ``name``."""
    return pp.Regex(pattern).leave_whitespace().set_name(name)(name)


def skip(pattern: str) -> pp.ParserElement:
    """Text matched and not kept (a field the tables have no column for)."""
    return pp.Regex(pattern).leave_whitespace()


def one_of(name: str, *words: str) -> pp.ParserElement:
    """One of several literal words, recorded under ``name``.

    Longer words are tried first so that ``reject_warning`` wins over ``reject``.
    """
    ordered = sorted(words, key=len, reverse=True)
    return pp.MatchFirst([lit(w) for w in ordered]).leave_whitespace().set_name(name)(name)


def _exact(part: pp.ParserElement) -> pp.ParserElement:
    """``part`` as it is when it skips no whitespace, else a copy that skips none, at any depth.

    Everything these helpers build is already exact throughout, so a sequence
    takes its parts as they are: pyparsing's recursive ``leave_whitespace``
    would copy every subtree again at each level of nesting (most of the time
    it takes to import the grammars).
    """
    return part.copy().leave_whitespace() if part.skipWhitespace else part


def seq(*parts: pp.ParserElement) -> pp.ParserElement:
    """Parts in order, with no whitespace skipping between them."""
    return pp.And([_exact(p) for p in parts]).leave_whitespace(recursive=False)


def opt(*parts: pp.ParserElement) -> pp.ParserElement:
    """An optional run of parts."""
    inner = parts[0] if len(parts) == 1 else seq(*parts)
    return pp.Opt(_exact(inner)).leave_whitespace(recursive=False)


def text(name: str) -> pp.ParserElement:
    """The rest of the line, possibly empty, as field ``name``."""
    return Free().set_name(name)(name)


def text_until(name: str, *trailer: pp.ParserElement) -> pp.ParserElement:
    """Free text up to a trailer that runs to the end of the line.

    The text is everything before the *first* position from which ``trailer``
    matches through to the end of the line (pyparsing ``SkipTo`` semantics,
    equal to a lazy ``.*?`` in a regex). The trailer may itself end in
    :func:`text`. The result is the text field followed by the trailer.
    """
    tail = seq(*trailer, END)
    return seq(pp.SkipTo(tail).leave_whitespace(recursive=False).set_name(name)(name), tail)


class Kind:
    """One kind of log line: its name and the grammar of its body.

    ``body`` is what follows the family's optional prefix (for Postfix and the
    milters, ``QUEUEID: ``). ``prefix`` says whether that prefix is ``"none"``
    (never there), ``"optional"`` or ``"required"``. The first literal of the body
    is its dispatch key.
    """

    __slots__ = ("body", "name", "prefix")

    def __init__(self, name: str, body: pp.ParserElement, *, prefix: str = "none") -> None:
        if prefix not in ("none", "optional", "required"):
            raise ValueError(f"prefix must be none, optional or required, not {prefix!r}")
        self.name = name
        self.body = body
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


class Family:
    """The line kinds one group of programs can log, tried by dispatch key.

    ``prefix`` is the grammar of the optional line prefix shared by the family
    (e.g. a Postfix queue id and ``": "``), or None. Kinds sharing a key are tried
    in the order given; a line whose kinds all fail falls back to the kinds of
    the longest shorter key that is a prefix of its own (``"warning: "`` for
    ``"warning: hostname "``), ending with the empty key, if any.
    """

    __slots__ = ("kinds", "name", "prefix")

    def __init__(self, name: str, kinds: list[Kind], *, prefix: pp.ParserElement | None = None) -> None:
        self.name = name
        self.kinds = tuple(kinds)
        self.prefix = prefix

    def grammar(self, kind: Kind) -> pp.ParserElement:
        """The whole-line grammar of ``kind`` in this family."""
        if kind.prefix == "none" or self.prefix is None:
            return seq(kind.body, END)
        if kind.prefix == "optional":
            return seq(opt(self.prefix), kind.body, END)
        return seq(self.prefix, kind.body, END)

    def __repr__(self) -> str:
        return f"Family({self.name!r}, {len(self.kinds)} kinds)"
