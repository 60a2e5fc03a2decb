"""The parse cache: a second scan of unchanged logs reuses their tables (issue 5)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from loganalyzer import cache, rcpt_outcomes
from loganalyzer.cache import Key, ParseCache, file_state, source_digest
from loganalyzer.cli import app
from loganalyzer.networks import ClientMap
from loganalyzer.reading import read_inputs
from loganalyzer.scan import scan
from loganalyzer.settings import Settings, default_cache_dir
from loganalyzer.sources import Input, expand
from loganalyzer.store import LAYOUT
from loganalyzer.tables import Tables

from .conftest import SAMPLES

SCENARIOS = SAMPLES / "postfix" / "scenarios"
COMMON = ["--timezone", "UTC", "--year", "2024", "--no-dns"]
REUSED = "reused parsed tables from"


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    """A sample log the test may change."""
    path = tmp_path / "logs" / "rapid-retry.log"
    path.parent.mkdir()
    shutil.copy(SCENARIOS / "rapid-retry.log", path)
    return path


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The inputs of every read the cache had to do (a hit does none)."""
    calls: list[list[str]] = []

    def counting(items: list[Input], settings: Settings, **kw: Any) -> Tables:
        calls.append([i.path for i in items])
        return read_inputs(items, settings, **kw)

    monkeypatch.setattr(cache, "read_inputs", counting)
    return calls


def _scan(cli: CliRunner, path: Path | str, where: Path, *args: str) -> Result:
    result = cli.invoke(app, ["scan", str(path), "--cache-dir", str(where), *COMMON, *args])
    assert result.exit_code == 0, result.output
    return result


def _entries(where: Path) -> list[Path]:
    return sorted(p for p in where.iterdir() if p.is_dir() and not p.name.startswith(".")) if where.exists() else []


# -- hits -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_second_scan_reuses_the_tables_and_reports_the_same(
    cli: CliRunner, log: Path, store: Path, reads: list[list[str]], fmt: str
) -> None:
    first = _scan(cli, log, store, "--format", fmt)
    second = _scan(cli, log, store, "--format", fmt)
    assert reads == [[str(log)]]  # parsed once
    assert REUSED not in first.stderr
    [line] = second.stderr.splitlines()
    assert line.startswith(f"loganalyzer: {REUSED} {store}")
    if fmt == "json":  # the same document (the order of equally frequent kinds is polars' hash order)
        document = json.loads(second.stdout)
        assert document == json.loads(first.stdout)
        assert document["findings"][0]["evidence"][0] == {"source": str(log), "line_no": 3}
    else:
        assert second.stdout == first.stdout


def test_a_spilled_read_is_stored_by_moving_its_files(
    cli: CliRunner, log: Path, store: Path, reads: list[list[str]], tmp_path: Path
) -> None:
    config = tmp_path / "spill.toml"
    config.write_text("spill-bytes = 0\n")  # spill even this small log, as a large one would
    first = _scan(cli, log, store, "--format", "json", "--config", str(config))
    [entry] = _entries(store)
    assert (entry / "events.d").is_dir() and not (entry / "events.parquet").exists()
    assert not [p for p in store.iterdir() if p.name.startswith(".tmp-")]  # the spill directory became the entry
    second = _scan(cli, log, store, "--format", "json", "--config", str(config))
    fresh = _scan(cli, log, store, "--format", "json", "--no-cache")
    assert len(reads) == 1 and REUSED in second.stderr, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout) == json.loads(fresh.stdout)
    manifest = json.loads((entry / cache.MANIFEST).read_text())
    assert any(name.startswith("events.d/") for name in manifest["files"])


