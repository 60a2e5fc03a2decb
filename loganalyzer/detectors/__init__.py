"""Detectors: one behaviour each, one pure polars query per module.

:func:`run` builds the shared :class:`~.base.Context` once, asks each detector
whether these logs can show its behaviour at all (``available``), runs the
ones that can, and collects every finding in one frame, most severe first.
A detector that runs but cannot see part of the log (an Exim log setting that
is off, say) is listed with the unavailable ones too, saying what it misses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ..errors import UserError
from ..schema import FINDINGS
from ..settings import Settings
from ..tables import Tables
from . import (
    data_after_reject,
    lb_retry_reset,
    plaintext_fallback,
    rapid_retry,
    retry_after_permanent,
    tls_handshake_failure,
    tls_no_shared_cipher,
    wrong_domain_mx,
)
from .base import SEVERITIES, Context, Detector

__all__ = ["DETECTORS", "Detection", "UnknownDetectorError", "run"]

DETECTORS: dict[str, Detector] = {
    d.id: d
    for d in (
        rapid_retry.DETECTOR,
        retry_after_permanent.DETECTOR,
        lb_retry_reset.DETECTOR,
        data_after_reject.DETECTOR,
        tls_no_shared_cipher.DETECTOR,
        tls_handshake_failure.DETECTOR,
        plaintext_fallback.DETECTOR,
        wrong_domain_mx.DETECTOR,
    )
}


class UnknownDetectorError(UserError, ValueError):
    """A detector id that does not exist."""


@dataclass
class Detection:
    """What the detectors found, what they could not look for, and notes."""

    findings: pl.DataFrame
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)


def check_ids(ids: list[str] | None) -> list[str]:
    """The detector ids to run (all by default); raises for unknown ones."""
    if not ids:
        return list(DETECTORS)
    unknown = [i for i in ids if i not in DETECTORS]
    if unknown:
        raise UnknownDetectorError(f"unknown detector {', '.join(unknown)}; choose from {', '.join(DETECTORS)}")
    return ids


def run(tables: Tables, settings: Settings, *, only: list[str] | None = None) -> Detection:
    """Run the detectors (all, or ``only`` these ids) on ``tables``."""
    ids = check_ids(only)
    ctx = Context(tables, settings)
    frames: list[pl.LazyFrame] = []
    detection = Detection(pl.DataFrame(schema=FINDINGS.polars()))
    for detector_id in ids:
        detector = DETECTORS[detector_id]
        reason = detector.available(ctx)
        if reason:
            detection.unavailable.append((detector_id, reason))
            continue
        frames.append(detector.detect(ctx))
        detection.ran.append(detector_id)
        missing = detector.limits(ctx) if detector.limits else None
        if missing:
            detection.unavailable.append((detector_id, f"partly: {missing}"))
    if frames:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        detection.findings = (
            pl.concat(frames, how="vertical_relaxed")
            .with_columns(pl.col("severity").replace_strict(order, return_dtype=pl.Int8).alias("_rank"))
            .sort(["_rank", "count", "detector", "network"], descending=[False, True, False, False])
            .drop("_rank")
            .collect()
        )
    detection.notes = list(dict.fromkeys(ctx.notes))
    return detection
