"""The checks: each looks at one :class:`~spar3d.verify.inputs.Item` and returns :class:`Flag` s.

Every check is a second computation, written here from the scene's annotation (3D boxes,
poses, intrinsics) and its depth images, never by calling the task that generated the sample.
The flags, what each compares and its tolerance are listed in ``docs/verify.md``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spar3d.task_table import verify_rule
from spar3d.verify.depth import F64, SceneDepth, in_box, ray_box_interval, support
from spar3d.verify.inputs import Item

COLORS = ("red", "blue", "green", "yellow")
FLAGS: dict[str, str] = {
    "marker_off_object": "the surface under a point marker is not inside the named object's box",
    "no_depth_at_marker": "the depth image has no reading under a point marker",
    "bbox_mismatch": "a box marker does not frame the named object's visible pixels",
    "not_visible": "a named object has (almost) no visible pixels in the depth images",
    "label_mismatch": "the label next to a marker is not the label of any object of the sample",
    "answer_mismatch": "the answer differs from the value recomputed from the 3D boxes",
    "depth_map_disagrees": "a depth/distance answer is off the depth map beyond the tolerance",
    "fragile": "the answer flips under a few cm of centre noise or a small threshold move",
    "ambiguous_label": "a label named without a marker fits several visible objects",
    "unfilled_placeholder": "the question or answer still holds a template placeholder",
    "options_invalid": "the options do not contain the answer exactly once (or cannot be read)",
    "marker_invalid": "a marker field is malformed or points at a missing image",
}
# tasks whose text names a category on purpose (counting), or words that are not object names
LABEL_CHECK_SKIP = frozenset({"obj_count", "nav_video", "room_size"})


@dataclass(frozen=True)
class VerifyParams:
    """Tolerances of the checks (stored in the summary; defaults documented in docs/verify.md).

    Attributes:
        margin_m: Boxes are grown by this much for inside tests (annotation slack, sensor noise).
        marker_depth_tol_m: Extra slack on the marker surface depth, plus ``1 %`` of the depth.
        min_visible_fraction: An object is visible in a view when at least this fraction of the
            depth grid sees it.
        depth_tol_m: Absolute tolerance of depth/distance answers against the depth map.
        depth_tol_rel: Relative tolerance (of the depth-map value) added to ``depth_tol_m``.
        answer_tol_extra: Slack beyond half a unit of the answer's last decimal.
        noise_m: Centre noise per object for the fragility test.
        threshold_shift_m: How far the relation threshold is moved for the fragility test.
        relation_threshold_m: The relation threshold (SPAR: 0.1 m).
        bbox_min_inside: Least fraction of the object's visible pixels inside its box marker.
    """

    margin_m: float = 0.05
    marker_depth_tol_m: float = 0.03
    min_visible_fraction: float = 0.0005
    depth_tol_m: float = 0.10
    depth_tol_rel: float = 0.05
    answer_tol_extra: float = 0.011
    noise_m: float = 0.02
    threshold_shift_m: float = 0.01
    relation_threshold_m: float = 0.1
    bbox_min_inside: float = 0.5


@dataclass
class Flag:
    """One finding: which sample, which flag, and the numbers behind it."""

    key: str
    flag: str
    task: str
    format: str
    scene: str
    sample_id: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "sample_id": self.sample_id,
            "task": self.task,
            "format": self.format,
            "scene": self.scene,
            "flag": self.flag,
            "evidence": _round(self.evidence),
        }


def _round(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return round(float(x), 4)
    if isinstance(x, np.integer):
        return int(x)
    return x


# -- text ---------------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|\{\}|\bNone\b|\bnan\b")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def placeholder_flags(item: Item) -> list[dict[str, Any]]:
    out = []
    for where, text in (("question", item.question), ("answer", item.answer)):
        m = PLACEHOLDER.search(text)
        if m:
            out.append({"where": where, "text": m.group(), "at": m.start()})
    return out


def parse_options(question: str) -> list[tuple[str, str]] | None:
    """``[(letter, text), ...]`` of the options written in the question, or None if there are none.

    Options are written ``A. text; B. text; ...`` and end at the first ``". "`` after the last.
    """
    start = re.search(r"(?:^|\s)A\.\s", question)
    if start is None:
        return None
    body = question[start.end() - 3 :].lstrip()
    parts = re.split(r";\s(?=[B-H]\.\s)", body)
    out = []
    for n, part in enumerate(parts):
        letter = chr(ord("A") + n)
        if not part.startswith(f"{letter}. "):
            return None
        text = part[3:]
        if n == len(parts) - 1:
            end = re.search(r"\.(?:\s|$)", text)
            text = text[: end.start()] if end else text
        out.append((letter, text.strip()))
    return out


def _same_option(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def option_flags(item: Item) -> tuple[dict[str, Any] | None, str | None]:
    """For ``select``: a problem with the options (or None) and the gold option's text."""
    opts = parse_options(item.question)
    if not opts:
        meta_opts = item.meta.get("options")
        if isinstance(meta_opts, list) and meta_opts:
            opts = [(chr(ord("A") + i), str(t)) for i, t in enumerate(meta_opts)]
        else:
            return {"reason": "no options found in the question"}, None
    letter = item.answer.strip()[:1].upper()
    texts = dict(opts)
    if letter not in texts:
        return {"reason": "answer letter not among the options", "letter": letter}, None
    gold = texts[letter]
    count = sum(_same_option(t, gold) for _, t in opts)
    if count != 1:
        return {"reason": "answer text appears more than once", "count": count, "text": gold}, gold
    return None, gold


