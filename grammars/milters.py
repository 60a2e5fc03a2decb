"""Grammars of the daemons that run beside Postfix: greylisting, SPF, DKIM, DMARC.

Recognised and fielded now; the detectors use postgrey's own delay and later
issues analyse the authentication results. Shapes from ``log-formats.md``
sections 4 and 7. Milters log the Postfix queue id as their job id, so these
families share the Postfix ``QUEUEID: `` prefix.
"""

from __future__ import annotations

import pyparsing as pp

from .elements import Family, Kind, field, lit, one_of, opt, seq, text, text_until
from .postfix import DSN, QUEUE_PREFIX, REPLY_CODE

__all__ = ["DAEMONS", "FAMILIES", "SAMPLES"]

# --- postgrey ----------------------------------------------------------------

#: ``[QID: ]action=A, reason=R[, delay=N], client_name=.., client_address=.., sender=.., recipient=..``;
#: each field only when non-empty. Newer postgrey writes the address as ``ip/32``.
GREYLIST = Kind(
    "greylist",
    seq(
        lit("action="),
        field("greylist_action", r"[a-z]+"),
        lit(", reason="),
        field("greylist_reason", r"[^,]*"),
        opt(lit(", delay="), field("greylist_delay", r"[0-9]+")),
        opt(lit(", client_name="), field("client_name", r"[^,]*")),
        opt(lit(", client_address="), field("client_ip", r"[^,/]*"), opt(lit("/"), field("client_prefix", r"[0-9]+"))),
        opt(lit(", sender="), field("sender", r"[^,]*")),
        opt(lit(", recipient="), field("recipient", r"[^,]*")),
    ),
    prefix="optional",
)
GREYLIST_WHITELISTED = Kind(
    "greylist-whitelisted",
    seq(
        lit("whitelisted: "),
        field("client_name", r"[^\[]*"),
        lit("["),
        field("client_ip", r"[^\]/]*"),
        opt(lit("/"), field("client_prefix", r"[0-9]+")),
        lit("]"),
    ),
)

# --- SPF policy daemons --------------------------------------------------------

_SPF_RESULT = field("spf_result", r"[A-Za-z]+")
#: ``identity=..; client-ip=..; helo=..; envelope-from=..; receiver=..`` (python daemon).
_SPF_FIELDS = seq(
    lit("identity="),
    field("spf_identity", r"[a-z]+"),
    lit("; client-ip="),
    field("client_ip", r"[^;]*"),
    lit("; helo="),
    field("helo", r"[^;]*"),
    lit("; envelope-from="),
    field("sender", r"[^;]*"),
    lit("; receiver="),
    field("spf_receiver", r"[^ ;]*"),
    opt(lit(" ")),
    opt(lit(" Reject action: "), field("reason", r".*")),
)


def _received_spf(name: str, *lead: pp.ParserElement) -> Kind:
    return Kind(
        name,
        seq(*lead, lit("Received-SPF: "), _SPF_RESULT, lit(" ("), text_until("spf_comment", lit(") "), _SPF_FIELDS)),
        prefix="optional",
    )


SPF_PREPEND = _received_spf("spf", lit("prepend "))
SPF_ACTION = _received_spf("spf", lit("Action: prepend"), opt(lit(":")), lit(" "), opt(lit("Text: ")))
#: ``debugLevel >= 2``: ``Result; identity=..; client-ip=..; ...``
SPF_CHECK = Kind("spf", seq(_SPF_RESULT, lit("; "), _SPF_FIELDS), prefix="optional")
SPF_REJECT = Kind(
    "spf-reject",
    seq(
        opt(one_of("action", "defer_if_permit", "DEFER_IF_PERMIT"), lit(" ")),
        opt(REPLY_CODE, lit(" ")),
        DSN,
        lit(" "),
        text("reason"),
    ),
    prefix="optional",
)
#: postfix-policyd-spf-perl: ``Policy action=ACTION TEXT``.
SPF_PERL = Kind(
    "spf",
    seq(
        lit("Policy action="),
        one_of("action", "PREPEND", "DEFER_IF_PERMIT", "DUNNO"),
        lit(" Received-SPF: "),
        _SPF_RESULT,
        lit(" ("),
        text_until(
            "spf_comment",
            lit(") receiver="),
            field("spf_receiver", r"[^;]*"),
            lit("; identity="),
            field("spf_identity", r"[a-z]+"),
            lit("; envelope-from="),
            field("sender", r"[^;]*"),
            lit("; helo="),
            field("helo", r"[^;]*"),
            lit("; client-ip="),
            field("client_ip", r"[^;]*"),
        ),
    ),
)
SPF_PERL_ACTION = Kind("spf-reject", seq(lit("Policy action="), opt(REPLY_CODE, lit(" ")), text("reason")))

# --- OpenDKIM -----------------------------------------------------------------

