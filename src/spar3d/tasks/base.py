"""The task engine: a base class that owns the sampling loop, and the types a task returns.

How a task is written
=====================

A task is a subclass of :class:`Task` registered in :data:`spar3d.tasks.registry.TASKS` with
:func:`spar3d.tasks.registry.register_task`. It declares a :class:`TaskSpec` (name, version, views,
relation, formats, markers, placeholders; its benchmark level and metric are read from
:mod:`spar3d.task_table`) and implements only two methods:

* ``propose(scene, rng) -> tuple | None`` -- draw ONE random candidate with the given
  ``numpy.random.Generator`` and return a hashable key (image indices and object ids; tasks that
  draw objects in views use the one shape ``(views, ids, positions, *extra)`` of
  :mod:`spar3d.tasks.views`, whose strategies draw one image, co-visible views or the scene's
  video). The key de-duplicates samples: a key already used for this
  (scene, task) is rejected as ``"duplicate"``. Return ``None`` only when the scene cannot supply
  any candidate at all (for instance no image sees two objects); the loop then stops.
* ``compute(scene, key) -> Facts`` -- turn the candidate into answer quantities using the 3D
  ground truth, or ``raise Reject("reason")`` (e.g. ``"2d_boxes_overlap"``, ``"depth_too_close"``,
  ``"3d_boxes_overlap"``, ``"pitch_too_steep"``, ``"relation_indistinguishable"``). Rejections are
  counted per reason in :class:`TaskStats`.

The naming rules hold for every task because the loop checks every accepted candidate
(:func:`check_named_objects`): no catch-all label is named, and an object named without a marker
is the only one of its label among the objects noticeable in the sample's images. Point markers
come from ``spar3d.tasks.common.point_marker``, which puts them on the object's visible surface
(``Reject("marker_not_visible")`` otherwise). Markers say which object they mark (``obj=``).

Everything else -- seeding, the attempt budget, de-duplication, assigning formats round-robin,
choosing template paraphrases, multiple-choice options, judge true/false balance, sample ids,
marker fields and the ``meta`` provenance block -- is done here, identically for every task.

:class:`Facts` carries:

* ``images`` -- image-record indices used by the sample, primary view first (one for ``S`` tasks,
  several for ``MV``/``V`` tasks; ``image_dir`` says ``image_color`` or ``video_color``);
* ``object_ids`` -- the objects involved, in the order the task draws them;
* ``values`` -- placeholder values for the templates, already formatted as text
  (``{"label_A": "chair", "depth_A": "1.5"}``);
* ``markers`` -- a :class:`spar3d.tasks.markers.Markers` builder; each marker names its colour,
  kind (point / bbox / list) and the position of its image in ``images`` (``img_idx``), which is
  written as ``point_img_idx`` / ``bbox_img_idx`` for multi-image samples;
* ``answer`` -- what the question asks for, one of :class:`NumericAnswer` (a number; ``select``
  gets plausible numeric distractors), :class:`ChoiceAnswer` (a word or phrase with distractor
  candidates: names, relation triples) and optionally ``judge`` (:class:`JudgeFacts`: placeholder
  values of a true and of a false statement, or a list of them from which one is drawn);
* ``quantities`` -- the raw numbers behind the answer (depths, distances, camera-frame
  coordinates, relation words), copied into ``meta.quantities`` for provenance.

The sample dict (docs/formats.md §1, plus ``meta``)::

    {"id": "<scene>_<n>",
     "conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}],
     "image": ["<scene>/image_color/<frame>.jpg", ...],
     "type": "<task name>",
     "red_point": [[x, y]], ..., "point_img_idx": [[...]] (multi-image only),
     "meta": {"task", "task_version", "format", "template_id", "scene", "source", "frames",
              "image_indices", "object_ids", "seed", "task_seed", "quantities",
              "options" and "correct_option" (select), "judge_truth" (judge)}}

Questions carry no ``<image>`` token, as in SPAR-7M: a training loader adds image tokens itself.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, cast

import numpy as np

from spar3d.errors import ConfigError
from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject
from spar3d.task_table import task_row
from spar3d.tasks.markers import COLORS, Markers
from spar3d.tasks.options import OptionSet, choice_options, numeric_options
from spar3d.tasks.params import TaskParams, params_from_defaults
from spar3d.tasks.templates import TemplateBank, load_templates

Format = Literal["fill", "select", "sentence", "judge"]
FORMATS: tuple[str, ...] = ("fill", "select", "sentence", "judge")
VIEWS: tuple[str, ...] = ("S", "MV", "V")
RELATIONS: tuple[str, ...] = ("OC", "OO", "-")
T = TypeVar("T")


class Reject(Exception):
    """Raised by :meth:`Task.compute` to drop a candidate; ``reason`` is a short snake_case tag."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TaskSpec:
    """What a task is, as listed by ``spar3d tasks`` and docs/tasks.md.

    Attributes:
        name: Task type, the ``type`` field of its samples (``depth_prediction_oc``).
        version: Bumped whenever the geometry or the wording of the task changes.
        views: ``"S"`` one image, ``"MV"`` 2-5 images, ``"V"`` a frame sequence.
        relation: ``"OC"`` object-camera, ``"OO"`` object-object, ``"-"`` neither.
        formats: Formats the task produces, a subset of fill/select/sentence/judge.
        markers: Marker fields its samples carry (``("red_point", "blue_point")``).
        placeholders: Template placeholders the task fills (besides ``options`` / ``letters``).
        description: One line: what is asked and how the answer is computed.
    """

    name: str
    version: int
    views: str
    relation: str
    formats: tuple[str, ...]
    markers: tuple[str, ...]
    placeholders: tuple[str, ...]
    description: str

    def __post_init__(self) -> None:
        bad = [f for f in self.formats if f not in FORMATS]
        if bad or not self.formats:
            raise ValueError(f"task {self.name!r}: formats {self.formats} (allowed: {FORMATS})")
        if self.views not in VIEWS:
            raise ValueError(f"task {self.name!r}: views {self.views!r} not in {VIEWS}")
        if self.relation not in RELATIONS:
            raise ValueError(f"task {self.name!r}: relation {self.relation!r} not in {RELATIONS}")

    @property
    def bench_level(self) -> str | None:
        """Benchmark level (``"Low"``, ``"Medium"``, ``"High"``) from :mod:`spar3d.task_table`."""
        row = task_row(self.name)
        return row.level if row is not None else None

    @property
    def metric(self) -> str | None:
        """Benchmark metric (``"MRA"``, ``"Acc"``, ``"VCI"``) from :mod:`spar3d.task_table`."""
        row = task_row(self.name)
        return row.metric if row is not None else None


