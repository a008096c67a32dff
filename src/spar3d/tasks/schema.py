"""Validator of the SPAR-7M sample schema (docs/formats.md §1) plus spar3d's ``meta`` block."""

from __future__ import annotations

import re
from typing import Any

from spar3d.tasks.options import LETTERS

MARKER = re.compile(r"^(red|blue|green|yellow)_(point|bbox)$")
META_KEYS = (
    "task", "task_version", "format", "template_id", "scene", "source", "frames",
    "image_indices", "object_ids", "seed", "task_seed", "quantities",
)  # fmt: skip
KNOWN = {"id", "conversations", "image", "type", "depth", "meta", "point_img_idx", "bbox_img_idx",
         "point_list", "bbox_list"}  # fmt: skip


def _coords(v: Any, n: int) -> bool:
    return (
        isinstance(v, list)
        and len(v) == n
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 1000 for c in v)
    )


def validate_sample(s: Any, *, require_meta: bool = True) -> list[str]:
    """Problems of one sample (empty list when valid); each message names the field."""
    if not isinstance(s, dict):
        return ["sample is not a JSON object"]
    errs: list[str] = []
    sid = s.get("id")
    if not isinstance(sid, str) or not re.fullmatch(r".+_\d+", sid):
        errs.append(f"id {sid!r} is not '<scene>_<n>'")
    conv = s.get("conversations")
    if (
        not isinstance(conv, list)
        or len(conv) != 2
        or [c.get("from") if isinstance(c, dict) else None for c in conv] != ["human", "gpt"]
        or not all(isinstance(c.get("value"), str) and c["value"].strip() for c in conv)
    ):
        errs.append("conversations must be [human, gpt] turns with non-empty 'value' strings")
    else:
        text = conv[0]["value"] + conv[1]["value"]
        if re.search(r"\[[A-Za-z_][A-Za-z0-9_]*\]", text):
            errs.append("conversations contain an unfilled [placeholder]")
    imgs = s.get("image")
    if not isinstance(imgs, list) or not imgs or not all(isinstance(p, str) for p in imgs):
        errs.append("image must be a non-empty list of paths")
        imgs = []
    for p in imgs:
        if not re.fullmatch(r"[^/]+/(image|video)_color/[^/]+\.jpg", p):
            errs.append(f"image path {p!r} is not '<scene>/image_color/<frame>.jpg'")
    if not isinstance(s.get("type"), str):
        errs.append("type must be the task name")
    for k, v in s.items():
        m = MARKER.match(k)
        if m:
            n = 2 if m.group(2) == "point" else 4
            if not (isinstance(v, list) and len(v) == 1 and _coords(v[0], n)):
                errs.append(f"{k} must be [[{n} ints in 0..1000]]")
        elif k not in KNOWN:
            errs.append(f"unknown field {k!r}")
    for k, n in (("point_list", 2), ("bbox_list", 4)):
        if k in s and not (
            isinstance(s[k], list) and len(s[k]) == 1 and all(_coords(c, n) for c in s[k][0])
        ):
            errs.append(f"{k} must be [[[{n} ints], ...]]")
    for k in ("point_img_idx", "bbox_img_idx"):
        if k in s:
            v = s[k]
            if not (isinstance(v, list) and len(v) == 1 and isinstance(v[0], list)) or not all(
                isinstance(i, int) and 0 <= i < len(imgs) for i in v[0]
            ):
                errs.append(f"{k} must be [[image positions < {len(imgs)}]]")
    if "depth" in s and (not isinstance(s["depth"], list) or len(s["depth"]) != len(imgs)):
        errs.append("depth must list one path per image")
    meta = s.get("meta")
    if require_meta or meta is not None:
        errs += _validate_meta(meta, s)
    return errs


def _validate_meta(meta: Any, s: dict[str, Any]) -> list[str]:
    if not isinstance(meta, dict):
        return ["meta must be an object"]
    errs = [f"meta.{k} missing" for k in META_KEYS if k not in meta]
    if errs:
        return errs
    if meta["task"] != s.get("type"):
        errs.append("meta.task differs from type")
    if meta["format"] not in ("fill", "select", "sentence", "judge"):
        errs.append(f"meta.format {meta['format']!r} unknown")
    if len(meta["frames"]) != len(s.get("image") or []):
        errs.append("meta.frames must list one frame per image")
    answer = s["conversations"][1]["value"] if isinstance(s.get("conversations"), list) else ""
    if meta["format"] == "select":
        opts = meta.get("options")
        if not isinstance(opts, list) or not 2 <= len(opts) <= 4 or len(set(opts)) != len(opts):
            errs.append("meta.options must hold 2-4 distinct options")
        elif answer not in LETTERS[: len(opts)] or meta.get("correct_option") != answer:
            errs.append("select answer must be the letter of meta.correct_option")
    if meta["format"] == "judge" and answer not in ("Yes", "No"):
        errs.append("judge answer must be Yes or No")
    return errs


def assert_valid(s: Any, *, require_meta: bool = True) -> None:
    """Raise ValueError naming the sample id and every problem."""
    errs = validate_sample(s, require_meta=require_meta)
    if errs:
        sid = s.get("id") if isinstance(s, dict) else None
        raise ValueError(f"sample {sid!r}: " + "; ".join(errs))
