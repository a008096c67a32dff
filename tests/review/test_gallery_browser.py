"""The static gallery of a benchmark and a run, viewed in the system Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_support import chromium_or_skip, small_bench_with_run

from spar3d.viz.show import write_gallery_from


def gallery_data(out: Path) -> dict:
    text = (out / "data.js").read_text()
    return dict(json.loads(text[len("window.GALLERY = ") :].rstrip().rstrip(";")))


def test_gallery_of_a_bench_and_run_in_chromium(tmp_path: Path) -> None:
    """Bench + run gallery; in Chromium: page 2 of a filtered view, the filter kept in the URL."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    bench, run = small_bench_with_run(tmp_path)
    index = write_gallery_from(run, tmp_path / "g", page_size=2)
    data = gallery_data(tmp_path / "g")
    assert all(s["run"] is not None for s in data["samples"])
    task = data["samples"][0]["task"]
    n_task = sum(s["task"] == task for s in data["samples"])
    assert n_task > 2
    exe = chromium_or_skip()
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = b.new_page()
        page.goto(index.as_uri())
        page.wait_for_selector(".card")
        page.select_option('select[data-key="task"]', task)
        page.wait_for_url(f"**task={task}*")
        page.click("#next")
        page.wait_for_url("**page=2*")
        info = page.text_content("#pageinfo") or ""
        assert (
            f"page 2 / {-(-n_task // 2)}" in info
            and f"({n_task} of {len(data['samples'])} samples)" in info
        )
        tags = page.eval_on_selector_all(
            ".card .tag:nth-of-type(1)", "ts => ts.map(t => t.textContent)"
        )
        assert tags and set(tags) == {task}
        page.reload()
        assert page.eval_on_selector('select[data-key="task"]', "s => s.value") == task
        b.close()
