"""First-page time of ``spar3d review`` on a 7,207-question benchmark (SPAR-Bench's size).

Run:  /work/venv/bin/python benchmarks/bench_review.py [--rows 7207] [--page-size 20]

Builds a small benchmark from one synthetic scene, repeats its rows (images included) up to
``--rows`` with the benchmark writer, then starts the real server (uvicorn, 127.0.0.1) and times,
in the same run:

* baseline: reading the Parquet's text columns with pyarrow;
* start: ``ReviewData`` + app creation (what ``spar3d review DIR`` does before serving);
* first page: ``GET /``, ``/static/app.js``, ``/api/meta``, ``/api/items`` and the page's images,
  as the browser fetches them (images of one Parquet row group are decoded together).

Budget: first page under 1 s. Prints each time and the first page's ratio to the budget.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BUDGET_S = 1.0


def make_bench(work: Path, rows: int) -> Path:
    import pyarrow.parquet as pq

    from spar3d.bench.build import build_bench, write_bench_parquet
    from spar3d.generate import generate
    from spar3d.index.run import index_scene_dirs
    from spar3d.io import read_jsonl, write_jsonl
    from spar3d.scenes.synthetic.synthesize import synthesize

    dirs = synthesize(work / "scenes", 1, seed=0, n_frames=120, width=320, height=240, progress=False)
    index_scene_dirs(dirs)
    generate(dirs, work / "spar", split="val", per_task=30)
    small = work / "small"
    build_bench(work / "spar", small, per_task=50)
    src = pq.read_table(next((small / "data").glob("*.parquet"))).to_pydict()
    prov = list(read_jsonl(small / "provenance.jsonl"))
    big = work / "bench"
    out: dict[str, list] = {k: [] for k in src}
    out_prov = []
    for i in range(rows):
        j = i % len(prov)
        for k in src:
            out[k].append(i if k == "id" else src[k][j])
        out_prov.append({**prov[j], "id": i})
    write_bench_parquet(big / "data" / "test-00000-of-00001.parquet", out)
    write_jsonl(big / "provenance.jsonl", out_prov)
    return big


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return bytes(r.read())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=7207)
    ap.add_argument("--page-size", type=int, default=20)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "review"))
    import pyarrow.parquet as pq

    from conftest import Server  # the test suite's thread-hosted uvicorn
    from spar3d.review.app import create_app
    from spar3d.review.data import ReviewData
    from spar3d.review.decisions import DecisionLog

    work = Path(tempfile.mkdtemp(prefix="bench_review_"))
    bench = make_bench(work, args.rows)
    parquet = next((bench / "data").glob("*.parquet"))
    t0 = time.perf_counter()
    pq.read_table(parquet, columns=["id", "task", "question", "answer"])
    base_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    data = ReviewData(bench)
    app = create_app(data, DecisionLog(work / "d.jsonl"), work / "export")
    start_s = time.perf_counter() - t0
    server = Server(app)
    try:
        t0 = time.perf_counter()
        get(server.url)
        get(server.url + "static/app.js")
        get(server.url + "api/meta")
        page = json.loads(get(server.url + f"api/items?page=0&size={args.page_size}"))
        n_img = 0
        for item in page["items"]:
            for k in range(item["n_images"]):
                get(server.url + f"api/image/{item['idx']}/{k}")
                n_img += 1
        first_s = time.perf_counter() - t0
    finally:
        server.stop()
    size_mb = parquet.stat().st_size / 1e6
    print(f"bench: {len(data.items)} questions, {size_mb:.0f} MB Parquet")
    print(f"read text columns (baseline): {base_s:.3f} s")
    print(f"review start (load + app):    {start_s:.3f} s")
    print(f"first page ({len(page['items'])} cards, {n_img} images): {first_s:.3f} s"
          f"  = {first_s / BUDGET_S:.2f} x the 1 s budget")  # fmt: skip


if __name__ == "__main__":
    main()
