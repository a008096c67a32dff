"""Verify a tree or a benchmark: group items by scene, run the checks, write flags and a summary.

Outputs (written atomically):

* ``flags.jsonl`` -- one row per finding: ``key``, ``sample_id``, ``task``, ``format``, ``scene``,
  ``flag`` and ``evidence`` (the numbers compared);
* ``summary.json`` -- per task: samples, samples checked against depth, samples flagged and
  counts per flag; the parameters used.

A scene that cannot be found or loaded is reported (its samples get the text checks only) and
never stops the others.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.io import read_jsonl, write_json, write_jsonl
from spar3d.verify.checks import Checker, Flag, VerifyParams
from spar3d.verify.depth import SceneDepth
from spar3d.verify.inputs import Item, iter_items


@dataclass
class TaskSummary:
    samples: int = 0
    depth_checked: int = 0
    flagged: int = 0
    flags: Counter[str] = field(default_factory=Counter)


@dataclass
class VerifyResult:
    """What a verification found.

    Attributes:
        flags: Every finding.
        tasks: Per-task counts.
        scene_errors: Scenes that could not be loaded, with the reason.
        seconds: Wall time of the checks (scene loading included).
    """

    flags: list[Flag] = field(default_factory=list)
    tasks: dict[str, TaskSummary] = field(default_factory=dict)
    scene_errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def samples(self) -> int:
        return sum(t.samples for t in self.tasks.values())

    def summary(self, params: VerifyParams) -> dict[str, Any]:
        per_task = {
            name: {
                "samples": t.samples,
                "depth_checked": t.depth_checked,
                "flagged": t.flagged,
                "flag_rate": round(t.flagged / t.samples, 4) if t.samples else 0.0,
                "flags": dict(sorted(t.flags.items())),
            }
            for name, t in sorted(self.tasks.items())
        }
        totals: Counter[str] = Counter()
        for t in self.tasks.values():
            totals.update(t.flags)
        flagged = sum(t.flagged for t in self.tasks.values())
        return {
            "samples": self.samples,
            "flagged": flagged,
            "flag_rate": round(flagged / self.samples, 4) if self.samples else 0.0,
            "flags": dict(sorted(totals.items())),
            "tasks": per_task,
            "scene_errors": self.scene_errors,
            "seconds": round(self.seconds, 2),
            "params": asdict(params),
        }


def find_scene_dirs(paths: Iterable[str | Path]) -> dict[str, Path]:
    """Scene folders by name: each path is a scene folder or a folder of scene folders."""
    from spar3d.index.records import INDEX_FILENAME

    out: dict[str, Path] = {}
    for p in map(Path, paths):
        if not p.is_dir():
            raise InputError(f"--scenes {p}: no such folder")
        subs = [d for d in sorted(p.iterdir()) if d.is_dir()]
        if (p / INDEX_FILENAME).is_file() or not subs:
            out[p.name] = p
        for d in subs:
            if not d.name.startswith("."):
                out.setdefault(d.name, d)
    return out


def _load_depth(scene_dir: Path, params: VerifyParams) -> SceneDepth:
    from spar3d.scenes.loaders import load_scene

    return SceneDepth(load_scene(scene_dir, load_mesh=False), margin_m=params.margin_m)


def verify(
    target: str | Path,
    scenes: Iterable[str | Path] = (),
    *,
    split: str = "val",
    sources: list[str] | None = None,
    params: VerifyParams | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Check every sample of ``target`` (a tree or a bench); see the module docstring."""
    params = params or VerifyParams()
    scene_dirs = find_scene_dirs(scenes)
    by_scene: dict[str, list[Item]] = defaultdict(list)
    for n, item in enumerate(iter_items(target, split, sources)):
        if limit is not None and n >= limit:
            break
        by_scene[item.scene].append(item)
    res = VerifyResult()
    t0 = time.perf_counter()
    for scene_id, items in sorted(by_scene.items()):
        depth = None
        if scene_id in scene_dirs:
            try:
                depth = _load_depth(scene_dirs[scene_id], params)
            except (OSError, ValueError) as exc:
                res.scene_errors[scene_id] = str(exc)
        elif scene_dirs:
            res.scene_errors[scene_id] = "scene folder not found under --scenes"
        checker = Checker(params, depth)
        for item in items:
            found = checker.check(item)
            t = res.tasks.setdefault(item.task, TaskSummary())
            t.samples += 1
            t.depth_checked += depth is not None and depth.has_depth
            names = {f for f, _ in found}
            t.flagged += bool(names)
            t.flags.update(names)
            res.flags.extend(
                Flag(item.key, f, item.task, item.format, item.scene, item.sample_id, ev)
                for f, ev in found
            )
            if progress:
                progress(1)
    res.seconds = time.perf_counter() - t0
    return res


def write_result(res: VerifyResult, out_dir: str | Path, params: VerifyParams) -> tuple[Path, Path]:
    """Write ``flags.jsonl`` and ``summary.json`` under ``out_dir``; returns both paths."""
    out = Path(out_dir)
    flags = out / "flags.jsonl"
    summary = out / "summary.json"
    write_jsonl(flags, (f.to_dict() for f in res.flags))
    write_json(summary, res.summary(params))
    return flags, summary


def read_flagged_keys(path: str | Path, only: Iterable[str] | None = None) -> set[str]:
    """Keys of the samples a flags file flags (optionally only for some flag names)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such flags file (write one with `spar3d verify`)")
    wanted = set(only) if only else None
    keys = set()
    try:
        for n, row in enumerate(read_jsonl(p), start=1):
            if not isinstance(row.get("key"), str) or not isinstance(row.get("flag"), str):
                raise InputError(f"{p}:{n}: a flags row needs string fields 'key' and 'flag'")
            if wanted is None or row["flag"] in wanted:
                keys.add(row["key"])
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return keys
