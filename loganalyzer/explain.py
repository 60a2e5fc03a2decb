"""``loganalyzer explain``: which grammar matched a line, every field, or why not.

Runs the pyparsing path (:func:`loganalyzer.parse.parse_line`) so that a failure
is reported by pyparsing's own diagnostics: the grammar that got furthest, the
position, and what it expected there.
"""

from __future__ import annotations

import pyparsing as pp

from .parse import parse_line

__all__ = ["explain"]


def _marker(line: str, exc: pp.ParseBaseException) -> list[str]:
    return [f"    {line}", "    " + " " * exc.loc + "^", f"    {exc.msg} (at char {exc.loc})"]


def explain(line: str) -> tuple[bool, str]:
    """(matched, human-readable account) for one log line."""
    result = parse_line(line.rstrip("\r\n"))
    out: list[str] = []
    if result.envelope is None:
        out.append("no envelope matched: not a syslog (BSD, RFC 3339, RFC 5424) line")
        best = max(result.tried, key=lambda t: t[1].loc)
        out.append(f"  closest: {best[0]}")
        out.extend(_marker(line, best[1]))
        return False, "\n".join(out)
    env = {k: v for k, v in result.envelope_fields.items() if k != "msg"}
    out.append(f"envelope: {result.envelope}  " + "  ".join(f"{k}={v}" for k, v in env.items()))
    if result.family is None:
        out.append(f"program {env.get('program')!r} is not one loganalyzer models: counted as other-program")
        return True, "\n".join(out)
    out.append(f"family: {result.family}  dispatch key: {result.key!r}")
    if result.kind is not None:
        out.append(f"kind: {result.kind}")
        width = max((len(k) for k in result.fields), default=0)
        for name, value in result.fields.items():
            out.append(f"  {name:<{width}}  {value}")
        return True, "\n".join(out)
    message = result.envelope_fields.get("msg", "")
    if not result.tried or all(name.startswith("envelope") for name, _ in result.tried):
        out.append("no grammar of this family has a dispatch key this message starts with")
        out.append(f"    {message}")
        return False, "\n".join(out)
    out.append("no grammar matched; candidates tried:")
    for name, exc in result.tried:
        if not name.startswith("envelope"):
            out.append(f"  {name}:")
            out.extend(_marker(message, exc))
    return False, "\n".join(out)