DKIM_RESULT = Kind(
    "dkim",
    seq(
        one_of(
            "dkim_result",
            "DKIM verification successful", "bad signature data", "no signature data", "not authenticated",
        ),
    ),
    prefix="required",
)  # fmt: skip
DKIM_KEY = Kind(
    "dkim",
    seq(
        one_of("dkim_result", "key retrieval failed", "key revoked", "signature processing failed",
               "key data is not secure"),
        opt(lit(" (s="), field("dkim_selector", r"[^,]*"), lit(", d="), field("dkim_domain", r"[^,)]*"),
            opt(lit(", a="), field("dkim_algorithm", r"[^)]*")), lit(")")),
        opt(lit(":")),
        opt(lit(" ")),
        text("reason"),
    ),
    prefix="required",
)  # fmt: skip
DKIM_SSL = Kind(
    "dkim",
    seq(
        lit("s="),
        field("dkim_selector", r"[^ ]*"),
        lit(" d="),
        field("dkim_domain", r"[^ ]*"),
        opt(lit(" a="), field("dkim_algorithm", r"[^ ]*")),
        lit(" "),
        one_of("dkim_result", "SSL"),
        lit(" "),
        text("reason"),
    ),
    prefix="required",
)
DKIM_SIGNED = Kind(
    "dkim-signed",
    seq(
        lit("DKIM-Signature field added (s="),
        field("dkim_selector", r"[^,]*"),
        lit(", d="),
        field("dkim_domain", r"[^)]*"),
        lit(")"),
    ),
    prefix="required",
)
DKIM_LOG_RESULTS = Kind(
    "dkim",
    seq(
        lit("signature="),
        field("dkim_signature", r"[^ ]*"),
        lit(" domain="),
        field("dkim_domain", r"[^ ]*"),
        lit(" selector="),
        field("dkim_selector", r"[^ ]*"),
        lit(' result="'),
        text_until("dkim_result", lit('"'), opt(lit(";")), text("reason")),
    ),
    prefix="required",
)
DKIM_EXTERNAL = Kind(
    "dkim-external",
    seq(lit("external host "), field("client_name", r"[^ ]+"), lit(" attempted to send as "), text("dkim_domain")),
    prefix="required",
)

# --- OpenDMARC -----------------------------------------------------------------

DMARC = Kind(
    "dmarc",
    seq(
        field("dmarc_domain", r"[^ :()]+"),
        lit(" "),
        field("dmarc_result", r"none|pass|fail|temperror|permerror|bestguesspass|quarantine|reject"),
    ),
    prefix="required",
)
DMARC_SPF = Kind(
    "spf",
    seq(
        lit("SPF("),
        field("spf_identity", r"[a-z]+"),
        lit("): "),
        field("dmarc_domain", r"[^ ]+"),
        lit(" "),
        _SPF_RESULT,
    ),
    prefix="required",
)
DMARC_IGNORE = Kind(
    "dmarc-ignored",
    seq(lit("ignoring "), field("reason", r"mail|connection"), lit(" from "), field("client_name", r".+")),
    prefix="optional",
)

# --- families -------------------------------------------------------------------

FAMILIES = {
    f.name: f
    for f in (
        Family("postgrey", [GREYLIST, GREYLIST_WHITELISTED], prefix=QUEUE_PREFIX),
        Family("policyd-spf", [SPF_PREPEND, SPF_ACTION, SPF_CHECK, SPF_REJECT], prefix=QUEUE_PREFIX),
        Family("policy-spf", [SPF_PERL, SPF_PERL_ACTION], prefix=QUEUE_PREFIX),
        Family(
            "opendkim",
            [DKIM_RESULT, DKIM_KEY, DKIM_SSL, DKIM_SIGNED, DKIM_LOG_RESULTS, DKIM_EXTERNAL],
            prefix=QUEUE_PREFIX,
        ),
        Family("opendmarc", [DMARC_SPF, DMARC_IGNORE, DMARC], prefix=QUEUE_PREFIX),
    )
}

DAEMONS = {
    "postgrey": "postgrey",
    "policyd-spf": "policyd-spf",
    "policy-spf": "policy-spf",
    "opendkim": "opendkim",
    "opendmarc": "opendmarc",
}

SAMPLES = {
    "postgrey": [
        "action=greylist, reason=new, client_name=mail.example.net, client_address=198.51.100.7, "
        "sender=a@example.net, recipient=bob@example.com",
        "action=pass, reason=triplet found, delay=370, client_name=mail.example.net, "
        "client_address=198.51.100.7/32, sender=a@example.net, recipient=bob@example.com",
        "whitelisted: mx.example.org[1.2.3.4/32]",
    ],
    "policyd-spf": [
        "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=198.51.100.7; "
        "helo=mail.example.net; envelope-from=a@example.net; receiver=example.com ",
        "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
        "http://www.openspf.net/Why?s=mfrom;id=ceo@example.org;ip=203.0.113.9;r=example.com",
        "3F2A41C0B7: Pass; identity=helo; client-ip=1.2.3.4; helo=mail.example.org; envelope-from=<>; "
        "receiver=<UNKNOWN>",
    ],
    "opendkim": [
        "3F2A41C0B7: s=sel1 d=example.net SSL error:02000068:rsa routines::bad signature",
        "3F2A41C0B7: bad signature data",
        "3F2A41C0C1: DKIM verification successful",
        "3F2A41C0C1: DKIM-Signature field added (s=mail, d=example.org)",
    ],
    "opendmarc": ["3F2A41C0B7: example.net fail", "3F2A41C0B7: SPF(mailfrom): example.net pass"],
}
