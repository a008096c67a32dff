"""Mix per-source training data_json files with per-source and per-format ratios (docs/formats.md §3).

A mix multiplies each entry's ``repeat_time`` by its source's ratio and its format's ratio
and adds ``length_with_repeat = int(length * repeat_time)``. Repeat times are written the way
InternVL's loader requires: an ``int`` above 1, a fraction below; a non-integer repeat above 1
becomes two entries (:func:`internvl_repeats`). Every entry has ``data_augment``. The loader semantics (InternVL's)
are: ``repeat_time < 1`` takes the first ``length_with_repeat`` lines, ``> 1`` repeats the
file; both are "line ``i % length`` for ``i`` in ``range(length_with_repeat)``".

Naming rule (the README's ``1rxr_1scannet_1scannetpp_1structured3d_7m.json``): one
``<ratio><source>`` token per mixed source, sources sorted, ratio printed with ``%g``
(1.0 -> ``1``, 0.5 -> ``0.5``), then the total ``length_with_repeat`` as ``<total // 10**6>m``,
or ``<total // 1000>k`` below a million. Format ratios do not appear in the name (as in SPAR).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from spar3d.data.layout import line_offsets
from spar3d.errors import ConfigError, InputError
from spar3d.io import FileSet, atomic_open, file_set, output_lock, remove_temps_of, write_json
from spar3d.paths import resolve_under

_INDEX_STEM_RE = re.compile(r"^(?P<source>.+)_\d+k$")
_REQUIRED = ("root", "annotation", "length")
_WRITE_BATCH = 1 << 16


@dataclass
class MixSpec:
    """Ratios keyed by source (``scannet`` or the index stem ``scannet_7799k``) and by format.

    A source or format left out keeps ratio 1; ratio 0 drops its entries.
    """

    source_ratios: dict[str, float] = field(default_factory=dict)
    format_ratios: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: str | Path) -> MixSpec:
        """Read ``source_ratios``/``format_ratios`` (or SPAR's ``mix_ratios``/``qa_type_ratios``)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: malformed YAML ({' '.join(str(exc).split())})") from None
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a mapping with source_ratios/format_ratios")
        known = {"source_ratios", "format_ratios", "mix_ratios", "qa_type_ratios"}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"{path}: unknown keys {sorted(unknown)}; expected {sorted(known)}")
        src = data.get("source_ratios", data.get("mix_ratios")) or {}
        fmt = data.get("format_ratios", data.get("qa_type_ratios")) or {}
        return cls(_ratios(src, f"{path}: source_ratios"), _ratios(fmt, f"{path}: format_ratios"))

    def merged(self, other: MixSpec) -> MixSpec:
        """This spec with ``other``'s ratios taking precedence."""
        return MixSpec(
            {**self.source_ratios, **other.source_ratios},
            {**self.format_ratios, **other.format_ratios},
        )


