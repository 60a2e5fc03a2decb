"""Three sample nights of one mail server, and logrotate's ways of rotating between them.

Helpers for the issue 6 tests: they work on ``mail.log`` in the current
directory (tests chdir into tmp_path, so report paths stay short and stable).
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

from loganalyzer import nightly
from loganalyzer.settings import Settings

from .conftest import SAMPLES

NIGHTS = SAMPLES / "postfix" / "nights"
SETTINGS = Settings(timezone="UTC", year=2024, dns=False, jobs=2)
LOG = Path("mail.log")
STATE = Path("state")
ROTATIONS = ("rename-gzip", "rename-delaycompress", "copytruncate", "copytruncate-gzip")


def night(i: int) -> str:
    return (NIGHTS / f"night-{i}.log").read_text()


def append(text: str) -> None:
    with LOG.open("a") as f:
        f.write(text)


def _gzip(path: Path) -> None:
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()


def _shift(*, compress_old: bool) -> None:
    """mail.log.N[.gz] -> mail.log.N+1[.gz], oldest first (delaycompress compresses the old .1 now)."""
    for n in range(9, 0, -1):
        for suffix in (".gz", ""):
            src = LOG.with_name(f"{LOG.name}.{n}{suffix}")
            if src.exists():
                dst = LOG.with_name(f"{LOG.name}.{n + 1}{suffix}")
                src.rename(dst)
                if compress_old and not suffix:
                    _gzip(dst)


def rotate(how: str) -> None:
    """Rotate ``mail.log`` as logrotate would with ``how`` (one of :data:`ROTATIONS`)."""
    one = LOG.with_name(f"{LOG.name}.1")
    if how.startswith("rename"):
        _shift(compress_old=how == "rename-delaycompress")
        LOG.rename(one)
        LOG.touch()  # logrotate's "create"
        if how == "rename-gzip":
            _gzip(one)
    elif how.startswith("copytruncate"):
        _shift(compress_old=False)
        shutil.copyfile(LOG, one)
        with LOG.open("r+") as f:
            f.truncate(0)
        if how == "copytruncate-gzip":
            _gzip(one)
    else:
        raise ValueError(how)


def run(echo: Callable[[str], None] | None = None, **options: object) -> nightly.Outcome:
    STATE.mkdir(exist_ok=True)
    output = options.pop("output", None) or nightly.Output(echo=echo)
    assert isinstance(output, nightly.Output)
    return nightly.run([str(LOG)], SETTINGS, state_dir=STATE, output=output, **options)  # type: ignore[arg-type]


def text_read(outcome: nightly.Outcome) -> str:
    """The exact text a run read: each source's bytes between its start and end offsets."""
    parts = []
    for source in outcome.tables.stats.sources:
        data = Path(source.path).read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        parts.append(data[source.start_offset : source.end_offset].decode())
    return "".join(parts)


def three_nights() -> list[nightly.Outcome]:
    """The sample nights as cron sees them: rename + gzip after the first, copytruncate after the second."""
    outcomes = []
    LOG.write_text(night(1))
    outcomes.append(run())
    rotate("rename-gzip")
    append(night(2))
    outcomes.append(run())
    rotate("copytruncate")
    append(night(3))
    outcomes.append(run())
    return outcomes
