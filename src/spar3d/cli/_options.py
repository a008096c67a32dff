"""The conventions every ``spar3d`` command follows (stated for users in docs/conventions.md).

- **Lists** of names (sources, tasks, labels, paper rows) are one option that may be repeated
  and whose values may be comma-separated: ``--tasks a,b --tasks c`` is ``[a, b, c]``
  (:func:`split_names`, :func:`names_option`). Options whose items are paths or ``KEY=VALUE``
  pairs are repeated only: a path or a JSON/YAML value may itself hold a comma.
- **Closed sets** are ``str`` enums (:class:`Split`, :class:`ExecutorName`, ...), so ``--help``
  shows ``<a|b|c>`` and a bad value is click's usage error (exit 2). Open sets (registries that
  plugins extend) name their built-in values in the help and fail with a ``RegistryError``.
- **Booleans** are ``--x/--no-x`` flags. ``--rgbd true`` is refused with a usage error naming the
  flag (:func:`check_flag_values`) instead of reading ``true`` as a positional argument; flags show
  no ``<bool>`` type in the help (:func:`polish`).
- **Progress**: long commands take ``--progress/--no-progress`` and ``-q/--quiet``
  (:data:`ProgressFlag`, :data:`QuietFlag`) and show :mod:`spar3d.progress`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from enum import Enum
from typing import Annotated, Any

import typer

try:  # typer >= 0.20 vendors click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer depends on click itself
    from click.exceptions import UsageError  # type: ignore[assignment]

#: Words a user may write after a flag meaning a value (``--rgbd true``).
BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})


def split_names(values: Iterable[str] | None) -> list[str] | None:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]`` (blanks dropped); None or nothing -> None."""
    out = [s.strip() for v in values or () for s in str(v).split(",") if s.strip()]
    return out or None


def _split_callback(value: list[str] | None) -> list[str] | None:
    return split_names(value)


def names_option(*decls: str, help: str, default: Any = ..., **kwargs: Any) -> Any:
    """A list-of-names option: repeatable, each value may be comma-separated (module docstring).

    Inside ``Annotated[...]`` give no ``default``; as a parameter's default give ``default=None``.
    """
    args = decls if default is ... else (default, *decls)
    return typer.Option(
        *args, callback=_split_callback, help=f"{help} Repeatable or comma-separated.", **kwargs
    )


def renamed_alias(old: str, new: str) -> Any:
    """A hidden list option kept under an option's old name; see :func:`merge_renamed`."""
    return typer.Option(
        None, old, callback=_split_callback, hidden=True, help=f"Old name of {new}."
    )


def merge_renamed(
    values: list[str] | None, old_values: list[str] | None, old: str, new: str
) -> list[str] | None:
    """``values`` plus those given under the old name, with a deprecation note on stderr."""
    if not old_values:
        return values
    typer.echo(f"note: {old} is now {new}; the old name will go", err=True)
    return [*(values or []), *old_values]


def open_choice(default: Any, *decls: str, builtin: tuple[str, ...], group: str, help: str,
                **kwargs: Any) -> Any:  # fmt: skip
    """An option whose values come from a registry plugins extend: the help shows the built-in
    values as ``<a|b|...>``; the registry refuses an unknown one naming the known ones."""
    return typer.Option(
        default,
        *decls,
        metavar="<" + "|".join(builtin) + "|...>",
        help=f"{help} Plugins add more ({group} entry points).",
        **kwargs,
    )


class Split(str, Enum):
    """The split of a SPAR-7M tree."""

    train = "train"
    val = "val"


class ExecutorName(str, Enum):
    """How the scenes of a pass are run (``spar3d.pipeline.EXECUTORS``)."""

    process = "process"
    serial = "serial"
    ray = "ray"


ProgressFlag = Annotated[
    bool,
    typer.Option(
        "--progress/--no-progress",
        help="Show progress: a bar on a terminal, a plain line every 30 s or 10 % in a log.",
    ),
]
QuietFlag = Annotated[
    bool, typer.Option("--quiet/--no-quiet", "-q", help="No progress output (as --no-progress).")
]


def is_flag(param: Any) -> bool:
    """A boolean on/off option (``--help`` and ``--version`` included)."""
    return bool(getattr(param, "is_flag", False)) and not getattr(param, "count", False)


def hide_flag_types(params: Iterable[Any]) -> list[Any]:
    """Clear the metavar of the flags among ``params`` (newer typer prints ``<bool>`` for them)."""
    params = list(params)
    for param in params:
        if param is not None and is_flag(param) and param.param_type_name == "option":
            param.metavar = ""
    return params


def polish(command: Any) -> Any:
    """:func:`hide_flag_types` on ``command``'s options, its ``--help`` and its subcommands."""
    params = list(getattr(command, "params", ()))
    # the --help option is made on first use and kept; cosmetic only, so never an error
    with contextlib.suppress(Exception):
        params.append(command.get_help_option(typer.Context(command)))
    hide_flag_types(params)
    for sub in getattr(command, "commands", {}).values():
        polish(sub)
    return command


def check_flag_values(command: Any, args: list[str]) -> None:
    """Refuse ``--flag true`` (a value after a flag) before it is read as a positional argument.

    Raises:
        UsageError: naming the flag and its two forms (exit 2).
    """
    while args and args[0] in getattr(command, "commands", {}):  # a group: find the command
        command, args = command.commands[args[0]], args[1:]
    flags = {
        name: param
        for param in getattr(command, "params", ())
        if is_flag(param)
        for name in (*param.opts, *param.secondary_opts)
    }
    for i, arg in enumerate(args[:-1]):
        if arg == "--":
            return
        if arg in flags and args[i + 1].lower() in BOOL_WORDS:
            param = flags[arg]
            forms = " or ".join([*param.opts[:1], *param.secondary_opts[:1]])
            raise UsageError(
                f"{arg} is a flag and takes no value: write {forms}, not '{arg} {args[i + 1]}'"
            )


def folded(table: Any) -> Any:
    """Let every column of a rich table wrap, folding long words, instead of cutting them with
    an ellipsis (a log's console is 80 columns wide)."""
    for column in table.columns:
        column.no_wrap = False
        column.overflow = "fold"
    return table
