"""Helpers for the eval tests: tiny SPAR-Bench Parquet files (a few rows, 8x8 PNG images)."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from PIL import Image

CHOICE_TAIL = "Your answer can only include one of options A, B or C."
VCI_ANSWER = "move_right:0.3,move_down:0.1,move_forward:1.2,rotate_right:10,rotate_up:5"

# (task, question, answer, number of images): every task kind, single- and multi-view.
ROWS: list[tuple[str, str, str, int]] = [
    ("depth_prediction_oc", "How deep is the chair (red point)?", "1.5", 1),
    ("depth_prediction_oo_mv", "How deep is the lamp (blue point)?", "2.3", 2),
    ("distance_prediction_oc", "How far is the sofa (red point)?", "0.8", 1),
    (
        "obj_spatial_relation_oo",
        f"Where is the cup (red point) from the table? A. left; B. right; C. front. {CHOICE_TAIL}",
        "B",
        1,
    ),
    (
        "position_matching",
        f"Which box matches? A. [10, 20, 30, 40]; B. [50, 60, 70, 80]; C. [1, 2, 3, 4]. {CHOICE_TAIL}",
        "A",
        2,
    ),
    (
        "camera_motion_infer",
        f"Where is camera 2? A. (514, 95); B. (258, 537); C. (108, 214). {CHOICE_TAIL}",
        "C",
        2,
    ),
    (
        "view_change_infer",
        "How would the camera move from image 1 to image 2? Use move_right: (m), ...",
        VCI_ANSWER,
        2,
    ),
    (
        "spatial_imagination_oc_mv",
        "Standing at the door, where is the bed? A. left, , behind; B. right, below, ; "
        "C. right, above, ; D. right, below, behind. "
        "Your answer can only include one of options A, B, C or D.",
        "D",
        3,
    ),
]


def png(color: tuple[int, int, int], size: tuple[int, int] = (8, 8)) -> bytes:
    """Encoded PNG bytes of a plain image."""
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


IMAGE_TYPE = pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))


def bench_table(rows: Sequence[tuple[str, str, str, int]] = ROWS, first_id: int = 0) -> pa.Table:
    """A table with SPAR-Bench's columns, images stored as HF ``datasets`` Image structs."""
    cols: dict[str, list[Any]] = {k: [] for k in ("id", "img_type", "format_type", "task")}
    cols.update(source=[], image=[], question=[], answer=[])
    for i, (task, question, answer, n_images) in enumerate(rows):
        cols["id"].append(first_id + i)
        cols["img_type"].append("multi-view" if n_images > 1 else "single-view")
        cols["format_type"].append("select" if "A." in question else "fill")
        cols["task"].append(task)
        cols["source"].append("scannet")
        cols["image"].append(
            [
                {"bytes": png((i * 20 % 256, j * 60, 7)), "path": f"{i}_{j}.png"}
                for j in range(n_images)
            ]
        )
        cols["question"].append(question)
        cols["answer"].append(answer)
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("img_type", pa.string()),
            ("format_type", pa.string()),
            ("task", pa.string()),
            ("source", pa.string()),
            ("image", IMAGE_TYPE),
            ("question", pa.string()),
            ("answer", pa.string()),
        ]
    )
    return pa.Table.from_pydict(cols, schema=schema)


class FakeOpenAI:
    """A small OpenAI-compatible server on 127.0.0.1 for tests, driven by a script.

    Each request takes the next scripted action (then ``answer`` once the script is used up):
    ``("reply", text)``, ``("reply", text, finish_reason)``, ``("status", code, headers)``,
    ``("answer",)`` (reply with ``answer``), ``("hang", seconds)`` (answer late) or ``("drop",)``
    (close the connection unanswered).
    The server stops itself after ``lifetime_s`` so a failing test never leaves it running.

    Like vLLM's OpenAI-compatible server (``vllm/entrypoints/openai``) it can also impose limits,
    checked before the script, with vLLM's own error shapes: ``api_key`` (401 ``{"error":
    "Unauthorized"}`` without ``Authorization: Bearer <key>``), ``models`` (``GET /v1/models``
    lists them; another name gets 404 "The model `x` does not exist."), ``max_images`` (400 "At
    most N image(s) may be provided in one prompt."), and ``echo_headers`` (error bodies repeat
    the request headers, key included, as a hostile or careless server would).

    Args:
        script: Actions for the first chat requests, in arrival order.
        answer: Function of the request body giving the reply text afterwards.
        port: 0 for any free port.
    """

    def __init__(
        self,
        script: Sequence[tuple[Any, ...]] = (),
        answer: Any = None,
        port: int = 0,
        lifetime_s: float = 60.0,
        models: Sequence[str] | None = None,
        api_key: str | None = None,
        max_images: int | None = None,
        echo_headers: bool = False,
        list_models: bool = True,
    ) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.script = list(script)
        self.answer = answer or (lambda body: "A")
        self.requests: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.model_lists = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _json(self, code: int, obj: Any) -> None:
                payload = json.dumps(obj).encode()
                with contextlib.suppress(OSError):
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def _refuse(self, body: Any) -> bool:
                """vLLM's checks, in its order: key, model name, image count."""
                error: tuple[int, Any] | None = None
                if api_key and self.headers.get("Authorization") != f"Bearer {api_key}":
                    error = (401, {"error": "Unauthorized"})
                elif body is not None and models and body.get("model") not in models:
                    message = f"The model `{body.get('model')}` does not exist."
                    error = (404, {"object": "error", "message": message, "code": 404})
                elif body is not None and max_images is not None:
                    parts = body["messages"][0]["content"]
                    n = sum(p.get("type") == "image_url" for p in parts)
                    if n > max_images:
                        message = f"At most {max_images} image(s) may be provided in one prompt."
                        error = (400, {"object": "error", "message": message, "code": 400})
                if error is None:
                    return False
                code, obj = error
                if echo_headers:  # in the message itself, where a client would show it
                    field = "message" if "message" in obj else "error"
                    obj = {**obj, field: f"{obj[field]} request_headers={dict(self.headers)}"}
                with fake._lock:
                    fake.refused.append({"path": self.path, "code": code, "body": body})
                self._json(code, obj)
                return True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self._refuse(None):
                    return
                listing = models is not None and list_models
                if self.path.rstrip("/").endswith("/v1/models") and listing:
                    with fake._lock:
                        fake.model_lists += 1
                    self._json(200, {"object": "list", "data": [{"id": m} for m in models]})
                else:
                    self._json(404, {"detail": "Not Found"})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self._refuse(body):
                    return
                with fake._lock:
                    fake.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    action = fake.script.pop(0) if fake.script else ("answer",)
                kind = action[0]
                if kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if kind == "hang":
                    time.sleep(action[1])
                if kind in ("hang", "answer"):
                    action = ("reply", fake.answer(body))
                if kind == "status":
                    self.send_response(action[1])
                    for k, v in (action[2] if len(action) > 2 else {}).items():
                        self.send_header(k, v)
                    payload = b'{"error": {"message": "scripted"}}'
                else:
                    finish = action[2] if len(action) > 2 else "stop"
                    message = {"role": "assistant", "content": action[1]}
                    payload = json.dumps(
                        {"choices": [{"index": 0, "message": message, "finish_reason": finish}]}
                    ).encode()
                    self.send_response(200)
                # The client may have given up already (timeout test): ignore a broken pipe.
                with contextlib.suppress(OSError):
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self.stop()
