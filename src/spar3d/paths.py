"""Paths that come from files are untrusted: the one place that checks them.

Two rules, used wherever a path is built from something read out of a file (an index's
``scene_id`` / ``source`` / ``frame_id``, a sample's ``image`` list, a mix's ``data_root``):

- :func:`check_component`: a name that becomes ONE path component (a folder or file name) is
  non-empty, not ``.`` or ``..``, and holds no separator or NUL byte.
- :func:`resolve_under`: a relative path read from a file resolves under the root the user named;
  absolute paths and ``..`` that climb out are refused, unless the caller passes
  ``allow_outside=True`` (the CLI's explicit ``--allow-outside-root``).

The check is lexical (``os.path.normpath``): symbolic links inside the root are the user's own
doing and are followed as usual; what a hostile file can write — text — cannot escape.
"""

from __future__ import annotations

import os
from pathlib import Path

from spar3d.errors import UnsafeInputError

_SEPARATORS = ("/", "\\", "\x00")


def check_component(value: object, what: str, where: str) -> str:
    """``value`` as a single, safe path component, or :class:`UnsafeInputError`.

    Args:
        value: The name read from a file.
        what: The field it came from (``"scene_id"``), for the message.
        where: The file or sample it came from, for the message.
    """
    name = str(value)
    if (
        not name
        or name in (".", "..")
        or any(sep in name for sep in _SEPARATORS)
        or name != name.strip()
    ):
        raise UnsafeInputError(
            f"{where}: field {what!r} = {name!r} is not a plain file or folder name "
            "(no '/', '\\', '..', NUL or surrounding spaces)"
        )
    return name


def resolve_under(
    root: str | os.PathLike[str], rel: str | os.PathLike[str], where: str, *,
    allow_outside: bool = False, absolute_inside: bool = False,
) -> Path:
    """``root / rel``, refused when ``rel`` is absolute or climbs out of ``root``.

    Args:
        root: The folder the user named (a dataset's images root, a bench folder).
        rel: The path read from a file.
        where: The file or sample ``rel`` came from, for the message.
        allow_outside: Accept any path (``--allow-outside-root``).
        absolute_inside: Accept an absolute ``rel`` that lies inside ``root`` (for files whose
            format stores absolute paths, such as a data_json; ``root`` must then be absolute).

    Raises:
        UnsafeInputError: ``rel`` escapes ``root``; the message names ``where``, the path and how
            to allow it.
    """
    text = os.fspath(rel)
    if "\x00" in text:
        raise UnsafeInputError(f"{where}: path {text!r} holds a NUL byte")
    joined = os.path.normpath(os.path.join(os.fspath(root), text))
    if allow_outside:
        return Path(joined)
    base = os.path.normpath(os.fspath(root))
    inside = joined == base or joined.startswith(base.rstrip(os.sep) + os.sep)
    if (os.path.isabs(text) and not absolute_inside) or not inside:
        raise UnsafeInputError(
            f"{where}: path {text!r} leaves the folder {base} "
            "(pass --allow-outside-root if this is intended)"
        )
    return Path(joined)
