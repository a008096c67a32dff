"""One error hierarchy for spar3d, mapped to exit codes in one place (``spar3d.cli.main``).

Every error a user can cause (a bad argument, a malformed or hostile file, a model server that
refuses) is a :class:`Spar3dError` whose message names the file, the line or sample and the
field. The command line prints that message on one line and exits with the class's
``exit_code``; ``--debug`` (or ``SPAR3D_DEBUG=1``) shows the traceback instead.

The classes also derive from the built-in exception a caller would naturally catch
(``ValueError``, ``LookupError``, ``OSError``), so library users keep working with plain Python.
"""

from __future__ import annotations


class Spar3dError(Exception):
    """Base class of every error spar3d raises on purpose."""

    exit_code = 1


class ConfigError(Spar3dError, ValueError):
    """A bad command-line argument, option value, recipe or parameter (names the option)."""

    exit_code = 2


class MissingDependencyError(Spar3dError, ImportError):
    """An optional extra is needed for what was asked (the message names the pip command)."""

    exit_code = 2


class InputError(Spar3dError, ValueError):
    """A malformed input file or sample; the message names the file, line or sample and field."""

    exit_code = 3


class UnsafeInputError(InputError):
    """An input that tries to run code, exhaust memory or reach outside the folders named."""

    exit_code = 4


class BackendError(Spar3dError, RuntimeError):
    """A model backend or server failed (connection, authentication, refused request)."""

    exit_code = 5


class ResourceBusyError(Spar3dError, RuntimeError):
    """Another spar3d process holds the lock of the output folder."""

    exit_code = 6


def describe_os_error(exc: OSError) -> str:
    """One line for an ``OSError`` that names the file (``exc.args[0]`` alone prints '2')."""
    what = exc.strerror or type(exc).__name__
    if exc.filename is not None and exc.filename2 is not None:
        return f"{exc.filename} -> {exc.filename2}: {what}"
    if exc.filename is not None:
        return f"{exc.filename}: {what}"
    return str(exc) or what


def check_number(
    name: str,
    value: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """``value`` if it is a finite number within the bounds, else :class:`ConfigError`.

    ``name`` is how the user set it (``"--render-width"``, ``"IndexParams.render_width"``).
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ConfigError(f"{name}: must be a finite number, got {value!r}")
    if minimum is not None and (v <= minimum if exclusive_minimum else v < minimum):
        bound = f"> {minimum:g}" if exclusive_minimum else f">= {minimum:g}"
        raise ConfigError(f"{name}: must be {bound}, got {value!r}")
    if maximum is not None and v > maximum:
        raise ConfigError(f"{name}: must be <= {maximum:g}, got {value!r}")
    return v


def check_choice(name: str, value: str, choices: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``choices``, else :class:`ConfigError` listing them."""
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value