@dataclass(frozen=True)
class NumericAnswer:
    """A numeric answer shown with ``decimals`` decimals.

    Attributes:
        value: The exact value (before rounding).
        decimals: Decimals in the answer text and in every option.
        minimum: Smallest value a distractor may take (e.g. one rounding unit for distances).
    """

    value: float
    decimals: int = 1
    minimum: float | None = None

    @property
    def text(self) -> str:
        return f"{round(self.value, self.decimals):.{self.decimals}f}"


@dataclass(frozen=True)
class ChoiceAnswer:
    """A categorical answer: ``correct`` plus candidate wrong answers for ``select``.

    Attributes:
        correct: Answer text (a name, a relation triple "left, , behind", ...).
        distractors: Wrong answers to draw options from; must differ from ``correct``.
    """

    correct: str
    distractors: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.correct


@dataclass(frozen=True)
class JudgeFacts:
    """Placeholder values making the judge statement true, and values making it false."""

    true_values: dict[str, str]
    false_values: dict[str, str]


@dataclass
class Facts:
    """What :meth:`Task.compute` returns for an accepted candidate (see the module docstring)."""

    images: list[int]
    object_ids: list[int]
    values: dict[str, str]
    answer: NumericAnswer | ChoiceAnswer
    markers: Markers = field(default_factory=Markers)
    quantities: dict[str, Any] = field(default_factory=dict)
    judge: JudgeFacts | list[JudgeFacts] | None = None
    image_dir: str = "image_color"


@dataclass
class TaskStats:
    """Counters of one task over one or more scenes."""

    generated: Counter[str] = field(default_factory=Counter)  # per format
    rejected: Counter[str] = field(default_factory=Counter)  # per reason
    attempts: int = 0

    def merge(self, other: TaskStats) -> None:
        self.generated.update(other.generated)
        self.rejected.update(other.rejected)
        self.attempts += other.attempts

    @property
    def total(self) -> int:
        return sum(self.generated.values())


