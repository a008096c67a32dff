"""Entry point of the ``spar3d`` command: discovers command modules in ``spar3d.cli``."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

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
    debug: bool = typer.Option(
        False, "--debug", help="Show Python tracebacks instead of one-line errors."
    ),
) -> None:
    """spar3d command line."""
    if debug:
        os.environ["SPAR3D_DEBUG"] = "1"


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda i: i.name):
        if info.name in {"main"} or info.name.startswith("_"):
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
