"""The HTTP API.

    POST /api/vote       {"choice": "cats" | "dogs"} → 201 {"choice": ...}; anything else → 422
    GET  /api/results    → 200 {"cats": N, "dogs": N, "total": N}
    GET|HEAD /health     liveness: the process serves requests → 200 (never touches the database)
    GET|HEAD /ready      readiness: the database answers → 200, else 503

HTTP status codes carry the outcome (seed 004's choice); bodies are informative only. A
database that cannot be reached gives 503 on the API and on /ready, never a 500.
"""

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from . import __version__
from .settings import Settings, from_env
from .store import Choice, Store, StoreUnavailable, open_store

log = logging.getLogger("vote_api")


class Vote(BaseModel):
    """A vote: exactly one field, `choice`, "cats" or "dogs"."""

    model_config = ConfigDict(extra="forbid")
    choice: Choice


class Results(BaseModel):
    cats: int
    dogs: int
    total: int


class Health(BaseModel):
    status: str


class Readiness:
    """Logs only the changes of readiness, not every probe."""

    def __init__(self) -> None:
        self._ready: bool | None = None
        self._lock = threading.Lock()

    def report(self, ready: bool, reason: str = "") -> None:
        with self._lock:
            if ready == self._ready:
                return
            self._ready = ready
        if ready:
            log.info("ready: the database answers")
        else:
            log.warning("not ready: %s", reason)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The ASGI application; `store` defaults to the one the settings name."""
    settings = settings if settings is not None else from_env()
    db: Store = (
        store
        if store is not None
        else open_store(settings.database_url, settings.db_path, settings.db_connect_timeout)
    )
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info("vote-api %s storing votes in %s", __version__, db.describe())
        yield

    app = FastAPI(title="vote-api", version=__version__, lifespan=lifespan)

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(_request: Request, exc: StoreUnavailable) -> JSONResponse:
        readiness.report(False, str(exc))
        return JSONResponse({"detail": "database unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.post("/api/vote", status_code=status.HTTP_201_CREATED, response_model=Vote)
    def vote(body: Vote) -> Vote:
        db.add_vote(body.choice)
        return body

    @app.get("/api/results", response_model=Results)
    def results() -> Results:
        counts = db.results()
        return Results(cats=counts["cats"], dogs=counts["dogs"], total=sum(counts.values()))

    @app.api_route("/health", methods=["GET", "HEAD"], response_model=Health)
    async def health() -> Health:
        # on the event loop on purpose: it answers only while the loop is not stuck
        return Health(status="ok")

    @app.api_route(
        "/ready",
        methods=["GET", "HEAD"],
        response_model=Health,
        responses={503: {"model": Health, "description": "the database does not answer"}},
    )
    def ready() -> Any:
        try:
            db.ping()
        except StoreUnavailable as e:
            readiness.report(False, str(e))
            return JSONResponse({"status": "unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
        readiness.report(True)
        return Health(status="ready")

    return app


def __getattr__(name: str) -> Any:
    # `uvicorn app.main:app` gets an app configured from the environment, built on first use
    # (importing this module for tests reads no environment)
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