def jsonable(x: Any, nd: int = 4) -> Any:
    """Provenance values as plain JSON: floats rounded to ``nd`` decimals, numpy unwrapped."""
    if isinstance(x, dict):
        return {str(k): jsonable(v, nd) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [jsonable(v, nd) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return round(float(x), nd)
    return x


def derive_seed(seed: int, scene_id: str, task_name: str) -> int:
    """A 63-bit seed from (global seed, scene, task), stable across runs and Python versions."""
    digest = hashlib.blake2b(f"{seed}\x1f{scene_id}\x1f{task_name}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") >> 1


class SceneView:
    """A :class:`SceneIndex` with the per-scene derived tables every task shares.

    It owns every cache derived from one scene: camera-frame centres, visible and noticeable ids
    per image, label uniqueness, and the tables a view strategy builds once per scene (the
    co-visibility lists, the images that see each object, the scene's video; see
    :meth:`derived`). Tasks keep no per-scene state of their own.

    Attributes:
        index: The scene index.
        objects: Object records by id.
    """

    def __init__(self, index: SceneIndex) -> None:
        from spar3d.index.builder import CATCH_ALL_LABELS

        self.index = index
        self.objects: dict[int, ObjectRecord] = index.objects_by_id()
        catch_all = index.params.get("catch_all_labels", CATCH_ALL_LABELS)
        self.catch_all: frozenset[str] = frozenset(str(x).lower() for x in catch_all)
        self._nameable = {o: r.label.lower() not in self.catch_all for o, r in self.objects.items()}
        self._ids = np.array(sorted(self.objects), dtype=np.int64)
        self._row = {int(o): i for i, o in enumerate(self._ids)}
        self._centers_world = (
            np.stack([self.objects[int(o)].center for o in self._ids])
            if len(self._ids)
            else np.zeros((0, 3))
        )
        self._visible = [im.visible_by_id() for im in index.images]
        # question subjects: visible and nameable (catch-all objects are seen but never named)
        self._visible_ids = [sorted(o for o in v if self._nameable.get(o, False))
                             for v in self._visible]  # fmt: skip
        # every visible object is noticeable too (hand-built indexes may list only those)
        self._noticeable = [frozenset(im.noticeable).union(v) for im, v in
                            zip(index.images, self._visible, strict=True)]  # fmt: skip
        self._centers_cam: dict[int, np.ndarray] = {}
        self._unique: dict[tuple[int, ...], frozenset[int]] = {}
        self._images_cache: dict[tuple[str, int], list[int]] = {}
        self._T_cam_world: dict[int, np.ndarray] = {}
        self._derived: dict[Hashable, Any] = {}

    def derived(self, key: Hashable, build: Callable[[SceneView], T]) -> T:
        """The per-scene table ``key``, built by ``build(self)`` on first use and kept with this
        scene (e.g. ``("covisible",)`` or ``("video", 32, 4)``): one cache for every task."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return cast(T, self._derived[key])

    @property
    def scene_id(self) -> str:
        return self.index.scene_id

    def image(self, i: int) -> ImageRecord:
        return self.index.images[i]

    def visible_ids(self, i: int) -> list[int]:
        """Ids of the nameable objects visible in image ``i`` (question subjects), ascending."""
        return self._visible_ids[i]

    def nameable(self, object_id: int) -> bool:
        """Whether the object's label may be named (it is not a catch-all label)."""
        return self._nameable.get(object_id, False)

    def unique_label_ids(self, images: list[int] | tuple[int, ...]) -> frozenset[int]:
        """Ids of the objects noticeable in ``images`` whose label no other object noticeable
        there has: the objects a question may name without a marker."""
        key = tuple(images)
        out = self._unique.get(key)
        if out is None:
            seen = self.noticeable_ids(images)
            count = Counter(self.objects[o].label for o in seen if o in self.objects)
            out = frozenset(o for o in seen if o in self.objects and count[self.objects[o].label] == 1)
            if len(self._unique) < 4096:
                self._unique[key] = out
        return out

    def noticeable_ids(self, images: list[int] | tuple[int, ...]) -> frozenset[int]:
        """Ids of every object with a noticeable visible part in any of ``images``."""
        if len(images) == 1:
            return self._noticeable[images[0]]
        return frozenset().union(*(self._noticeable[i] for i in images))

    def visible(self, i: int, object_id: int) -> VisibleObject:
        return self._visible[i][object_id]

    def T_cam_world(self, i: int) -> np.ndarray:
        """``(4, 4)`` world-to-camera transform of image ``i``."""
        T = self._T_cam_world.get(i)
        if T is None:
            from spar3d.geometry.transforms import invert_pose

            T = invert_pose(self.index.images[i].T_world_cam)
            self._T_cam_world[i] = T
        return T

    def center_cam(self, i: int, object_id: int) -> np.ndarray:
        """``(3,)`` centre of an object in the camera frame of image ``i``."""
        C = self._centers_cam.get(i)
        if C is None:
            T = self.T_cam_world(i)
            C = self._centers_world @ T[:3, :3].T + T[:3, 3]
            self._centers_cam[i] = C
        return np.asarray(C[self._row[object_id]])

    def images_with(self, min_visible: int, unique_labels: bool = False) -> list[int]:
        """Indices of the images that see at least ``min_visible`` objects (with
        ``unique_labels``: objects whose label is unique among those noticeable there)."""
        key = ("unique" if unique_labels else "all", min_visible)
        out = self._images_cache.get(key)  # asked once per candidate: cached per scene
        if out is None:
            out = [
                i
                for i, ids in enumerate(self._visible_ids)
                if len(ids) >= min_visible
                and (
                    not unique_labels
                    or sum(o in self.unique_label_ids([i]) for o in ids) >= min_visible
                )
            ]
            self._images_cache[key] = out
        return out


def check_named_objects(scene: SceneView, facts: Facts, *, label_is_subject: bool = False) -> None:
    """The naming rules every sample obeys, checked once for every task (``Task.generate``).

    * No object with a catch-all label (``otherprop``, ``object``, ...: the index's
      ``catch_all_labels``) is named: ``Reject("catch_all_label")``.
    * An object named without a marker is the only object with its label among every object
      with a noticeable visible part in the sample's images (``ImageRecord.noticeable``), and no
      other object of the sample shares its label: ``Reject("ambiguous_label")``.

    ``label_is_subject`` (counting questions: the label itself is asked about) skips the second
    rule.
    """
    ids = facts.object_ids
    if not ids:
        return
    objs = scene.objects
    if any(not scene.nameable(o) for o in ids):
        raise Reject("catch_all_label")
    if label_is_subject:
        return
    marked = facts.markers.objects
    if facts.markers.unattributed:  # markers without ids: assume they mark the first objects
        marked = {**marked, **{o: "" for o in ids[: facts.markers.unattributed]}}
    named_only = [o for o in ids if o not in marked]
    if not named_only:
        return
    seen = scene.noticeable_ids(facts.images)
    for o in named_only:
        label = objs[o].label
        if any(objs[x].label == label for x in ids if x != o):
            raise Reject("ambiguous_label")
        if any(x != o and x in objs and objs[x].label == label for x in seen):
            raise Reject("ambiguous_label")


ROLE_LETTERS = "ABCD"  # label_A .. label_D name object_ids[0..3]


def _answer_values(facts: Facts, values: dict[str, str]) -> dict[str, str] | None:
    """Values for a sentence answer in which two marked objects share a label: each such
    ``label_X`` keeps its marker ("the chair (blue point)"), so the answer says which is meant."""
    marked = facts.markers.objects
    roles = [
        (f"label_{ROLE_LETTERS[i]}", o)
        for i, o in enumerate(facts.object_ids[: len(ROLE_LETTERS)])
        if f"label_{ROLE_LETTERS[i]}" in values and (marked.get(o) or "-").split()[0] in COLORS
    ]
    seen = Counter(values[k] for k, _ in roles)
    out = {k: f"{values[k]} ({marked[o]})" for k, o in roles if seen[values[k]] > 1}
    return {**values, **out} if out else None


class Task:
    """Base class of every task (see the module docstring for the contract).

    Class attributes:
        spec: The :class:`TaskSpec`.
        Params: The task's parameters, a frozen :class:`spar3d.tasks.params.TaskParams`
            dataclass (types, defaults, ranges checked when made); ``self.params`` is one.
        defaults: Every parameter's default by name, derived from ``Params`` (a third-party task
            may declare a plain ``defaults`` dict instead: ``Params`` is then made from it).
        center_note: Whether questions end with SPAR's "Calculate or judge based on the 3D center
            points of these objects." sentence.
        max_duplicate_streak: The loop stops after this many consecutive duplicate candidates
            (the scene's candidates are used up).
        requires: Inputs beyond a plain scene index the task needs (e.g. ``("rxr",)`` for
            navigation instructions). The registry-wide contract test, whose fixture is a plain
            index, skips tasks that declare a requirement; such tasks bring their own tests.
        templates_package: Package whose ``templates/<task>.yaml`` holds the template bank
            (a third-party task names its own package).
        label_is_subject: The question asks about a label itself (counting), not about one
            object of it: the uniqueness rule of :func:`check_named_objects` does not apply.
        names_by_expression: The task names its object by a referring expression it proves
            unambiguous over the whole scene, or by a human description (3D grounding), never by
            a bare label: :func:`check_named_objects` does not apply (the task keeps catch-all
            objects out itself).

    Args:
        params: A ``Params`` instance, or overrides of its defaults by name (an unknown name or
            a value out of range raises :class:`spar3d.errors.ConfigError`).
        max_attempts_per_sample: Attempt budget per requested sample before giving up.
    """

    spec: ClassVar[TaskSpec]
    Params: ClassVar[type[TaskParams]] = TaskParams
    defaults: ClassVar[dict[str, Any]] = {}
    center_note: ClassVar[bool] = True
    max_duplicate_streak: ClassVar[int] = 300
    requires: ClassVar[tuple[str, ...]] = ()
    templates_package: ClassVar[str] = "spar3d.tasks"  # its templates/<name>.yaml holds the bank
    label_is_subject: ClassVar[bool] = False
    names_by_expression: ClassVar[bool] = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "defaults" in cls.__dict__ and "Params" not in cls.__dict__:  # a plain dict declared
            cls.Params = params_from_defaults(f"{cls.__name__}Params", cls.defaults, cls.__module__)
        cls.defaults = cls.Params.defaults()

    def __init__(
        self,
        params: TaskParams | Mapping[str, Any] | None = None,
        max_attempts_per_sample: int = 40,
    ) -> None:
        if isinstance(params, TaskParams):
            if not isinstance(params, self.Params):
                raise ConfigError(
                    f"task {self.spec.name}: parameters {type(params).__name__}, expected "
                    f"{self.Params.__name__}"
                )
            self.params: Any = params
        else:
            unknown = set(params or {}) - set(self.defaults)
            if unknown:
                raise ConfigError(
                    f"task {self.spec.name}: unknown parameter(s) {sorted(unknown)}; it declares "
                    f"{sorted(self.defaults) or 'none'}"
                )
            try:
                self.params = self.Params(**(params or {}))
            except ConfigError as exc:
                raise ConfigError(f"task {self.spec.name}: {exc}") from None
        # parameters set by the user (recorded in each sample's meta; every field enters the
        # resume fingerprint)
        self.overrides: dict[str, Any] = self.params.overrides()
        self.max_attempts_per_sample = max_attempts_per_sample
        self.templates: TemplateBank = load_templates(
            self.spec.name, self.spec.formats, self.spec.placeholders, self.templates_package
        )

    def input_files(self) -> Sequence[str | Path]:
        """Files outside the scene index this task reads (e.g. given by an environment
        variable); their content is part of the resume fingerprint of ``spar3d generate``."""
        return ()

    # -- to implement -------------------------------------------------------------------------
    def propose(self, scene: SceneView, rng: np.random.Generator) -> Hashable | None:
        """Draw one random candidate key, or None when the scene has no candidate at all."""
        raise NotImplementedError

    def compute(self, scene: SceneView, key: Any) -> Facts:
        """Answer quantities of a candidate, or ``raise Reject(reason)``."""
        raise NotImplementedError

    # -- the loop -----------------------------------------------------------------------------
    def generate(
        self, index: SceneIndex | SceneView, n: int, seed: int
    ) -> tuple[list[dict[str, Any]], TaskStats]:
        """Up to ``n`` samples from one scene, formats assigned round-robin in spec order.

        Deterministic: the same index, ``n`` and ``seed`` give the same samples.
        """
        scene = index if isinstance(index, SceneView) else SceneView(index)
        task_seed = derive_seed(seed, scene.scene_id, self.spec.name)
        rng = np.random.default_rng(task_seed)
        stats = TaskStats()
        samples: list[dict[str, Any]] = []
        seen: set[Hashable] = set()
        judge_parity = int(rng.integers(2))
        budget = self.max_attempts_per_sample * n + 100
        streak = 0  # consecutive duplicates: a long run means the candidates are used up
        while len(samples) < n and stats.attempts < budget and streak < self.max_duplicate_streak:
            stats.attempts += 1
            key = self.propose(scene, rng)
            if key is None:
                stats.rejected["no_candidate"] += 1
                break
            if key in seen:
                stats.rejected["duplicate"] += 1
                streak += 1
                continue
            streak = 0
            seen.add(key)
            try:
                facts = self.compute(scene, key)
                if not self.names_by_expression:
                    check_named_objects(scene, facts, label_is_subject=self.label_is_subject)
            except Reject as rej:
                stats.rejected[rej.reason] += 1
                continue
            fmt = self.spec.formats[len(samples) % len(self.spec.formats)]
            truth = None
            if fmt == "judge":
                truth = (judge_parity + stats.generated["judge"]) % 2 == 0
            sample = self._build(scene, facts, fmt, rng, len(samples), seed, task_seed, truth)
            samples.append(sample)
            stats.generated[fmt] += 1
        return samples, stats

    # -- building one sample ------------------------------------------------------------------
    def _build(
        self,
        scene: SceneView,
        facts: Facts,
        fmt: str,
        rng: np.random.Generator,
        n: int,
        seed: int,
        task_seed: int,
        truth: bool | None,
    ) -> dict[str, Any]:
        values = dict(facts.values)
        meta_extra: dict[str, Any] = {}
        answer_text = facts.answer.text
        if fmt == "select":
            opts = self._options(facts, rng)
            values["options"] = opts.text()
            values["letters"] = opts.letters_text()
            answer_text = opts.correct_letter
            meta_extra = {"options": opts.options, "correct_option": opts.correct_letter}
        elif fmt == "judge":
            if facts.judge is None:
                raise RuntimeError(f"task {self.spec.name}: judge format needs Facts.judge")
            judge = facts.judge
            if isinstance(judge, list):  # several statements possible: draw one
                judge = judge[int(rng.integers(len(judge)))]
            values.update(judge.true_values if truth else judge.false_values)
            meta_extra = {"judge_truth": bool(truth)}
        values["answer"] = answer_text
        question, answer, template_id = self.templates.render(
            fmt, values, rng, center_note=self.center_note, judge_truth=truth,
            answer_values=_answer_values(facts, values) if fmt == "sentence" else None,
        )  # fmt: skip
        if fmt == "select":
            answer = answer_text
        im0 = [scene.image(i) for i in facts.images]
        sample: dict[str, Any] = {
            "id": f"{scene.scene_id}_{n}",
            "conversations": [
                {"from": "human", "value": question},
                {"from": "gpt", "value": answer},
            ],
            "image": [f"{scene.scene_id}/{facts.image_dir}/{im.frame_id}.jpg" for im in im0],
            "type": self.spec.name,
        }
        sample.update(facts.markers.to_fields(multi_image=self.spec.views != "S"))
        sample["meta"] = {
            "task": self.spec.name,
            "task_version": self.spec.version,
            "format": fmt,
            "template_id": template_id,
            "scene": scene.scene_id,
            "source": scene.index.source,
            "frames": [im.frame_id for im in im0],
            "image_indices": [int(i) for i in facts.images],
            "object_ids": [int(o) for o in facts.object_ids],
            "seed": int(seed),
            "task_seed": int(task_seed),
            "quantities": jsonable(facts.quantities),
            **meta_extra,
        }
        if self.overrides:
            sample["meta"]["task_params"] = dict(self.overrides)
        if facts.markers.objects:  # which object each marker marks
            sample["meta"]["marked"] = {str(o): w for o, w in facts.markers.objects.items()}
        if facts.markers.point_objects:  # where each point was drawn, beside the true centre
            placed = []
            for obj, pos, fld, elem in facts.markers.point_objects:
                vis = scene.visible(facts.images[pos], obj)
                placed.append({
                    "object_id": obj,
                    "field": fld,
                    "element": elem,
                    "image": pos,
                    "center_uv": [round(float(x), 1) for x in vis.center_uv],
                    "drawn_uv": [round(float(x), 1) for x in vis.marker_uv or vis.center_uv],
                })  # fmt: skip
            sample["meta"]["point_markers"] = placed
        return sample

    def _options(self, facts: Facts, rng: np.random.Generator) -> OptionSet:
        ans = facts.answer
        if isinstance(ans, NumericAnswer):
            return numeric_options(ans.value, rng, decimals=ans.decimals, minimum=ans.minimum)
        return choice_options(ans.correct, list(ans.distractors), rng)
