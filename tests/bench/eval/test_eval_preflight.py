"""Eval tells the truth early: preflight, fail-fast, failures by kind, exit codes, secrets, lock.

Every case runs the real command line (``spar3d.cli.main.run``) against a local fake
OpenAI-compatible server (``evalkit.FakeOpenAI``) that imposes vLLM's limits with vLLM's
error shapes, and checks the line a user sees on the terminal.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import socket
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from evalkit import ROWS, FakeOpenAI, bench_table

from spar3d.bench.eval import evaluate, make_backend
from spar3d.cli.main import run
from spar3d.errors import ResourceBusyError, UnsafeInputError
from spar3d.io import output_lock, read_jsonl

MODEL = "tiny-vlm"
MAX_IMAGES = max(n for *_, n in ROWS)  # 3 in the fixture
DOCS = Path(__file__).parents[3] / "docs" / "cli" / "eval.md"


def _answer(body) -> str:
    text = body["messages"][0]["content"][-1]["text"]
    return next(answer for _task, question, answer, _n in ROWS if question in text)


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def _eval(capsys, bench, out, *args: str) -> tuple[int, str, str]:
    code = run(["eval", str(bench), "--out", str(out), "--no-progress", *args])
    captured = capsys.readouterr()
    return code, _flat(captured.out), _flat(captured.err)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_fails_in_seconds_saying_connection_refused(capsys, bench, tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    start = time.perf_counter()
    code, _out, err = _eval(
        capsys, bench, tmp_path / "run", "-m", "openai", "-M", f"model={MODEL}", "--base-url", url
    )
    assert time.perf_counter() - start < 5.0
    assert code == 5
    assert err.startswith(f"error: {url}: cannot connect") and "Connection refused" in err
    assert "is the server running" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "cache.jsonl").exists()  # nothing was asked


def test_wrong_key_is_a_401_naming_the_variable(capsys, bench, tmp_path, monkeypatch):
    monkeypatch.setenv("SPAR3D_TEST_KEY", "sk-wrong")
    with FakeOpenAI(models=[MODEL], api_key="sk-right") as server:
        code, _out, err = _eval(
            capsys, bench, tmp_path / "run", "-m", "openai", "-M", f"model={MODEL}",
            "--base-url", server.base_url, "--api-key-env", "SPAR3D_TEST_KEY",
        )  # fmt: skip
    assert code == 5
    assert f"{server.base_url}/models: HTTP 401: Unauthorized" in err
    assert "--api-key-env" in err and "sk-wrong" not in err
    assert server.requests == []


def test_unknown_model_lists_what_the_server_serves(capsys, bench, tmp_path):
    with FakeOpenAI(models=["Qwen/Qwen2.5-VL-7B-Instruct"]) as server:
        code, _out, err = _eval(
            capsys, bench, tmp_path / "run", "-m", "openai", "-M", "model=qwen",
            "--base-url", server.base_url,
        )  # fmt: skip
    assert code == 5
    assert "model 'qwen' is not served; the server lists: Qwen/Qwen2.5-VL-7B-Instruct" in err
    assert server.requests == []


def test_unknown_model_on_a_server_without_a_model_list_is_caught_by_the_probe(
    capsys, bench, tmp_path
):
    # /v1/models answers 404, the chat endpoint knows one model only: the probe
    # request gets vLLM's 404 "does not exist".
    with FakeOpenAI(models=["served"], list_models=False) as server:
        code, out, err = _eval(
            capsys, bench, tmp_path / "run", "-m", "openai", "-M", "model=x",
            "--base-url", server.base_url,
        )  # fmt: skip
    assert code == 5
    assert "HTTP 404: The model `x` does not exist." in err and "--served-model-name" in err


def test_image_limit_is_found_by_the_preflight(capsys, bench, tmp_path):
    with FakeOpenAI(models=[MODEL], max_images=1) as server:
        code, _out, err = _eval(
            capsys, bench, tmp_path / "run", "-m", "openai", "-M", f"model={MODEL}",
            "--base-url", server.base_url,
        )  # fmt: skip
    assert code == 5
    assert f"a test request with {MAX_IMAGES} image(s) failed: HTTP 400: At most 1 image(s)" in err
    assert f"--limit-mm-per-prompt '{{\"image\": {MAX_IMAGES}}}'" in err
    assert len(server.refused) == 1 and server.requests == []  # one probe, then stop


def test_repeated_identical_4xx_fail_fast_and_print_the_first_of_each_kind(capsys, bench, tmp_path):
    run_dir = tmp_path / "run"
    with FakeOpenAI(models=[MODEL], max_images=1, answer=_answer) as server:
        code, _out, err = _eval(
            capsys, bench, run_dir, "-m", "openai", "-M", f"model={MODEL}",
            "--base-url", server.base_url, "--no-preflight", "--fail-fast", "2",
            "--concurrency", "1",
        )  # fmt: skip
    assert code == 5
    # The first refusal is printed once, naming sample and task; then the run stops.
    first = re.findall(r"request failed \(sample (\d+), (\w+)\): HTTP 400: At most 1 image", err)
    assert len(first) == 1
    assert int(first[0][0]) == next(i for i, row in enumerate(ROWS) if row[3] > 1)
    assert "stopped after 2 identical client errors: HTTP 400: At most 1 image(s)" in err
    assert f"--limit-mm-per-prompt '{{\"image\": {MAX_IMAGES}}}'" in err  # the bench's largest
    multi = sum(n > 1 for *_, n in ROWS)
    assert len(server.refused) == 2 < multi  # stopped before asking every multi-image sample
    preds = list(read_jsonl(run_dir / "predictions.jsonl"))
    assert sum(p["status"] == "error" for p in preds) == 2  # what was asked is kept


def test_failures_are_counted_by_kind_and_exit_non_zero_unless_allowed(capsys, bench, tmp_path):
    run_dir = tmp_path / "run"
    multi = sum(n > 1 for *_, n in ROWS)
    args = ["-m", "openai", "-M", f"model={MODEL}", "--no-preflight", "--fail-fast", "0"]
    with FakeOpenAI(models=[MODEL], max_images=1, answer=_answer) as server:
        code, out, err = _eval(capsys, bench, run_dir, *args, "--base-url", server.base_url)
        assert code == 5
        assert (
            f"FAILED REQUESTS: {len(ROWS) - multi} answered, {multi} failed (scored as 0), "
            f"0 not run, of {len(ROWS)} benchmark samples"
        ) in out
        assert "failed requests by kind" in out and "At most 1 image(s)" in out
        assert f"error: {multi} of {len(ROWS)} requests failed (1 kind(s)" in err
        assert "--allow-failures" in err
        code, out, _err = _eval(
            capsys, bench, run_dir, *args, "--base-url", server.base_url, "--allow-failures"
        )
    assert code == 0 and "FAILED REQUESTS" in out
    scores = json.loads((run_dir / "scores.json").read_text())
    (kind,) = scores["errors"].values()
    assert kind["count"] == multi and kind["first"].startswith("HTTP 400: At most 1 image(s)")


def test_url_credentials_never_reach_disk(capsys, bench, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    with FakeOpenAI(models=[MODEL], max_images=1, echo_headers=True, answer=_answer) as server:
        url = server.base_url.replace("http://", "http://alice:pa55word@") + "?api_key=qq77"
        code, out, err = _eval(
            capsys, bench, run_dir, "-m", "openai", "-M", f"model={MODEL}", "--base-url", url,
            "--no-preflight", "--allow-failures",
        )  # fmt: skip
    assert code == 0
    # The server did receive the credentials (httpx sends URL user:password as Basic auth) and
    # echoed them back in its 400 bodies...
    assert server.refused and "Basic " in json.dumps(server.requests[0]["headers"])
    assert server.requests[0]["path"] == "/v1/chat/completions?api_key=qq77"
    # ...but no file and no terminal line holds it, nor the URL's credentials.
    basic = base64.b64encode(b"alice:pa55word").decode()
    for secret in ("pa55word", "qq77", basic):
        for path in run_dir.iterdir():
            assert secret not in path.read_text(errors="replace"), (secret, path.name)
        assert secret not in out and secret not in err
    config = json.loads((run_dir / "config.json").read_text())
    assert config["settings"]["base_url"].startswith("http://***@127.0.0.1")
    assert "api_key=%2A%2A%2A" in config["settings"]["base_url"]


def test_key_echoed_in_error_bodies_is_scrubbed(capsys, bench, tmp_path, monkeypatch):
    monkeypatch.setenv("SPAR3D_TEST_KEY", "sk-very-secret-123")
    run_dir = tmp_path / "run"
    with FakeOpenAI(models=[MODEL], max_images=1, echo_headers=True, answer=_answer) as server:
        code, out, err = _eval(
            capsys, bench, run_dir, "-m", "openai", "-M", f"model={MODEL}",
            "--base-url", server.base_url, "--api-key-env", "SPAR3D_TEST_KEY",
            "--no-preflight", "--allow-failures",
        )  # fmt: skip
    assert code == 0
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-very-secret-123"
    preds = list(read_jsonl(run_dir / "predictions.jsonl"))
    echoed = [p["error"] for p in preds if p["status"] == "error"]
    assert echoed and all("request_headers" in e and "Bearer ***" in e for e in echoed)
    for path in run_dir.iterdir():
        assert "sk-very-secret-123" not in path.read_text(errors="replace"), path.name
    assert "sk-very-secret-123" not in out + err


def test_a_second_eval_into_the_same_folder_is_refused(bench, tmp_path):
    run_dir = tmp_path / "run"
    with output_lock(run_dir, "spar3d eval"), pytest.raises(ResourceBusyError, match="another"):
        evaluate(bench, make_backend("oracle"), run_dir, progress=False)
    # Released: the next run goes ahead.
    assert evaluate(bench, make_backend("oracle"), run_dir, progress=False).n_failed == 0


def test_lock_is_held_across_processes(bench, tmp_path):
    import subprocess
    import sys

    run_dir = tmp_path / "run"
    with output_lock(run_dir, "spar3d eval"):
        proc = subprocess.run(
            [sys.executable, "-m", "spar3d", "eval", str(bench), "-m", "oracle",
             "--out", str(run_dir), "--no-progress"],
            capture_output=True, text=True,
        )  # fmt: skip
    assert proc.returncode == 6
    assert "another spar3d run is writing here (spar3d eval, pid" in proc.stderr and "Traceback" not in proc.stderr


def test_image_paths_may_not_leave_the_benchmark_folder(tmp_path):
    bench_dir = tmp_path / "bench"
    bench_dir.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    table = bench_table(ROWS[:1]).to_pylist()
    table[0]["image"] = [{"bytes": None, "path": "../secret.png"}]
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(table, schema=bench_table(ROWS[:1]).schema),
                   bench_dir / "b.parquet")  # fmt: skip
    from spar3d.bench.eval import load_bench

    with pytest.raises(UnsafeInputError, match=r"row 0 image 0 path: path '../secret.png' leaves the folder"):
        load_bench(bench_dir)
    (sample,) = load_bench(bench_dir, allow_outside_root=True)
    assert sample.images == (secret.read_bytes(),)


def _recipe(name: str) -> tuple[str, str]:
    """The documented server command and `spar3d eval` line of a recipe in docs/cli/eval.md."""
    text = DOCS.read_text()
    block = text.split(f"<!-- recipe: {name} -->", 1)[1].split("```bash\n", 1)[1].split("```")[0]
    server_line, eval_line = (line for line in block.splitlines() if line.strip())
    return server_line, eval_line


@pytest.mark.parametrize("name", ["vllm", "sglang"])
def test_documented_recipes_run_against_a_server_with_those_limits(name, capsys, bench, tmp_path):
    server_line, eval_line = _recipe(name)
    served = re.search(r"(?:serve|--model-path) (\S+)", server_line).group(1)
    limit = re.search(r'--limit-mm-per-prompt \'\{"image": (\d+)\}\'', server_line)
    max_images = int(limit.group(1)) if limit else None  # SGLang: no per-prompt image limit
    argv = shlex.split(eval_line)
    assert argv[:2] == ["spar3d", "eval"]
    with FakeOpenAI(models=[served], max_images=max_images, answer=_answer) as server:
        port = re.search(r"localhost:(\d+)", eval_line).group(1)
        args = [a.replace(f"http://localhost:{port}/v1", server.base_url) for a in argv[2:]]
        args[0] = str(bench)
        args[args.index("--out") + 1] = str(tmp_path / "run")
        code = run(["eval", *args, "--no-progress"])
        captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "done: 8 answered, 0 failed" in _flat(captured.out)
    assert server.refused == []
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["modes"]["strict"]["overall"] == pytest.approx(100.0)
    assert scores["prompt"]["preset"] == "lmms-eval"


def test_without_the_documented_limit_the_vllm_recipe_would_fail(capsys, bench, tmp_path):
    """The same recipe on a server started without --limit-mm-per-prompt (vLLM default 1)."""
    _server_line, eval_line = _recipe("vllm")
    argv = shlex.split(eval_line)
    with FakeOpenAI(models=[argv[argv.index("-M") + 1].split("=", 1)[1]], max_images=1) as server:
        args = [a.replace("http://localhost:8000/v1", server.base_url) for a in argv[2:]]
        args[0] = str(bench)
        args[args.index("--out") + 1] = str(tmp_path / "run")
        code = run(["eval", *args, "--no-progress"])
        err = _flat(capsys.readouterr().err)
    assert code == 5 and "--limit-mm-per-prompt" in err
