"""The review web app (FastAPI): one HTML page, a small script and a JSON API.

Routes: ``GET /`` (the page), ``GET /static/app.js|app.css``, ``GET /api/meta``,
``GET /api/items`` (a filtered page), ``GET /api/image/{idx}/{k}``, ``POST /api/decide`` and
``POST /api/export``. POSTs need the page's session token in ``X-Review-Token`` (another site
open in the same browser cannot post decisions). Everything the page shows is inserted as text
(never as HTML), nothing is loaded from outside the server, and a Content-Security-Policy of
``default-src 'self'`` makes the browser enforce both.
"""

from __future__ import annotations

import html
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from spar3d.errors import InputError, Spar3dError, UnsafeInputError
from spar3d.review.data import ReviewData
from spar3d.review.decisions import ACTIONS, DecisionLog

CSP = "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
FILTERS = ("task", "format", "scene", "flag", "result", "decision")


def _static(name: str) -> str:
    return (
        resources.files("spar3d.review")
        .joinpath("static")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def create_app(data: ReviewData, log: DecisionLog, export_dir: Path) -> Any:
    """The FastAPI application serving ``data``; decisions go to ``log``, exports to ``export_dir``."""
    token = secrets.token_urlsafe(24)
    app = FastAPI(title="spar3d review", docs_url=None, redoc_url=None, openapi_url=None)
    page = (
        _static("index.html")
        .replace("{{TOKEN}}", html.escape(token))
        .replace("{{TITLE}}", html.escape(f"spar3d review: {data.root.name}"))
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def check_token(request: Request) -> None:
        if not secrets.compare_digest(request.headers.get("x-review-token", ""), token):
            raise HTTPException(403, "missing or wrong session token: reload the page")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        types = {"app.js": "text/javascript", "app.css": "text/css"}
        if name not in types:
            raise HTTPException(404)
        return Response(_static(name), media_type=types[name])

    @app.get("/api/meta")
    def meta() -> dict[str, Any]:
        return {
            "root": str(data.root),
            "kind": data.kind,
            "items": len(data.items),
            "facets": data.facets(),
            "run": data.run.name if data.run else None,
            "flags_file": str(data.flags_path) if data.flags_path else None,
            "reviewer": log.reviewer,
            "decisions_file": str(log.path),
            "export_dir": str(export_dir),
            "decided": len(log.state()),
        }

    @app.get("/api/items")
    def items(request: Request, page: int = 0, size: int = 20) -> dict[str, Any]:
        filters = {k: request.query_params.get(k, "") for k in FILTERS}
        return data.query(filters, page, size, log.state())

    @app.get("/api/image/{idx}/{k}")
    def image(idx: int, k: int) -> Response:
        try:
            got = data.image(idx, k)
        except UnsafeInputError as exc:  # a sample path leaving the dataset: never served
            raise HTTPException(403, str(exc)) from None
        except InputError as exc:  # a missing or undecodable image, named
            raise HTTPException(422, str(exc)) from None
        if got is None:
            raise HTTPException(404, "no such image")
        return Response(
            got[0], media_type=got[1], headers={"Cache-Control": "private, max-age=3600"}
        )

    @app.post("/api/decide")
    async def decide(request: Request) -> dict[str, Any]:
        check_token(request)
        body = await request.json()
        key, action = body.get("key"), body.get("action")
        if not isinstance(key, str) or key not in data.index:
            raise HTTPException(400, f"unknown item key {key!r}")
        if action not in ACTIONS:
            raise HTTPException(400, f"action must be one of {ACTIONS}")
        reason = str(body.get("reason") or "")[:2000]
        if action == "reject" and not reason.strip():
            raise HTTPException(400, "a rejection needs a reason")
        log.append(key, action, reason, str(body.get("tab") or "")[:64])
        state = log.state().get(key)
        return {
            "key": key,
            "decision": None
            if state is None
            else {"action": state["action"], "reason": state.get("reason", "")},
            "decided": len(log.state()),
        }

    @app.post("/api/export")
    def export(request: Request) -> Any:
        from spar3d.review.export import export_accepted

        check_token(request)
        try:
            info = export_accepted(data, log.state(), export_dir)
        except Spar3dError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return {"path": str(export_dir), **info}

    return app