def test_the_entry_of_a_spilled_read_keeps_what_each_part_holds(log: Path, store: Path) -> None:
    settings = Settings(timezone="UTC", year=2024, dns=False, cache_dir=str(store), spill_bytes=0)
    fresh = read_inputs(expand([str(log)]), settings)
    scan(str(log), settings, cache=True)
    [entry] = _entries(store)
    assert (entry / "events.d" / LAYOUT).is_file()
    loaded = Tables.load(entry)
    # the parts and their kinds as the read knew them: a query of a few kinds reads their files only
    assert loaded.store is not None and fresh.store is not None
    assert loaded.store.kinds == fresh.store.kinds and None not in loaded.store.kinds.values()
    assert loaded.store.spans == fresh.store.spans
    everything = fresh.events.collect()
    for kinds in (["connect"], ["reject", "greylist"], ["no-such-kind"]):
        want = everything.filter(pl.col("kind").is_in(kinds)).sort("seq")
        assert loaded.events_of(*kinds).collect().sort("seq").equals(want), kinds
    assert loaded.events.collect().sort("seq").equals(everything.sort("seq"))
    assert loaded.unparsed.collect().height == fresh.unparsed.collect().height
    # an entry written before there was a layout reads every part as one scan, with the same rows
    (entry / "events.d" / LAYOUT).unlink()
    older = Tables.load(entry)
    assert older.store is None
    assert (
        older.events_of("connect")
        .collect()
        .sort("seq")
        .equals(everything.filter(pl.col("kind") == "connect").sort("seq"))
    )


def test_detector_settings_do_not_need_a_new_parse(
    cli: CliRunner, log: Path, store: Path, reads: list[list[str]]
) -> None:
    _scan(cli, log, store)
    other = _scan(cli, log, store, "--greylist-delay", "30", "--format", "json")
    fresh = _scan(cli, log, store, "--greylist-delay", "30", "--format", "json", "--no-cache")
    assert len(reads) == 1 and REUSED in other.stderr
    assert json.loads(other.stdout)["findings"] == json.loads(fresh.stdout)["findings"]


