"""Each grammar module's SAMPLES parse with pyparsing itself (run_tests, parse_all)."""

from __future__ import annotations

import pyparsing as pp
import pytest
from loganalyzer.grammars import EXIM_INNER, FAMILIES, envelopes, milters, postfix
from loganalyzer.grammars.elements import lit, seq

from loganalyzer.parse import parse_line


@pytest.mark.parametrize("name,grammar", envelopes.ENVELOPES)
def test_envelope_samples(name: str, grammar) -> None:  # type: ignore[no-untyped-def]
    ok, results = grammar.run_tests(envelopes.SAMPLES[name], parse_all=True, print_results=False)
    assert ok, [r for r in results if not isinstance(r[1], object)]


@pytest.mark.parametrize("module", [postfix, milters], ids=["postfix", "milters"])
def test_message_samples_parse_to_a_kind(module) -> None:  # type: ignore[no-untyped-def]
    for family, lines in module.SAMPLES.items():
        program = family if family != "smtp" else "smtp"
        for message in lines:
            daemon = {"local": "local", "smtp": "smtp"}.get(family, family)
            result = parse_line(f"Mar  1 12:00:00 mx1 postfix/{daemon}[1]: {message}")
            assert result.kind is not None, (program, message, result.tried)
            assert result.family == family


def test_run_tests_accepts_every_sample_with_some_kind() -> None:
    for module in (postfix, milters):
        for name, lines in module.SAMPLES.items():
            family = FAMILIES[name]
            for line in lines:
                assert any(family.grammar(kind).matches(line, parse_all=True) for kind in family.kinds), (name, line)


@pytest.mark.parametrize(
    "message,kind,fields",
    [
        (
            "NOQUEUE: lost connection after STARTTLS from unknown[203.0.113.20]",
            "session-error",
            {"queue_id": "NOQUEUE", "end_reason": "lost connection", "stage": "STARTTLS", "client_ip": "203.0.113.20"},
        ),
        (
            "lost connection after DATA (8192 bytes) from x[192.0.2.1]",
            "session-error",
            {"bytes": "8192", "stage": "DATA"},
        ),
        (
            "warning: TLS library problem: error:1417A0C1:SSL routines:tls_post_process_client_hello:no shared cipher:"
            "../ssl/statem/statem_srvr.c:2285:",
            "tls-library-problem",
            {
                "tls_error": "no shared cipher",
                "tls_function": "tls_post_process_client_hello",
                "tls_error_line": "2285",
            },
        ),
        (
            "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:"
            "../ssl/statem/statem_srvr.c:1657:",
            "tls-library-problem",
            {"tls_error": "unsupported protocol", "tls_function": ""},
        ),
        (
            "improper command pipelining after DATA from unknown[203.0.113.9]: Subject: hello\\r\\n",
            "improper-pipelining",
            {"stage": "DATA", "reason": "Subject: hello\\r\\n"},
        ),
        (
            "disconnect from unknown[203.0.113.9] ehlo=1 mail=1 rcpt=0/3 data=0/1 quit=1 commands=3/7",
            "disconnect",
            {"command_stats": " ehlo=1 mail=1 rcpt=0/3 data=0/1 quit=1 commands=3/7"},
        ),
    ],
)
def test_smtpd_fields(message: str, kind: str, fields: dict[str, str]) -> None:
    result = parse_line(f"Mar  1 12:00:00 mx1 postfix/smtpd[7]: {message}")
    assert result.kind == kind
    for name, value in fields.items():
        assert result.fields.get(name) == value, name


def test_policy_spf_perl_is_not_postfix() -> None:
    line = (
        "Mar  1 12:00:00 mx1 postfix/policy-spf[9]: Policy action=PREPEND Received-SPF: pass (example.net: "
        '198.51.100.7 is authorized) receiver=mx1; identity=mailfrom; envelope-from="a@example.net"; '
        "helo=mail.example.net; client-ip=198.51.100.7"
    )
    result = parse_line(line)
    assert result.family == "policy-spf"
    assert result.kind == "spf"
    assert result.fields["spf_result"] == "pass"


def _whitespace_skippers(expr: pp.ParserElement) -> list[str]:
    found = [str(expr)] if expr.skipWhitespace else []
    children = getattr(expr, "exprs", None) or ([expr.expr] if getattr(expr, "expr", None) is not None else [])
    for child in children:
        found += _whitespace_skippers(child)
    return found


def test_no_grammar_skips_whitespace_anywhere() -> None:
    """What ``elements.seq`` relies on to take its parts uncopied: every part is exact at every depth."""
    grammars = [g for _, g in envelopes.ENVELOPES] + [k.body for f in FAMILIES.values() for k in f.kinds]
    grammars += [f.prefix for f in FAMILIES.values() if f.prefix is not None] + [EXIM_INNER]
    assert not _whitespace_skippers(seq(lit("a"), pp.Literal("b")))  # seq makes a raw pyparsing part exact
    assert _whitespace_skippers(pp.And([lit("a"), pp.Literal("b")]))  # and the check sees one that is not
    for grammar in grammars:
        assert not _whitespace_skippers(grammar), grammar
