"""Entry point of the ``spar3d`` command: command groups are loaded on first use.

Every module ``spar3d.cli.<group>`` has a ``register(app)`` function. The commands of the modules
named in :data:`LAZY_COMMANDS` are listed in ``spar3d --help`` from that table and imported only
when one of them runs (or shows its own help), so ``spar3d --help`` and a light command never
import numpy, trimesh, scipy or the synthetic world. Any other module in the package is
discovered and registered at start-up, as before. ``tests/test_cli_startup.py`` checks that each
module registers exactly the commands the table gives it, with the same one-line help.
"""

from __future__ import annotations

import difflib
import importlib
import os
import pkgutil
import sys
from typing import Any

import typer
from typer.core import TyperGroup

import spar3d
import spar3d.cli as cli_pkg
from spar3d.cli._options import UsageError, check_flag_values, hide_flag_types, polish

#: Command -> (module in ``spar3d.cli``, one-line help), in the order ``--help`` lists them.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "data-json": ("data", "Build InternVL-style training data_json files, one per source."),
    "mix": ("data", "Mix data_jsons with per-source and per-format ratios (repeat_time multiplied)."),
    "export": ("data", "Export samples for a trainer: LLaVA JSON, ShareGPT (LLaMA-Factory), InternVL\n(meta JSON + JSONL) or a Hugging Face dataset (Parquet shards + card)."),
    "show": ("data", "Write a static HTML gallery (paged, lazy thumbnails, filters in the URL): images with\nmarkers, question, answer, provenance; benchmarks and runs too."),
    "stats": ("data", "Counts per source/task/format and answer distributions."),
    "demo": ("demo", "synth -> index -> generate -> data_jsons -> benchmark -> baselines -> scores -> gallery."),
    "eval": ("eval", "Run a model over SPAR-Bench, cache its answers, and score them in compat and strict modes."),
    "index": ("index", "Build the scene index (keyframes, image and object records) next to each scene."),
    "score": ("score", "Score saved predictions (SPAR-Bench metrics) without calling a model."),
    "compare": ("score", "Put several runs (and paper rows) side by side."),
    "synth": ("synth", "Make procedural indoor scenes (mesh, annotations, RGB-D frames, poses) in a dataset layout."),
    "tasks": ("tasks", "List the registered tasks: views, relation, formats, bench level and metric."),
    "generate": ("tasks", "Generate QA samples for scenes and write <out>/<source>/{qa_jsonl,images}/..."),
    "review": ("review", "Serve the review app: filters, images with markers, keyboard decisions written as made."),
    "review-agree": ("review", "Agreement of two reviewers (Cohen's kappa) on the items both accepted or rejected."),
    "review-export": ("review", "Write the accepted items as a new benchmark (Parquet + provenance)."),
    "verify": ("verify", "Flag samples whose markers, visibility, answers or wording do not check out against the\ndepth images and 3D boxes (see docs/verify.md); writes flags.jsonl and summary.json."),
    "train": ("train", "Fine-tune a VLM on a SPAR-mix (SPAR data + a general dataset) and evaluate it."),
    "bench": ("bench", "Build SPAR-Bench-style benchmarks."),
    "ground": ("ground", "3D grounding through frame selection (SPAR section 3.5)."),
    "probe": ("probe", "The BEV cognitive-map probe (SPAR section 4.4): build it, score answers."),
}  # fmt: skip


def load_group(module_name: str) -> dict[str, Any]:
    """The click commands that ``spar3d.cli.<module_name>.register`` adds, by name."""
    module = importlib.import_module(f"spar3d.cli.{module_name}")
    sub = typer.Typer()
    module.register(sub)
    return {n: polish(c) for n, c in typer.main.get_group(sub).commands.items()}


#: Old command names that still work, with a deprecation note: old name -> new name.
DEPRECATED_ALIASES: dict[str, str] = {"index-data": "data-json"}


class LazyGroup(TyperGroup):
    """The root group: lists :data:`LAZY_COMMANDS` as placeholders, imports a module on use."""

    def get_params(self, ctx: Any) -> list[Any]:
        return hide_flag_types(super().get_params(ctx))

    def list_commands(self, ctx: Any) -> list[str]:
        eager = [n for n in self.commands if n not in LAZY_COMMANDS]
        return [*LAZY_COMMANDS, *eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return self.commands.get(cmd_name)
        # Listing (help, completion): a placeholder carrying the one-line help.
        return typer.core.TyperCommand(cmd_name, help=LAZY_COMMANDS[cmd_name][1])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else None
        if name in DEPRECATED_ALIASES:
            new = DEPRECATED_ALIASES[name]
            typer.echo(
                f"note: `spar3d {name}` is now `spar3d {new}`; the old name will go", err=True
            )
            args = [new, *args[1:]]
            name = new
        if name in LAZY_COMMANDS and name not in self.commands:
            self.commands.update(load_group(LAZY_COMMANDS[name][0]))
        try:
            resolved = super().resolve_command(ctx, args)
        except UsageError as exc:  # suggest among the commands not loaded yet, too
            matches = difflib.get_close_matches(str(name), self.list_commands(ctx))
            if matches and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {matches[0]!r}?"
            raise
        check_flag_values(resolved[1], list(resolved[2]))  # `--rgbd true`: a usage error
        return resolved


app = typer.Typer(
    name="spar3d",
    help="Spatial QA data (SPAR-7M style) and SPAR-Bench evaluation from 3D indoor scenes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"spar3d {spar3d.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
    debug: bool = typer.Option(
        False, "--debug/--no-debug", help="Show Python tracebacks instead of one-line errors."
    ),
) -> None:
    """spar3d command line."""
    if debug:
        os.environ["SPAR3D_DEBUG"] = "1"


def _register_all() -> None:
    lazy = {module for module, _ in LAZY_COMMANDS.values()}
    for info in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda i: i.name):
        if info.name in {"main"} or info.name in lazy or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"spar3d.cli.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_all()


def _debugging() -> bool:
    return os.environ.get("SPAR3D_DEBUG", "").strip() not in ("", "0", "false", "no")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and map every error to one line and an exit code (the one place that does).

    ``Spar3dError`` subclasses carry their own exit code; ``OSError`` (a missing or unreadable
    file) exits 3 naming the file; anything else is an internal error (exit 70) whose one-line
    message says how to see the traceback. ``--debug`` / ``SPAR3D_DEBUG=1`` re-raises instead.
    """
    from spar3d.errors import Spar3dError, describe_os_error

    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Spar3dError as exc:
        if _debugging():
            raise
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:
        if _debugging():
            raise
        typer.echo(f"error: {describe_os_error(exc)}", err=True)
        return 3
    except Exception as exc:
        if _debugging():
            raise
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc} "
            "(run with --debug or SPAR3D_DEBUG=1 for the traceback; please report it)",
            err=True,
        )
        return 70
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