def test_the_entry_keeps_attempts_and_the_client_map_of_its_settings(
    cli: CliRunner, log: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scan(cli, log, store)
    [entry] = _entries(store)
    assert all((entry / f"{name}.parquet").exists() for name in ("attempts", "session_lines", "census"))
    kept = Tables.load(entry)
    fresh = read_inputs(expand([str(log)]), Settings(timezone="UTC", year=2024)).census

    def rows(census: pl.DataFrame) -> list[tuple[Any, ...]]:
        return sorted(census.rows(), key=str)

    assert rows(kept.census) == rows(fresh)
    assert list(kept.client_maps) == [ClientMap.settings_key(Settings())]

    builds: list[str] = []
    real_build = ClientMap.build

    def counting(pairs: Any, settings: Settings) -> ClientMap:
        builds.append(settings.group_by)
        return real_build(pairs, settings)

    monkeypatch.setattr(ClientMap, "build", counting)
    monkeypatch.setattr(rcpt_outcomes, "build_attempts", None)  # a cached scan must not rebuild the attempts
    again = _scan(cli, log, store, "--format", "json")
    by_org = _scan(cli, log, store, "--format", "json", "--group-by", "org")
    assert builds == ["org"]  # the stored map served the default settings; org grouping needed its own
    monkeypatch.undo()
    assert json.loads(again.stdout) == json.loads(_scan(cli, log, store, "--format", "json", "--no-cache").stdout)
    fresh = _scan(cli, log, store, "--format", "json", "--group-by", "org", "--no-cache")
    assert json.loads(by_org.stdout)["findings"] == json.loads(fresh.stdout)["findings"]


def test_no_client_map_is_kept_with_an_asn_database() -> None:
    assert ClientMap.settings_key(Settings(asn_db="/nonexistent.mmdb")) is None
    assert ClientMap.settings_key(Settings(group_by="org")) != ClientMap.settings_key(Settings())


def test_show_shares_the_cache_of_scan(cli: CliRunner, log: Path, store: Path, reads: list[list[str]]) -> None:
    _scan(cli, log, store)
    shown = cli.invoke(app, ["show", str(log), "--network", "198.18.10.0/24", "--cache-dir", str(store), *COMMON])
    assert shown.exit_code == 0 and len(reads) == 1
    assert REUSED in shown.stderr and f"{log}:3: Apr 15 08:00:02" in shown.stdout


def test_a_hit_marks_the_entry_used(log: Path, store: Path) -> None:
    settings = Settings(timezone="UTC", year=2024, dns=False, cache_dir=str(store))
    scan(str(log), settings, cache=True)
    [entry] = _entries(store)
    os.utime(entry / cache.MANIFEST, (1000, 1000))
    result = scan(str(log), settings, cache=True)
    assert any(REUSED in m for m in result.messages)
    assert (entry / cache.MANIFEST).stat().st_mtime > time.time() - 60


# -- misses -----------------------------------------------------------------------


def _touch(log: Path) -> list[str]:
    st = log.stat()
    os.utime(log, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    return []


def _append(log: Path) -> list[str]:
    with log.open("a") as f:
        f.write("Apr 15 09:30:00 mx1 postfix/smtpd[2999]: connect from unknown[203.0.113.9]\n")
    return []


def _same_size_same_mtime(log: Path) -> list[str]:
    before = log.stat()
    text = log.read_text()
    assert "198.18.10.21" in text
    log.write_text(text.replace("198.18.10.21", "198.18.99.21"))  # same length
    os.utime(log, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = log.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)  # only the fingerprint sees it
    return []


def _timezone(log: Path) -> list[str]:
    return ["--timezone", "Europe/Berlin"]


def _year(log: Path) -> list[str]:
    return ["--year", "2023"]


@pytest.mark.parametrize(
    "change",
    [_touch, _append, _same_size_same_mtime, _timezone, _year],
    ids=["mtime", "appended", "content-same-size-and-mtime", "timezone", "year"],
)
def test_a_changed_file_or_reading_setting_misses(
    cli: CliRunner, log: Path, store: Path, reads: list[list[str]], change: Callable[[Path], list[str]]
) -> None:
    _scan(cli, log, store, "--format", "json")
    extra = change(log)
    second = _scan(cli, log, store, "--format", "json", *extra)
    fresh = _scan(cli, log, store, "--format", "json", "--no-cache", *extra)
    assert len(reads) == 2 and REUSED not in second.stderr
    assert json.loads(second.stdout) == json.loads(fresh.stdout)
    third = _scan(cli, log, store, "--format", "json", *extra)  # and the new read is cached in turn
    assert len(reads) == 2 and REUSED in third.stderr
    assert len(_entries(store)) == 2


def test_a_changed_grammar_or_parser_misses(
    cli: CliRunner, log: Path, store: Path, reads: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _scan(cli, log, store)
    monkeypatch.setattr(cache, "code_digest", lambda: "a grammar changed")
    second = _scan(cli, log, store)
    assert len(reads) == 2 and REUSED not in second.stderr


def test_the_code_digest_covers_every_module_file(tmp_path: Path) -> None:
    (tmp_path / "grammar.py").write_text("KIND = 'connect'\n")
    before = source_digest([tmp_path])
    (tmp_path / "grammar.py").write_text("KIND = 'connects'\n")
    assert source_digest([tmp_path]) != before
    (tmp_path / "grammar.py").write_text("KIND = 'connect'\n")
    assert source_digest([tmp_path]) == before
    (tmp_path / "new.py").write_text("")
    assert source_digest([tmp_path]) != before
    assert len(cache.code_digest()) == 32


def test_an_older_member_of_a_rotated_set_counts(
    cli: CliRunner, tmp_path: Path, store: Path, reads: list[list[str]]
) -> None:
    logs = tmp_path / "rotated"
    shutil.copytree(SAMPLES / "postfix" / "rotated", logs)
    _scan(cli, logs / "mail.log", store)
    assert len(reads[0]) == 4  # the whole set is one entry
    _append(logs / "mail.log.1")
    second = _scan(cli, logs / "mail.log", store)
    assert len(reads) == 2 and REUSED not in second.stderr


def test_a_log_written_to_while_it_is_read_is_not_stored(
    log: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def growing(items: list[Input], settings: Settings, **kw: Any) -> Tables:
        tables = read_inputs(items, settings, **kw)
        _append(log)
        return tables

    monkeypatch.setattr(cache, "read_inputs", growing)
    result = scan(str(log), Settings(timezone="UTC", year=2024, dns=False, cache_dir=str(store)), cache=True)
    assert result.summary.lines == 60 and result.messages == []
    assert _entries(store) == []


def test_standard_input_and_resumed_reads_are_never_cached(cli: CliRunner, log: Path, store: Path) -> None:
    piped = cli.invoke(app, ["scan", "-", "--cache-dir", str(store), "--jobs", "1", *COMMON], input=log.read_text())
    assert piped.exit_code == 0 and "198.18.10.0/24" in piped.stdout
    assert _entries(store) == []
    settings = Settings(timezone="UTC")
    assert Key.of([Input(str(log), offset=100, first_line=3)], settings) is None
    assert Key.of([Input(str(log), whole_lines=True)], settings) is None
    assert Key.of([Input(str(log))], settings) is not None


# -- off --------------------------------------------------------------------------


def test_no_cache_neither_reads_nor_writes(cli: CliRunner, log: Path, store: Path) -> None:
    plain = _scan(cli, log, store, "--no-cache")
    assert not store.exists()
    _scan(cli, log, store)
    [entry] = _entries(store)
    (entry / "events.parquet").write_bytes(b"damaged")  # any look at the entry would delete it
    again = _scan(cli, log, store, "--no-cache")
    assert again.stderr == "" and again.stdout == plain.stdout
    assert (entry / "events.parquet").read_bytes() == b"damaged"


def test_library_callers_get_no_cache_unless_they_ask(log: Path, store: Path) -> None:
    settings = Settings(timezone="UTC", year=2024, dns=False, cache_dir=str(store))
    assert scan(str(log), settings).messages == []
    assert not store.exists()


# -- damage -----------------------------------------------------------------------


def _truncate(entry: Path) -> None:
    events = entry / "events.parquet"
    events.write_bytes(events.read_bytes()[:100])


def _scramble_inside(entry: Path) -> None:
    """Same size, intact footer: only reading the pages finds the damage."""
    events = entry / "events.parquet"
    data = bytearray(events.read_bytes())
    for i in range(len(data) // 4, len(data) // 2):
        data[i] = (data[i] * 7 + 13) % 256
    events.write_bytes(bytes(data))


def _lose_manifest(entry: Path) -> None:
    (entry / cache.MANIFEST).unlink()


def _other_key(entry: Path) -> None:
    (entry / cache.KEY_FILE).write_text("{}")


@pytest.mark.parametrize("damage", [_truncate, _scramble_inside, _lose_manifest, _other_key])
def test_a_damaged_entry_is_deleted_and_replaced(
    cli: CliRunner, log: Path, store: Path, reads: list[list[str]], damage: Callable[[Path], None]
) -> None:
    first = _scan(cli, log, store)
    [entry] = _entries(store)
    damage(entry)
    second = _scan(cli, log, store)
    assert len(reads) == 2 and second.stdout == first.stdout
    [line] = second.stderr.splitlines()
    assert f"cache entry {entry} was unusable" in line and "reading the logs again" in line
    third = _scan(cli, log, store)  # replaced by a good entry
    assert len(reads) == 2 and REUSED in third.stderr and third.stdout == first.stdout


def test_an_unusable_cache_directory_only_warns(cli: CliRunner, log: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    where = tmp_path / "a-file" / "cache"  # cannot be created, even by root
    result = _scan(cli, log, where)
    plain = _scan(cli, log, where, "--no-cache")
    assert result.stdout == plain.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith(f"loganalyzer: cannot use the parse cache {where}") and "reading without it" in line


def test_a_failed_write_leaves_nothing_behind(log: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: Tables, directory: Path, **kw: Any) -> list[Path]:
        (Path(directory) / "events.parquet").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Tables, "write", full)
    result = scan(str(log), Settings(timezone="UTC", year=2024, dns=False, cache_dir=str(store)), cache=True)
    assert result.summary.lines == 60
    [message] = result.messages
    assert "could not write the parse cache" in message and "No space left" in message
    assert [p.name for p in store.iterdir()] == ["CACHEDIR.TAG"]


# -- the directory ----------------------------------------------------------------


def _stored(root: Path, log: Path, max_bytes: int = 1 << 30) -> tuple[ParseCache, Key]:
    settings = Settings(timezone="UTC", year=2024)
    items = expand([str(log)])
    key = Key.of(items, settings)
    assert key is not None
    root.mkdir(exist_ok=True)
    where = ParseCache(root, max_bytes)
    where.store(key, read_inputs(items, settings))
    return where, key


def _copies(tmp_path: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        path = tmp_path / f"copy-{i}.log"
        shutil.copy(SCENARIOS / "rapid-retry.log", path)
        out.append(path)
    return out


def test_eviction_keeps_the_budget_and_the_recently_used(tmp_path: Path, store: Path) -> None:
    a, b, c = _copies(tmp_path, 3)
    first, key_a = _stored(store, a)
    [entry_a] = _entries(store)
    size = json.loads((entry_a / cache.MANIFEST).read_text())["bytes"]
    budget = int(size * 2.5)  # room for two entries
    _, key_b = _stored(store, b, budget)
    os.utime(store / key_a.name / cache.MANIFEST, (1000, 1000))
    os.utime(store / key_b.name / cache.MANIFEST, (2000, 2000))
    assert first.load(key_a) is not None  # a is used again: b is now the least recently used
    last, key_c = _stored(store, c, budget)
    assert {p.name for p in _entries(store)} == {key_a.name, key_c.name}
    assert sum(size for _, size, _ in last.entries()) <= budget
    assert last.messages == []


def test_an_entry_larger_than_the_budget_is_not_kept(tmp_path: Path, store: Path) -> None:
    [a] = _copies(tmp_path, 1)
    where, _ = _stored(store, a, max_bytes=1000)
    assert _entries(store) == []
    [message] = where.messages
    assert "exceed the parse cache budget" in message and "cache_max_mb" in message


def test_only_abandoned_work_and_own_entries_are_removed(tmp_path: Path, store: Path) -> None:
    [a] = _copies(tmp_path, 1)
    store.mkdir()
    (store / "README").write_text("the admin's note")
    (store / "photos").mkdir()
    old, new = store / ".tmp-0123-died", store / ".tmp-4567-running"
    old.mkdir()
    new.mkdir()
    os.utime(old, (1000, 1000))
    _stored(store, a)
    assert not old.exists() and new.exists()  # a concurrent scan may still be writing into new
    assert (store / "README").exists() and (store / "photos").is_dir()


def test_two_scans_storing_the_same_entry(tmp_path: Path, store: Path) -> None:
    [a] = _copies(tmp_path, 1)
    first, key = _stored(store, a)
    second, _ = _stored(store, a)
    assert [p.name for p in _entries(store)] == [key.name]
    assert [p.name for p in store.iterdir() if p.name.startswith(".")] == []
    assert first.messages == second.messages == []
    assert second.load(key) is not None


def test_the_key_names_each_input_as_given_and_resolved(tmp_path: Path, log: Path) -> None:
    state = file_state(str(log))
    assert state.resolved == str(log.resolve()) and state.size == log.stat().st_size
    link = tmp_path / "link.log"
    link.symlink_to(log)
    settings = Settings(timezone="UTC")
    by_log, by_link = Key.of([Input(str(log))], settings), Key.of([Input(str(link))], settings)
    assert by_log is not None and by_link is not None
    assert by_log.name != by_link.name  # the tables name their source as the user did
    assert by_log.inputs[0].fingerprint == by_link.inputs[0].fingerprint


# -- where ------------------------------------------------------------------------


def test_the_default_directory_follows_xdg(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings().cache_dir == str(private_cache / "loganalyzer")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the spec says: ignore it
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == str(tmp_path / ".cache" / "loganalyzer")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == str(tmp_path / ".cache" / "loganalyzer")


def test_cli_scans_cache_under_xdg_cache_home(cli: CliRunner, log: Path, private_cache: Path) -> None:
    result = cli.invoke(app, ["scan", str(log), *COMMON])
    assert result.exit_code == 0
    assert len(_entries(private_cache / "loganalyzer")) == 1
    assert (private_cache / "loganalyzer" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")


def test_cache_settings_come_from_the_config_file(cli: CliRunner, log: Path, tmp_path: Path) -> None:
    where = tmp_path / "from-config"
    config = tmp_path / "loganalyzer.toml"
    config.write_text(f'cache-dir = "{where}"\ncache-max-mb = 1\n')
    result = cli.invoke(app, ["scan", str(log), "--config", str(config), *COMMON])
    assert result.exit_code == 0 and len(_entries(where)) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("cache-max-mb = 0\n")
    result = cli.invoke(app, ["scan", str(log), "--config", str(bad), *COMMON])
    assert result.exit_code == 2 and "cache_max_mb must be at least 1" in result.output
