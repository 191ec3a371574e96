"""``POST /v1/matrices``: a travel-time matrix (r5py's long table) computed as a job, Parquet out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from arverne.service.context import Context, CurrentSnapshot, Writer
from arverne.service.params import parse_datetime
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses
from arverne.service.routes.jobs import JobOut, accepted, check_span, submit

router = APIRouter(prefix="/v1", tags=["territories"])

MAX_POINTS = 10_000
"""Most origins (or destinations) of one request; the cell limit usually binds first."""


class PointIn(BaseModel):
    """A place of the matrix: a unique id and its WGS84 position."""

    id: Annotated[str, Field(min_length=1, max_length=100)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]


class MatrixIn(BaseModel):
    """What to compute: every origin to every destination (the origins when none are given)."""

    origins: Annotated[list[PointIn], Field(min_length=1, max_length=MAX_POINTS)]
    destinations: Annotated[list[PointIn] | None, Field(max_length=MAX_POINTS)] = None
    departure: Annotated[str, Field(max_length=20, description="YYYYMMDDThhmm[ss], local")]
    window_min: Annotated[int, Field(ge=0, le=24 * 60, description="departures every minute")] = 60
    percentiles: Annotated[
        list[Annotated[float, Field(gt=0, le=100)]], Field(min_length=1, max_length=5)
    ] = [50.0]
    modes: Annotated[
        list[Literal["walk", "bike", "car", "tractor", "transit"]],
        Field(min_length=1, max_length=2),
    ] = ["walk", "transit"]
    max_time_min: Annotated[int, Field(ge=1, le=48 * 60)] = 120


@router.post(
    "/matrices",
    status_code=202,
    response_model=JobOut,
    responses=problem_responses(*COMMON_ERRORS, 401, 403),
    dependencies=[Writer],
)
def post_matrix(ctx: Context, snap: CurrentSnapshot, request: Request, body: MatrixIn) -> Any:
    """Compute a travel-time matrix as a job (202); its result ``table`` is a Parquet file
    (``from_id``, ``to_id``, ``travel_time`` in minutes, or one column per percentile).
    """
    limits = ctx.settings.limits
    destinations = body.destinations or body.origins
    cells = len(body.origins) * len(destinations)
    if cells > limits.max_matrix_cells:
        raise HttpProblem(
            "limit-exceeded",
            f"{cells} origin x destination cells, more than {limits.max_matrix_cells}",
        )
    check_span(limits, body.window_min, body.max_time_min)
    for name, points in (("origins", body.origins), ("destinations", body.destinations or [])):
        ids = [p.id for p in points]
        if len(set(ids)) != len(ids):
            raise HttpProblem("invalid-parameter", f"{name}: every id must be unique")
    tt = snap.network.timetable
    assert tt is not None
    departure = parse_datetime(body.departure, tt.timezone)
    job = submit(
        ctx,
        snap,
        request,
        "matrix",
        {
            "origins": [p.model_dump() for p in body.origins],
            "destinations": [p.model_dump() for p in body.destinations]
            if body.destinations
            else None,
            "departure": departure.isoformat(),
            "window_min": body.window_min,
            "percentiles": body.percentiles,
            "modes": body.modes,
            "max_time_min": body.max_time_min,
        },
    )
    return accepted(job)
