"""``POST /v1/tours`` (a tour problem solved as a job) and the job resources:
``GET /v1/jobs/{job_id}`` and ``GET /v1/jobs/{job_id}/results/{name}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from arverne.errors import ProblemError
from arverne.service.context import Context, CurrentSnapshot, Writer
from arverne.service.geojson import json_response
from arverne.service.jobs import MEDIA_TYPES, Job
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses
from arverne.service.settings import ServiceLimits
from arverne.service.snapshot import Snapshot

router = APIRouter(prefix="/v1", tags=["jobs"])

RESULT_NAME = r"^[A-Za-z0-9_-]{1,60}$"
"""A result's name (a key of the job's stored results, never a path)."""


class JobOut(BaseModel):
    """A job: its state, progress and, once it succeeded, where its results are."""

    job_id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float
    message: str
    network_version: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    results: dict[str, str]
    """Result name -> URL to download it."""


def job_out(job: Job, request: Request) -> JobOut:
    """The job resource, with result URLs."""
    return JobOut(
        job_id=job.job_id,
        kind=job.kind,
        status=job.status,  # type: ignore[arg-type]
        progress=round(job.progress, 3),
        message=job.message,
        network_version=job.network_version,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        results={
            name: str(request.url_for("get_job_result", job_id=job.job_id, name=name))
            for name in job.results
        },
    )


def check_span(limits: ServiceLimits, window_min: int, max_time_min: int) -> None:
    """Refuse a territory job whose departure window or longest time is beyond the limits."""
    if window_min * 60 > limits.max_window_s:
        raise HttpProblem(
            "limit-exceeded", f"window {window_min} min is more than {limits.max_window_s} s"
        )
    if max_time_min * 60 > limits.max_cutoff_s:
        raise HttpProblem(
            "limit-exceeded", f"max_time {max_time_min} min is more than {limits.max_cutoff_s} s"
        )


def submit(
    ctx: Context, snap: Snapshot, request: Request, kind: str, params: dict[str, Any]
) -> JobOut:
    """Start a job on the request's network version: the 202 resource, or 503 when busy."""
    jobs = ctx.need_jobs()
    path = snap.network.path
    assert path is not None
    job = jobs.submit(
        kind,
        {**params, "network_path": str(path)},
        snap.version,
        max_running=ctx.settings.limits.jobs_running,
    )
    if job is None:
        raise HttpProblem(
            "overloaded",
            "every job slot is busy",
            headers={"Retry-After": str(ctx.settings.limits.retry_after_s * 10)},
        )
    return job_out(job, request)


@router.post(
    "/tours",
    status_code=202,
    response_model=JobOut,
    responses=problem_responses(*COMMON_ERRORS, 401, 403),
    dependencies=[Writer],
)
def post_tours(
    ctx: Context,
    snap: CurrentSnapshot,
    request: Request,
    problem: Annotated[
        dict[str, Any],
        Body(description="a tour problem, as `arverne tours` reads problem.json"),
    ],
    time_limit: Annotated[float, Query(gt=0, description="solver time, seconds")] = 10.0,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Any:
    """Solve a tour problem as a job (202 Accepted); results: solution JSON, GeoJSON, Gantt."""
    from arverne.fleet.io import problem_from_dict

    limits = ctx.settings.limits
    if time_limit > limits.max_solve_s:
        raise HttpProblem(
            "limit-exceeded", f"time_limit {time_limit} s is more than {limits.max_solve_s} s"
        )
    try:  # checked here, before any job starts: a bad problem is a 400 at once
        parsed = problem_from_dict(problem, source="request body")
    except (ProblemError, TypeError, ValueError) as exc:
        raise HttpProblem("invalid-parameter", " ".join(str(exc).split())[:500]) from None
    stops = len(parsed.depots) + len(parsed.visits) + 2 * len(parsed.shipments)
    if max(stops, len(parsed.places)) > limits.max_problem_stops:
        raise HttpProblem(
            "limit-exceeded",
            f"the problem has {stops} stops, more than {limits.max_problem_stops}",
        )
    job = submit(
        ctx,
        snap,
        request,
        "tours",
        {
            "problem": problem,
            "time_limit_s": time_limit,
            "seed": seed,
            "max_stops": limits.max_problem_stops,
        },
    )
    return accepted(job)


def accepted(job: JobOut) -> Any:
    """The 202 answer of a new job, with its Location."""
    return json_response(
        job.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/v1/jobs/{job.job_id}"},
    )


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    responses=problem_responses(*COMMON_ERRORS, 404),
)
def get_job(ctx: Context, request: Request, job_id: Annotated[str, Path(max_length=64)]) -> JobOut:
    """A job's state and progress; once it succeeded, the URLs of its results."""
    job = ctx.need_jobs().get(job_id)
    if job is None:
        raise HttpProblem("not-found", "no job has this id")
    return job_out(job, request)


@router.get(
    "/jobs/{job_id}/results/{name}",
    response_class=FileResponse,
    responses={
        200: {
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "description": "the result file",
        },
        **problem_responses(*COMMON_ERRORS, 404, 409),
    },
)
def get_job_result(
    ctx: Context,
    job_id: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(pattern=RESULT_NAME)],
) -> Any:
    """Download one result of a succeeded job (409 while it runs or after it failed)."""
    job = ctx.need_jobs().get(job_id)
    if job is None:
        raise HttpProblem("not-found", "no job has this id")
    if job.status != "succeeded":
        raise HttpProblem("conflict", f"the job is {job.status}, it has no results")
    path = ctx.need_jobs().result_path(job, name)
    if path is None:
        raise HttpProblem("not-found", f"this job has no result {name!r}")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
        filename=path.name,
    )
