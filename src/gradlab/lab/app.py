"""The lab's web server: a FastAPI app with a JSON API and the static page (HTML, CSS, JS modules).

    GET  /                              the page (five views; each view's state lives in the URL hash)
    GET  /vendor/plotly.min.js          plotly.js from the installed plotly package (never a CDN)
    GET  /api/meta                      landscapes, optimizers, examples, limits
    POST /api/derivative                f, f', f'' and the finite-difference estimate over a window
    POST /api/derivative/point          the tangent line and a step-size study at one point
    POST /api/surface                   a landscape or typed f(x, y) on a grid
    POST /api/descent                   one optimizer's trajectory
    POST /api/race                      several optimizers from one start, with the race table
    POST /api/graph                     the computation graph of f(x, y) with values and gradients
    POST /api/train                     start a training session (backprop flow)
    GET  /api/train/{id}                the session: data, history, latest frame
    POST /api/train/{id}/step           take steps, get a frame
    POST /api/train/{id}/pause          stop the stream now; the frame it stopped at
    POST /api/train/{id}/settings       change the learning rate or L2 while training
    GET  /api/train/{id}/stream         train continuously, frames as Server-Sent Events
    DELETE /api/train/{id}              end the session (POST /api/train/{id}/end: the same, for sendBeacon)

Light requests are answered in the server's threads, side by side; descent, the race and the training
sessions run in worker processes (workers.py), so that many users can share one lab.

Bad input gets HTTP 422 and {"detail": one readable sentence, "field": the control it concerns}; every other
error (404 for an unknown path or training session, 405, 500) has the same shape (schemas.ErrorBody), and the
OpenAPI schema (/api/openapi.json) declares it for every route.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from . import DEFAULT_WORKERS, compute, limits
from .errors import LabError, clean, plain
from .schemas import (
    MAX_FORMULA_LENGTH,
    DerivativeRequest,
    DescentRequest,
    ErrorBody,
    GraphRequest,
    LandscapeRequest,
    PointRequest,
    RaceRequest,
    SettingsRequest,
    StepRequest,
    SurfaceRequest,
    TrainRequest,
    describe_error,
)
from .training import SessionStore, TrainingConfig
from .workers import Workers

__all__ = ["LOOPBACK_HOSTS", "STATIC", "create_app", "plotly_js"]

STATIC = Path(__file__).resolve().parent / "static"
LESSON_NAME = re.compile(r"\d\d_[a-z0-9_]+\.ipynb")  # lessons/NN_slug.ipynb
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
log = logging.getLogger("gradlab.lab")

# The page runs only what this server sends: no request may leave it (connect-src 'self').
# plotly's WebGL code compiles shader wrappers with new Function (hence 'unsafe-eval').
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)


DESCRIPTION = f"""The JSON API behind the lab's page. Every number is computed by gradlab on this machine.

