"""Audit: do markers sit on their objects, are named-only labels unique, are catch-alls named?

Run::

    /work/venv/bin/python benchmarks/audit_naming.py SCENE_DIR [SCENE_DIR ...] [--per-task 40]

For every scene folder (any layout a loader reads, with a mesh) the script loads the scene,
builds its index in memory with the installed spar3d, generates ``--per-task`` samples of every
registered task, and checks each sample against an independent full-resolution ray cast of the
scene mesh (per-face instance ids from the loader's ``vertex_ids``, not from the index):

* **point markers on another object**: the pixel under each point marker (0-1000 back to
  pixels) is cast into the scene; the marker is wrong when the first surface hit is not the
  object the marker's colour stands for (red, blue, green, yellow = the sample's object ids in
  order; list markers in list order);
* **named-only ambiguity**: an object named without a marker is ambiguous when another object
  of its label, or another role of the sample with its label, covers at least
  ``--noticeable`` of any of the sample's images (counting tasks, which ask about a label, are
  left out);
* **catch-all named**: a sample that names an object whose label is a catch-all class.

It prints per task: samples, point markers, wrong markers, named-only objects, ambiguous ones,
catch-all samples and the rejection counts. It uses only APIs that older spar3d versions have,
so the same command measures the code before and after a change.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.generate import generate_scene
from spar3d.geometry.raycast import make_raycaster
from spar3d.index.builder import IndexParams, build_index
from spar3d.scenes.loaders import load_scene
from spar3d.tasks import create_task, task_names

COLORS = ("red", "blue", "green", "yellow")
CATCH_ALL = {"otherprop", "otherfurniture", "otherstructure", "object", "objects", "unknown"}


class Truth:
    """Independent per-pixel instance renders of one scene's views (full resolution)."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        verts, faces = scene.mesh.vertices, scene.mesh.faces
        vobj = np.full(len(verts), -1, dtype=np.int64)
        for o in scene.objects:
            if o.vertex_ids is not None:
                vobj[np.asarray(o.vertex_ids, dtype=np.int64)] = o.object_id
        self.face_obj = vobj[faces[:, 0]]
        self.caster = make_raycaster(verts, faces)
        self.frames = {f.frame_id: f for f in scene.frames}
        self.labels = {o.object_id: o.label for o in scene.objects}
        self._counts: dict[str, Counter[int]] = {}

    def cast(self, frame_id: str, uv: np.ndarray) -> np.ndarray:
        """Object id under each pixel ``(N, 2)`` (pixel-centre coordinates), -1 for none."""
        f = self.frames[frame_id]
        K, T = f.color.K, f.T_world_cam
        d_cam = np.column_stack(
            [(uv[:, 0] - K[0, 2]) / K[0, 0], (uv[:, 1] - K[1, 2]) / K[1, 1], np.ones(len(uv))]
        )
        hits = self.caster.cast(T[:3, 3], d_cam @ T[:3, :3].T)
        return np.where(hits.face_ids >= 0, self.face_obj[np.maximum(hits.face_ids, 0)], -1)

    def pixel_counts(self, frame_id: str) -> Counter[int]:
        if frame_id not in self._counts:
            f = self.frames[frame_id]
            v, u = np.mgrid[0 : f.color.height, 0 : f.color.width]
            ids = self.cast(frame_id, np.column_stack([u.ravel(), v.ravel()]).astype(float))
            self._counts[frame_id] = Counter(ids[ids >= 0].tolist())
        return self._counts[frame_id]


def marked_objects(sample: dict[str, Any]) -> list[tuple[int, int, list[int], str]]:
    """``(object id, image position, [x, y] or box, kind)`` of every marker of a sample.

    Colour ``i`` (red, blue, green, yellow) marks ``object_ids[i]`` as in SPAR; a sample with
    fewer objects than that marks them in the order the markers were added.
    """
    ids = sample["meta"]["object_ids"]
    out = []
    for kind in ("point", "bbox"):
        pos = sample.get(f"{kind}_img_idx", [[]])[0]
        k = 0
        for key in sample:  # insertion order = the order the task added the markers
            if key.endswith(f"_{kind}") and key.split("_")[0] in COLORS:
                c = COLORS.index(key.split("_")[0])
                obj = ids[c] if c < len(ids) else ids[min(k, len(ids) - 1)]
                out.append((obj, pos[k] if k < len(pos) else 0, sample[key][0], kind))
                k += 1
        for j, m in enumerate(sample.get(f"{kind}_list", [[]])[0]):
            out.append((ids[j], pos[j] if j < len(pos) else 0, m, kind))
    return out


