"""The demo pipeline once per dataset layout, on one small training and one validation scene:
synth (that layout) -> its loader -> index -> generate -> data-json -> bench -> baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spar3d.demo import DemoConfig, run_demo

#: layout -> the source recorded in samples and in the SPAR-7M tree
SOURCES = {
    "scannet": "synthetic",  # the ScanNet loader tags folders spar3d synth wrote
    "scannet_preprocessed": "scannet",
    "scannetpp": "scannetpp",
    "structured3d": "structured3d",
    "arkitscenes": "arkitscenes",
    "3rscan": "3rscan",
    "matterport3d": "matterport3d",  # one region of each synthetic house
}


def test_every_layout_synth_writes_is_covered() -> None:
    from spar3d.scenes.synthetic.synthesize import LAYOUTS

    assert sorted(SOURCES) == sorted(LAYOUTS)


@pytest.mark.parametrize("layout", list(SOURCES))
def test_demo_runs_on_every_layout(layout: str, tmp_path: Path) -> None:
    from rich.console import Console

    cfg = DemoConfig(out=tmp_path / layout, scenes=2, val_scenes=1, frames=16, width=80,
                     height=60, per_task_train=2, per_task_val=2, bench_per_task=2,
                     baselines=("random",), layout=layout)
    res = run_demo(cfg, console=Console(quiet=True))
    source = SOURCES[layout]
    spar = cfg.out / "spar"
    assert [p.name for p in spar.iterdir() if p.is_dir()] == [source]
    index_files = list(res.paths["data_jsons"].glob("*.json"))
    assert [p.name.split("_")[0] for p in index_files] == [source.split("_")[0]]
    assert index_files[0].name.startswith(f"{source}_")
    rows = [json.loads(line) for f in (spar / source / "qa_jsonl").rglob("*.jsonl")
            for line in f.read_text().splitlines()]
    assert rows and all(r["meta"]["source"] == source for r in rows)
    assert res.scores["random"]