Every error answer is one JSON object, `ErrorBody`: `detail` is one readable sentence, `field` the request
field (the page's control) it concerns, or null.

* **422**: the request was refused: a number out of range or of the wrong type (JSON `true` is not a number),
  a missing or unknown field, or a formula the parser does not accept (formulas are at most
  {MAX_FORMULA_LENGTH} characters; a refused formula adds a caret line and its `column`). A refused request body
  also lists every problem found in `errors`.
* **404**: a path under /api that is not listed here, or a training session that no longer exists
  (sessions end after {limits.IDLE_TIMEOUT / 60:g} minutes without use; at most {limits.MAX_SESSIONS} are kept).
* **405**: a listed path with another method (the answer names the method to use).
* **500**: the lab failed (a bug): `detail` names the error.
"""

REFUSED = {422: {"model": ErrorBody, "description": "refused: `detail` says why, `field` names the control"}}
FAILED = {500: {"model": ErrorBody, "description": "the lab failed (a bug)"}}
NO_SESSION = {404: {"model": ErrorBody, "description": "no such training session (expired, or never made)"}}


def plotly_js() -> Path | None:
    """The plotly.min.js bundled in the plotly Python package, or None if plotly is not installed."""
    try:
        path = resources.files("plotly") / "package_data" / "plotly.min.js"
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


def respond(payload) -> JSONResponse:
    return JSONResponse(clean(payload))


def respond_text(text: str) -> Response:
    """An answer a worker wrote already (workers.to_json: the same text JSONResponse would write)."""
    return Response(text, media_type="application/json")


def _ordered(low: float, high: float, low_name: str, high_name: str):
    if not low < high:
        raise LabError(f"{low_name} ({low:g}) must be smaller than {high_name} ({high:g})", field=high_name)


def _landscape(body: LandscapeRequest):
    return compute.landscape_of(body.model_dump())


class _SecurityHeaders:
    """Adds the content security policy (and no-cache for the page's own files) to every response.

    A plain ASGI middleware: it leaves streamed responses (the training stream) alone.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        fresh = path == "/" or path.startswith(("/static/", "/api/"))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if fresh:
                    headers.setdefault("Cache-Control", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _event(name: str, data) -> str:
    text = data if isinstance(data, str) else json.dumps(clean(data), separators=(",", ":"), allow_nan=False)
    return f"event: {name}\ndata: {text}\n\n"


def create_app(
    store: SessionStore | None = None, allowed_hosts=LOOPBACK_HOSTS, workers: int | Workers = DEFAULT_WORKERS
) -> FastAPI:
    """The lab as an ASGI app. `allowed_hosts` guards against DNS rebinding (None: any Host header).

    `workers`: the worker processes for heavy work and training sessions (0: all in this process;
    see workers.py), started on first use and stopped with the app. A `store` must make its
    sessions with `workers.session`.
    """
    if not (STATIC / "index.html").is_file():
        raise RuntimeError(
            f"the lab's page files are missing from this installation ({STATIC}); "
            "install gradlab from its source tree with `pip install -e .`"
        )
    pool = workers if isinstance(workers, Workers) else Workers(workers)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pool.close()

    app = FastAPI(
        lifespan=lifespan,
        title="gradlab lab",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        responses=FAILED,
    )
    store = store if store is not None else SessionStore(factory=pool.session)
    app.state.sessions, app.state.workers = store, pool
    app.state.closing = threading.Event()  # set when the server stops: open training streams end at once
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    app.add_middleware(_SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        described = [describe_error(e) for e in error.errors()]
        field, message = described[0] if described else ("request", "the request is not valid")
        errors = [{"field": f, "detail": m} for f, m in described]
        return JSONResponse({"detail": message, "field": field, "errors": errors}, status_code=422)

    @app.exception_handler(LabError)
    async def refused(request: Request, error: LabError):
        return JSONResponse(error.payload(), status_code=error.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        path = request.url.path
        if error.status_code == 404:
            message = f"no such page: {path} (the lab's page is at /)"
        elif error.status_code == 405:
            message = f"{request.method} is not allowed for {path}"
        else:
            message = str(error.detail)
        return JSONResponse({"detail": message, "field": None}, error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception):
        log.exception("the lab failed on %s", request.url.path)
        return JSONResponse({"detail": f"the lab failed ({type(error).__name__}): {plain(error)}", "field": None}, 500)

    # --- the page ----------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly():
        path = plotly_js()
        if path is None:
            raise LabError("plotly is not installed: pip install plotly", status=404)
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/lessons/{notebook}", include_in_schema=False)
    def lesson(notebook: str):
        """The lesson that explains a view, in JupyterLab (started by `gradlab lessons`). The page links here,
        so it names no other address itself; only lesson names are redirected, never an arbitrary URL."""
        from ..lessons_cli import DEFAULT_PORT, HOST

        if not LESSON_NAME.fullmatch(notebook):
            raise LabError(f"no such lesson: {notebook} (lessons are named like 01_derivatives.ipynb)", status=404)
        return RedirectResponse(f"http://{HOST}:{DEFAULT_PORT}/lab/tree/{notebook}", status_code=307)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # --- one-shot computations ---------------------------------------------------------------------
    @app.get("/api/meta", responses=FAILED)
    def meta():
        return respond(compute.meta())

    @app.post("/api/derivative", responses=REFUSED)
    def derivative(body: DerivativeRequest):
        _ordered(body.x_min, body.x_max, "x_min", "x_max")
        return respond(
            compute.derivative_curves(body.expr, body.x_min, body.x_max, body.points, body.h, body.method, body.second)
        )

    @app.post("/api/derivative/point", responses=REFUSED)
    def derivative_point(body: PointRequest):
        _ordered(body.x_min, body.x_max, "x_min", "x_max")
        return respond(compute.derivative_point(body.expr, body.x0, body.h, body.method, body.x_min, body.x_max))

    @app.post("/api/surface", responses=REFUSED)
    def surface(body: SurfaceRequest):
        return respond(compute.surface(_landscape(body), body.n))

    # descent and race take up to a second or two: a worker computes them (see workers.py)
    @app.post("/api/descent", responses=REFUSED)
    async def descent(body: DescentRequest):
        return respond_text(await pool.job("descent", body.model_dump()))

    @app.post("/api/race", responses=REFUSED)
    async def race(body: RaceRequest):
        return respond_text(await pool.job("race", body.model_dump()))

    @app.post("/api/graph", responses=REFUSED)
    def graph(body: GraphRequest):
        return respond(compute.computation_graph(body.expr, body.x, body.y))

    # --- live training ---------------------------------------------------------------------------------
    @app.post("/api/train", responses=REFUSED)
    def train(body: TrainRequest):
        from ..optim.minimize import OPTIMIZERS

        if body.optimizer not in OPTIMIZERS:
            raise LabError(
                f"unknown optimizer {body.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}", field="optimizer"
            )
        config = TrainingConfig(**{**body.model_dump(), "hidden": tuple(body.hidden)})
        return respond_text(store.create(config).described)

    # a session lives in a worker: these ask it there (the worker answers in the order they were sent)
    @app.get("/api/train/{session_id}", responses={**REFUSED, **NO_SESSION})
    async def session_state(session_id: str):
        return respond_text(await store.get(session_id).describe())

    @app.post("/api/train/{session_id}/step", responses={**REFUSED, **NO_SESSION})
    async def step(session_id: str, body: StepRequest):
        text, _ = await store.get(session_id).advance(body.steps)
        return respond_text(text)

    @app.post("/api/train/{session_id}/pause", responses={**REFUSED, **NO_SESSION})
    async def pause(session_id: str):
        return respond_text(await store.get(session_id).pause())

    @app.post("/api/train/{session_id}/settings", responses={**REFUSED, **NO_SESSION})
    async def settings(session_id: str, body: SettingsRequest):
        return respond_text(await store.get(session_id).settings(body.lr, body.l2))

    @app.delete("/api/train/{session_id}", responses=REFUSED)
    def end_session(session_id: str):
        return respond({"deleted": store.delete(session_id)})

    @app.post("/api/train/{session_id}/end", responses=REFUSED)
    def end_session_beacon(session_id: str):  # navigator.sendBeacon can only POST
        return respond({"deleted": store.delete(session_id)})

    @app.get(
        "/api/train/{session_id}/stream",
        response_class=StreamingResponse,
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "frames as Server-Sent Events, then `end`"},
            **REFUSED,
            **NO_SESSION,
        },
    )
    async def stream(
        session_id: str,
        request: Request,
        steps_per_frame: int = Query(10, ge=1, le=limits.MAX_STEPS_PER_FRAME),
        max_frames: int = Query(100000, ge=1, le=100000),
    ):
        token = await store.get(session_id).start_stream()  # a newer stream of the session makes older ones stop

        async def events():
            started = time.monotonic()
            for _ in range(max_frames):
                tick = time.monotonic()
                if await request.is_disconnected():
                    return
                if app.state.closing.is_set():
                    yield _event("end", {"reason": "the lab's server is stopping"})
                    return
                try:
                    frame, stopped = await store.get(session_id).advance(steps_per_frame, token)
                except LabError as error:  # the session expired, or its worker was restarted
                    yield _event("end", {"reason": error.message, "expired": True})
                    return
                if frame is None:
                    yield _event("end", {"reason": "paused"})
                    return
                yield _event("frame", frame)
                if stopped:
                    yield _event("end", {"reason": stopped})
                    return
                if time.monotonic() - started > limits.MAX_STREAM_SECONDS:
                    yield _event(
                        "end",
                        {
                            "reason": f"paused after {limits.MAX_STREAM_SECONDS:g} s of continuous training "
                            "(the limit per stream); press play to go on"
                        },
                    )
                    return
                await asyncio.sleep(max(0.0, limits.MIN_FRAME_INTERVAL - (time.monotonic() - tick)))
            yield _event("end", {"reason": f"streamed {max_frames} frames as asked"})

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @app.api_route("/api/{rest:path}", methods=methods, include_in_schema=False)
    def unknown(rest: str, request: Request):
        path = f"/api/{rest}"
        routes = [r for r in app.routes if isinstance(r, APIRoute) and r.endpoint is not unknown]
        allowed = sorted({m for r in routes if r.path_regex.match(path) for m in r.methods})
        if allowed:
            return JSONResponse(
                {"detail": f"{request.method} is not allowed for {path}; use {' or '.join(allowed)}", "field": None},
                405,
                headers={"Allow": ", ".join(allowed)},
            )
        return JSONResponse({"detail": f"no such endpoint: {path}", "field": None}, 404)

    return app