def _ratios(raw: Mapping[str, Any], where: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in raw.items():
        try:
            r = float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: ratio for {k!r} is not a number: {v!r}") from None
        if not math.isfinite(r) or r < 0:
            raise ConfigError(f"{where}: ratio for {k!r} must be a finite number >= 0, got {v!r}")
        out[str(k)] = r
    return out


def parse_ratio_flags(flags: Iterable[str], what: str) -> dict[str, float]:
    """Parse ``name=ratio`` command-line flags."""
    raw: dict[str, str] = {}
    for flag in flags:
        name, sep, value = flag.partition("=")
        if not sep or not name:
            raise ConfigError(f"--{what}-ratio expects NAME=RATIO, got {flag!r}")
        raw[name] = value
    return _ratios(raw, f"--{what}-ratio")


def source_of_index(path: str | Path) -> str:
    """``scannet`` from ``data_jsons/scannet_7799k.json``."""
    stem = Path(path).stem
    m = _INDEX_STEM_RE.match(stem)
    return m["source"] if m else stem


def load_index(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a data_json and check every entry has root, annotation and length."""
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: malformed data_json ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a data_json is a JSON object keyed by dataset name")
    for key, entry in data.items():
        missing = [f for f in _REQUIRED if not isinstance(entry, dict) or f not in entry]
        if missing:
            raise InputError(f"{path}: entry {key!r} lacks {missing}")
    return data


def mix_name(source_ratios: Mapping[str, float], total: int) -> str:
    """``1rxr_1scannet_7m.json`` (see the module docstring for the rule)."""
    tokens = [f"{source_ratios[s]:g}{s}" for s in sorted(source_ratios)]
    size = f"{total // 1_000_000}m" if total >= 1_000_000 else f"{total // 1000}k"
    return "_".join([*tokens, size]) + ".json"


@dataclass
class MixResult:
    """A mixed data_json, its SPAR-style file name and the ratio each source got."""

    data: dict[str, dict[str, Any]]
    name: str
    source_ratios: dict[str, float]

    @property
    def total(self) -> int:
        return sum(e["length_with_repeat"] for e in self.data.values())


def mix_indexes(index_paths: Iterable[str | Path], spec: MixSpec) -> MixResult:
    """Combine per-source data_jsons, scaling ``repeat_time`` by source and format ratios.

    Raises:
        ConfigError, InputError: a ratio names a source or format none of the indexes has, or two
            indexes share a key.
    """
    data: dict[str, dict[str, Any]] = {}
    used_src: dict[str, float] = {}
    seen_src_keys: set[str] = set()
    seen_formats: set[str] = set()
    for path in index_paths:
        source = source_of_index(path)
        stem = Path(path).stem
        seen_src_keys.update({source, stem})
        s_ratio = spec.source_ratios.get(stem, spec.source_ratios.get(source, 1.0))
        if s_ratio == 0:
            continue
        used_src[source] = s_ratio
        for key, entry in load_index(path).items():
            fmt = data_key_format(key)
            seen_formats.add(fmt)
            repeat = float(entry.get("repeat_time", 1)) * s_ratio * spec.format_ratios.get(fmt, 1.0)
            if repeat == 0:
                continue
            if key in data:
                raise InputError(f"{path}: key {key!r} already comes from another index")
            for part_key, part_repeat in internvl_repeats(key, repeat):
                out = dict(entry)
                out.setdefault("data_augment", False)
                out["repeat_time"] = part_repeat
                out["length_with_repeat"] = int(entry["length"] * part_repeat)
                data[part_key] = out
    _check_named(spec.source_ratios, seen_src_keys, "source")
    _check_named(spec.format_ratios, seen_formats, "format")
    total = sum(e["length_with_repeat"] for e in data.values())
    return MixResult(data, mix_name(used_src, total), used_src)


REST_SUFFIX = "#rest"


def internvl_repeats(key: str, repeat: float) -> list[tuple[str, int | float]]:
    """Split a repeat into entries InternVL's loader accepts: ``[(key, repeat_time), ...]``.

    Upstream ``LazySupervisedDataset`` takes the first ``int(len * r)`` lines for ``r < 1`` and
    asserts ``isinstance(r, int)`` for ``r > 1``. So 3.0 -> ``[(key, 3)]``, 0.25 ->
    ``[(key, 0.25)]``, and 2.5 -> ``[(key, 2), (key + "#rest", 0.5)]``: the whole file twice
    plus its first half, the same lines in the same count as one entry repeated 2.5 times.
    """
    if repeat <= 1 or float(repeat).is_integer():
        return [(key, int(repeat) if float(repeat).is_integer() else repeat)]
    whole = int(repeat)
    return [(key, whole), (key + REST_SUFFIX, round(repeat - whole, 12))]


def data_key_format(key: str) -> str:
    """Answer format of a data_json key ``<source>_<task>_<format>[#rest]``."""
    return key.split("#", 1)[0].rsplit("_", 1)[-1]


def _check_named(ratios: Mapping[str, float], seen: set[str], what: str) -> None:
    # A typo ("scanet=2") would otherwise silently leave the mix unchanged.
    unknown = sorted(set(ratios) - seen)
    if unknown:
        raise ConfigError(f"{what} ratio for {unknown} matches no index; known: {sorted(seen)}")


def annotation_path(
    entry: Mapping[str, Any], key: str, base_dir: str | Path, *, allow_outside: bool = False
) -> Path:
    """The file an entry's ``annotation`` names, relative paths starting from ``base_dir``.

    A data_json names files by path and may come from elsewhere, so the path (relative or
    absolute) must lie inside ``base_dir``; ``allow_outside`` (``--allow-outside-root``) accepts
    any path.

    Raises:
        UnsafeInputError: The path leaves ``base_dir``.
    """
    where = f"data_json entry {key!r}, field 'annotation' (relative to --base-dir)"
    return resolve_under(os.path.abspath(base_dir), str(entry["annotation"]), where,
                         allow_outside=allow_outside, absolute_inside=True)  # fmt: skip


def entry_lengths(data: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
    """``length_with_repeat`` per entry, ``(n_entries,) int64`` (computed when absent)."""
    return np.array(
        [
            e.get("length_with_repeat", int(e["length"] * float(e.get("repeat_time", 1))))
            for e in data.values()
        ],
        dtype=np.int64,
    )


def locate(
    global_idx: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Map virtual indices of a mix to (entry number, line number) with repeat semantics.

    Args:
        global_idx: ``(N,) int64`` indices into the concatenated ``length_with_repeat`` ranges.
        starts: ``(E,) int64`` first virtual index of each entry.
        lengths: ``(E,) int64`` real line count of each entry's file.
    """
    entry = np.searchsorted(starts, global_idx, side="right") - 1
    line = (global_idx - starts[entry]) % lengths[entry]
    return entry, line


def materialize(
    data: Mapping[str, Mapping[str, Any]],
    out_path: str | Path,
    n: int | None = None,
    seed: int = 0,
    *,
    base_dir: str | Path = ".",
    tag: bool = True,
    allow_outside: bool = False,
    files: FileSet | None = None,
    progress: bool = False,
) -> dict[str, int]:
    """Write a sampled, shuffled JSONL of a mix without holding its lines in memory.

    Only line offsets (8 bytes per line) and the sampled indices live in RAM; each line is
    copied byte-for-byte with ``os.pread`` (no memory map, so resident memory does not grow
    with the size of the files read).

    Args:
        data: A mixed data_json.
        out_path: JSONL to write (atomically).
        n: Number of lines to draw without replacement from the ``sum(length_with_repeat)``
            virtual lines; None takes them all (shuffled).
        seed: Seed of the shuffle.
        base_dir: Directory relative ``annotation`` paths are resolved against.
        tag: Prepend ``"data_key"`` and ``"data_root"`` fields to each line so a consumer can
            resolve image paths of mixed sources.
        allow_outside: Read annotation files outside ``base_dir`` (:func:`annotation_path`).
        files: Stage the JSONL in this :class:`~spar3d.io.FileSet` instead of writing it
            atomically on its own.
        progress: Show the files read, then the lines written (:mod:`spar3d.progress`).

    Returns:
        Lines written per key.

    Raises:
        ConfigError, InputError: ``n`` exceeds the mix, or a file's line count differs from its ``length``.
        UnsafeInputError: An annotation path leaves ``base_dir``.
    """
    keys = list(data)
    paths = [annotation_path(data[k], k, base_dir, allow_outside=allow_outside) for k in keys]
    with_repeat = entry_lengths(data)
    starts = np.concatenate([[0], np.cumsum(with_repeat)[:-1]]).astype(np.int64)
    total = int(with_repeat.sum())
    if n is None:
        n = total
    if n > total:
        raise ConfigError(f"cannot draw {n} lines from a mix of {total}")
    from spar3d.progress import progress as display

    offsets: list[np.ndarray] = []
    files_bar = display("mix: reading line offsets (files)", len(keys), progress)
    for key, path in zip(files_bar.track(keys), paths, strict=True):
        off = line_offsets(path)
        if len(off) - 1 != int(data[key]["length"]):
            raise InputError(
                f"{path}: index entry {key!r} says {data[key]['length']} lines, file has "
                f"{len(off) - 1}; re-run `spar3d data-json`"
            )
        offsets.append(off)
    lengths = np.array([len(o) - 1 for o in offsets], dtype=np.int64)
    # One flat offsets array so a batch's byte ranges come out of two vectorised gathers.
    base = np.concatenate([[0], np.cumsum([len(o) for o in offsets])[:-1]]).astype(np.int64)
    flat = np.concatenate(offsets) if offsets else np.zeros(0, dtype=np.int64)
    del offsets
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(total)[:n] if n == total else rng.choice(total, n, replace=False)
    entry, line = locate(chosen.astype(np.int64), starts, lengths)
    del chosen
    prefixes = [
        b'{"data_key": %s, "data_root": %s, '
        % (json.dumps(k).encode(), json.dumps(data[k]["root"]).encode())
        for k in keys
    ]
    bar = display("mix: writing lines", n, progress)
    opener = files.open if files is not None else atomic_open
    with ExitStack() as stack, opener(out_path, "wb") as out, bar:
        fds = [_open_fd(stack, path) for path in paths]
        for lo in range(0, n, _WRITE_BATCH):
            ent = entry[lo : lo + _WRITE_BATCH]
            pos = base[ent] + line[lo : lo + _WRITE_BATCH]
            buf = []
            for e, b, f in zip(
                ent.tolist(), flat[pos].tolist(), flat[pos + 1].tolist(), strict=True
            ):
                raw = os.pread(fds[e], f - b, b).rstrip(b"\r\n")
                if tag:
                    raw = _tagged(raw, prefixes[e], keys[e])
                buf.append(raw)
            out.write(b"\n".join(buf) + b"\n")
            bar.advance(len(buf))
    counts = np.bincount(entry, minlength=len(keys))
    return {k: int(c) for k, c in zip(keys, counts, strict=True)}


def write_mix(
    result: MixResult,
    path: str | Path,
    *,
    jsonl: str | Path | None = None,
    n: int | None = None,
    seed: int = 0,
    base_dir: str | Path = ".",
    tag: bool = True,
    allow_outside: bool = False,
    progress: bool = False,
) -> dict[str, int] | None:
    """Write a mix's data_json at ``path`` and, with ``jsonl``, its materialised lines
    (:func:`materialize`), holding the output folder's lock (a second run into it is refused).

    The two files are committed together (:func:`spar3d.io.file_set`): a kill leaves the old pair
    or the new one, and the next run removes the temporaries a killed one left. A ``jsonl`` in
    another folder is locked too and written before the data_json. Returns the lines written
    per key (None without ``jsonl``).
    """
    path = Path(path)
    folder = path.parent
    with ExitStack() as stack:
        stack.enter_context(output_lock(folder, "spar3d mix"))
        apart = jsonl is not None and not Path(jsonl).resolve().is_relative_to(folder.resolve())
        if apart:
            assert jsonl is not None
            stack.enter_context(output_lock(Path(jsonl).parent, "spar3d mix", clean=False))
            remove_temps_of(jsonl)
        counts = None
        with file_set(folder) as staged:
            if jsonl is not None:
                counts = materialize(result.data, jsonl, n, seed, base_dir=base_dir, tag=tag,
                                     allow_outside=allow_outside, progress=progress,
                                     files=None if apart else staged)  # fmt: skip
            write_json(path, result.data, files=staged)
    return counts


def _open_fd(stack: ExitStack, path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    stack.callback(os.close, fd)
    return fd


def _tagged(raw: bytes, prefix: bytes, key: str) -> bytes:
    body = raw.lstrip()
    if not body.startswith(b"{"):
        raise InputError(f"entry {key!r}: line is not a JSON object: {raw[:60]!r}")
    body = body[1:].lstrip()
    return prefix[:-2] + b"}" if body == b"}" else prefix + body
