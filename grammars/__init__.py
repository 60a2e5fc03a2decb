"""Every log line shape loganalyzer understands, as pyparsing grammars.

This package is the single source of truth for line shapes: the bulk parser
(``loganalyzer.plans``/``loganalyzer.parse``) compiles these objects to regular
expressions, and ``loganalyzer explain`` runs them with pyparsing itself. It
imports nothing but pyparsing.

* :mod:`.envelopes` -- syslog envelopes (timestamp, host, program tag);
* :mod:`.postfix` -- Postfix daemons, grouped into families of line kinds;
* :mod:`.milters` -- postgrey, policyd-spf, OpenDKIM, OpenDMARC.

Installed as ``loganalyzer.grammars`` (see ``pyproject.toml``), never as a bare
top-level ``grammars`` package.
"""

from __future__ import annotations

from . import envelopes, milters, postfix
from .elements import Family, Kind

__all__ = ["DAEMONS", "ENVELOPES", "FAMILIES", "MTA", "Family", "Kind", "daemon_of"]

ENVELOPES = envelopes.ENVELOPES

#: family name -> Family, over every module.
FAMILIES: dict[str, Family] = {**postfix.FAMILIES, **milters.FAMILIES}

#: daemon (last component of the syslog tag) -> family name.
DAEMONS: dict[str, str] = {**postfix.DAEMONS, **milters.DAEMONS}

#: family name -> the mail system it belongs to ("postfix", or "milter" for the
#: policy daemons and milters that serve it).
MTA: dict[str, str] = {
    **{name: "postfix" for name in postfix.FAMILIES},
    **{name: "milter" for name in milters.FAMILIES},
}


def daemon_of(program: str) -> str:
    """The daemon named by a syslog tag: its last path component.

    ``postfix/submission/smtpd`` -> ``smtpd``; ``postfix/policy-spf`` ->
    ``policy-spf`` (a policy daemon, not Postfix: key on the last component).
    """
    return program.rsplit("/", 1)[-1]
