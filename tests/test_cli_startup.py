"""The ``spar3d`` command starts without importing what its commands need.

Times are measured by ``benchmarks/bench_startup.py``; these tests check the mechanism: the lazy
table lists exactly what the modules register (same help), and listing or a light command does
not import the heavy libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from spar3d.cli._options import hide_flag_types
from spar3d.cli.main import LAZY_COMMANDS, app, load_group

HEAVY = ("numpy", "scipy", "trimesh", "PIL", "pyarrow", "spar3d.scenes.synthetic", "embreex")


class _EagerGroup(TyperGroup):
    """A plain group showing its flags as the root group does (no ``<bool>`` type)."""

    def get_params(self, ctx: typer.Context) -> list:
        return hide_flag_types(super().get_params(ctx))


def _eager_app() -> typer.Typer:
    """The root app built the old way: every module imported and registered at once."""
    eager = typer.Typer(
        name="spar3d",
        help=app.info.help,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        cls=_EagerGroup,
    )
    eager.callback()(app.registered_callback.callback)  # type: ignore[union-attr]
    import importlib
    import pkgutil

    import spar3d.cli as cli_pkg

    lazy = list(dict.fromkeys(m for m, _ in LAZY_COMMANDS.values()))
    others = sorted(i.name for i in pkgutil.iter_modules(cli_pkg.__path__)
                    if i.name not in lazy and i.name != "main" and not i.name.startswith("_"))  # fmt: skip
    for module in [*lazy, *others]:  # the lazy group lists its table first, then the others
        register = getattr(importlib.import_module(f"spar3d.cli.{module}"), "register", None)
        if callable(register):
            register(eager)
    return eager


def test_each_module_registers_exactly_its_lazy_commands() -> None:
    by_module: dict[str, list[str]] = {}
    for name, (module, _) in LAZY_COMMANDS.items():
        by_module.setdefault(module, []).append(name)
    for module, names in by_module.items():
        assert sorted(load_group(module)) == sorted(names), module


def test_lazy_help_is_the_eager_help() -> None:
    runner = CliRunner()
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    lazy = runner.invoke(app, ["--help"], env=env)
    eager = runner.invoke(_eager_app(), ["--help"], env=env)
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output, (
        "spar3d --help differs from the commands' own help: update the one-line help (first "
        "docstring paragraph) of the changed command in spar3d.cli.main.LAZY_COMMANDS"
    )


@pytest.mark.parametrize("argv", [["--help"], ["tasks", "--help"], ["bench", "build", "--help"]])
def test_commands_resolve_and_show_their_own_help(argv: list[str]) -> None:
    out = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "Usage:" in out.output


def test_unknown_command_suggests_a_lazy_one() -> None:
    out = CliRunner().invoke(app, ["scor"])
    assert out.exit_code == 2
    assert "Did you mean 'score'" in out.output


def _imported_after(argv: list[str]) -> dict[str, bool]:
    code = (
        "import json, sys\n"
        "from spar3d.cli.main import run\n"
        f"rc = run({argv!r})\n"
        f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY)!r}}}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_help_imports_nothing_heavy() -> None:
    assert not any(_imported_after(["--help"]).values())


def test_tasks_does_not_import_geometry_or_the_synthetic_world() -> None:
    loaded = _imported_after(["tasks", "--markdown"])
    assert not any(loaded[m] for m in ("scipy", "trimesh", "spar3d.scenes.synthetic", "embreex"))


def test_deprecated_index_data_still_runs_data_json(tmp_path) -> None:
    from spar3d.data.toy import make_toy_tree

    make_toy_tree(tmp_path / "spar")
    res = CliRunner().invoke(
        app, ["index-data", str(tmp_path / "spar"), "--out", str(tmp_path / "dj")]
    )
    assert res.exit_code == 0, res.output
    assert "is now `spar3d data-json`" in res.output
    assert sorted(p.name for p in (tmp_path / "dj").iterdir()) == [
        ".spar3d.lock",  # data-json holds its output folder's lock (spar3d.io.locks_output)
        "scannet_0k.json",
        "structured3d_0k.json",
    ]
