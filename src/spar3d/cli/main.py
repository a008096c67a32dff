"""Entry point of the ``spar3d`` command: discovers command modules in ``spar3d.cli``."""

from __future__ import annotations

import importlib
import pkgutil

import typer

import spar3d
import spar3d.cli as cli_pkg

app = typer.Typer(
    name="spar3d",
    help="Spatial QA data (SPAR-7M style) and SPAR-Bench evaluation from 3D indoor scenes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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
) -> None:
    """spar3d command line."""


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda i: i.name):
        if info.name in {"main"} or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"spar3d.cli.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
