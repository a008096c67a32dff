"""The SPAR-7M directory layout (FORMATS.md section 2).

::

    <root>/<source>/qa_jsonl/<split>/<task>/<format>/<format>_<count>.jsonl
    <root>/<source>/images/<scene>/image_color/<frame>.jpg
    <root>/<source>/images/<scene>/image_depth/<frame>.png      (rgbd)
    <root>/<source>/images/<scene>/pose/<frame>.txt             (rgbd; 4x4 camera-to-world)
    <root>/<source>/images/<scene>/intrinsic/intrinsic_color.txt (rgbd; 4x4, or one
                                                                  intrinsic/<frame>.txt per frame
                                                                  when frames differ)
    <root>/<source>/images/<scene>/video_color/<frame>.jpg      (frames of video samples)
    <root>/<source>/images/<scene>/video_idx.txt                (video frame ids, capture order)

Every file is written atomically, and the same samples and scenes give byte-identical files.
Writing a task/format again replaces its ``<format>_<count>.jsonl`` (older counts are removed).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from spar3d.index.records import ImageRecord, SceneIndex
from spar3d.io import atomic_open, write_jsonl

JPEG_QUALITY = 95


def qa_dir(root: str | Path, source: str, split: str, task: str, fmt: str) -> Path:
    return Path(root) / source / "qa_jsonl" / split / task / fmt


def scene_images_dir(root: str | Path, source: str, scene_id: str) -> Path:
    return Path(root) / source / "images" / scene_id


def with_depth_paths(sample: dict[str, Any]) -> dict[str, Any]:
    """The sample with SPAR-7M-RGBD's ``depth`` field (one PNG per image) after ``type``."""
    out: dict[str, Any] = {}
    for k, v in sample.items():
        out[k] = v
        if k == "type":
            out["depth"] = [
                p.replace("/image_color/", "/image_depth/")
                .replace("/video_color/", "/video_depth/")
                .rsplit(".", 1)[0]
                + ".png"
                for p in sample["image"]
            ]
    return out


