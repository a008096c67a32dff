"""Write the SPAR-7M directory tree (layout owned by :mod:`spar3d.data.layout`).

Every file is written atomically, and the same samples and scenes give byte-identical files.
Writing a task/format again replaces its ``<format>_<count>.jsonl`` (older counts are removed).
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from spar3d.data.layout import qa_file, scene_images_dir
from spar3d.errors import InputError
from spar3d.index.records import ImageRecord, SceneIndex
from spar3d.io import atomic_open, clean_stale_temps, write_jsonl
from spar3d.paths import check_component

JPEG_QUALITY = 95


def with_depth_paths(
    sample: dict[str, Any], missing: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """The sample with SPAR-7M-RGBD's ``depth`` field (one PNG per image) after ``type``.

    ``missing`` holds the colour paths (``<scene>/image_color/<frame>.jpg``) whose frame has no
    depth image: their entry is ``null``.
    """
    out: dict[str, Any] = {}
    for k, v in sample.items():
        out[k] = v
        if k == "type":
            out["depth"] = [
                None
                if p in missing
                else p.replace("/image_color/", "/image_depth/")
                .replace("/video_color/", "/video_depth/")
                .rsplit(".", 1)[0]
                + ".png"
                for p in sample["image"]
            ]
    return out


def qa_row(
    sample: dict[str, Any],
    *,
    rgbd: bool = False,
    keep_meta: bool = True,
    missing_depth: frozenset[str] | set[str] = frozenset(),
) -> tuple[tuple[str, str], dict[str, Any]]:
    """``((task, format), row)``: the sample's QA file and the row written for it.

    The format is read from ``meta.format``; ``rgbd`` adds the ``depth`` field and
    ``keep_meta=False`` drops ``meta``.
    """
    try:
        key = (sample["type"], sample["meta"]["format"])
    except (KeyError, TypeError):
        raise ValueError(f"sample {sample.get('id')!r}: needs 'type' and 'meta.format'") from None
    row = with_depth_paths(sample, missing_depth) if rgbd else dict(sample)
    if not keep_meta:
        row.pop("meta", None)
    return key, row


def _replace_older_counts(path: Path, fmt: str) -> None:
    for old in path.parent.glob(f"{fmt}_*.jsonl"):
        if old != path:
            old.unlink()


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

    The format is read from ``meta.format``; the order of samples is kept. This holds every
    sample in memory; :func:`write_scene_shard` and :func:`assemble_qa_files` write the same
    files by streaming over per-scene shards.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        key, row = qa_row(s, rgbd=rgbd, keep_meta=keep_meta)
        groups[key].append(row)
    paths = []
    for (task, fmt), rows in sorted(groups.items()):
        path = qa_file(root, source, split, task, fmt, len(rows))
        write_jsonl(path, rows)
        _replace_older_counts(path, fmt)
        paths.append(path)
    return paths


# A shard's table of contents: "task/format" -> [byte offset, byte length, row count].
ShardGroups = dict[str, list[int]]


def write_scene_shard(
    path: str | Path,
    samples: Iterable[dict[str, Any]],
    *,
    rgbd: bool = False,
    keep_meta: bool = True,
    missing_depth: frozenset[str] | set[str] = frozenset(),
) -> ShardGroups:
    """Write one scene's QA rows to ``path`` (atomically), grouped by (task, format).

    ``missing_depth``: colour image paths whose frame has no depth (``depth`` entry null).

    Rows are the bytes :func:`write_qa_files` would write, each group contiguous and in sample
    order, so :func:`assemble_qa_files` builds the final files by copying byte ranges.

    Returns:
        ``{"task/format": [offset, length, count]}`` in sorted key order.
    """
    groups: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for s in samples:
        key, row = qa_row(s, rgbd=rgbd, keep_meta=keep_meta, missing_depth=missing_depth)
        # the same serialisation as spar3d.io.write_jsonl, so copied bytes match its files
        line = json.dumps(row, ensure_ascii=False, separators=(", ", ": ")) + "\n"
        groups[key].append(line.encode("utf-8"))
    toc: ShardGroups = {}
    offset = 0
    with atomic_open(path, "wb") as fh:
        for (task, fmt), lines in sorted(groups.items()):
            data = b"".join(lines)
            fh.write(data)
            toc[f"{task}/{fmt}"] = [offset, len(data), len(lines)]
            offset += len(data)
    return toc


def assemble_qa_files(
    root: str | Path, source: str, split: str, shards: Sequence[tuple[str | Path, ShardGroups]]
) -> list[Path]:
    """Concatenate scene shards into ``<format>_<count>.jsonl`` files; returns the paths.

    Args:
        root: Output root.
        source: Dataset name (``<root>/<source>/qa_jsonl/...``).
        split: ``train`` or ``val``.
        shards: ``(shard path, groups)`` per scene, in output order; ``groups`` as returned by
            :func:`write_scene_shard`. Only one chunk is held in memory at a time.

    Raises:
        ValueError: a shard shorter than its table of contents says.
    """
    keys = sorted({k for _, toc in shards for k in toc}, key=lambda k: tuple(k.split("/", 1)))
    clean_stale_temps(Path(root) / source / "qa_jsonl" / split)  # left by a killed assembly
    paths = []
    for key in keys:
        task, fmt = key.split("/", 1)
        count = sum(toc[key][2] for _, toc in shards if key in toc)
        path = qa_file(root, source, split, task, fmt, count)
        with atomic_open(path, "wb") as out:
            for shard, toc in shards:
                if key in toc:
                    _copy_range(Path(shard), out, *toc[key][:2])
        _replace_older_counts(path, fmt)
        paths.append(path)
    return paths


def _copy_range(src: Path, out: IO[bytes], offset: int, length: int, chunk: int = 1 << 20) -> None:
    with open(src, "rb") as fh:
        fh.seek(offset)
        left = length
        while left:
            data = fh.read(min(chunk, left))
            if not data:
                raise ValueError(f"{src}: shard truncated ({left} of {length} bytes missing)")
            out.write(data)
            left -= len(data)


def _copy_file(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, atomic_open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)


def check_image_file(src: Path, fmt: str) -> None:
    """Cheap integrity check of an image copied unread: the header parses as ``fmt`` and a JPEG
    ends with its end-of-image marker (a truncated download or copy does not)."""
    try:
        with Image.open(src) as im:
            kind = im.format
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"{src}: not a readable image ({exc})") from None
    if kind != fmt:
        raise InputError(f"{src}: expected a {fmt} image, the file holds {kind}")
    if fmt == "JPEG":
        with open(src, "rb") as fh:
            fh.seek(max(0, src.stat().st_size - 1024))
            if b"\xff\xd9" not in fh.read():
                raise InputError(f"{src}: truncated JPEG (no end-of-image marker)")


def _write_as(src: Path, dst: Path, suffixes: tuple[str, ...], fmt: str) -> None:
    """Copy ``src`` when it already has the target type (after :func:`check_image_file`), else
    decode and re-encode it (deterministically); a broken image is an ``InputError``."""
    if not src.is_file():
        raise InputError(f"{src}: image file named in the scene index is missing")
    if src.suffix.lower() in suffixes:
        check_image_file(src, fmt)
        _copy_file(src, dst)
        return
    with Image.open(src) as im:
        try:
            im.load()
        except OSError as exc:
            raise InputError(f"{src}: cannot decode image ({exc})") from None
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
    missing_depth: set[str] | None = None,
) -> list[Path]:
    """Copy a scene's keyframes into the layout; returns the written paths.

    Args:
        root: Output root.
        index: The scene index (image paths are relative to ``index.scene_dir``).
        frames: Frame ids to copy: a mapping ``{"image_color": ids, "video_color": ids}`` (what
            :func:`frames_used` returns), a plain iterable (into ``image_color``), or None for
            every keyframe into ``image_color``.
        rgbd: Also write depth PNGs (``image_depth/`` or ``video_depth/``), poses and intrinsics.
        missing_depth: With ``rgbd``, frames without a depth image are skipped (the rest is
            written) and their colour paths (``<scene>/<color_dir>/<frame>.jpg``) added here;
            without this set, a missing depth image is an error.

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
            check_component(im.frame_id, "frame_id", f"scene index of {index.scene_id!r}")
            dst = base / color_dir / f"{im.frame_id}.jpg"
            _write_as(scene_dir / im.color_path, dst, (".jpg", ".jpeg"), "JPEG")
            written.append(dst)
            if rgbd:
                if not im.depth_path or not (scene_dir / im.depth_path).is_file():
                    if missing_depth is None:
                        raise FileNotFoundError(
                            f"{index.scene_id} frame {im.frame_id}: no depth image"
                        )
                    missing_depth.add(f"{index.scene_id}/{color_dir}/{im.frame_id}.jpg")
                    used.append(im)
                    continue
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