MARKER_PHRASE = re.compile(
    r"\b(?:(?P<c1>red|blue|green|yellow)\s+(?:bounding\s+)?(?P<k1>point|dot|bbox|box)"
    r"|(?P<k2>point|dot|bbox|box|boxed|marked|circled)\s+in\s+(?P<c2>red|blue|green|yellow))\b",
    re.I,
)
# words for the room itself, used as references ("the camera's floor position"), not as objects
STRUCTURE_LABELS = frozenset({"floor", "wall", "ceiling"})


def _not_names() -> frozenset[str]:
    """Labels that are never object names in a question: room structure and the catch-all
    labels of annotations (``object``, ``otherprop``: "3D center points of these objects")."""
    from spar3d.index.builder import CATCH_ALL_LABELS

    return STRUCTURE_LABELS | frozenset(x.lower() for x in CATCH_ALL_LABELS)


NOT_NAMES = _not_names()


def label_spans(question: str, labels: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Where each label occurs as whole words; longer labels claim their words first."""
    low = question.lower()
    taken = np.zeros(len(low) + 1, dtype=bool)
    for m in MARKER_PHRASE.finditer(question):  # "red box" names a marker, not a box
        taken[m.start() : m.end()] = True
    for m in re.finditer(r"bounding box(?:es)?|\bboxed\b|\bboxes\b", low):
        taken[m.start() : m.end()] = True
    out: dict[str, list[tuple[int, int]]] = {}
    for lab in sorted(set(labels), key=len, reverse=True):
        pat = re.compile(rf"(?<![a-z0-9]){re.escape(lab.lower())}(?:e?s)?(?![a-z0-9])")
        for m in pat.finditer(low):
            if not taken[m.start() : m.end()].any():
                taken[m.start() : m.end()] = True
                out.setdefault(lab, []).append((m.start(), m.end()))
    return out


LIST_NAME = re.compile(r"\bobject(?:[A-Z]|\d+)\b")
SENTENCE_END = re.compile(r"[.?!](?:\s|$)")


def _clause(question: str, start: int, end: int, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The text around ``[start, end)`` up to the neighbouring label mentions or sentence ends."""
    lo = max([e for s, e in spans if e <= start] + [0])
    hi = min([s for s, e in spans if s >= end] + [len(question)])
    for stop in SENTENCE_END.finditer(question, lo, start):
        lo = stop.end()
    nxt = SENTENCE_END.search(question, end, hi)
    return lo, (nxt.start() if nxt else hi)


def attached_marker(question: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a label mention has a marker of its own: a colour marker phrase or a list name
    (``object0``) between it and the neighbouring label mentions, in the same sentence."""
    lo, hi = _clause(question, start, end, spans)
    text = question[lo:hi]
    return bool(MARKER_PHRASE.search(text) or LIST_NAME.search(text))


def marker_labels(question: str, labels: list[str]) -> dict[tuple[str, str], str]:
    """``{(colour, kind): label}``: the label the question writes for each colour marker.

    ``the chair (red point)``, ``(the chair, red bbox)``, ``the chair is marked with a red
    point`` and ``the red box ... outlines the chair`` all name the chair.
    """
    spans = label_spans(question, labels)
    flat = sorted((s, e, lab) for lab, where in spans.items() for s, e in where)
    out: dict[tuple[str, str], str] = {}
    for m in MARKER_PHRASE.finditer(question):
        color = (m.group("c1") or m.group("c2")).lower()
        kind = "point" if (m.group("k1") or m.group("k2")).lower() in ("point", "dot") else "bbox"
        before = [(s, e, lab) for s, e, lab in flat if e <= m.start()]
        after = [(s, e, lab) for s, e, lab in flat if s >= m.end()]
        sent_lo = max([x.end() for x in SENTENCE_END.finditer(question, 0, m.start())] + [0])
        nxt = SENTENCE_END.search(question, m.end())
        sent_hi = nxt.start() if nxt else len(question)
        pick = None
        if before and before[-1][1] >= sent_lo:
            pick = before[-1][2]
        elif after and after[0][0] <= sent_hi:
            pick = after[0][2]
        if pick is not None:
            out.setdefault((color, kind), pick)
    return out


# -- geometry -----------------------------------------------------------------------------------
def relation_words(deltas: list[float], t: float, far: tuple[str, str]) -> list[str]:
    """Left/right, above/below, far/near words of three signed differences (``""`` under ``t``)."""

    def w(d: float, pos: str, neg: str) -> str:
        return "" if abs(d) < t else (pos if d > 0 else neg)

    dx, dup, dfar = deltas
    return [w(dx, "right", "left"), w(dup, "above", "below"), w(dfar, *far)]


def fragile_margin(deltas: list[float], t: float) -> float:
    """Smallest distance of a difference to the threshold (where its word would flip)."""
    return float(min(abs(abs(d) - t) for d in deltas))


def to_cam(T_world_cam: F64, p: F64) -> F64:
    R, o = T_world_cam[:3, :3], T_world_cam[:3, 3]
    return np.asarray(R.T @ (p - o), dtype=np.float64)


def decimals(text: str) -> int:
    m = NUMBER.search(text)
    if not m or "." not in m.group():
        return 0
    return len(m.group().split(".")[1])


NUMERIC_RULES = frozenset({"depth", "depth_diff", "dist_cam", "dist_oo"})


def numeric_value(kind: str, pts: dict[str, F64], T_primary: F64) -> tuple[float, F64]:
    """The quantity a numeric task asks for, from points per colour; and its sensitive direction."""
    axis = T_primary[:3, 2]
    if kind == "depth":
        return float(to_cam(T_primary, pts["blue"])[2]), axis
    if kind == "depth_diff":
        zb, zg = to_cam(T_primary, pts["blue"])[2], to_cam(T_primary, pts["green"])[2]
        return float(abs(zb - zg)), axis
    if kind == "dist_cam":
        d = pts["red"] - T_primary[:3, 3]
        return float(np.linalg.norm(d)), d
    d = pts["red"] - pts["blue"]
    return float(np.linalg.norm(d)), d


@dataclass
class Marked:
    """A colour marker resolved to the object it names."""

    color: str
    kind: str
    image: int
    coords: list[float]
    label: str | None
    object_id: int | None


class Checker:
    """Runs every check on items of one scene (``depth`` None: text checks only)."""

    def __init__(self, params: VerifyParams, depth: SceneDepth | None) -> None:
        self.p = params
        self.sd = depth

    # -- helpers --------------------------------------------------------------------------------
    def _label(self, oid: int) -> str | None:
        if self.sd is not None and oid in self.sd.objects:
            return self.sd.objects[oid].label
        return None

    def _vis(self, frame: str, oid: int) -> float | None:
        return None if self.sd is None else self.sd.visible_fraction(frame, oid)

    def resolve(self, item: Item, flags: list[tuple[str, dict[str, Any]]]) -> list[Marked]:
        """Colour markers with the label the question gives them and the object they name.

        When the sample says which object each marker marks (``meta.marked``, ``{id: "red
        point"}``), that is used and the label in the text is checked against it. Otherwise the
        label comes from the text; the object is the sample's object (``meta.object_ids``)
        with that label. When several markers carry the same label (two lamps), the objects
        are assigned to them in the way that best fits the depth images (so a swap between
        two same-label objects is not detected; any other misplacement is).
        """
        from spar3d.markers.draw import marker_placements

        try:
            placed = marker_placements(item.as_sample(), max(len(item.frames), 1))
        except ValueError as exc:
            flags.append(("marker_invalid", {"error": str(exc)}))
            return []
        ids = [int(o) for o in item.meta.get("object_ids", []) if isinstance(o, int)]
        labels = {o: self._label(o) for o in ids}
        vocab = sorted({lab for lab in labels.values() if lab})
        named = marker_labels(item.question, vocab) if vocab else {}
        out = [
            Marked(color, kind, img, list(coords), named.get((color, kind)), None)
            for img, kind, color, coords, _ in placed
            if color != "list"
        ]
        # samples that say which object each marker marks (meta.marked: {id: "red point"})
        marked = item.meta.get("marked")
        said: dict[str, int] = {}
        if isinstance(marked, dict):
            for o, what in marked.items():
                if str(o).lstrip("-").isdigit():
                    said[str(what)] = int(o)
        for m in out:
            oid = said.get(f"{m.color} {'point' if m.kind == 'point' else 'box'}")
            if oid is not None:
                m.object_id = oid
                if m.label is not None and labels.get(oid, self._label(oid)) != m.label:
                    flags.append(
                        (
                            "label_mismatch",
                            {
                                "color": m.color,
                                "label": m.label,
                                "object_id": oid,
                                "object_label": self._label(oid),
                            },
                        )
                    )
        if len(ids) == 1 and len(out) == 1 and out[0].label is None and out[0].object_id is None:
            out[0].object_id = ids[0]
        for lab in {m.label for m in out if m.label and m.object_id is None}:
            group = [m for m in out if m.label == lab and m.object_id is None]
            cands = [o for o in ids if labels[o] == lab]
            if len(cands) < len(group):
                continue  # reported as label_mismatch
            if len(cands) == 1:
                group[0].object_id = cands[0]
                continue
            best = max(
                itertools.permutations(cands, len(group)),
                key=lambda perm: sum(
                    self._fit(item, m, o) for m, o in zip(group, perm, strict=True)
                ),
            )
            for m, o in zip(group, best, strict=True):
                m.object_id = o
        return out

    def _fit(self, item: Item, m: Marked, oid: int) -> float:
        """How well a marker fits an object in the depth image (0 = not at all, 1 = fully)."""
        frame_id = self._frame(item, m.image)
        if self.sd is None or frame_id is None:
            return 0.0
        if m.kind == "point":
            hit = self._marker_surface(frame_id, m, oid)
            return 0.0 if hit is None else float(hit[0])
        return self._box_containment(frame_id, m, oid)[0]

    def _marker_surface(
        self, frame_id: str, m: Marked, oid: int
    ) -> tuple[bool, dict[str, Any]] | None:
        """Whether the surface under a point marker lies in the object's box along the ray."""
        from spar3d.markers.draw import norm1000_to_px

        assert self.sd is not None
        obj = self.sd.objects.get(oid)
        frame = self.sd.frames.get(frame_id)
        if obj is None or frame is None:
            return None
        uv = norm1000_to_px(m.coords, frame.color.width, frame.color.height)
        surf = self.sd.surface_at(frame_id, (uv[0], uv[1]))
        if surf is None:
            return None
        origin, ray, z = surf
        span = ray_box_interval(obj.box, origin, ray, self.p.margin_m)
        tol = self.p.marker_depth_tol_m + 0.01 * z
        ev: dict[str, Any] = {"surface_depth_m": z}
        if span is None:
            return False, {**ev, "ray_misses_box": True}
        ev.update(box_near_m=span[0], box_far_m=span[1])
        return span[0] - tol <= z <= span[1] + tol, ev

    def _box_containment(self, frame_id: str, m: Marked, oid: int) -> tuple[float, dict[str, Any]]:
        """Fraction of the object's visible pixels inside the box marker (grown by 2 %)."""
        assert self.sd is not None
        view = self.sd.view(frame_id)
        mask = self.sd.visible_mask(frame_id, oid)
        if view is None or mask is None or not mask.any():
            return 0.0, {"visible_pixels": 0}
        frame = view.frame
        uv = view.uv_color[mask] * np.array(
            [1000.0 / frame.color.width, 1000.0 / frame.color.height]
        )
        x1, y1, x2, y2 = m.coords
        g = 20.0
        inside = (
            (uv[:, 0] >= x1 - g)
            & (uv[:, 0] <= x2 + g)
            & (uv[:, 1] >= y1 - g)
            & (uv[:, 1] <= y2 + g)
        )
        frac = float(inside.mean())
        ev: dict[str, Any] = {"visible_pixels": int(mask.sum())}
        if frac < self.p.bbox_min_inside:  # evidence: where the object's pixels really are
            lo, hi = np.percentile(uv, 2, axis=0), np.percentile(uv, 98, axis=0)
            ev["depth_box"] = [lo[0], lo[1], hi[0], hi[1]]
        return frac, ev

    # -- the checks -------------------------------------------------------------------------------
    def check(self, item: Item) -> list[tuple[str, dict[str, Any]]]:
        flags: list[tuple[str, dict[str, Any]]] = []
        for ev in placeholder_flags(item):
            flags.append(("unfilled_placeholder", ev))
        gold = None
        if item.format == "select":
            problem, gold = option_flags(item)
            if problem:
                flags.append(("options_invalid", problem))
        marked = self.resolve(item, flags)
        if self.sd is None:
            return flags
        self._marker_checks(item, marked, flags)
        self._visibility(item, marked, flags)
        self._labels(item, marked, flags)
        self._answers(item, marked, gold, flags)
        return flags

    def _frame(self, item: Item, img: int) -> str | None:
        return item.frames[img] if 0 <= img < len(item.frames) else None

    def _marker_checks(self, item: Item, marked: list[Marked], flags: list[Any]) -> None:
        assert self.sd is not None
        for m in marked:
            if m.label is not None and m.object_id is None:
                flags.append(("label_mismatch", {"color": m.color, "label": m.label}))
                continue
            frame_id = self._frame(item, m.image)
            if m.object_id is None or frame_id is None or frame_id not in self.sd.frames:
                continue
            ev: dict[str, Any] = {
                "color": m.color,
                "object_id": m.object_id,
                "label": self._label(m.object_id),
                "frame": frame_id,
            }
            if m.kind == "point":
                hit = self._marker_surface(frame_id, m, m.object_id)
                if hit is None:
                    if self.sd.view(frame_id) is not None:
                        flags.append(("no_depth_at_marker", ev))
                elif not hit[0]:
                    flags.append(("marker_off_object", {**ev, **hit[1]}))
            else:
                frac, extra = self._box_containment(frame_id, m, m.object_id)
                if extra["visible_pixels"] and frac < self.p.bbox_min_inside:
                    flags.append(
                        (
                            "bbox_mismatch",
                            {**ev, "inside_fraction": frac, "marker_box": m.coords, **extra},
                        )
                    )

    def _visibility(self, item: Item, marked: list[Marked], flags: list[Any]) -> None:
        done: set[int] = set()
        for m in marked:
            frame_id = self._frame(item, m.image)
            if m.object_id is None or frame_id is None:
                continue
            done.add(m.object_id)
            frac = self._vis(frame_id, m.object_id)
            if frac is not None and frac < self.p.min_visible_fraction:
                flags.append(
                    (
                        "not_visible",
                        {
                            "color": m.color,
                            "object_id": m.object_id,
                            "frame": frame_id,
                            "visible_fraction": frac,
                        },
                    )
                )
        for oid in item.meta.get("object_ids", []):
            if not isinstance(oid, int) or oid in done:
                continue
            fracs = [f for f in (self._vis(fr, oid) for fr in item.frames) if f is not None]
            if fracs and max(fracs) < self.p.min_visible_fraction:
                flags.append(
                    (
                        "not_visible",
                        {
                            "object_id": oid,
                            "label": self._label(oid),
                            "best_visible_fraction": max(fracs),
                        },
                    )
                )

    def _labels(self, item: Item, marked: list[Marked], flags: list[Any]) -> None:
        assert self.sd is not None
        if item.task in LABEL_CHECK_SKIP:
            return
        scene_labels = sorted({o.label for o in self.sd.objects.values()})
        spans = label_spans(item.question, scene_labels)
        with_marker = {m.label for m in marked if m.label}
        for lab, where in spans.items():
            if lab.lower() in NOT_NAMES:
                continue
            flat = [x for w in spans.values() for x in w]
            if lab in with_marker or any(
                attached_marker(item.question, a, b, flat) for a, b in where
            ):
                continue
            ids = [o.object_id for o in self.sd.objects.values() if o.label == lab]
            seen = []
            for oid in ids:
                fr = [f for f in (self._vis(x, oid) for x in item.frames) if f is not None]
                if fr and max(fr) >= self.p.min_visible_fraction:
                    seen.append(oid)
            if len(seen) > 1:
                flags.append(("ambiguous_label", {"label": lab, "visible_objects": seen}))

    def _answers(
        self, item: Item, marked: list[Marked], gold: str | None, flags: list[Any]
    ) -> None:
        assert self.sd is not None
        if not item.frames or item.frames[0] not in self.sd.frames:
            return
        T = self.sd.frames[item.frames[0]].T_world_cam
        by_color = {m.color: m for m in marked if m.object_id is not None}
        claimed_text = gold if item.format == "select" else item.answer
        if item.format == "judge" or claimed_text is None:
            return
        centres = {
            c: self.sd.objects[m.object_id].box.center
            for c, m in by_color.items()
            if m.object_id in self.sd.objects
        }
        rule = verify_rule(item.task)
        if not rule:
            return
        if rule[0] in NUMERIC_RULES:
            kind, roles = rule[0], rule[1:]
            if not all(r in centres for r in roles):
                return
            truth, _ = numeric_value(kind, centres, T)
            nums = [float(x) for x in NUMBER.findall(claimed_text)]
            if not nums:
                flags.append(("answer_mismatch", {"reason": "no number in the answer"}))
                return
            claimed = (
                min(nums, key=lambda v: abs(v - truth)) if item.format == "sentence" else nums[0]
            )
            tol = 0.5 * 10 ** -decimals(claimed_text) + self.p.answer_tol_extra
            if abs(claimed - truth) > tol:
                flags.append(
                    ("answer_mismatch", {"answer": claimed, "recomputed": truth, "tolerance": tol})
                )
            self._depth_map(item, kind, roles, by_color, claimed, T, flags)
        elif rule[0] == "closer" and item.format in ("fill", "select"):
            if not all(c in centres for c in ("red", "blue", "green")):
                return
            q = item.question.lower()
            far = bool(re.search(r"\b(farther|further|farthest|furthest)\b", q))
            near = bool(re.search(r"\b(closer|nearer|closest|nearest)\b", q))
            if far == near:
                return
            db = float(np.linalg.norm(centres["blue"] - centres["red"]))
            dg = float(np.linalg.norm(centres["green"] - centres["red"]))
            pick = ("blue" if db > dg else "green") if far else ("blue" if db < dg else "green")
            lab = self.sd.objects[by_color[pick].object_id or 0].label
            if lab.lower() not in claimed_text.lower():
                flags.append(
                    (
                        "answer_mismatch",
                        {
                            "answer": claimed_text,
                            "recomputed": lab,
                            "d_blue_m": db,
                            "d_green_m": dg,
                        },
                    )
                )
            if abs(db - dg) < 4 * self.p.noise_m:
                flags.append(
                    (
                        "fragile",
                        {
                            "d_blue_m": db,
                            "d_green_m": dg,
                            "gap_m": abs(db - dg),
                            "noise_m": self.p.noise_m,
                        },
                    )
                )
        elif rule[0] in ("relation_oo", "relation_oc") and item.format == "select":
            t = self.p.relation_threshold_m
            if rule[0] == "relation_oo":
                if not ("red" in centres and "blue" in centres):
                    return
                a, b = to_cam(T, centres["red"]), to_cam(T, centres["blue"])
                deltas = [a[0] - b[0], -(a[1] - b[1]), float(np.linalg.norm(a) - np.linalg.norm(b))]
                words = relation_words(deltas, t, ("behind", "front"))
                noise = 2 * self.p.noise_m
            else:
                if len(centres) != 1:
                    return
                a = to_cam(T, next(iter(centres.values())))
                deltas = [a[0], -a[1], a[2]]
                words = relation_words(deltas, t, ("front", "behind"))
                noise = self.p.noise_m
            claimed_words = [w.strip() for w in claimed_text.split(",")]
            if claimed_words != words:
                flags.append(
                    (
                        "answer_mismatch",
                        {
                            "answer": claimed_text,
                            "recomputed": ", ".join(words),
                            "deltas_m": deltas,
                        },
                    )
                )
            margin = fragile_margin(deltas, t)
            if margin < noise + self.p.threshold_shift_m:
                flags.append(
                    (
                        "fragile",
                        {
                            "deltas_m": deltas,
                            "margin_m": margin,
                            "threshold_m": t,
                            "noise_m": self.p.noise_m,
                            "threshold_shift_m": self.p.threshold_shift_m,
                        },
                    )
                )

    def _depth_map(
        self,
        item: Item,
        kind: str,
        roles: tuple[str, ...],
        by_color: dict[str, Marked],
        claimed: float,
        T: F64,
        flags: list[Any],
    ) -> None:
        """The answer against the same quantity measured on the depth map (visible pixels)."""
        assert self.sd is not None
        pts: dict[str, F64] = {}
        boxes = []
        for c in roles:
            m = by_color[c]
            frame_id = self._frame(item, m.image)
            if frame_id is None or m.object_id is None:
                return
            view = self.sd.view(frame_id)
            mask = self.sd.visible_mask(frame_id, m.object_id)
            if view is None or mask is None or not mask.any():
                return
            pts[c] = np.median(view.points_world[mask], axis=0)
            boxes.append(self.sd.objects[m.object_id].box)
        est, direction = numeric_value(kind, pts, T)
        slack = sum(support(b, direction) for b in boxes)
        tol = self.p.depth_tol_m + self.p.depth_tol_rel * abs(est) + slack
        if abs(claimed - est) > tol:
            flags.append(
                (
                    "depth_map_disagrees",
                    {"answer": claimed, "depth_map": est, "tolerance": tol, "box_slack_m": slack},
                )
            )


__all__ = ["FLAGS", "Checker", "Flag", "VerifyParams", "in_box", "parse_options"]
