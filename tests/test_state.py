"""Issue 6: where the nightly report resumes, through logrotate's renames, compression and truncation."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from loganalyzer import state
from loganalyzer.state import FileId, FileRecord, LockedError, StateError, identify, plan


def _line(i: int) -> str:
    return (
        f"Apr 15 08:{i // 60:02d}:{i % 60:02d} mx1 postfix/smtpd[{1000 + i}]: connect from unknown[192.0.2.{i % 250}]\n"
    )


def _text(start: int, n: int) -> str:
    return "".join(_line(i) for i in range(start, start + n))


def _record(file: FileId, *, offset: int, line: int) -> FileRecord:
    return FileRecord.after(file, offset=offset, line=line)


def _ids(directory: Path, *names: str) -> list[FileId]:
    return [identify(str(directory / n)) for n in names]


def test_fingerprint_follows_the_text_through_gzip(tmp_path: Path) -> None:
    text = _text(0, 5)
    (tmp_path / "mail.log").write_text(text)
    (tmp_path / "mail.log.1.gz").write_bytes(gzip.compress(text.encode()))
    plain, packed = _ids(tmp_path, "mail.log", "mail.log.1.gz")
    assert plain.fingerprint == packed.fingerprint and plain.fingerprint is not None
    assert (plain.compression, packed.compression) == ("plain", "gzip")
    assert plain.inode != packed.inode


def test_an_unfinished_first_line_has_no_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("Apr 15 08:00:00 mx1 postfix/smtpd[1]: conn")
    (tmp_path / "b").write_text("")
    (tmp_path / "c").write_text("x" * 5000)  # a first line longer than 4 KiB still has one
    a, b, c = _ids(tmp_path, "a", "b", "c")
    assert a.fingerprint is None and b.fingerprint is None and c.fingerprint is not None


def test_first_run_reads_only_the_live_file(tmp_path: Path) -> None:
    (tmp_path / "mail.log.1").write_text(_text(0, 3))
    (tmp_path / "mail.log").write_text(_text(3, 3))
    members = _ids(tmp_path, "mail.log.1", "mail.log")
    p = plan("mail.log", [], members)
    assert [(r.file.path, r.offset, r.line) for r in p.reads] == [(members[1].path, 0, 1)]
    assert "first run" in p.notes[0] and "1 older rotated file(s)" in p.notes[0]


def test_an_unchanged_or_grown_file_resumes_at_the_offset(tmp_path: Path) -> None:
    live = tmp_path / "mail.log"
    live.write_text(_text(0, 4))
    before = identify(str(live))
    record = _record(before, offset=live.stat().st_size, line=5)
    p = plan("mail.log", [record], [before])
    assert [(r.offset, r.line, r.reason) for r in p.reads] == [(record.offset, 5, "resumed")]
    with live.open("a") as f:
        f.write(_text(4, 2))
    p = plan("mail.log", [record], [identify(str(live))])
    assert [(r.offset, r.line) for r in p.reads] == [(record.offset, 5)]
    assert p.reads[0].input().whole_lines  # a plain file may be mid-write


def test_rename_rotation_finishes_the_old_file_then_reads_the_new(tmp_path: Path) -> None:
    live = tmp_path / "mail.log"
    live.write_text(_text(0, 4))
    record = _record(identify(str(live)), offset=live.stat().st_size - len(_line(3)), line=4)
    live.rename(tmp_path / "mail.log.1")
    live.write_text(_text(10, 2))
    p = plan(str(live), [record], _ids(tmp_path, "mail.log.1", "mail.log"))
    assert [(Path(r.file.path).name, r.offset, r.line) for r in p.reads] == [
        ("mail.log.1", record.offset, 4),
        ("mail.log", 0, 1),
    ]
    assert "rotated to" in p.notes[0]


def test_rotated_and_compressed_is_matched_by_its_decompressed_first_line(tmp_path: Path) -> None:
    live = tmp_path / "mail.log"
    live.write_text(_text(0, 4))
    record = _record(identify(str(live)), offset=live.stat().st_size, line=5)
    (tmp_path / "mail.log.1.gz").write_bytes(gzip.compress(live.read_bytes()))
    live.unlink()
    live.write_text(_text(10, 2))
    p = plan(str(live), [record], _ids(tmp_path, "mail.log.1.gz", "mail.log"))
    assert [(Path(r.file.path).name, r.offset, r.line) for r in p.reads] == [
        ("mail.log.1.gz", record.offset, 5),
        ("mail.log", 0, 1),
    ]
    assert not p.reads[0].input().whole_lines  # a compressed file is finished


def test_a_compressed_file_read_to_its_end_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "mail.log.1.gz").write_bytes(gzip.compress(_text(0, 4).encode()))
    (tmp_path / "mail.log").write_text(_text(10, 2))
    old, live = _ids(tmp_path, "mail.log.1.gz", "mail.log")
    records = [_record(old, offset=len(_text(0, 4)), line=5), _record(live, offset=0, line=1)]
    p = plan("mail.log", records, [old, live])
    assert [Path(r.file.path).name for r in p.reads] == ["mail.log"]


def test_copytruncate_reads_the_copy_from_the_offset_and_the_live_file_from_the_start(tmp_path: Path) -> None:
    live = tmp_path / "mail.log"
    live.write_text(_text(0, 6))
    before = identify(str(live))
    record = _record(before, offset=len(_text(0, 4)), line=5)
    (tmp_path / "mail.log.1").write_bytes(live.read_bytes())  # copy ...
    with live.open("r+") as f:  # ... then truncate in place: same inode
        f.truncate(0)
        f.write(_text(20, 1))
    members = _ids(tmp_path, "mail.log.1", "mail.log")
    assert members[1].inode == before.inode
    p = plan(str(live), [record], members)
    assert [(Path(r.file.path).name, r.offset, r.line) for r in p.reads] == [
        ("mail.log.1", record.offset, 5),
        ("mail.log", 0, 1),
    ]
    assert p.reads[1].reason.startswith("copytruncate")
    assert any("truncated" in n for n in p.notes)


def test_a_truncated_file_shorter_than_the_offset_is_read_from_the_start(tmp_path: Path) -> None:
    live = tmp_path / "mail.log"
    live.write_text(_text(0, 6))
    record = _record(identify(str(live)), offset=live.stat().st_size, line=7)
    live.write_text(_text(0, 2))  # same first line, less text
    p = plan(str(live), [record], [identify(str(live))])
    assert [(r.offset, r.line) for r in p.reads] == [(0, 1)]


def test_a_replaced_file_is_read_and_old_rotations_are_not(tmp_path: Path) -> None:
    (tmp_path / "mail.log.1.gz").write_bytes(gzip.compress(_text(100, 3).encode()))
    os.utime(tmp_path / "mail.log.1.gz", (1_000_000_000, 1_000_000_000))
    live = tmp_path / "mail.log"
    live.write_text(_text(0, 4))
    record = _record(identify(str(live)), offset=live.stat().st_size, line=5)
    live.unlink()  # deleted and created anew: nothing matches any more
    live.write_text(_text(50, 2))
    os.utime(live, (record.mtime + 10, record.mtime + 10))
    p = plan(str(live), [record], _ids(tmp_path, "mail.log.1.gz", "mail.log"))
    assert [(Path(r.file.path).name, r.offset) for r in p.reads] == [("mail.log", 0)]
    assert "none of the files read last time" in p.notes[0]


def test_files_older_than_anything_tracked_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "mail.log.2.gz").write_bytes(gzip.compress(_text(100, 3).encode()))
    (tmp_path / "mail.log.1").write_text(_text(0, 4))
    (tmp_path / "mail.log").write_text(_text(10, 4))
    old, one, live = _ids(tmp_path, "mail.log.2.gz", "mail.log.1", "mail.log")
    p = plan("mail.log", [_record(one, offset=len(_text(0, 4)), line=5)], [old, one, live])
    assert [Path(r.file.path).name for r in p.reads] == ["mail.log.1", "mail.log"]


def test_two_copies_of_one_text_are_read_once(tmp_path: Path) -> None:
    text = _text(0, 4)
    (tmp_path / "mail.log.1").write_text(text)
    (tmp_path / "mail.log.1.gz").write_bytes(gzip.compress(text.encode()))  # compression interrupted
    (tmp_path / "mail.log").write_text(_text(10, 1))
    one, packed, live = _ids(tmp_path, "mail.log.1", "mail.log.1.gz", "mail.log")
    record = _record(one, offset=len(_text(0, 2)), line=3)
    p = plan("mail.log", [record], [one, packed, live])
    assert [Path(r.file.path).name for r in p.reads] == ["mail.log.1", "mail.log"]
    assert any("skipped" in n for n in p.notes)


def test_an_empty_live_file_is_followed_by_its_inode(tmp_path: Path) -> None:
    live = tmp_path / "mail.log"
    live.write_text("")
    record = _record(identify(str(live)), offset=0, line=1)
    assert record.fingerprint is None
    live.write_text(_text(0, 2))
    p = plan(str(live), [record], [identify(str(live))])
    assert [(r.offset, r.reason) for r in p.reads] == [(0, "resumed")]


def test_state_round_trip_and_atomic_write(tmp_path: Path) -> None:
    (tmp_path / "mail.log").write_text(_text(0, 2))
    record = _record(identify(str(tmp_path / "mail.log")), offset=10, line=2)
    state.save(state.State({"/var/log/mail.log": [record]}, runs=3), tmp_path)
    loaded = state.load(tmp_path)
    assert loaded.runs == 3 and loaded.logs == {"/var/log/mail.log": [record]}
    assert json.loads((tmp_path / "state.json").read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_no_state_yet_and_a_damaged_state(tmp_path: Path) -> None:
    assert state.load(tmp_path) == state.State()
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(StateError, match="damaged"):
        state.load(tmp_path)


def test_a_second_run_is_locked_out(tmp_path: Path) -> None:
    with state.locked(tmp_path), pytest.raises(LockedError, match=rf"pid {os.getpid()}"), state.locked(tmp_path):
        pass
    with state.locked(tmp_path):  # released
        pass


def test_state_dir_falls_back_to_a_user_dir(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")  # cannot become a directory
    user = tmp_path / "user" / "loganalyzer"
    assert state.resolve_state_dir(None, system=blocked / "sub", user=user) == user and user.is_dir()
    assert state.resolve_state_dir(None, system=tmp_path / "sys", user=user) == tmp_path / "sys"
    assert state.resolve_state_dir(tmp_path / "given", user=user) == tmp_path / "given"
    with pytest.raises(StateError, match="cannot be created"):
        state.resolve_state_dir(blocked / "sub")
    env = {"HOME": "/home/x"}
    assert state.user_state_dir(env) == Path("/home/x/.local/state/loganalyzer")
    assert state.user_state_dir({**env, "XDG_STATE_HOME": "/st"}) == Path("/st/loganalyzer")
