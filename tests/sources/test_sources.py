"""Inputs: expansion, decompression by magic bytes, damage, encodings, odd sizes."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import random
import sys
from pathlib import Path

import polars as pl
import pytest

from loganalyzer import reading
from loganalyzer.reading import MIN_BATCH, batch_size, read
from loganalyzer.settings import Settings
from loganalyzer.sources import InputError, expand, open_input, split_chunks, split_lines

LINE = "Mar  1 12:00:{:02d} mx1 postfix/smtpd[100]: connect from unknown[192.0.2.{}]\n"


def _log(n: int, start: int = 0) -> str:
    return "".join(LINE.format(i % 60, (start + i) % 250 + 1) for i in range(n))


SETTINGS = Settings(timezone="UTC", year=2024)


def test_rotated_set_is_read_oldest_first(tmp_path: Path) -> None:
    (tmp_path / "mail.log").write_text(_log(1))
    (tmp_path / "mail.log.1").write_text(_log(1))
    (tmp_path / "mail.log.2.gz").write_bytes(gzip.compress(_log(1).encode()))
    (tmp_path / "mail.log.10.gz").write_bytes(gzip.compress(_log(1).encode()))
    (tmp_path / "other.log").write_text(_log(1))
    names = [Path(i.path).name for i in expand([str(tmp_path / "mail.log")])]
    assert names == ["mail.log.10.gz", "mail.log.2.gz", "mail.log.1", "mail.log"]
    assert [Path(i.path).name for i in expand([str(tmp_path / "mail.log")], rotated=False)] == ["mail.log"]


def test_dated_rotations_and_directories(tmp_path: Path) -> None:
    for name in ("mail.log-20240303.gz", "mail.log-20240302", "mail.log", "syslog", "syslog.1"):
        (tmp_path / name).write_text("x\n")
    names = [Path(i.path).name for i in expand([str(tmp_path)])]
    assert names == ["mail.log-20240302", "mail.log-20240303.gz", "mail.log", "syslog.1", "syslog"]


def test_glob_and_errors(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("x\n")
    assert [Path(i.path).name for i in expand([str(tmp_path / "*.log")])] == ["a.log"]
    with pytest.raises(InputError, match="no such file"):
        expand([str(tmp_path / "missing.log")])
    with pytest.raises(InputError, match="no file matches"):
        expand([str(tmp_path / "*.nothing")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no files"):
        expand([str(tmp_path / "empty")])


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.log"
    path.write_text("x\n")
    # tests may run as root, who can read anything: ask os.access the way a normal user would be answered
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    with pytest.raises(InputError, match=r"permission denied.*group adm"):
        expand([str(path)])


@pytest.mark.parametrize(
    "compress,name",
    [(gzip.compress, "gzip"), (bz2.compress, "bzip2"), (lzma.compress, "xz")],
)
def test_compression_is_detected_by_magic_not_name(tmp_path: Path, compress, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mail.log.txt"  # a misleading name
    path.write_bytes(compress(_log(50).encode()))
    tables = read(str(path), SETTINGS)
    assert tables.stats.sources[0].compression == name
    assert tables.events.select(pl.len()).collect().item() == 50


def test_multi_member_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cat.gz"
    path.write_bytes(gzip.compress(_log(10).encode()) + gzip.compress(_log(5).encode()))
    assert read(str(path), SETTINGS).stats.lines == 15


def test_truncated_gzip_keeps_lines_before_the_damage(tmp_path: Path) -> None:
    data = gzip.compress(_log(5000).encode(), compresslevel=1)
    path = tmp_path / "mail.log.1.gz"
    path.write_bytes(data[: len(data) // 2])  # cut mid-member
    tables = read(str(path), SETTINGS)
    stats = tables.stats.sources[0]
    assert 0 < stats.lines < 5000
    assert any("truncated" in w for w in stats.warnings)
    # every line that came out is whole except possibly the last one, which is reported unparsed, not lost
    events = tables.events.select(pl.len()).collect().item()
    unparsed = tables.unparsed.select(pl.len()).collect().item()
    assert events + unparsed == stats.lines
    assert unparsed <= 1


def test_corrupt_gzip_data_is_a_warning(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(_log(2000).encode(), compresslevel=1))
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    tables = read(str(path), SETTINGS)
    assert any("damaged" in w or "truncated" in w for w in tables.stats.warnings)


def test_latin1_bytes_are_replaced_counted_and_kept(tmp_path: Path) -> None:
    raw = (
        "Feb 12 10:00:01 mx1 postfix/smtpd[700]: NOQUEUE: reject: RCPT from unknown[192.0.2.77]: 550 5.1.1 "
        "<j\xf6rg@example.com>: Recipient address rejected: User unknown; from=<a@b> to=<j\xf6rg@example.com> "
        "proto=ESMTP helo=<h>\n"
    ).encode("latin-1")
    path = tmp_path / "latin1.log"
    path.write_bytes(raw + _log(3).encode())
    tables = read(str(path), SETTINGS)
    assert tables.stats.replaced == 2
    rejected = tables.events.filter(pl.col("kind") == "reject").select("recipient").collect().item()
    assert rejected == "j\ufffdrg@example.com"
    assert tables.events.select(pl.len()).collect().item() == 4


def test_a_one_megabyte_line(tmp_path: Path) -> None:
    big = "Mar  1 12:00:00 mx1 postfix/smtpd[100]: improper command pipelining after DATA from x[192.0.2.1]: "
    big += "A" * (1 << 20)
    path = tmp_path / "big.log"
    path.write_text(_log(2) + big + "\n" + _log(2))
    tables = read(str(path), SETTINGS.replace(batch_bytes=1 << 16))
    kinds = tables.kind_counts()
    assert kinds["improper-pipelining"] == 1 and kinds["connect"] == 4
    reason = tables.events.filter(pl.col("kind") == "improper-pipelining").select("reason").collect().item()
    assert len(reason) == 1 << 20


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    tables = read(str(path), SETTINGS)
    assert tables.stats.lines == 0
    assert tables.events.collect().is_empty()
    assert tables.sessions.collect().is_empty()
    assert tables.messages.collect().is_empty()


def test_garbage_bytes_become_unparsed_rows(tmp_path: Path) -> None:
    path = tmp_path / "junk.log"
    path.write_bytes(b"\x00\x01\x02\x03\n\xff\xfe\xfd binary \x1f\x1e\n" + _log(1).encode() + b"\x89PNG\r\n\x1a\n")
    tables = read(str(path), SETTINGS)
    unparsed = tables.unparsed.collect()
    assert unparsed.height == 4  # two junk lines before the log line, two after (\x89PNG, \x1a)
    assert set(unparsed["problem"].cast(pl.String)) == {"no-envelope"}
    assert tables.events.select(pl.len()).collect().item() == 1


def test_every_separator_byte_present_falls_back_to_python(tmp_path: Path) -> None:
    junk = bytes(range(1, 32)).replace(b"\n", b"").replace(b"\r", b"")
    data = junk + b"\n" + _log(2).encode()
    batches = list(split_lines(iter([data])))
    assert sum(len(b.lines) for b in batches) == 3


def test_crlf_line_ends_and_no_final_newline() -> None:
    data = _log(2).replace("\n", "\r\n").encode() + b"last line without newline"
    lines = [line for b in split_lines(iter([data])) for line in b.lines.to_list()]
    assert len(lines) == 3 and not lines[0].endswith("\r") and lines[2] == "last line without newline"


def _chunks_by_the_rule(data: bytes, batch_bytes: int, whole_lines: bool) -> list[bytes]:
    """What split_chunks must give: each chunk ends at the last newline before batch_bytes (the
    first after it for a longer line); with whole_lines an unfinished last line is held back."""
    chunks = []
    while len(data) >= batch_bytes:
        cut = data.rfind(b"\n", 0, batch_bytes)
        if cut < 0:
            cut = data.find(b"\n", batch_bytes)
            if cut < 0:
                break
        chunks.append(data[: cut + 1])
        data = data[cut + 1 :]
    if whole_lines:
        data = data[: data.rfind(b"\n") + 1]
    return [*chunks, data] if data else chunks


@pytest.mark.parametrize("seed", range(30))
def test_chunks_end_where_the_rule_says_however_the_blocks_come(seed: int) -> None:
    rng = random.Random(seed)
    lines = [b"x" * rng.choice([0, 1, 5, 40, 300]) for _ in range(rng.randint(0, 60))]
    data = b"\n".join(lines) + rng.choice([b"", b"\n", b"unfinished"])
    cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, rng.randint(0, 12))))
    blocks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]  # empty ones too
    batch_bytes = rng.choice([1, 7, 64, 500, 5000])
    whole_lines = rng.random() < 0.5
    got = list(split_chunks(iter(blocks), batch_bytes=batch_bytes, whole_lines=whole_lines))
    assert got == _chunks_by_the_rule(data, batch_bytes, whole_lines)


def test_a_line_longer_than_a_batch_spread_over_many_blocks() -> None:
    data = b"a\n" + b"y" * 10_000 + b"\nb\n"
    blocks = [data[i : i + 100] for i in range(0, len(data), 100)]
    assert list(split_chunks(iter(blocks), batch_bytes=1000)) == [b"a\n", b"y" * 10_000 + b"\n", b"b\n"]


def test_batches_keep_line_numbers() -> None:
    data = _log(1000).encode()
    batches = list(split_lines(iter([data[i : i + 4096] for i in range(0, len(data), 4096)]), batch_bytes=10_000))
    assert len(batches) > 5
    expected = 1
    for b in batches:
        assert b.first_line == expected
        expected += len(b.lines)
    assert expected == 1001


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.TextIOWrapper(io.BytesIO(gzip.compress(_log(7).encode())))
    monkeypatch.setattr(sys, "stdin", fake)
    cut: list[int] = []

    def recording(blocks, *, batch_bytes, whole_lines):  # type: ignore[no-untyped-def]
        cut.append(batch_bytes)
        return split_chunks(blocks, batch_bytes=batch_bytes, whole_lines=whole_lines)

    monkeypatch.setattr(reading, "split_chunks", recording)
    tables = read("-", SETTINGS)
    assert tables.stats.sources[0].path == "-"
    assert tables.stats.sources[0].compression == "gzip"
    assert tables.stats.lines == 7
    assert cut == [SETTINGS.batch_bytes]  # its size is unknown: the largest batch, not one sized for a guess


def test_open_input_reports_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text(_log(3))
    os.utime(path, (1_700_000_000, 1_700_000_000))
    opened = open_input(expand([str(path)])[0])
    assert opened.mtime == 1_700_000_000 and opened.size == path.stat().st_size
    assert b"".join(opened.blocks).count(b"\n") == 3


@pytest.mark.parametrize("compressed", [False, True])
def test_resume_from_an_offset(tmp_path: Path, compressed: bool) -> None:
    from loganalyzer.reading import read_inputs
    from loganalyzer.sources import Input

    text = _log(10)
    path = tmp_path / "mail.log"
    path.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    first = read_inputs([Input(str(path))], SETTINGS)
    assert first.stats.sources[0].end_offset == len(text.encode())
    cut = len("".join(text.splitlines(keepends=True)[:4]).encode())
    resumed = read_inputs([Input(str(path), offset=cut, first_line=5)], SETTINGS)
    events = resumed.events.sort("seq").select("line_no").collect().to_series().to_list()
    assert events == list(range(5, 11))
    assert resumed.stats.sources[0].end_offset == len(text.encode())


def test_whole_lines_leaves_an_unfinished_line(tmp_path: Path) -> None:
    from loganalyzer.reading import read_inputs
    from loganalyzer.sources import Input

    path = tmp_path / "mail.log"
    text = _log(3) + "Mar  1 12:00:59 mx1 postfix/smtpd[100]: connect fr"
    path.write_text(text)
    tables = read_inputs([Input(str(path), whole_lines=True)], SETTINGS)
    assert tables.stats.lines == 3
    assert tables.stats.sources[0].end_offset == len(_log(3))


@pytest.mark.parametrize("jobs", [1, 2, 8, 64])
@pytest.mark.parametrize("mb", [1, 10, 48, 100, 192, 768])
def test_every_worker_gets_two_batches_unless_batches_would_get_small(jobs: int, mb: int) -> None:
    size, most = mb << 20, 32 << 20
    batch = batch_size(size, jobs, most)
    assert MIN_BATCH <= batch <= most
    if batch == most:  # the largest batch only while every worker still gets two
        assert size >= 2 * jobs * most
    elif batch > MIN_BATCH:  # else just large enough for two a worker
        assert -(-size // batch) == 2 * jobs


def test_a_smaller_batch_of_ones_own_is_kept() -> None:
    assert batch_size(100 << 20, 8, 1 << 14) == 1 << 14
    assert batch_size(192 << 20, 2, 32 << 20) == 32 << 20  # the benchmark log on two cores: as configured
    assert batch_size(100 << 20, 8, 32 << 20) == -(-(100 << 20) // 16)  # eight cores: sixteen batches, not four
    assert batch_size(None, 8, 32 << 20) == 32 << 20  # standard input: size unknown
