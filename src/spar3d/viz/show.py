"""Static HTML gallery of samples: images with markers drawn, question, answer, provenance.

One self-contained ``index.html`` plus JPEG thumbnails in ``thumbs/``; a small inline script
filters the cards by task, format and scene. Open it from disk, no server needed.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path

from spar3d.data.sample import LoadedSample, question_answer, scene_of
from spar3d.io import atomic_open
from spar3d.markers.draw import draw_sample

THUMB_PX = 384

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1em;background:#fafafa}
.bar{position:sticky;top:0;background:#fafafa;padding:.5em 0;border-bottom:1px solid #ccc}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em;margin:.6em 0}
.card img{max-height:220px;margin-right:4px;border:1px solid #eee}
.q{margin:.4em 0}.a{color:#064;font-weight:600}
.tag{display:inline-block;background:#eef;border-radius:3px;padding:0 .4em;margin-right:.3em}
pre{background:#f4f4f4;font-size:12px;padding:.4em;white-space:pre-wrap}
"""

_SCRIPT = """
function applyFilter(){
  const want = {};
  for (const s of document.querySelectorAll('select[data-key]')) want[s.dataset.key] = s.value;
  let shown = 0;
  for (const c of document.querySelectorAll('.card')) {
    const ok = Object.entries(want).every(([k, v]) => !v || c.dataset[k] === v);
    c.style.display = ok ? '' : 'none'; if (ok) shown++;
  }
  document.getElementById('count').textContent = shown;
}
for (const s of document.querySelectorAll('select[data-key]')) s.onchange = applyFilter;
applyFilter();
"""


def _select(key: str, values: set[str]) -> str:
    opts = "".join(
        f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in sorted(values)
    )
    return f'<label>{key} <select data-key="{key}"><option value="">all</option>{opts}</select></label> '


def write_gallery(
    samples: Iterable[LoadedSample], out_dir: str | Path, thumb_px: int = THUMB_PX
) -> Path:
    """Write ``<out_dir>/index.html`` and thumbnails for ``samples``; returns the HTML path.

    Args:
        samples: Samples with their images root (see :mod:`spar3d.data.sample`).
        out_dir: Output folder (created).
        thumb_px: Longest side of the JPEG thumbnails.
    """
    out_dir = Path(out_dir)
    (out_dir / "thumbs").mkdir(parents=True, exist_ok=True)
    cards: list[str] = []
    facets: dict[str, set[str]] = {"task": set(), "format": set(), "scene": set()}
    for n, loaded in enumerate(samples):
        s = loaded.sample
        question, answer = question_answer(s)
        attrs = {"task": str(s.get("type", "")), "format": loaded.format, "scene": scene_of(s)}
        for facet, value in attrs.items():
            facets[facet].add(value)
        imgs = []
        for k, image in enumerate(draw_sample(s, loaded.images_root)):
            image.thumbnail((thumb_px, thumb_px))
            rel = f"thumbs/{n:06d}_{k}.jpg"
            image.save(out_dir / rel, format="JPEG", quality=85)
            imgs.append(f'<img src="{rel}" alt="image {k}">')
        data = " ".join(f'data-{k}="{html.escape(v)}"' for k, v in attrs.items())
        tags = "".join(f'<span class="tag">{html.escape(v)}</span>' for v in attrs.values() if v)
        meta = json.dumps(s.get("meta", {}), indent=1, ensure_ascii=False)
        cards.append(
            f'<div class="card" {data}><div><b>{html.escape(str(s.get("id", n)))}</b> {tags}</div>'
            f"<div>{''.join(imgs)}</div>"
            f'<div class="q">{html.escape(question)}</div>'
            f'<div class="a">{html.escape(answer)}</div>'
            f"<details><summary>provenance</summary><pre>{html.escape(meta)}</pre></details></div>"
        )
    bar = "".join(_select(k, v) for k, v in facets.items())
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>spar3d samples</title>'
        f"<style>{_STYLE}</style></head><body>"
        f'<div class="bar">{bar} <span id="count">{len(cards)}</span> / {len(cards)} shown</div>'
        f"{''.join(cards)}<script>{_SCRIPT}</script></body></html>\n"
    )
    path = out_dir / "index.html"
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(page)
    return path
