"""The README's commands are the ones CI runs, and every command is documented."""

from __future__ import annotations

import re

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def _quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_quick_start_has_two_commands() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    assert commands[0].startswith("python3 -m venv .venv") and commands[0].endswith("loganalyzer scan")


def test_ci_runs_the_readme_test_command() -> None:
    assert _quick_start()[1] in (ROOT / ".ci" / "run").read_text()


def test_every_command_is_documented() -> None:
    from loganalyzer.cli import app

    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        assert f"loganalyzer {name}" in README, name


_BLOCK = re.compile(r"<!-- output -->\n```text\n\$ (loganalyzer [^\n]+)\n(.*?)```", re.S)


def _run(command: str) -> str:
    import shlex

    from typer.testing import CliRunner

    from loganalyzer.cli import app

    args = shlex.split(command)[1:]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (command, result.output)
    return result.stdout


def test_readme_output_blocks_are_real(update_golden: bool, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    text = README
    blocks = list(_BLOCK.finditer(text))
    assert len(blocks) >= 6
    for match in blocks:
        command, shown = match.group(1), match.group(2)
        output = _run(command)
        if update_golden:
            text = text.replace(match.group(0), f"<!-- output -->\n```text\n$ {command}\n{output}```", 1)
        else:
            assert shown == output, f"README output of `{command}` is stale: run pytest --update-golden"
    if update_golden:
        (ROOT / "README.md").write_text(text)
