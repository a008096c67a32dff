"""Drawing multi-view candidates: a primary view, co-visible companion views, objects per view.

A multi-view key is ``(views, ids, positions, *extra)``: ``views`` are image-record indices with
the primary view first, ``ids`` the objects in the order the task draws them and ``positions``
the place in ``views`` of the image each object is marked in (the sample's ``*_img_idx``).
Companion views share at least one visible object with the primary view, so the views overlap
(the co-visibility SPAR asks of its multi-view samples).
"""

from __future__ import annotations

from typing import Any, ClassVar
from weakref import WeakKeyDictionary

import numpy as np

from spar3d.tasks.base import Reject, SceneView, Task
from spar3d.tasks.common import bbox_marker, object_quantities, point_marker
from spar3d.tasks.markers import Markers

MVKey = tuple[Any, ...]
_COVISIBLE: WeakKeyDictionary[SceneView, list[list[int]]] = WeakKeyDictionary()
_OBJECT_VIEWS: WeakKeyDictionary[SceneView, dict[int, list[int]]] = WeakKeyDictionary()


def object_views(scene: SceneView) -> dict[int, list[int]]:
    """Images that see each object, ascending, by object id (cached per scene)."""
    table = _OBJECT_VIEWS.get(scene)
    if table is None:
        table = {}
        for i in range(len(scene.index.images)):
            for o in scene.visible_ids(i):
                table.setdefault(o, []).append(i)
        _OBJECT_VIEWS[scene] = table
    return table


def covisible(scene: SceneView, i: int) -> list[int]:
    """Images other than ``i`` that see at least one object ``i`` sees, ascending (cached)."""
    table = _COVISIBLE.get(scene)
    if table is None:
        sets = [set(scene.visible_ids(j)) for j in range(len(scene.index.images))]
        table = [
            [j for j in range(len(sets)) if j != a and sets[a] & sets[j]] for a in range(len(sets))
        ]
        _COVISIBLE[scene] = table
    return table[i]


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
    tries: int = 10,
) -> MVKey | None:
    """Views and ``k`` distinct objects, each visible in the view it is marked in.

    Args:
        k: Number of objects.
        primary_ok: Whether an object may be marked in the primary view.
        spread: With ``k >= 2``, whether the objects must be marked in at least two views.
        centre_inside: Draw only objects a point marker can be placed on in the view (a usable
            visible pixel; drawing them directly saves rejected attempts).

    Returns:
        ``(views, ids, positions)``; ``ids`` is empty when ``tries`` draws found no objects
        (:func:`unpack` rejects it); None when the scene has no co-visible images.
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
        for pos in positions:
            pool = [
                o
                for o in scene.visible_ids(views[pos])
                if o not in ids and (not centre_inside or _centre_inside(scene, views[pos], o))
            ]
            if not pool:
                break
            ids.append(pool[int(rng.integers(len(pool)))])
        if len(ids) == k:
            return (views, tuple(ids), tuple(positions))
    return (views, (), ())


def _centre_inside(scene: SceneView, image: int, obj: int) -> bool:
    return scene.visible(image, obj).marker_uv is not None


def unpack(key: MVKey) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """``(views, ids, positions)`` of a key, or ``Reject("too_few_objects")``."""
    views, ids, positions = key[:3]
    if not ids:
        raise Reject("too_few_objects")
    return views, ids, positions


def point_markers(
    scene: SceneView, views: tuple[int, ...], pairs: list[tuple[str, int, int]]
) -> Markers:
    """Point markers ``(colour, object id, position)`` in the views they belong to."""
    m = Markers()
    for color, obj, pos in pairs:
        m.point(color, point_marker(scene, views[pos], obj), pos, obj=obj)
    return m


def bbox_markers(
    scene: SceneView, views: tuple[int, ...], pairs: list[tuple[str, int, int]]
) -> Markers:
    """Box markers ``(colour, object id, position)`` in the views they belong to."""
    m = Markers()
    for color, obj, pos in pairs:
        m.bbox(color, bbox_marker(scene, views[pos], obj), pos, obj=obj)
    return m


def mv_quantities(
    scene: SceneView, views: tuple[int, ...], ids: tuple[int, ...], positions: tuple[int, ...]
) -> dict[str, Any]:
    """Provenance shared by the MV tasks: objects with their centres in the PRIMARY frame."""
    return {
        "primary_image": int(views[0]),
        "marked_in": [int(p) for p in positions],
        "objects": object_quantities(scene, views[0], ids),
    }


class MVTask(Task):
    """A task whose samples hold ``min_views``..``max_views`` images, the primary view first."""

    defaults: ClassVar[dict[str, float]] = {"min_views": 2, "max_views": 3}

    def n_views(self) -> tuple[int, int]:
        lo, hi = int(self.params["min_views"]), int(self.params["max_views"])
        if not 2 <= lo <= hi <= 5:
            raise ValueError(f"task {self.spec.name}: need 2 <= min_views <= max_views <= 5")
        return lo, hi

    def draw(self, scene: SceneView, rng: np.random.Generator, k: int, **kw: Any) -> MVKey | None:
        return draw_marked(scene, rng, k, *self.n_views(), **kw)
