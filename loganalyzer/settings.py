"""One frozen Settings object: every knob, from flags or a TOML file, in one place.

Nothing deeper in the package reads the environment or global state; functions
take a ``Settings`` (or keyword arguments defaulting from it).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .sources.lines import BATCH_BYTES
from .timestamps import local_timezone, validate_timezone

__all__ = ["GROUP_BY", "Settings", "SettingsError", "load_config"]

GROUP_BY = ("network", "org", "asn", "ip")


class SettingsError(UserError, ValueError):
    """A setting has an impossible value."""


def default_cache_dir() -> str | None:
    """``$XDG_CACHE_HOME/loganalyzer``, else ``~/.cache/loganalyzer``; None without a home directory.

    The XDG base-directory spec ignores a relative ``XDG_CACHE_HOME``; so does this.
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return os.path.join(xdg, "loganalyzer")
    home = os.path.expanduser("~")
    return os.path.join(home, ".cache", "loganalyzer") if os.path.isabs(home) else None


def _default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@dataclass(frozen=True)
class Settings:
    """Every option of reading and detection.

    Reading: ``year`` (year of the last line of year-less files; default from the
    file's mtime), ``timezone`` (zone of zone-less timestamps; default local),
    ``rotated`` (expand a base name to its rotated set), ``jobs`` (parallel parse
    workers), ``batch_bytes`` (the largest unit of parse work; smaller when an
    input would give fewer than two per worker), ``spill_bytes`` (inputs of at
    least this much text are parsed into Parquet files instead of memory),
    ``spill_dir`` (where those go; default the cache directory, else the
    system's temporary directory).

    Detection: ``ipv4_prefix``/``ipv6_prefix`` (sending-network size),
    ``group_by`` (network, org, asn or ip), ``greylist_delay`` (seconds a client
    must wait after a 4xx; postgrey's own lines override it), ``retry_window`` (seconds
    after a 5xx in which the same sender/recipient counts as a retry), ``plaintext_window``
    (seconds after a failed STARTTLS in which a plaintext transaction counts as a
    fallback), ``local_domains`` (extra domains that are ours), ``dns`` (confirm
    missing MX records), ``dns_timeout`` (seconds per lookup), ``asn_db`` (an
    ``.mmdb`` file for AS numbers), ``evidence`` (example lines per finding).

    Parse cache (``loganalyzer scan``/``show``, or ``scan(..., cache=True)``):
    ``cache_dir`` (where parsed tables are kept; default
    ``$XDG_CACHE_HOME/loganalyzer`` or ``~/.cache/loganalyzer``), ``cache_max_mb``
    (its budget; the least recently used entries go beyond it).
    """

    year: int | None = None
    timezone: str = field(default_factory=local_timezone)
    rotated: bool = True
    jobs: int = field(default_factory=_default_jobs)
    batch_bytes: int = BATCH_BYTES
    spill_bytes: int = 64 << 20
    spill_dir: str | None = None

    ipv4_prefix: int = 24
    ipv6_prefix: int = 48
    group_by: str = "network"
    greylist_delay: int = 300
    retry_window: int = 86400
    plaintext_window: int = 3600
    local_domains: tuple[str, ...] = ()
    dns: bool = True
    dns_timeout: float = 2.0
    dns_server: str | None = None
    asn_db: str | None = None
    evidence: int = 5

    cache_dir: str | None = field(default_factory=default_cache_dir)
    cache_max_mb: int = 2048

    def __post_init__(self) -> None:
        try:
            validate_timezone(self.timezone)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        checks = [
            (self.year is None or 1970 <= self.year <= 9999, "year must be between 1970 and 9999"),
            (self.jobs >= 1, "jobs must be at least 1"),
            (self.batch_bytes >= 1 << 12, "batch_bytes must be at least 4096"),
            (self.spill_bytes >= 0, "spill_bytes must not be negative"),
            (0 <= self.ipv4_prefix <= 32, "ipv4_prefix must be between 0 and 32"),
            (0 <= self.ipv6_prefix <= 128, "ipv6_prefix must be between 0 and 128"),
            (self.group_by in GROUP_BY, f"group_by must be one of {', '.join(GROUP_BY)}"),
            (self.greylist_delay > 0, "greylist_delay must be positive"),
            (self.retry_window > 0, "retry_window must be positive"),
            (self.plaintext_window > 0, "plaintext_window must be positive"),
            (self.dns_timeout > 0, "dns_timeout must be positive"),
            (self.evidence >= 1, "evidence must be at least 1"),
            (self.cache_max_mb >= 1, "cache_max_mb must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)
        object.__setattr__(self, "local_domains", tuple(d.lower().strip(".") for d in self.local_domains))

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_config(path: str | Path, base: Settings | None = None) -> Settings:
    """Settings from a TOML file (keys as the Settings fields, ``-`` or ``_``)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise SettingsError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    names = {f.name for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in names:
            raise SettingsError(f"{path}: unknown setting {key!r}")
        values[name] = tuple(value) if isinstance(value, list) else value
    try:
        return (base or Settings()).replace(**values)
    except TypeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
