"""Review app without a browser: decisions log, agreement, export, escaping, lazy images."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the review extra (fastapi) is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from spar3d.io import read_jsonl  # noqa: E402
from spar3d.review.app import create_app  # noqa: E402
from spar3d.review.data import ReviewData  # noqa: E402
from spar3d.review.decisions import DecisionLog, cohen_kappa, replay  # noqa: E402
from spar3d.review.export import export_accepted  # noqa: E402


def client(bench: Path, log: DecisionLog) -> tuple[TestClient, str]:
    app = create_app(ReviewData(bench), log, bench / "review" / "accepted")
    c = TestClient(app)
    page = c.get("/").text
    token = page.split('name="review-token" content="')[1].split('"')[0]
    return c, token


def test_decisions_survive_a_restart_and_two_tabs_append(bench: Path) -> None:
    path = bench / "review" / "d.jsonl"
    c, token = client(bench, DecisionLog(path, "ann"))
    h = {"X-Review-Token": token}
    assert c.post("/api/decide", json={"key": "bench/0", "action": "accept"}).status_code == 403
    assert (
        c.post(
            "/api/decide", json={"key": "bench/0", "action": "accept", "tab": "t1"}, headers=h
        ).status_code
        == 200
    )
    assert (
        c.post(
            "/api/decide", json={"key": "bench/1", "action": "reject", "tab": "t2"}, headers=h
        ).status_code
        == 400
    )
    c.post(
        "/api/decide",
        json={"key": "bench/1", "action": "reject", "reason": "marker off", "tab": "t2"},
        headers=h,
    )
    c.post("/api/decide", json={"key": "bench/2", "action": "skip", "tab": "t1"}, headers=h)
    c.post("/api/decide", json={"key": "bench/2", "action": "undo", "tab": "t1"}, headers=h)
    # a second server on the same file (a restart, or a second window) sees everything
    c2, token2 = client(bench, DecisionLog(path, "ann"))
    items = c2.get("/api/items", params={"size": 200}).json()["items"]
    state = {it["key"]: it["decision"] for it in items}
    assert state["bench/0"] == {"action": "accept", "reason": ""}
    assert state["bench/1"] == {"action": "reject", "reason": "marker off"}
    assert state["bench/2"] is None
    rows = list(read_jsonl(path))
    assert [r["action"] for r in rows] == ["accept", "reject", "skip", "undo"]
    assert {r["tab"] for r in rows} == {"t1", "t2"}
    # a torn last line (killed mid-write) is skipped, earlier lines kept
    with open(path, "a") as fh:
        fh.write('{"key": "bench/3", "act')
    assert set(DecisionLog(path).state()) == {"bench/0", "bench/1"}
    decided = c2.get("/api/items", params={"decision": "accept"}).json()
    assert decided["total"] == 1 and decided["items"][0]["key"] == "bench/0"


def test_replay_undo_order() -> None:
    rows = [{"key": "x", "action": a} for a in ("accept", "reject", "undo", "undo", "skip")]
    assert replay(rows)["x"]["action"] == "skip"
    assert replay(rows[:4]) == {}


def test_cohen_kappa_by_hand() -> None:
    # 10 items: both accept 4, both reject 3, A accept/B reject 2, A reject/B accept 1
    a = {f"k{i}": v for i, v in enumerate(["accept"] * 6 + ["reject"] * 4)}
    b = {
        f"k{i}": v
        for i, v in enumerate(["accept"] * 4 + ["reject"] * 2 + ["accept"] + ["reject"] * 3)
    }
    res = cohen_kappa(a, b)
    po = 7 / 10
    pe = 0.6 * 0.5 + 0.4 * 0.5
    assert res.n == 10 and res.observed == pytest.approx(po)
    assert res.kappa == pytest.approx((po - pe) / (1 - pe))
    assert math.isnan(cohen_kappa({"a": "accept"}, {"b": "reject"}).kappa)


def test_text_is_escaped_and_page_is_offline(bench: Path) -> None:
    prov = bench / "provenance.jsonl"
    rows = list(read_jsonl(prov))
    rows[0]["sample_id"] = '<img src=x onerror="alert(1)">'
    prov.write_text("".join(json.dumps(r) + "\n" for r in rows))
    c, _ = client(bench, DecisionLog(bench / "review" / "d.jsonl"))
    page = c.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text + c.get("/static/app.js").text
    assert "http://" not in html and "https://" not in html  # nothing loaded from outside
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html
    item = c.get("/api/items", params={"size": 1}).json()["items"][0]
    assert item["sample_id"].startswith("<img")  # JSON only; the page inserts it as text
    assert c.get("/api/image/0/0").headers["content-type"] == "image/png"
    assert c.get("/api/image/0/9").status_code == 404
    assert c.get("/api/image/99999/0").status_code == 404


def test_export_accepted_is_a_benchmark(bench: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    data = ReviewData(bench)
    log = DecisionLog(tmp_path / "d.jsonl")
    for key in ("bench/4", "bench/1"):
        log.append(key, "accept")
    log.append("bench/2", "reject", "wrong")
    info = export_accepted(data, log.state(), tmp_path / "out")
    table = pq.read_table(tmp_path / "out" / "data" / "test-00000-of-00001.parquet")
    src = pq.read_table(next((bench / "data").glob("*.parquet"))).to_pylist()
    got = table.to_pylist()
    assert info["rows"] == 2 and [r["id"] for r in got] == [0, 1]
    assert [r["question"] for r in got] == [src[1]["question"], src[4]["question"]]
    assert got[1]["image"][0]["bytes"] == src[4]["image"][0]["bytes"]
    prov = list(read_jsonl(tmp_path / "out" / "provenance.jsonl"))
    assert [p["reviewed_key"] for p in prov] == ["bench/1", "bench/4"]


def test_tree_and_run_review(built: dict[str, Path], tmp_path: Path) -> None:

    tree = ReviewData(built["tree"])
    assert tree.kind == "tree" and tree.image(0, 0)[1] == "image/jpeg"  # type: ignore[index]
    run = tmp_path / "run"
    run.mkdir()
    bench = built["bench"]
    rows = list(read_jsonl(bench / "provenance.jsonl"))
    import pyarrow.parquet as pq

    text = pq.read_table(
        next((bench / "data").glob("*.parquet")), columns=["id", "task", "question", "answer"]
    ).to_pylist()
    preds = [
        {**r, "prediction": r["answer"] if r["id"] % 2 == 0 else "nonsense", "status": "ok"}
        for r in text
    ]
    (run / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    (run / "config.json").write_text(
        json.dumps({"bench": {"path": str(next((bench / "data").glob("*.parquet")))}})
    )
    data = ReviewData(run)
    assert data.run is not None and len(rows) == len(data.items)
    wrong = data.query({"result": "wrong"}, 0, 200, {})
    right = data.query({"result": "right"}, 0, 200, {})
    assert {it["idx"] % 2 for it in wrong["items"]} == {1} and {
        it["idx"] % 2 for it in right["items"]
    } == {0}
    assert right["items"][0]["run"]["prediction"] == right["items"][0]["answer"]


def test_bad_inputs_are_clear(tmp_path: Path) -> None:
    from spar3d.cli.main import run

    assert run(["review", str(tmp_path / "nope")]) == 3
    (tmp_path / "empty").mkdir()
    assert run(["review", str(tmp_path / "empty")]) == 3
    assert run(["review-agree", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]) == 3


def test_lazy_bench_items_match_the_full_read(bench: Path) -> None:
    """The review app reads provenance lazily; filters see the same task/format/scene."""
    from spar3d.verify.inputs import iter_bench

    data = ReviewData(bench)
    eager = list(iter_bench(bench))
    quick = [(it.task, it.format, it.scene) for it in data.items]
    assert quick == [(it.task, it.format, it.scene) for it in eager]
    assert [data.full(i) for i in range(len(eager))] == eager


def test_agree_and_export_commands(
    bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spar3d.cli.main import run

    a, b = DecisionLog(tmp_path / "a.jsonl", "ann"), DecisionLog(tmp_path / "b.jsonl", "bob")
    for key, x, y in (
        ("bench/0", "accept", "accept"),
        ("bench/1", "reject", "accept"),
        ("bench/2", "accept", "accept"),
    ):
        a.append(key, x, "r" if x == "reject" else "")
        b.append(key, y, "r" if y == "reject" else "")
    assert run(["review-agree", str(a.path), str(b.path)]) == 0
    out = capsys.readouterr().out
    # p_o = 2/3; p_e = (2/3)(3/3) + (1/3)(0/3) = 2/3; kappa = 0
    assert "items decided by both: 3" in out and "Cohen's kappa 0.000" in out
    assert (
        run(["review-export", str(bench), "--decisions", str(a.path), "--out", str(tmp_path / "x")])
        == 0
    )
    assert (tmp_path / "x" / "data" / "test-00000-of-00001.parquet").is_file()
    assert len(list(read_jsonl(tmp_path / "x" / "provenance.jsonl"))) == 2
