"""How a task's views are drawn: one image, co-visible views, or a frame sequence.

A question family (depth, distance, relation, imagination) asks the same question over one
image (``S``), over 2-5 co-visible images (``MV``) or over the scene's video (``V``). What
differs is only how the views and the objects in them are drawn, which frame the geometry is
read in (the primary view: the first), and which provenance the sample records. That is a
:class:`ViewStrategy` the task holds (``Task.views``): :class:`SingleImage`,
:class:`CoVisibleViews` or :class:`FrameSequence`; a family's compute is written once against it.

One key shape
=============

Every candidate key a strategy draws is the tuple ``(views, ids, positions, *extra)``:

* ``views`` -- image-record indices the sample shows, the primary view first (one for ``S``;
  2-5 for ``MV``; every frame of the video for ``V``);
* ``ids`` -- the objects, in the order the task draws them;
* ``positions`` -- for each object, the place in ``views`` of the image it is marked in (the
  sample's ``*_img_idx``; all ``0`` for ``S``; empty when the objects are named only);
* ``extra`` -- the task's own draws (a closer/farther coin, a marker colour, ...).

:class:`Draw` reads a key by name. Companion views of ``MV`` share at least one visible object
with the primary view, so the views overlap (the co-visibility SPAR asks of its multi-view
samples). Per-scene tables (co-visibility, the images that see each object, the video) are kept
by :meth:`spar3d.tasks.base.SceneView.derived`, so every task of a scene shares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from spar3d.index.records import SceneIndex
from spar3d.task_table import marker_order
from spar3d.tasks.base import (
    ChoiceAnswer,
    Facts,
    NumericAnswer,
    Reject,
    SceneView,
    Task,
    TaskSpec,
    TaskStats,
)
from spar3d.tasks.common import (
    bbox_marker,
    object_quantities,
    point_marker,
    reject_if_boxes_overlap,
    vec,
)
from spar3d.tasks.markers import COLORS, Markers
from spar3d.tasks.params import MultiViewParams, TaskParams, VideoParams, with_fields_of

Key = tuple[Any, ...]
SUFFIX = {"S": "", "MV": "_mv", "V": "_video"}  # a family's task names: <question><suffix>
VIDEO_DIR = "video_color"


@dataclass(frozen=True)
class Draw:
    """A key ``(views, ids, positions, *extra)`` read by name (see the module docstring)."""

    views: tuple[int, ...]
    ids: tuple[int, ...]
    positions: tuple[int, ...]
    extra: tuple[Any, ...] = ()

    @classmethod
    def of(cls, key: Key) -> Draw:
        """The draw of a key, or ``Reject("too_few_objects")`` when it holds no object."""
        views, ids, positions, *extra = key
        if not ids:
            raise Reject("too_few_objects")
        return cls(tuple(views), tuple(ids), tuple(positions), tuple(extra))

    @property
    def primary(self) -> int:
        """The image whose camera frame the geometry is read in (the first view)."""
        return self.views[0]

    def marks(
        self, colors: Sequence[str] = COLORS, order: Sequence[str] = ()
    ) -> list[tuple[str, int, int]]:
        """``(colour, object, position)`` per object, colours given in draw order, written in
        ``order`` first (a task's ``marker_order`` in :mod:`spar3d.task_table`: SPAR's loaders
        read some tasks' ``*_img_idx`` in an order of their own), then in draw order."""
        if len(self.ids) > len(colors):
            raise ValueError(f"{len(self.ids)} objects but only colours {tuple(colors)}")
        by = {c: (c, o, p) for c, o, p in zip(colors, self.ids, self.positions, strict=False)}
        seq = [*order, *(c for c in colors if c not in order)]
        return [by[c] for c in seq if c in by]


# -- markers: one signature for every view strategy ---------------------------------------------
def point_markers(
    scene: SceneView, views: Sequence[int], marks: Iterable[tuple[str, int, int]]
) -> Markers:
    """Point markers ``(colour, object id, position in views)``, in that order, each in the view
    it belongs to (``Reject("marker_not_visible")`` when one cannot be placed)."""
    m = Markers()
    for color, obj, pos in marks:
        m.point(color, point_marker(scene, views[pos], obj), pos, obj=obj)
    return m


def bbox_markers(
    scene: SceneView, views: Sequence[int], marks: Iterable[tuple[str, int, int]]
) -> Markers:
    """Box markers ``(colour, object id, position in views)``, in that order."""
    m = Markers()
    for color, obj, pos in marks:
        m.bbox(color, bbox_marker(scene, views[pos], obj), pos, obj=obj)
    return m


# -- one image ----------------------------------------------------------------------------------
def draw_image_objects(
    scene: SceneView, rng: np.random.Generator, k: int, unique_labels: bool = False
) -> tuple[int, ...] | None:
    """A random image seeing >= k objects and k distinct objects of it, as ``(image, id1, ...)``.

    ``unique_labels``: only objects whose label is unique among the objects noticeable in the
    image (questions that name objects without markers). Returns None when no image has k such
    objects. Cheap: two integer draws and a small choice.
    """
    images = scene.images_with(k, unique_labels)
    if not images:
        return None
    i = images[int(rng.integers(len(images)))]
    ids = scene.visible_ids(i)
    if unique_labels:
        allowed = scene.unique_label_ids([i])
        ids = [o for o in ids if o in allowed]
    picked = rng.choice(len(ids), size=k, replace=False)
    return (i, *(ids[int(j)] for j in picked))


# -- per-scene tables (kept by SceneView.derived) -----------------------------------------------
def _object_views(scene: SceneView) -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for i in range(len(scene.index.images)):
        for o in scene.visible_ids(i):
            table.setdefault(o, []).append(i)
    return table


def _covisible(scene: SceneView) -> list[list[int]]:
    sets = [set(scene.visible_ids(j)) for j in range(len(scene.index.images))]
    return [[j for j in range(len(sets)) if j != a and sets[a] & sets[j]] for a in range(len(sets))]


def object_views(scene: SceneView) -> dict[int, list[int]]:
    """Images that see each object, ascending, by object id (one table per scene)."""
    return scene.derived(("object_views",), _object_views)


def covisible(scene: SceneView, i: int) -> list[int]:
    """Images other than ``i`` that see at least one object ``i`` sees, ascending."""
    return scene.derived(("covisible",), _covisible)[i]


# -- co-visible views ---------------------------------------------------------------------------
def draw_views(
    scene: SceneView, rng: np.random.Generator, n_min: int, n_max: int
) -> tuple[int, ...] | None:
    """A random primary view and ``n_min``..``n_max`` views in all (fewer when the primary has
    fewer co-visible images, never under 2); None when no two images share an object."""
    primaries = [i for i in range(len(scene.index.images)) if covisible(scene, i)]
    if not primaries:
        return None
    p = primaries[int(rng.integers(len(primaries)))]
    others = covisible(scene, p)
    n = min(int(rng.integers(n_min, n_max + 1)), 1 + len(others))
    picked = rng.choice(len(others), size=n - 1, replace=False)
    return (p, *(others[int(j)] for j in picked))


def draw_pair(scene: SceneView, rng: np.random.Generator) -> tuple[int, int] | None:
    """Two distinct images that share a visible object, as ``(first, second)``."""
    firsts = [i for i in range(len(scene.index.images)) if covisible(scene, i)]
    if not firsts:
        return None
    i = firsts[int(rng.integers(len(firsts)))]
    others = covisible(scene, i)
    return (i, others[int(rng.integers(len(others)))])


def marker_placeable(scene: SceneView, image: int, obj: int) -> bool:
    """Whether a point marker can be placed on the object in the image (a usable pixel)."""
    return scene.visible(image, obj).marker_uv is not None


def draw_marked(
    scene: SceneView,
    rng: np.random.Generator,
    k: int,
    n_min: int,
    n_max: int,
    *,
    primary_ok: bool = True,
    spread: bool = True,
    centre_inside: bool = False,
    unique_labels: bool = False,
    tries: int = 10,
) -> Key | None:
    """Co-visible views and ``k`` distinct objects, each visible in the view it is marked in.

    Args:
        k: Number of objects.
        primary_ok: Whether an object may be marked in the primary view.
        spread: With ``k >= 2``, whether the objects must be marked in at least two views.
        centre_inside: Draw only objects a point marker can be placed on in the view (a usable
            visible pixel; drawing them directly saves rejected attempts).
        unique_labels: Only objects whose label is unique among those noticeable in the views.

    Returns:
        ``(views, ids, positions)``; ``ids`` is empty when ``tries`` draws found no objects
        (:meth:`Draw.of` rejects it); None when the scene has no co-visible images.
    """
    views: tuple[int, ...] | None = None
    for _ in range(tries):
        views = draw_views(scene, rng, n_min, n_max)
        if views is None:
            return None
        allowed = list(range(0 if primary_ok else 1, len(views)))
        if spread and k >= 2:
            if len(allowed) < 2:
                continue
            first = [allowed[int(j)] for j in rng.choice(len(allowed), size=2, replace=False)]
            positions = first + [allowed[int(rng.integers(len(allowed)))] for _ in range(k - 2)]
        else:
            positions = [allowed[int(rng.integers(len(allowed)))] for _ in range(k)]
        ids: list[int] = []
        named_ok = scene.unique_label_ids(views) if unique_labels else None
        for pos in positions:
            pool = [
                o
                for o in scene.visible_ids(views[pos])
                if o not in ids
                and (not centre_inside or marker_placeable(scene, views[pos], o))
                and (named_ok is None or o in named_ok)
            ]
            if not pool:
                break
            ids.append(pool[int(rng.integers(len(pool)))])
        if len(ids) == k:
            return (views, tuple(ids), tuple(positions))
    return (views, (), ())


# -- the video ----------------------------------------------------------------------------------
def even_positions(n: int, m: int) -> list[int]:
    """``min(n, m)`` evenly spaced positions in ``range(n)``, first and last kept (``m >= 1``)."""
    if m < 1:
        raise ValueError(f"the number of frames must be >= 1, got {m}")
    if n <= m:
        return list(range(n))
    # spacing >= 1 keeps the rounded positions distinct
    return [int(i) for i in np.round(np.linspace(0, n - 1, m))]


def video_frames(index: SceneIndex, max_frames: int = 32, min_frames: int = 4) -> list[int]:
    """Image-record indices of the scene's video: evenly spaced keyframes, first and last kept.

    Returns an empty list when the scene has fewer than ``min_frames`` keyframes.
    """
    n = len(index.images)
    if n < max(1, min_frames):
        return []
    return even_positions(n, max_frames)


@dataclass
class Video:
    """A scene's video.

    Attributes:
        images: Image-record indices, capture order.
        appearances: Object id -> positions (0-based, ascending) of the frames that see it.
    """

    images: list[int]
    appearances: dict[int, list[int]] = field(default_factory=dict)

    @property
    def seen(self) -> list[int]:
        """Ids of the objects seen in at least one frame, ascending."""
        return sorted(self.appearances)


def scene_video(scene: SceneView, max_frames: int, min_frames: int) -> Video:
    """The scene's video for these settings (one per scene and settings, kept by the scene)."""

    def build(s: SceneView) -> Video:
        images = video_frames(s.index, max_frames, min_frames)
        appearances: dict[int, list[int]] = {}
        for pos, i in enumerate(images):
            for oid in s.visible_ids(i):
                appearances.setdefault(oid, []).append(pos)
        return Video(images, appearances)

    return scene.derived(("video", max_frames, min_frames), build)


def draw_seen(
    video: Video, rng: np.random.Generator, k: int, among: set[int] | None = None
) -> list[int] | None:
    """``k`` distinct objects seen in the video (optionally restricted to ``among``), or None."""
    pool = [o for o in video.seen if among is None or o in among]
    if len(pool) < k:
        return None
    return [pool[int(j)] for j in rng.choice(len(pool), size=k, replace=False)]


def draw_frame(video: Video, rng: np.random.Generator, object_id: int) -> int:
    """A random position among the frames that see the object."""
    frames = video.appearances[object_id]
    return frames[int(rng.integers(len(frames)))]


def unique_label_ids(scene: SceneView) -> set[int]:
    """Ids of the objects whose label no other object of the scene has (safe to name alone)."""
    count: dict[str, int] = {}
    for o in scene.objects.values():
        count[o.label] = count.get(o.label, 0) + 1
    return {oid for oid, o in scene.objects.items() if count[o.label] == 1}


# -- the strategies -----------------------------------------------------------------------------
class ViewStrategy:
    """How a task draws its views and objects (see the module docstring).

    Class attributes:
        kind: The ``TaskSpec.views`` code (``"S"``, ``"MV"``, ``"V"``).
        params: Parameters the strategy needs; the ``Params`` of a task holding it derive from
            them.
        image_dir: Folder of the sample's images (``image_color`` or ``video_color``).
    """

    kind: ClassVar[str]
    params: ClassVar[type[TaskParams]] = TaskParams
    image_dir: ClassVar[str] = "image_color"

    def draw(
        self, params: Any, scene: SceneView, rng: np.random.Generator, k: int,
        **how: Any,
    ) -> Key | None:  # fmt: skip
        """A key ``(views, ids, positions)`` with ``k`` objects, or None when the scene has no
        candidate at all."""
        raise NotImplementedError

    def reject_overlap_2d(self, scene: SceneView, d: Draw) -> None:
        """Reject objects whose 2D boxes share area (only objects seen in one image can)."""

    def quantities(self, scene: SceneView, d: Draw) -> dict[str, Any]:
        """Provenance of the draw (its objects, with centres in the primary frame)."""
        return {"objects": object_quantities(scene, d.primary, d.ids)}

    def unavailable(self, params: Any, scene: SceneView) -> str | None:
        """Why the scene can give no sample at all with these views (None: it can)."""
        return None

    def reject_shared_view(self, d: Draw) -> None:
        """Reject objects marked in one view when the question needs them in different views
        (drawn co-visible views already spread them; a video's frames may coincide)."""

    def finish(self, facts: Facts) -> Facts:
        """The facts as this strategy's samples carry them (a video adds its frame count and
        its image folder)."""
        return facts


class SingleImage(ViewStrategy):
    """One image; every object is marked in it (``S``)."""

    kind = "S"

    def draw(
        self, params: Any, scene: SceneView, rng: np.random.Generator, k: int,
        *, unique_labels: bool = False, **_multi_view_only: Any,
    ) -> Key | None:  # fmt: skip
        key = draw_image_objects(scene, rng, k, unique_labels=unique_labels)
        return None if key is None else ((key[0],), tuple(key[1:]), (0,) * k)

    def reject_overlap_2d(self, scene: SceneView, d: Draw) -> None:
        reject_if_boxes_overlap(scene, d.primary, d.ids)


class CoVisibleViews(ViewStrategy):
    """``min_views``..``max_views`` co-visible images, the primary first (``MV``); geometry is
    read in the primary camera's frame, markers sit in any view."""

    kind = "MV"
    params = MultiViewParams

    @staticmethod
    def n_views(params: MultiViewParams) -> tuple[int, int]:
        """``(min_views, max_views)`` (their range is checked by :class:`MultiViewParams`)."""
        return params.min_views, params.max_views

    def draw(
        self, params: Any, scene: SceneView, rng: np.random.Generator, k: int,
        **how: Any,
    ) -> Key | None:  # fmt: skip
        return draw_marked(scene, rng, k, *self.n_views(params), **how)

    def quantities(self, scene: SceneView, d: Draw) -> dict[str, Any]:
        return mv_quantities(scene, d.views, d.ids, d.positions)


class FrameSequence(ViewStrategy):
    """The scene's video (``V``): its keyframes evenly subsampled to ``max_frames``; each object
    is marked in a random frame that sees it."""

    kind = "V"
    params = VideoParams
    image_dir = VIDEO_DIR

    @staticmethod
    def video(params: VideoParams, scene: SceneView) -> Video:
        return scene_video(scene, params.max_frames, params.min_frames)

    def draw(
        self, params: Any, scene: SceneView, rng: np.random.Generator, k: int,
        *, among: set[int] | None = None, marked: bool = True, **_: Any,
    ) -> Key | None:  # fmt: skip
        video = self.video(params, scene)
        ids = draw_seen(video, rng, k, among)
        if ids is None:
            return None
        positions = tuple(draw_frame(video, rng, o) for o in ids) if marked else ()
        return (tuple(video.images), tuple(ids), positions)

    def quantities(self, scene: SceneView, d: Draw) -> dict[str, Any]:
        """The frames the objects are marked in, and the objects' world centres (a video has
        no primary frame)."""
        return {"frames": list(d.positions), "objects": world_quantities(scene, d.ids)}

    def unavailable(self, params: Any, scene: SceneView) -> str | None:
        return None if self.video(params, scene).images else "too_few_frames"

    def reject_shared_view(self, d: Draw) -> None:
        if len(set(d.positions)) < len(d.positions):
            raise Reject("same_frame")

    def finish(self, facts: Facts) -> Facts:
        facts.quantities = {"video_frames": len(facts.images), **facts.quantities}
        facts.image_dir = VIDEO_DIR
        return facts


def world_quantities(scene: SceneView, ids: Sequence[int]) -> dict[str, Any]:
    """Per-object provenance without a camera: label and world centre."""
    return {
        str(o): {"label": scene.objects[o].label, "center_world": vec(scene.objects[o].center)}
        for o in ids
    }


def mv_quantities(
    scene: SceneView, views: Sequence[int], ids: Sequence[int], positions: Sequence[int]
) -> dict[str, Any]:
    """Provenance of a multi-image draw: the objects with their centres in the PRIMARY frame."""
    return {
        "primary_image": int(views[0]),
        "marked_in": [int(p) for p in positions],
        "objects": object_quantities(scene, views[0], list(ids)),
    }


def variant(spec: TaskSpec, kind: str, description: str, **changes: Any) -> TaskSpec:
    """The spec of a family's variant over other views: ``<name>_mv`` / ``<name>_video``, the
    strategy's kind, its own description (and any other field that differs)."""
    name = spec.name.removesuffix(SUFFIX[spec.views]) + SUFFIX[kind]
    return replace(spec, name=name, views=kind, description=description, **changes)


class ViewTask(Task):
    """A task that holds a :class:`ViewStrategy` (``views``): its ``Params`` include the
    strategy's fields (added when the class is made, so a family's ``_mv`` / ``_video`` variant
    only names its strategy), ``draw`` draws keys of the one shape, and ``spec.views`` must be
    the strategy's kind (checked when the class is made)."""

    views: ClassVar[ViewStrategy]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        spec = cls.__dict__.get("spec")
        if spec is not None and spec.views != cls.views.kind:
            raise TypeError(f"task {spec.name}: spec.views {spec.views!r} but {cls.views.kind!r}")
        if not issubclass(cls.Params, cls.views.params):  # a variant: add the strategy's
            cls.Params = with_fields_of(cls.Params, cls.views.params)
            cls.defaults = cls.Params.defaults()

    def draw(self, scene: SceneView, rng: np.random.Generator, k: int, **how: Any) -> Key | None:
        """A key ``(views, ids, positions)`` with ``k`` objects drawn by the task's strategy."""
        return self.views.draw(self.params, scene, rng, k, **how)

    def marks(self, d: Draw, colors: Sequence[str] = COLORS) -> list[tuple[str, int, int]]:
        """The draw's ``(colour, object, position)`` marks, ``colors`` given in draw order and
        written in the task's ``marker_order`` (:mod:`spar3d.task_table`)."""
        return d.marks(colors, marker_order(self.spec.name))

    def generate(self, index: Any, n: int, seed: int) -> tuple[list[dict[str, Any]], TaskStats]:
        """The engine's loop, or no sample when the strategy says the scene cannot give one
        (a video task on a scene with fewer than ``min_frames`` keyframes: ``too_few_frames``)."""
        scene = index if isinstance(index, SceneView) else SceneView(index)
        reason = self.views.unavailable(self.params, scene)
        if reason is not None:
            stats = TaskStats()
            stats.rejected[reason] += 1
            return [], stats
        return super().generate(scene, n, seed)


class MVTask(ViewTask):
    """A task whose samples hold ``min_views``..``max_views`` co-visible images."""

    views = CoVisibleViews()
    Params: ClassVar[type[TaskParams]] = MultiViewParams


class VideoTask(ViewTask):
    """A task over the scene's video: no sample (``too_few_frames``) when the scene has fewer
    than ``min_frames`` keyframes; its facts show every frame, under ``video_color/``."""

    views = FrameSequence()
    Params: ClassVar[type[TaskParams]] = VideoParams
    center_note = False

    def video(self, scene: SceneView) -> Video:
        """The scene's video (kept by the scene, shared by every video task)."""
        return FrameSequence.video(self.params, scene)

    def facts(
        self,
        video: Video,
        object_ids: Sequence[int],
        values: dict[str, str],
        answer: NumericAnswer | ChoiceAnswer,
        quantities: dict[str, Any],
        markers: Markers | None = None,
    ) -> Facts:
        """Facts of a video sample: every frame of the video, under ``video_color/``."""
        return self.views.finish(
            Facts(
                images=list(video.images),
                object_ids=[int(o) for o in object_ids],
                values=values,
                answer=answer,
                markers=markers or Markers(),
                quantities=quantities,
            )
        )
