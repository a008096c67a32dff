"""What the review app shows: the items of a benchmark, a SPAR-7M tree or a run, their images,
verification flags and (for a run) the model's answers.

* A benchmark folder (``bench build`` output): text columns and ``provenance.jsonl`` are read at
  start (no image is decoded); an image is read when the browser asks for it, from its Parquet
  row group only.
* A SPAR-7M tree: samples of one split; images are drawn with their markers on request.
* A run folder (``spar3d eval`` output, or ``--run``): the benchmark it names, plus each
  question's prediction and strict score; *right* means a score of at least 0.5 (an exact choice,
  or a number within the MRA band of most thresholds).
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.io import read_jsonl
from spar3d.verify.checks import parse_options
from spar3d.verify.inputs import (
    Item,
    bench_item,
    bench_parquet,
    check_bench_columns,
    is_bench,
    iter_tree,
    read_bench_text,
)

RIGHT_SCORE = 0.5
# what the filters need from a provenance row, read without parsing it (as bench build writes it)
_ID = re.compile(rb'^\{"id": (\d+)')
_SCENE = re.compile(rb'"scene": "([^"\\]*)"')
_FORMAT = re.compile(rb'"format": "([^"\\]*)"')
THUMB_PX = 640


@dataclass
class RunInfo:
    """Predictions of one run, by benchmark row id."""

    path: Path
    name: str
    predictions: dict[int, dict[str, Any]] = field(default_factory=dict)


def _bench_of_run(run_dir: Path) -> Path:
    cfg_path = run_dir / "config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        parquet = Path(cfg["bench"]["path"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{cfg_path}: cannot find the run's benchmark (bench.path): {exc}"
        ) from None
    for cand in (
        parquet,
        run_dir / parquet,
        run_dir.parent / parquet,
        run_dir.parent.parent / parquet,
    ):
        if cand.is_file():
            return cand.parent.parent
    raise InputError(
        f"{cfg_path}: the run's benchmark {parquet} is not found; pass it as DIR with --run"
    )


def load_run(run_dir: Path) -> RunInfo:
    from spar3d.bench.scoring.records import to_sample
    from spar3d.bench.scoring.score import sample_score

    path = run_dir / "predictions.jsonl"
    if not path.is_file():
        raise InputError(f"{run_dir}: no predictions.jsonl; is this a `spar3d eval` run folder?")
    info = RunInfo(run_dir, run_dir.name)
    try:
        for n, rec in enumerate(read_jsonl(path), start=1):
            s = to_sample(rec, f"{path}:{n}")
            score = sample_score(s, "strict")
            info.predictions[int(rec["id"])] = {
                "prediction": str(rec.get("prediction") or ""),
                "score": round(float(score), 4),
                "right": bool(score >= RIGHT_SCORE),
            }
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return info


def load_flags(path: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        for n, row in enumerate(read_jsonl(path), start=1):
            if not isinstance(row.get("key"), str) or not isinstance(row.get("flag"), str):
                raise InputError(f"{path}:{n}: a flags row needs string fields 'key' and 'flag'")
            out.setdefault(row["key"], []).append(
                {"flag": row["flag"], "evidence": row.get("evidence", {})}
            )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return out


class BenchImages:
    """Images of a benchmark Parquet, read one row group at a time (two kept in memory)."""

    def __init__(self, parquet: Path) -> None:
        import pyarrow.parquet as pq

        self.pf = pq.ParquetFile(parquet)
        md = self.pf.metadata
        self.starts: list[int] = []
        total = 0
        for g in range(md.num_row_groups):
            self.starts.append(total)
            total += md.row_group(g).num_rows
        self._groups: OrderedDict[int, list[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, row: int, k: int) -> bytes | None:
        import bisect

        g = bisect.bisect_right(self.starts, row) - 1
        with self._lock:
            col = self._groups.get(g)
            if col is None:
                col = self.pf.read_row_group(g, columns=["image"]).column("image").to_pylist()
                self._groups[g] = col
                if len(self._groups) > 2:
                    self._groups.popitem(last=False)
        images = col[row - self.starts[g]] or []
        if not 0 <= k < len(images):
            return None
        return bytes(images[k]["bytes"])


class ReviewData:
    """Items, images, flags and predictions of the folder under review (module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        run: str | Path | None = None,
        flags: str | Path | None = None,
        split: str = "val",
    ) -> None:
        p = Path(path)
        if not p.is_dir():
            raise InputError(f"{p}: no such folder (expected a benchmark, a SPAR-7M tree or a run)")
        self.run: RunInfo | None = None
        if (p / "predictions.jsonl").is_file() and run is None:
            run, p = p, _bench_of_run(p)
        if run is not None:
            self.run = load_run(Path(run))
        self.root = p
        self.kind = "bench" if is_bench(p) else "tree"
        if self.run is not None and self.kind != "bench":
            raise InputError(f"{p}: a run is reviewed against its benchmark folder, not a tree")
        self._prov: dict[int, bytes] = {}
        self._cols: dict[str, list[Any]] = {}
        self._full: set[int] = set()
        self.items: list[Item] = (
            self._lazy_bench(p) if self.kind == "bench" else list(iter_tree(p, split))
        )
        if not self.items:
            raise InputError(f"{p}: nothing to review (no samples)")
        self.index = {it.key: i for i, it in enumerate(self.items)}
        flags_path = Path(flags) if flags else p / "verify" / "flags.jsonl"
        if flags and not flags_path.is_file():
            raise InputError(f"{flags_path}: no such flags file")
        self.flags_path = flags_path if flags_path.is_file() else None
        self.flags = load_flags(flags_path) if self.flags_path else {}
        self._images = BenchImages(bench_parquet(p)) if self.kind == "bench" else None
        self._drawn: OrderedDict[int, list[bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def _lazy_bench(self, p: Path) -> list[Item]:
        """Items with what the filters need (task, format, scene); the rest of each provenance
        row is parsed when its card is shown (:meth:`full`), so a large bench opens at once."""
        self._cols = read_bench_text(p)
        check_bench_columns(p, self._cols)
        path = p / "provenance.jsonl"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc})") from None
        for n, line in enumerate(raw.splitlines(), start=1):
            m = _ID.match(line)
            if m is None and line.strip():
                try:
                    row = json.loads(line)
                    bid = int(row["id"])
                except (ValueError, KeyError, TypeError):
                    raise InputError(
                        f"{path}:{n}: not a provenance row with an integer 'id'"
                    ) from None
            elif m is None:
                continue
            else:
                bid = int(m.group(1))
            self._prov[bid] = line
        items = []
        for i in range(len(self._cols["id"])):
            line = self._prov.get(int(self._cols["id"][i]), b"")
            scene = _SCENE.search(line)
            fmt = _FORMAT.search(line)
            guess = {
                "meta": {
                    "scene": scene.group(1).decode() if scene else "",
                    "format": fmt.group(1).decode() if fmt else "",
                }
            }
            items.append(bench_item(p, self._cols, i, guess))
        return items

    def full(self, i: int) -> Item:
        """Item ``i`` with its whole provenance (parsed on first use)."""
        if self.kind == "bench" and i not in self._full:
            it = self.items[i]
            line = self._prov.get(int(self._cols["id"][i]))
            try:
                prov = json.loads(line) if line else {}
            except ValueError:
                raise InputError(f"{it.where}: malformed provenance row") from None
            self.items[i] = bench_item(
                self.root, self._cols, i, prov if isinstance(prov, dict) else {}
            )
            self._full.add(i)
        return self.items[i]

    # -- listing --------------------------------------------------------------------------------
    def bench_id(self, item: Item) -> int | None:
        return int(item.key.split("/", 1)[1]) if item.key.startswith("bench/") else None

    def facets(self) -> dict[str, list[str]]:
        out = {
            "task": sorted({it.task for it in self.items}),
            "format": sorted({it.format for it in self.items}),
            "scene": sorted({it.scene for it in self.items}),
            "flag": sorted({f["flag"] for fl in self.flags.values() for f in fl}),
        }
        return out

    def card(self, i: int, decision: dict[str, Any] | None) -> dict[str, Any]:
        it = self.full(i)
        opts = parse_options(it.question) if it.format == "select" else None
        card: dict[str, Any] = {
            "idx": i,
            "key": it.key,
            "sample_id": it.sample_id,
            "task": it.task,
            "format": it.format,
            "scene": it.scene,
            "source": it.source,
            "question": it.question,
            "answer": it.answer,
            "options": [{"letter": a, "text": b} for a, b in opts] if opts else [],
            "n_images": len(it.images) if self.kind == "tree" else self._n_images(it),
            "flags": self.flags.get(it.key, []),
            "provenance": {
                "meta": it.meta,
                "markers": it.markers,
                "images": it.images,
                "where": it.where,
            },
            "decision": None,
        }
        if decision is not None:
            card["decision"] = {"action": decision["action"], "reason": decision.get("reason", "")}
        bid = self.bench_id(it)
        if self.run is not None and bid is not None:
            card["run"] = self.run.predictions.get(bid)
        return card

    def _n_images(self, it: Item) -> int:
        return len(it.images) or 1

    def matches(self, i: int, f: dict[str, str], decisions: dict[str, dict[str, Any]]) -> bool:
        it = self.items[i]
        for name in ("task", "format", "scene"):
            if f.get(name) and getattr(it, name) != f[name]:
                return False
        flag = f.get("flag")
        if flag:
            names = {x["flag"] for x in self.flags.get(it.key, [])}
            if flag == "any" and not names or flag == "none" and names:
                return False
            if flag not in ("any", "none") and flag not in names:
                return False
        result = f.get("result")
        if result and self.run is not None:
            bid = self.bench_id(it)
            pred = self.run.predictions.get(bid) if bid is not None else None
            if pred is None or pred["right"] != (result == "right"):
                return False
        dec = f.get("decision")
        if dec:
            state = decisions.get(it.key)
            if dec == "undecided" and state is not None:
                return False
            if dec != "undecided" and (state is None or state["action"] != dec):
                return False
        return True

    def query(
        self, filters: dict[str, str], page: int, size: int, decisions: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        hits = [i for i in range(len(self.items)) if self.matches(i, filters, decisions)]
        size = max(1, min(size, 200))
        pages = max(1, -(-len(hits) // size))
        page = max(0, min(page, pages - 1))
        shown = hits[page * size : (page + 1) * size]
        return {
            "total": len(hits),
            "page": page,
            "pages": pages,
            "size": size,
            "items": [self.card(i, decisions.get(self.items[i].key)) for i in shown],
        }

    # -- images ---------------------------------------------------------------------------------
    def image(self, i: int, k: int) -> tuple[bytes, str] | None:
        """``(bytes, media type)`` of image ``k`` of item ``i`` (markers drawn), or None."""
        if not 0 <= i < len(self.items):
            return None
        if self._images is not None:
            data = self._images.get(i, k)
            return None if data is None else (data, "image/png")
        with self._lock:
            drawn = self._drawn.get(i)
        if drawn is None:
            from spar3d.data.layout import images_root
            from spar3d.markers.draw import draw_sample

            it = self.full(i)
            drawn = []
            for im in draw_sample(it.as_sample(), images_root(self.root, it.source)):
                im.thumbnail((THUMB_PX, THUMB_PX))
                buf = io.BytesIO()
                im.save(buf, format="JPEG", quality=85)
                drawn.append(buf.getvalue())
            with self._lock:
                self._drawn[i] = drawn
                if len(self._drawn) > 256:
                    self._drawn.popitem(last=False)
        return (drawn[k], "image/jpeg") if 0 <= k < len(drawn) else None
