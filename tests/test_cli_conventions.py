"""Every command follows the CLI conventions of docs/conventions.md ("Command line").

The test walks the whole command tree (every command of every group, every option) and checks,
at parse level through the commands' own parsers:

- a boolean option is a ``--x/--no-x`` pair and shows no ``<bool>`` type in ``--help``;
- an option with a closed set of values is a choice: a bad value is a usage error (exit 2) that
  names the valid ones; open sets (registries) show their built-in values, which must match the
  registry;
- a list of names takes ``--opt a,b --opt c`` as ``[a, b, c]``; lists of paths or KEY=VALUE pairs
  are repeated only (a path or a value may hold a comma);
- ``--help`` renders for every command.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from spar3d.cli._options import UsageError, merge_renamed, split_names
from spar3d.cli.main import LAZY_COMMANDS, app, load_group, run

#: Options whose value is free text (a name, a URL, a prompt): the only plain ``str`` options.
FREE_TEXT = {
    ("mix", "--name"), ("export", "--name"), ("bench export", "--name"),
    ("eval", "--base-url"), ("eval", "--api-key-env"), ("eval", "--pre-prompt"),
    ("review", "--reviewer"), ("review", "--host"), ("train", "--model"),
}  # fmt: skip
#: Lists of KEY=VALUE pairs: repeated only (a JSON / YAML / path value may hold a comma).
KEY_VALUE = {"--model-arg", "--task-param", "--set", "--loader-opt"}
#: Flags that are actions, not settings: no ``--no-`` form.
ACTIONS = {"--help", "--version"}


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(name: str, cmd: Any) -> Iterator[tuple[str, Any]]:
        subs = getattr(cmd, "commands", None)
        if subs:
            for sub_name, sub in subs.items():
                yield from walk(f"{name} {sub_name}", sub)
        else:
            yield name, cmd

    for module in dict.fromkeys(m for m, _ in LAZY_COMMANDS.values()):
        for name, cmd in load_group(module).items():
            yield from walk(name, cmd)


COMMANDS = dict(_commands())


def _annotation(param: Any) -> tuple[Any, bool]:
    """(value type, is a choice) of a parameter, for typer with or without its own click."""
    td = getattr(param, "type_descriptor", None)
    if td is not None:
        return td.annotation, td.is_choice
    import click  # pragma: no cover - typer < 0.20

    kinds = {"text": str, "integer": int, "float": float, "boolean": bool, "path": Path}
    return kinds.get(param.type.name, object), isinstance(param.type, click.Choice)


def _choices(param: Any) -> list[str]:
    td = getattr(param, "type_descriptor", None)
    raw = td.choices if td is not None else param.type.choices
    return [c.value if isinstance(c, Enum) else str(c) for c in raw]


def _options(cmd: Any) -> list[Any]:
    return [p for p in cmd.params if p.param_type_name == "option"]


def _required_args(cmd: Any, skip: Any = None) -> list[str]:
    """Arguments that satisfy every required parameter of ``cmd`` (except ``skip``)."""
    args: list[str] = []
    for p in cmd.params:
        if not p.required or p is skip:
            continue
        value = _choices(p)[0] if _annotation(p)[1] else "1"
        args += [value] if p.param_type_name == "argument" else [p.opts[0], value]
    return args


def _parse(name: str, args: list[str]) -> dict[str, Any]:
    cmd = COMMANDS[name]
    ctx = cmd.make_context(name, args)
    return dict(ctx.params)


def test_the_walk_sees_every_command():
    assert {"generate", "export", "show", "stats", "mix", "data-json", "bench build",
            "bench export", "eval", "score", "train", "probe build", "ground score",
            "review", "verify", "index", "synth", "demo"} <= set(COMMANDS)  # fmt: skip


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_renders_with_no_bool_type(name: str):
    out = CliRunner().invoke(app, [*name.split(), "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "Usage:" in out.output
    assert "<bool>" not in out.output and "BOOLEAN" not in out.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_bool_option_has_a_no_form(name: str):
    for p in _options(COMMANDS[name]):
        if p.is_flag and not p.count and not set(p.opts) & ACTIONS:
            assert p.secondary_opts and all(o.startswith("--no-") for o in p.secondary_opts), (
                f"spar3d {name} {p.opts[0]}: a flag needs a --no- form ({p.opts[0]}/--no-...)"
            )
        assert _annotation(p)[0] is not bool or p.is_flag, f"spar3d {name} {p.opts}: takes a value"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_closed_sets_are_choices_with_a_clean_error(name: str):
    cmd = COMMANDS[name]
    for p in _options(cmd):
        annotation, is_choice = _annotation(p)
        if isinstance(p.default, Enum) or (isinstance(annotation, type) and issubclass(annotation, Enum)):
            assert is_choice, f"spar3d {name} {p.opts[0]}: an Enum must be a choice"
        if not is_choice:
            if annotation is str and not p.multiple:
                open_set = (p.metavar or "").endswith("|...>")
                assert open_set or (name, p.opts[0]) in FREE_TEXT, (
                    f"spar3d {name} {p.opts[0]}: a plain str option; make it a choice (closed "
                    "set), an open_choice (registry) or list it in FREE_TEXT"
                )
            continue
        with pytest.raises(UsageError) as err:
            _parse(name, [*_required_args(cmd, skip=p), p.opts[0], "not-a-choice"])
        assert err.value.exit_code == 2
        message = err.value.format_message()
        assert "not-a-choice" in message and _choices(p)[0].lower() in message.lower(), message


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_lists_take_commas_and_repeats(name: str):
    cmd = COMMANDS[name]
    for p in _options(cmd):
        if not p.multiple:
            continue
        opt = p.opts[0]
        got = _parse(name, [*_required_args(cmd), opt, "a,b", opt, "c"])[p.name]
        if opt in KEY_VALUE:
            assert got == ["a,b", "c"], (name, opt, got)
        elif _annotation(p)[0] == list[Path] or got and isinstance(got[0], Path):
            assert [str(x) for x in got] == ["a,b", "c"], (name, opt, got)
        else:
            assert got == ["a", "b", "c"], f"spar3d {name} {opt}: {got} (use names_option)"


def test_flags_parse_both_forms_and_refuse_a_value():
    assert _parse("generate", ["s", "--out", "o", "--rgbd"])["rgbd"] is True
    assert _parse("generate", ["s", "--out", "o", "--no-meta"])["meta"] is False
    out = CliRunner().invoke(app, ["generate", "scene", "--out", "o", "--rgbd", "true"])
    assert out.exit_code == 2
    assert "--rgbd is a flag and takes no value: write --rgbd or --no-rgbd" in out.output
    out = CliRunner().invoke(app, ["bench", "build", "root", "--out", "o", "--tiny", "no"])
    assert out.exit_code == 2 and "--tiny or --no-tiny" in out.output


def test_renamed_list_options_still_work(capsys: pytest.CaptureFixture[str]):
    params = _parse("bench build", ["root", "--out", "o", "--source", "a,b", "--sources", "c"])
    assert params["sources"] == ["c"] and params["old_source"] == ["a", "b"]
    assert merge_renamed(["c"], ["a", "b"], "--source", "--sources") == ["c", "a", "b"]
    assert "--source is now --sources" in capsys.readouterr().err
    assert merge_renamed(["c"], None, "--source", "--sources") == ["c"]
    assert split_names([" a, ,b", "c"]) == ["a", "b", "c"] and split_names([]) is None


def test_open_sets_show_the_registries_builtin_names():
    """The values an open option shows are the registry's (no plugins are installed here)."""
    import spar3d.bench.eval  # noqa: F401 - registers the backends
    from spar3d.bench.eval.backends.base import BACKENDS
    from spar3d.bench.scoring.adapters import ADAPTERS
    from spar3d.bench.scoring.score import available_modes
    from spar3d.cli import data, eval, index, score
    from spar3d.geometry.raycast import RAYCASTERS
    from spar3d.scenes.loaders import LOADERS
    from spar3d.writers.registry import WRITERS

    assert set(eval.BUILTIN_BACKENDS) == set(BACKENDS.names())
    assert set(data.BUILTIN_FORMATS) == set(WRITERS.names())
    assert set(index.BUILTIN_LOADERS) == set(LOADERS.names())
    assert set(index.BUILTIN_RAYCASTERS) == set(RAYCASTERS.names())
    assert set(score.BUILTIN_FORMATS) == {"auto", *ADAPTERS.names()}
    assert set(score.BUILTIN_MODES) == set(available_modes())