def write_qa_files(
    root: str | Path,
    source: str,
    split: str,
    samples: Iterable[dict[str, Any]],
    *,
    rgbd: bool = False,
    keep_meta: bool = True,
) -> list[Path]:
    """Group samples by (task, format) and write one JSON Lines file each; returns the paths.

    The format is read from ``meta.format``; the order of samples is kept.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        try:
            key = (s["type"], s["meta"]["format"])
        except (KeyError, TypeError):
            raise ValueError(f"sample {s.get('id')!r}: needs 'type' and 'meta.format'") from None
        row = with_depth_paths(s) if rgbd else dict(s)
        if not keep_meta:
            row.pop("meta", None)
        groups[key].append(row)
    paths = []
    for (task, fmt), rows in sorted(groups.items()):
        d = qa_dir(root, source, split, task, fmt)
        path = d / f"{fmt}_{len(rows)}.jsonl"
        write_jsonl(path, rows)
        for old in d.glob(f"{fmt}_*.jsonl"):
            if old != path:
                old.unlink()
        paths.append(path)
    return paths


def _copy_file(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, atomic_open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)


def _write_as(src: Path, dst: Path, suffixes: tuple[str, ...], fmt: str) -> None:
    """Copy ``src`` when it already has the target type, else re-encode it (deterministically)."""
    if not src.is_file():
        raise FileNotFoundError(f"{src}: image file named in the scene index is missing")
    if src.suffix.lower() in suffixes:
        _copy_file(src, dst)
        return
    with Image.open(src) as im:
        im.load()
        if fmt == "JPEG" and im.mode != "RGB":
            im = im.convert("RGB")
        with atomic_open(dst, "wb") as fh:
            im.save(fh, format=fmt, **({"quality": JPEG_QUALITY} if fmt == "JPEG" else {}))


def _matrix_text(M: np.ndarray) -> str:
    return "".join(" ".join(f"{v:.8f}" for v in row) + "\n" for row in np.asarray(M))


def _write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


COLOR_DIRS = {"image_color": "image_depth", "video_color": "video_depth"}


def write_scene_images(
    root: str | Path,
    index: SceneIndex,
    frames: Mapping[str, Iterable[str]] | Iterable[str] | None = None,
    *,
    rgbd: bool = False,
) -> list[Path]:
    """Copy a scene's keyframes into the layout; returns the written paths.

    Args:
        root: Output root.
        index: The scene index (image paths are relative to ``index.scene_dir``).
        frames: Frame ids to copy: a mapping ``{"image_color": ids, "video_color": ids}`` (what
            :func:`frames_used` returns), a plain iterable (into ``image_color``), or None for
            every keyframe into ``image_color``.
        rgbd: Also write depth PNGs (``image_depth/`` or ``video_depth/``), poses and intrinsics.

    ``video_idx.txt`` lists the frames under ``video_color/`` in capture order, or every
    keyframe when no sample uses video frames.

    Raises:
        FileNotFoundError: naming the first missing image file.
    """
    base = scene_images_dir(root, index.source, index.scene_id)
    if frames is None:
        wanted: dict[str, set[str]] = {"image_color": {im.frame_id for im in index.images}}
    elif isinstance(frames, Mapping):
        wanted = {d: set(ids) for d, ids in frames.items()}
    else:
        wanted = {"image_color": set(frames)}
    unknown = sorted(set(wanted) - set(COLOR_DIRS))
    if unknown:
        raise ValueError(f"{index.scene_id}: unknown image folder(s) {unknown}")
    written: list[Path] = []
    scene_dir = Path(index.scene_dir)
    used: list[ImageRecord] = []
    for color_dir, ids in sorted(wanted.items()):
        for im in (im for im in index.images if im.frame_id in ids):
            dst = base / color_dir / f"{im.frame_id}.jpg"
            _write_as(scene_dir / im.color_path, dst, (".jpg", ".jpeg"), "JPEG")
            written.append(dst)
            if rgbd:
                if not im.depth_path:
                    raise FileNotFoundError(f"{index.scene_id} frame {im.frame_id}: no depth image")
                dst = base / COLOR_DIRS[color_dir] / f"{im.frame_id}.png"
                _write_as(scene_dir / im.depth_path, dst, (".png",), "PNG")
                written.append(dst)
            used.append(im)
    if rgbd:
        seen: set[str] = set()
        for im in used:
            if im.frame_id not in seen:
                seen.add(im.frame_id)
                pose = base / "pose" / f"{im.frame_id}.txt"
                _write_text(pose, _matrix_text(im.T_world_cam))
                written.append(pose)
        if used:
            written += _write_intrinsics(base / "intrinsic", used)
    video = wanted.get("video_color")
    listed = [im.frame_id for im in index.images if video is None or im.frame_id in video]
    idx = base / "video_idx.txt"
    _write_text(idx, "".join(f"{f}\n" for f in listed))
    written.append(idx)
    return written


def _write_intrinsics(folder: Path, images: list[ImageRecord]) -> list[Path]:
    def k4(im: ImageRecord) -> np.ndarray:
        M = np.eye(4)
        M[:3, :3] = im.K
        return M

    if all(np.array_equal(im.K, images[0].K) for im in images):
        path = folder / "intrinsic_color.txt"
        _write_text(path, _matrix_text(k4(images[0])))
        return [path]
    out = []
    for im in images:
        path = folder / f"{im.frame_id}.txt"
        _write_text(path, _matrix_text(k4(im)))
        out.append(path)
    return out


def frames_used(samples: Iterable[dict[str, Any]], scene_id: str) -> dict[str, set[str]]:
    """Frame ids of ``scene_id`` that the samples' ``image`` paths use, per image folder
    (``image_color`` or ``video_color``)."""
    out: dict[str, set[str]] = {}
    for s in samples:
        for p in s["image"]:
            scene, folder, name = p.split("/", 2)
            if scene == scene_id:
                out.setdefault(folder, set()).add(name.rsplit(".", 1)[0])
    return out
