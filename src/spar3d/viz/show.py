"""Static HTML gallery of samples, for sharing a folder: images with markers, question, answer,
options, provenance, verification flags and (for a run) the model's answer.

Written files: ``index.html`` (the page), ``gallery.js`` (the viewer), ``data.js`` (one record
per sample, loaded as a script so the folder works when opened from disk) and ``thumbs/*.jpg``.
The viewer renders one page of cards at a time (``page_size``), images load lazily, and the
filters (task, format, scene, flag, run result) and the page number live in the URL, so a filtered
view can be bookmarked or shared. Every text is inserted with ``textContent`` (never as HTML).
Samples with many frames (videos) get at most ``max_thumbs`` thumbnails: the frames that carry
markers, then frames spread over the video.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.io import atomic_open

THUMB_PX = 256
PAGE_SIZE = 50
MAX_THUMBS = 8


@dataclass
class Card:
    """One sample as the gallery shows it; ``images`` returns its images (markers drawn)."""

    id: str
    task: str
    format: str
    scene: str
    question: str
    answer: str
    provenance: dict[str, Any]
    images: Callable[[], list[Any]]
    n_images: int
    marked: tuple[int, ...] = ()
    flags: tuple[str, ...] = ()
    run: dict[str, Any] | None = None


def pick_thumbs(n: int, marked: Iterable[int], most: int = MAX_THUMBS) -> list[int]:
    """Image indices to show: every marked image, then evenly spread ones, at most ``most``."""
    chosen = sorted({i for i in marked if 0 <= i < n})[:most]
    if n <= most:
        return list(range(n))
    k = 0
    while len(chosen) < most and k < n:
        step = [round(j * (n - 1) / (most - 1)) for j in range(most)]
        for i in step:
            if i not in chosen and len(chosen) < most:
                chosen.append(i)
        k += most
    return sorted(chosen)


def cards_from_samples(samples: Iterable[Any]) -> Iterator[Card]:
    """Cards of :class:`spar3d.data.sample.LoadedSample` s (a SPAR-7M tree or a JSONL)."""
    from spar3d.data.sample import question_answer, scene_of
    from spar3d.markers.draw import draw_sample, marker_placements

    for n, loaded in enumerate(samples):
        s = loaded.sample
        question, answer = question_answer(s)
        paths = s.get("image") or []
        n_img = 1 if isinstance(paths, str) else len(paths)
        try:
            marked = tuple(p[0] for p in marker_placements(s, max(n_img, 1)))
        except ValueError:
            marked = ()
        yield Card(
            str(s.get("id", n)), str(s.get("type", "")), loaded.format, scene_of(s), question,
            answer, s.get("meta", {}), partial(draw_sample, s, loaded.images_root),
            n_img, marked,
        )  # fmt: skip


def cards_from_review(data: Any) -> Iterator[Card]:
    """Cards of a :class:`spar3d.review.data.ReviewData` (a benchmark, a tree or a run)."""
    from PIL import Image

    def images(i: int) -> list[Any]:
        out, k = [], 0
        while (got := data.image(i, k)) is not None:
            out.append(Image.open(io.BytesIO(got[0])))
            k += 1
        return out

    for i in range(len(data.items)):
        card = data.card(i, None)
        it = data.full(i)
        run = card.get("run")
        yield Card(
            it.key, it.task, it.format, it.scene, it.question, it.answer,
            {"meta": it.meta, "markers": it.markers, "images": it.images},
            partial(images, i), card["n_images"], (),
            tuple(sorted({f["flag"] for f in card["flags"]})), run,
        )  # fmt: skip


def _static(name: str) -> str:
    return (
        resources.files("spar3d.viz").joinpath("static").joinpath(name).read_text(encoding="utf-8")
    )


def write_gallery(
    samples: Iterable[Any],
    out_dir: str | Path,
    thumb_px: int = THUMB_PX,
    *,
    page_size: int = PAGE_SIZE,
    max_thumbs: int = MAX_THUMBS,
    title: str = "spar3d samples",
    progress: bool = False,
    total: int | None = None,
) -> Path:
    """Write the gallery (module docstring) of ``samples``; returns the ``index.html`` path.

    Args:
        samples: :class:`spar3d.data.sample.LoadedSample` s or :class:`Card` s.
        out_dir: Output folder (created).
        thumb_px: Longest side of the JPEG thumbnails.
        page_size: Cards per page.
        max_thumbs: Thumbnails per sample at most.
        progress: Show one step per sample (:mod:`spar3d.progress`), of ``total`` if known.

    Raises:
        InputError: there is no sample to show.
    """
    out_dir = Path(out_dir)
    (out_dir / "thumbs").mkdir(parents=True, exist_ok=True)
    records = []
    it = iter(samples)
    first = next(it, None)
    if first is None:
        raise InputError(
            "no samples to show: the input holds none (check the path, --split and --source)"
        )
    stream = [first] if isinstance(first, Card) else cards_from_samples([first])

    def all_cards() -> Iterator[Card]:
        yield from stream
        for x in it:
            yield from ([x] if isinstance(x, Card) else cards_from_samples([x]))

    from spar3d.progress import progress as display

    for n, card in enumerate(display("show (samples)", total, progress).track(all_cards())):
        keep = pick_thumbs(card.n_images, card.marked, max_thumbs)
        thumbs = []
        images = card.images()
        for k in keep:
            if k >= len(images):
                continue
            im = images[k].convert("RGB")
            im.thumbnail((thumb_px, thumb_px))
            rel = f"thumbs/{n:06d}_{k}.jpg"
            with atomic_open(out_dir / rel, "wb") as fh:
                im.save(fh, format="JPEG", quality=80, optimize=True)
            thumbs.append([rel, k + 1])
        records.append(
            {
                "id": card.id, "task": card.task, "format": card.format, "scene": card.scene,
                "q": card.question, "a": card.answer, "n_images": card.n_images,
                "thumbs": thumbs, "flags": list(card.flags), "run": card.run,
                "meta": card.provenance,
            }
        )  # fmt: skip
    data = json.dumps({"title": title, "page_size": page_size, "samples": records},
                      ensure_ascii=False, separators=(",", ":"))  # fmt: skip
    # a JS file, not inline: still keep "<" out of it so no "</script>" can ever appear
    data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    with atomic_open(out_dir / "data.js", "w", encoding="utf-8") as fh:
        fh.write(f"window.GALLERY = {data};\n")
    with atomic_open(out_dir / "gallery.js", "w", encoding="utf-8") as fh:
        fh.write(_static("gallery.js"))
    path = out_dir / "index.html"
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(_static("gallery.html"))
    return path


def write_gallery_from(
    path: str | Path,
    out_dir: str | Path,
    *,
    run: str | Path | None = None,
    flags: str | Path | None = None,
    split: str = "val",
    limit: int | None = None,
    **kwargs: Any,
) -> Path:
    """A gallery of a benchmark folder, a run folder (with its benchmark) or a SPAR-7M tree,
    with verification flags (``flags`` or ``PATH/verify/flags.jsonl``) and run results."""
    from itertools import islice

    from spar3d.review.data import ReviewData

    data = ReviewData(path, run=run, flags=flags, split=split)
    cards = cards_from_review(data)
    total = min(len(data.items), limit) if limit else len(data.items)
    return write_gallery(islice(cards, limit) if limit else cards, out_dir,
                         title=f"spar3d: {data.root.name}", total=total, **kwargs)  # fmt: skip
