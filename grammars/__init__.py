"""Every log line shape loganalyzer understands, as pyparsing grammars.

This package is the single source of truth for line shapes: the bulk parser
(``loganalyzer.plans``/``loganalyzer.parse``) compiles these objects to regular
expressions, and ``loganalyzer explain`` runs them with pyparsing itself. It
imports nothing but pyparsing.

* :mod:`.envelopes` -- syslog envelopes (timestamp, host, program tag);
* :mod:`.postfix` -- Postfix daemons, grouped into families of line kinds;
* :mod:`.milters` -- postgrey, policyd-spf, OpenDKIM, OpenDMARC;
* :mod:`.exim` -- Exim mainlog, rejectlog and paniclog lines;
* :mod:`.openssl` -- OpenSSL's error string, which both MTAs quote.

Installed as ``loganalyzer.grammars`` (see ``pyproject.toml``), never as a bare
top-level ``grammars`` package.
"""

from __future__ import annotations

from . import envelopes, exim, milters, postfix
from .elements import Family, Kind

__all__ = ["DAEMONS", "ENVELOPES", "EXIM_INNER", "FAMILIES", "MTA", "Family", "Kind", "daemon_of"]

ENVELOPES = envelopes.ENVELOPES

#: family name -> Family, over every module.
FAMILIES: dict[str, Family] = {**postfix.FAMILIES, **milters.FAMILIES, **exim.FAMILIES}

#: daemon (last component of the syslog tag) -> family name.
DAEMONS: dict[str, str] = {**postfix.DAEMONS, **milters.DAEMONS, **exim.DAEMONS}

#: family name -> the mail system it belongs to ("postfix", or "milter" for the
#: policy daemons and milters that serve it).
MTA: dict[str, str] = {
    **{name: "postfix" for name in postfix.FAMILIES},
    **{name: "milter" for name in milters.FAMILIES},
    **{name: "exim" for name in exim.FAMILIES},
}

#: Read off the message of an Exim line that came through syslog: Exim's own
#: timestamp and the ``[n/m]`` split marker.
EXIM_INNER = exim.INNER


def daemon_of(program: str) -> str:
    """The daemon named by a syslog tag: its last path component.

    ``postfix/submission/smtpd`` -> ``smtpd``; ``postfix/policy-spf`` ->
    ``policy-spf`` (a policy daemon, not Postfix: key on the last component).
    """
    return program.rsplit("/", 1)[-1]
