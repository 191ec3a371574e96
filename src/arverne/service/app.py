"""The app factory: ``create_app(settings) -> FastAPI``.

Nothing lives at module level: each call builds its own :class:`ServiceContext` (network
holder, admission queue, jobs, on-demand service) and keeps it in ``app.state.context``. Routers
are the ``router`` of every module of :mod:`arverne.service.routes` (a new resource is a new
module there). Static files: when the package :mod:`arverne.service.web` exists and defines
``mount(app, settings)``, it is called last, so the map page is served at the root.

Live sources (GTFS-realtime, GBFS, carpool offers; :mod:`arverne.service.live`) are read once
when the app starts (its lifespan: a URL that does not answer delays the start by at most
``live_timeout_s``), then again on their schedules by one asyncio task per worker process,
stopped when the app stops.

``uvicorn`` workers build the app with :func:`create_app_from_env` (a factory: the settings come
from the environment variable ``arverne serve`` set).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from arverne import __version__
from arverne.errors import InputError, NetworkStoreError, NoRouteError
from arverne.service.context import ServiceContext
from arverne.service.limits import Admission, Guard
from arverne.service.problems import MEDIA_TYPE, HttpProblem, Problem, problem_response
from arverne.service.routes import routers
from arverne.service.settings import ServiceSettings
from arverne.service.snapshot import NetworkHolder

log = logging.getLogger("arverne.service")

_STATUS_CODES = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}


def create_app(settings: ServiceSettings) -> FastAPI:
    """A FastAPI app serving the network of ``settings`` (see the module docstring).

    The network is loaded (memory-mapped and checked) here, so a service that cannot read it
    fails at start, not at its first request.

    Parameters
    ----------
    settings
        The service's settings.

    Returns
    -------
    FastAPI
        The app; ``app.state.context`` holds its :class:`ServiceContext`.
    """
    limits = settings.limits
    ctx = ServiceContext(
        settings=settings,
        networks=NetworkHolder(settings.network_dir),
        admission=Admission(
            limits.planner_slots, limits.queue_depth, limits.queue_wait_s, limits.retry_after_s
        ),
    )
    ctx.networks.snapshot()
    if settings.job_dir is not None:
        from arverne.service.jobs import JobStore

        ctx.jobs = JobStore(settings.job_dir)
    if settings.ondemand_config is not None and settings.store_dsn is not None:
        from arverne.service.ledger import ReferenceLedger
        from arverne.service.ondemand import OnDemandDesk

        ctx.ondemand = OnDemandDesk.open(
            settings.ondemand_config, settings.store_dsn, ctx.networks.snapshot().network
        )
        ctx.ledger = ReferenceLedger(settings.shared_dir)

    if settings.realtime_sources or settings.gbfs_source or settings.carpool_offers:
        from arverne.service.live import LiveFeeds

        ctx.live = LiveFeeds(settings, publish=ctx.networks.publish, timezone=ctx.timezone)

    app = FastAPI(
        lifespan=_lifespan,
        title="Arverne",
        version=__version__,
        summary="Journeys, territories, tours and on-demand transport over one open network.",
        openapi_url="/v1/openapi.json",
        docs_url=None,  # /v1/docs: Swagger UI served from our own npm install (service.web)
        redoc_url=None,
    )
    app.state.context = ctx
    _add_error_handlers(app)
    for router in routers():
        app.include_router(router)
    _mount_web(app, settings)
    # planner endpoints: a full queue is refused before their parameters are parsed
    queued = ("/v1/journeys", "/v1/isochrones")
    app.add_middleware(
        Guard,
        limits=limits,
        shared_dir=settings.shared_dir,
        admission=ctx.admission,
        queued=queued,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Read the live sources once before serving, then keep them fresh until the app stops;
    stop the planner threads then.
    """
    ctx: ServiceContext = app.state.context
    try:
        if ctx.live is None:
            yield
            return
        await asyncio.to_thread(ctx.live.refresh)
        task = asyncio.create_task(ctx.live.run(), name="arverne-live-sources")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        ctx.admission.close()


def create_app_from_env() -> FastAPI:
    """The app of the settings ``arverne serve`` put in the environment (uvicorn's factory)."""
    return create_app(ServiceSettings.from_env())


def _mount_web(app: FastAPI, settings: ServiceSettings) -> None:
    """Let :mod:`arverne.service.web` mount the map page and its assets, when it exists."""
    try:
        web = importlib.import_module("arverne.service.web")
    except ModuleNotFoundError as exc:
        if exc.name != "arverne.service.web":
            raise
        return
    mount = getattr(web, "mount", None)
    if mount is not None:
        mount(app, settings)


def _add_error_handlers(app: FastAPI) -> None:
    """Every refusal as a problem document (application/problem+json)."""

    @app.exception_handler(HttpProblem)
    async def _problem(request: Request, exc: HttpProblem) -> JSONResponse:
        return problem_response(exc.code, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid")
        if first.get("type") == "json_invalid":
            detail = "the body is not valid JSON"
        return problem_response("invalid-parameter", detail)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return problem_response("invalid-parameter", str(exc))

    @app.exception_handler(NoRouteError)
    async def _no_route(request: Request, exc: NoRouteError) -> JSONResponse:
        return problem_response("no-route", str(exc), reason=exc.reason)

    @app.exception_handler(NetworkStoreError)
    async def _store(request: Request, exc: NetworkStoreError) -> JSONResponse:
        log.error("network unavailable: %s", exc)
        return problem_response("unavailable", "the network cannot be read now")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "invalid-parameter")
        return problem_response(code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return problem_response("internal", "the request failed inside the service")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI 3.1 with every problem response documented as application/problem+json."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=__doc__ or "",
        routes=app.routes,
    )
    ref = f"#/components/schemas/{Problem.__name__}"
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                json_body = content.get("application/json")
                if json_body is not None and json_body.get("schema", {}).get("$ref") == ref:
                    content[MEDIA_TYPE] = content.pop("application/json")
    app.openapi_schema = schema
    return schema