def audit(samples: list[dict[str, Any]], truth: Truth, noticeable: float) -> dict[str, Counter]:
    per_task: dict[str, Counter] = defaultdict(Counter)
    for s in samples:
        t = per_task[s["type"]]
        t["samples"] += 1
        frames = s["meta"]["frames"]
        ids = s["meta"]["object_ids"]
        if any(truth.labels.get(o, "").lower() in CATCH_ALL for o in ids):
            t["catch_all"] += 1
        marks = marked_objects(s)
        for obj, pos, xy, kind in marks:
            if kind != "point":
                continue
            f = truth.frames[frames[pos]]
            uv = np.array(
                [[xy[0] * f.color.width / 1000 - 0.5, xy[1] * f.color.height / 1000 - 0.5]]
            )
            t["point_markers"] += 1
            if int(truth.cast(frames[pos], uv)[0]) != obj:
                t["marker_on_other"] += 1
        if s["type"] == "obj_count":
            continue
        marked = {m[0] for m in marks}
        for o in ids:
            if o in marked:
                continue
            t["named_only"] += 1
            label = truth.labels[o]
            others = {x for x in ids if x != o and truth.labels[x] == label}
            for fr in frames:
                f = truth.frames[fr]
                need = noticeable * f.color.width * f.color.height
                counts = truth.pixel_counts(fr)
                others |= {x for x, n in counts.items()
                           if x != o and n >= need and truth.labels.get(x) == label}  # fmt: skip
            if others:
                t["named_only_ambiguous"] += 1
    return per_task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenes", nargs="+", type=Path)
    ap.add_argument("--per-task", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noticeable", type=float, default=0.0005)
    args = ap.parse_args()
    tasks = [create_task(n) for n in task_names("all") if not create_task(n).requires]
    totals: dict[str, Counter] = defaultdict(Counter)
    rejected: dict[str, Counter] = defaultdict(Counter)
    for d in args.scenes:
        scene = load_scene(d)
        index = build_index(scene, IndexParams())
        samples, stats = generate_scene(index, tasks, args.per_task, args.seed)
        for name, st in stats.items():
            rejected[name].update(st.rejected)
        for name, c in audit(samples, Truth(scene), args.noticeable).items():
            totals[name].update(c)
    cols = ("samples", "point_markers", "marker_on_other", "named_only", "named_only_ambiguous",
            "catch_all")  # fmt: skip
    print(f"{'task':34s} " + " ".join(f"{c[:14]:>14s}" for c in cols) + "  rejected")
    grand: Counter = Counter()
    for name in sorted(set(totals) | set(rejected)):
        c = totals[name]
        grand.update(c)
        rej = ", ".join(f"{k} {v}" for k, v in rejected[name].most_common() if k != "duplicate")
        print(f"{name:34s} " + " ".join(f"{c[k]:14d}" for k in cols) + f"  {rej}")
    print(f"{'TOTAL':34s} " + " ".join(f"{grand[k]:14d}" for k in cols))
    pm, no, n = grand["point_markers"], grand["named_only"], grand["samples"]
    print(
        f"marker on another object: {grand['marker_on_other']}/{pm} "
        f"({100 * grand['marker_on_other'] / max(pm, 1):.1f} %); named-only with a visible "
        f"same-label distractor: {grand['named_only_ambiguous']}/{no} "
        f"({100 * grand['named_only_ambiguous'] / max(no, 1):.1f} %); samples naming a "
        f"catch-all: {grand['catch_all']}/{n} ({100 * grand['catch_all'] / max(n, 1):.1f} %)"
    )


if __name__ == "__main__":
    main()
