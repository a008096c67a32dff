"""Export the accepted items of a review as a new benchmark (Parquet + provenance), written by the
same writer as ``spar3d bench build`` (:func:`spar3d.bench.build.write_bench`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.review.data import ReviewData


def export_accepted(
    data: ReviewData,
    decisions: dict[str, dict[str, Any]],
    out_dir: str | Path,
    progress: bool = False,
) -> dict[str, Any]:
    """Write ``out_dir/data/*.parquet``, ``provenance.jsonl`` and ``bench_info.json`` holding the
    accepted items, in review order, with ids renumbered from 0; returns the bench info.
    ``progress`` shows one step per item (:mod:`spar3d.progress`)."""
    from spar3d.bench.build import PARQUET_NAME, append_row, empty_rows, write_bench
    from spar3d.progress import progress as display

    accepted = [
        i for i, it in enumerate(data.items) if decisions.get(it.key, {}).get("action") == "accept"
    ]
    if not accepted:
        raise InputError("nothing to export: no item is accepted")
    out = Path(out_dir)
    rows = empty_rows()
    provenance = []
    bar = display("review-export (items)", len(accepted), progress)
    for new_id, i in enumerate(bar.track(accepted)):
        it = data.full(i)
        images: list[Any] = []
        if data.kind == "tree":  # full resolution, markers drawn as bench build draws them
            from spar3d.data.layout import images_root
            from spar3d.markers.draw import draw_sample

            images = list(draw_sample(it.as_sample(), images_root(data.root, it.source)))
        else:
            k = 0
            while (got := data.image(i, k)) is not None:
                images.append(got[0])
                k += 1
        append_row(rows, new_id, it.task, it.source, images, it.question, it.answer)
        rows["format_type"][-1] = it.format
        provenance.append(
            {
                "id": new_id,
                "sample_id": it.sample_id,
                "task": it.task,
                "source": it.source,
                "image": it.images,
                "meta": it.meta,
                "markers": it.markers,
                "reviewed_key": it.key,
                "review": decisions[it.key],
            }
        )
    path = out / "data" / PARQUET_NAME
    info = {
        "reviewed_from": str(data.root),
        "rows": len(accepted),
        "counts": dict(sorted(Counter(data.items[i].task for i in accepted).items())),
        "parquet": str(path),
    }
    write_bench(out, rows, provenance, info)  # Parquet, provenance and info change together
    return info
