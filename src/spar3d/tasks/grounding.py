"""3D grounding as frame selection + mono-3D grounding (SPAR section 3.5).

A sample shows ``min_views``..``max_views`` images of one scene and a referring expression that
names exactly one object; the answer picks a shown view in which the object is visible and gives
its centre's image position, depth and size in the fixed format of
:mod:`spar3d.grounding.answer` (``frame k; (u, v); depth d m; size (w, h, l) m[; yaw a deg]``).

* ``ground_3d``: the expression is generated from the scene index
  (:mod:`spar3d.grounding.expressions`: unique label, size / height attribute or a relation to a
  unique anchor; uniqueness checked in 3D over the whole scene).
* ``ground_3d_scanrefer``: the expression is a ScanRefer description of the scene
  (:mod:`spar3d.grounding.scanrefer`, file named by ``SPAR3D_SCANREFER``); skipped without it.

At least one shown view sees the target with ``visible_fraction >= min_visible_fraction`` and its
3D centre inside the image; the answer's frame is the shown view that sees most of it. Everything
needed to lift and score an answer is kept in ``meta.quantities`` (the grounding context,
:mod:`spar3d.grounding.context`).
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from spar3d.grounding.answer import (
    FORMAT_NOTE,
    FORMAT_RULES,
    GroundingAnswer,
    box_in_view,
    encode_answer,
)
from spar3d.grounding.boxes import box_to_dict
from spar3d.grounding.expressions import (
    STRUCTURAL,
    Expression,
    referring_expressions,
    unique_multiple,
)
from spar3d.grounding.scanrefer import ENV_SCANREFER, annotations_for, scanrefer_files
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, Task, TaskSpec, TaskStats
from spar3d.tasks.params import TaskParams, check_range, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import marker_placeable, object_views

log = logging.getLogger(__name__)

PLACEHOLDERS = ("expression", "n_views", "answer_format", "answer_rules", "frame", "u", "v",
                "depth", "w", "h", "l", "yaw_clause")  # fmt: skip


@dataclass(frozen=True)
class GroundParams(TaskParams):
    """``min_views``..``max_views`` images per sample (>= 1); ``min_visible_fraction``: least
    visible share of the target in the view that shows it (0-1)."""

    min_views: int = knob(3, minimum=1)
    max_views: int = knob(5, minimum=1)
    min_visible_fraction: float = knob(0.3, minimum=0, maximum=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("min_views", self.min_views, "max_views", self.max_views)


def good_views(scene: SceneView, obj: int, min_fraction: float) -> list[int]:
    """Images that see ``obj`` with enough of it visible and its 3D centre inside the image."""
    table: dict[tuple[int, float], list[int]] = scene.derived(("grounding_good_views",), _table)
    out = table.get((obj, min_fraction))
    if out is None:
        out = [
            i
            for i in object_views(scene).get(obj, [])
            if scene.visible(i, obj).visible_fraction >= min_fraction
            and marker_placeable(scene, i, obj)
        ]
        table[(obj, min_fraction)] = out
    return out


def _table(scene: SceneView) -> dict[Any, Any]:
    return {}  # a per-scene table filled on use (kept by SceneView.derived)


def scene_stats(scene: SceneView) -> dict[str, Any]:
    """Room centre and median object size: what the no-model baselines may know (one per
    scene)."""
    return scene.derived(("grounding_stats",), _scene_stats)


def _scene_stats(scene: SceneView) -> dict[str, Any]:
    idx = scene.index
    objs = [o for o in idx.objects if o.label not in STRUCTURAL] or idx.objects
    zs = [float(o.center[2]) for o in objs] or [idx.floor_z + 1.0]
    if len(idx.footprint_xy):
        xy = (idx.footprint_xy.min(0) + idx.footprint_xy.max(0)) / 2
    else:
        xy = np.mean([o.center[:2] for o in objs], axis=0) if objs else np.zeros(2)
    sizes = np.array([o.box.size for o in objs]) if objs else np.ones((1, 3))
    st = {
        "room_center": [float(xy[0]), float(xy[1]), float(np.median(zs))],
        # boxes' (x, y, z) extents as (w, h, l): x across, z height, y length
        "median_size_whl_m": [
            float(np.median(sizes[:, 0])),
            float(np.median(sizes[:, 2])),
            float(np.median(sizes[:, 1])),
        ],
    }
    return st


def view_record(scene: SceneView, i: int) -> dict[str, Any]:
    """The context entry of image ``i`` (camera, size, median depth of what it sees; cached)."""
    table: dict[int, dict[str, Any]] = scene.derived(("grounding_view_records",), _table)
    rec = table.get(i)
    if rec is None:
        im = scene.image(i)
        ds = [d for d in (scene.visible(i, o).depth_m for o in scene.visible_ids(i)) if d > 0]
        rec = {
            "frame_id": im.frame_id,
            "width": im.width,
            "height": im.height,
            "K": im.K.tolist(),
            "T_world_cam": im.T_world_cam.tolist(),
            "median_object_depth_m": statistics.median(ds) if ds else 0.0,
        }
        table[i] = rec
    return rec


def _expressions(scene: SceneView) -> dict[int, list[Expression]]:
    objs = scene.index.objects
    table = {}
    for o in objs:
        ex = referring_expressions(objs, o.object_id, catch_all=scene.catch_all)
        if ex:
            table[o.object_id] = ex
    return table


def answer_values(a: GroundingAnswer) -> dict[str, str]:
    """Placeholders of the sentence answers, rounded as the fixed format rounds them."""
    u, v = (int(round(x)) for x in a.uv_norm1000)
    w, h, length = a.size_whl_m
    yaw = round(a.yaw_deg, 1)
    return {
        "frame": str(a.frame),
        "u": str(u),
        "v": str(v),
        "depth": f"{a.depth_m:.2f}",
        "w": f"{w:.2f}",
        "h": f"{h:.2f}",
        "l": f"{length:.2f}",
        "yaw_clause": f", turned by a yaw of {yaw:.1f} degrees" if yaw != 0.0 else "",
    }


class GroundingTask(Task):
    """Shared loop of the grounding tasks: draw the views around a target, write the answer.

    The engine's naming rule (a label named without a marker is unique among the objects seen in
    the sample) does not apply: the target is named by a referring expression proven unique over
    the whole scene (``ground_3d``; catch-all objects never get one) or by a human description
    (``ground_3d_scanrefer``).
    """

    names_by_expression = True

    Params = GroundParams
    center_note = False

    def n_views(self) -> tuple[int, int]:
        return self.params.min_views, self.params.max_views

    def draw_views(self, scene: SceneView, rng: np.random.Generator, obj: int) -> tuple[int, ...]:
        """A good view of ``obj`` and random other images, in random order (may Reject)."""
        good = good_views(scene, obj, self.params.min_visible_fraction)
        if not good:
            raise Reject("target_not_visible")
        n_images = len(scene.index.images)
        lo, hi = self.n_views()
        n = min(int(rng.integers(lo, hi + 1)), n_images)
        g = good[int(rng.integers(len(good)))]
        others = [i for i in range(n_images) if i != g]
        picked = [others[int(j)] for j in rng.choice(len(others), size=n - 1, replace=False)]
        views = [g, *picked]
        order = rng.permutation(len(views))
        return tuple(views[int(k)] for k in order)

    def facts(
        self,
        scene: SceneView,
        views: tuple[int, ...],
        obj: int,
        expression: str,
        kind: str,
        extra: dict[str, Any] | None = None,
    ) -> Facts:
        frac = self.params.min_visible_fraction
        good = set(good_views(scene, obj, frac))
        shown_good = [k for k, i in enumerate(views) if i in good]
        if not shown_good:
            raise Reject("target_not_visible")
        best = max(shown_good, key=lambda k: (scene.visible(views[k], obj).visible_fraction, -k))
        rec = scene.objects[obj]
        im = scene.image(views[best])
        answer = encode_answer(rec.box, best + 1, im.K, im.T_world_cam, im.width, im.height)
        objects = scene.index.objects
        context = {
            "scene": scene.scene_id,
            "target_id": int(obj),
            "label": rec.label,
            "expression": expression,
            "expression_kind": kind,
            "split": unique_multiple(objects, obj),
            "answer_frame": best + 1,
            "visible_frames": [k + 1 for k, i in enumerate(views) if obj in scene.visible_ids(i)],
            "target_box": box_to_dict(rec.box),
            "target_size_whl_m": list(box_in_view(rec.box, im.T_world_cam)[0]),
            "views": [view_record(scene, i) for i in views],
            **scene_stats(scene),
            **(extra or {}),
        }
        return Facts(
            images=list(views),
            object_ids=[obj],
            values={
                "expression": expression,
                "n_views": str(len(views)),
                "answer_format": FORMAT_NOTE,
                "answer_rules": FORMAT_RULES,
                **answer_values(answer),
            },
            answer=ChoiceAnswer(answer.text()),
            quantities=context,
        )


@register_task
class Ground3D(GroundingTask):
    """Locate the object a generated referring expression names (frame, u-v, depth, size)."""

    spec = TaskSpec(
        name="ground_3d",
        version=1,
        views="MV",
        relation="OC",
        formats=("fill", "sentence"),
        markers=(),
        placeholders=PLACEHOLDERS,
        description=(
            "3D grounding by frame selection: views + an expression naming one object (unique "
            "label, size/height attribute or relation to a unique anchor, unique in 3D over the "
            "scene) -> 'frame k; (u, v); depth d m; size (w, h, l) m[; yaw a deg]'"
        ),
    )

    def expressions(self, scene: SceneView) -> dict[int, list[Expression]]:
        """The referring expressions of every object that has one (one table per scene)."""
        return scene.derived(("grounding_expressions",), _expressions)

    def propose(self, scene: SceneView, rng: Any) -> Any:
        table = self.expressions(scene)
        frac = self.params.min_visible_fraction
        ids = [o for o in sorted(table) if good_views(scene, o, frac)]
        if not ids:
            return None
        obj = ids[int(rng.integers(len(ids)))]
        e = int(rng.integers(len(table[obj])))
        return (obj, e, self.draw_views(scene, rng, obj))

    def compute(self, scene: SceneView, key: Any) -> Facts:
        obj, e, views = key
        ex = self.expressions(scene)[obj][e]
        extra = {"anchor_id": ex.anchor_id} if ex.anchor_id is not None else {}
        return self.facts(scene, views, obj, ex.text, ex.kind, extra)


@register_task
class Ground3DScanRefer(GroundingTask):
    """Locate the object a ScanRefer description names (frame, u-v, depth, size)."""

    requires = ("scanrefer",)
    spec = TaskSpec(
        name="ground_3d_scanrefer",
        version=1,
        views="MV",
        relation="OC",
        formats=("fill",),  # each description once, in the fixed format it is scored in
        markers=(),
        placeholders=PLACEHOLDERS,
        description=(
            "3D grounding of a ScanRefer description, each once (file named by SPAR3D_SCANREFER; "
            "skipped without it) -> 'frame k; (u, v); depth d m; size (w, h, l) m[; yaw a deg]'"
        ),
    )

    def generate(self, index: Any, n: int, seed: int) -> tuple[list[dict[str, Any]], TaskStats]:
        scene = index if isinstance(index, SceneView) else SceneView(index)
        if not scanrefer_files():
            stats = TaskStats()
            stats.rejected["skipped_no_scanrefer"] += 1
            log.debug("ground_3d_scanrefer skipped: %s is not set", ENV_SCANREFER)
            return [], stats
        self._used: set[int] = set()  # each description once per scene
        return super().generate(scene, n, seed)

    def propose(self, scene: SceneView, rng: Any) -> Any:
        anns = annotations_for(scene.scene_id)
        free = [a for a in range(len(anns)) if a not in self._used]
        if not free:
            return None
        a = free[int(rng.integers(len(free)))]
        self._used.add(a)
        obj = anns[a].object_id
        if obj not in scene.objects:
            return (a, obj, ())
        try:
            return (a, obj, self.draw_views(scene, rng, obj))
        except Reject:
            return (a, obj, ())

    def compute(self, scene: SceneView, key: Any) -> Facts:
        a, obj, views = key
        if obj not in scene.objects:
            raise Reject("target_not_in_index")
        if not views:
            raise Reject("target_not_visible")
        ann = annotations_for(scene.scene_id)[a]
        extra = {"ann_id": ann.ann_id, "object_name": ann.object_name}
        return self.facts(scene, views, obj, ann.description, "scanrefer", extra)
