"""OpenSSL's error string, as Postfix and Exim quote it in their TLS failure lines.

``ERR_error_string_n()`` writes ``error:CODE:LIBRARY:FUNCTION:REASON`` (the
function is empty since OpenSSL 3); the MTAs append their own trailers, which
their grammars model.
"""

from __future__ import annotations

from .elements import field, lit, seq

__all__ = ["OPENSSL_ERROR"]

OPENSSL_ERROR = seq(
    lit("error:"),
    field("tls_error_code", r"[0-9A-Fa-f]+"),
    lit(":"),
    field("tls_library", r"[^:]*"),
    lit(":"),
    field("tls_function", r"[^:]*"),
    lit(":"),
    field("tls_error", r"[^:]*"),
)
