"""The review app in a real browser: the system's Chromium (Debian package) driven through
Playwright's Python API. Nothing is downloaded: without /usr/bin/chromium (or $SPAR3D_CHROMIUM)
these tests skip and say why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the review extra (fastapi) is not installed")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (Python API) is not installed"
)

from review_support import chromium_or_skip  # noqa: E402

from spar3d.io import read_jsonl  # noqa: E402
from spar3d.review.app import create_app  # noqa: E402
from spar3d.review.data import ReviewData  # noqa: E402
from spar3d.review.decisions import DecisionLog  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    exe = chromium_or_skip()
    with sync_api.sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=exe, headless=True, args=CHROMIUM_ARGS
            )
        except sync_api.Error as exc:
            pytest.skip(f"Chromium at {exe} does not start under Playwright: {exc}")
        yield context
        context.close()


def test_review_session_in_chromium(bench: Path, serve: Any, browser: Any, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    decisions = bench / "review" / "decisions.jsonl"
    export_dir = tmp_path / "accepted"
    data = ReviewData(bench)
    server = serve(create_app(data, DecisionLog(decisions, "ann"), export_dir))
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # open, filter by task
    page.goto(server.url)
    page.wait_for_selector("#cards .card")
    page.select_option('select[data-filter="task"]', "distance_prediction_oo")
    n_task = sum(it.task == "distance_prediction_oo" for it in data.items)
    assert n_task >= 4
    page.wait_for_function(
        f"() => document.querySelector('#pageinfo').textContent.includes('({n_task} items)')"
    )
    assert "task=distance_prediction_oo" in page.url  # the filter is kept in the URL
    keys = page.eval_on_selector_all("#cards .card", "cs => cs.map(c => c.dataset.key)")
    assert len(keys) == n_task
    assert all(
        src_task == "distance_prediction_oo"
        for src_task in page.eval_on_selector_all(
            "#cards .card .tag:nth-of-type(1)", "ts => ts.map(t => t.textContent)"
        )
    )
    # images load lazily from the server, with markers drawn in (PNG from the bench)
    page.wait_for_function("() => document.querySelector('#cards .card img').naturalWidth > 0")

    # accept two with the keyboard, reject one with a reason
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('.card.accept').length === 1")
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('.card.accept').length === 2")
    page.keyboard.press("r")
    page.keyboard.type("marker on the wall, not the chair")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.card.reject').length === 1")
    # skip one and undo it
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelectorAll('.card.skip').length === 1")
    page.keyboard.press("u")
    page.wait_for_function("() => document.querySelectorAll('.card.skip').length === 0")

    rows = list(read_jsonl(decisions))  # written as made, before any reload
    assert [r["action"] for r in rows] == ["accept", "accept", "reject", "skip", "undo"]
    assert [r["key"] for r in rows[:3]] == keys[:3]
    assert rows[2]["reason"] == "marker on the wall, not the chair"

    # reload: the filter and the decisions are still there
    page.reload()
    page.wait_for_selector("#cards .card")
    page.wait_for_function("() => document.querySelectorAll('.card.reject').length === 1")
    assert (
        page.eval_on_selector('select[data-filter="task"]', "s => s.value")
        == "distance_prediction_oo"
    )
    states = page.eval_on_selector_all("#cards .card .state", "s => s.map(x => x.textContent)")
    assert states[:4] == [
        "accepted",
        "accepted",
        "rejected: marker on the wall, not the chair",
        "undecided",
    ]

    # a second tab decides too; nothing is overwritten
    other = browser.new_page()
    other.goto(server.url + "?task=depth_prediction_oc")
    other.wait_for_selector("#cards .card")
    other.keyboard.press("a")
    other.wait_for_function("() => document.querySelectorAll('.card.accept').length === 1")
    rows = list(read_jsonl(decisions))
    assert len(rows) == 6 and len({r["tab"] for r in rows}) == 2

    # export the accepted set and check the exported benchmark
    page.click("#export")
    page.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('exported 3')"
    )
    table = pq.read_table(export_dir / "data" / "test-00000-of-00001.parquet").to_pylist()
    src = {it.key: it for it in data.items}
    accepted = [keys[0], keys[1]]
    assert len(table) == 3
    assert sorted(r["question"] for r in table if r["task"] == "distance_prediction_oo") == sorted(
        src[k].question for k in accepted
    )
    assert all(r["image"] and r["image"][0]["bytes"][:8] == b"\x89PNG\r\n\x1a\n" for r in table)
    prov = list(read_jsonl(export_dir / "provenance.jsonl"))
    assert {p["reviewed_key"] for p in prov} >= set(accepted)
    assert not errors, errors