def test_closed_sets_match_the_library():
    from spar3d.cli._options import ExecutorName
    from spar3d.cli.synth import Layout
    from spar3d.pipeline import EXECUTORS
    from spar3d.scenes.synthetic.synthesize import LAYOUTS
    from spar3d.writers.internvl import PLACEHOLDER_STYLES

    assert {e.value for e in ExecutorName} == set(EXECUTORS)
    assert [e.value for e in Layout] == list(LAYOUTS)
    assert _choices(next(p for p in COMMANDS["export"].params if p.name == "placeholders")) == list(
        PLACEHOLDER_STYLES
    )


def test_an_unknown_open_value_is_a_named_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = run(["export", str(tmp_path), "--out", str(tmp_path / "o"), "--format", "nope"])
    assert code == 2
    assert "error: unknown export format 'nope'; known: hf, internvl" in capsys.readouterr().err


def _documented_uses() -> Iterator[tuple[str, str, str]]:
    """(page, command, option) for every ``spar3d <command> ... --option`` the docs show."""
    import re

    root = Path(__file__).parents[1]
    pages = [*sorted((root / "docs" / "cli").glob("*.md")), root / "README.md"]
    for page in pages:
        text = re.sub(r"\\\n\s*", " ", page.read_text(encoding="utf-8"))  # join continued lines
        for m in re.finditer(r"spar3d ([a-z-]+)((?: [a-z-]+)?)([^`\n|#]*)", text):
            group = f"{m.group(1)}{m.group(2)}"
            name = group if group in COMMANDS else m.group(1)
            if name not in COMMANDS:
                continue
            rest = m.group(3) if name == group else m.group(2) + m.group(3)
            for opt in re.findall(r"(?<![\w-])(--[a-z][a-z0-9_-]*)", rest):
                if "_" not in opt:  # another tool's flag quoted in a comment (--log_samples)
                    yield page.name, name, opt


def test_docs_use_the_commands_current_options():
    """docs/cli/*.md and the README name only options the command has, under current names."""
    uses = list(_documented_uses())
    assert len(uses) > 100  # the pages are read
    for page, name, opt in uses:
        params = {o: p for p in COMMANDS[name].params for o in (*p.opts, *p.secondary_opts)}
        assert opt in params or opt == "--help", f"{page}: spar3d {name} has no {opt}"
        if opt in params:
            assert not params[opt].hidden, f"{page}: spar3d {name} {opt} is an old name"
