"""``POST /v1/diagnoses``: who is left behind, and why, computed as a job (map, GeoPackage,
GeoJSON, tables, summaries).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from arverne.service.context import Context, CurrentSnapshot, Writer
from arverne.service.params import parse_datetime
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses
from arverne.service.routes.jobs import JobOut, accepted, check_span, submit

router = APIRouter(prefix="/v1", tags=["territories"])

MAX_ZONES = 5_000
MAX_SERVICES = 10_000
CATEGORY = re.compile(r"[A-Za-z0-9_-]{1,40}")
"""A service category names result files (``beyond_<category>.csv``): letters, digits, _ and -."""


class FeatureIn(BaseModel):
    """A GeoJSON feature (its geometry is checked when the job reads it)."""

    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: dict[str, Any]


class DiagnosisIn(BaseModel):
    """Zones (``id``, ``population``, polygons) and services (``id``, ``category``, points)."""

    zones: Annotated[list[FeatureIn], Field(min_length=1, max_length=MAX_ZONES)]
    services: Annotated[list[FeatureIn], Field(min_length=1, max_length=MAX_SERVICES)]
    at: Annotated[str, Field(max_length=20, description="YYYYMMDDThhmm[ss], local")]
    threshold_min: Annotated[float, Field(gt=0, le=48 * 60)] = 30.0
    window_min: Annotated[int, Field(ge=0, le=24 * 60)] = 60
    max_time_min: Annotated[int, Field(ge=1, le=48 * 60)] = 120


@router.post(
    "/diagnoses",
    status_code=202,
    response_model=JobOut,
    responses=problem_responses(*COMMON_ERRORS, 401, 403),
    dependencies=[Writer],
)
def post_diagnosis(ctx: Context, snap: CurrentSnapshot, request: Request, body: DiagnosisIn) -> Any:
    """Diagnose access from every zone to the nearest service of each category, as a job (202);
    results: ``map`` (PNG), ``gpkg``, ``geojson`` (zones with times), ``zones`` and
    ``beyond_<category>`` (CSV), ``summary_fr``/``summary_en``, ``counts``.
    """
    check_span(ctx.settings.limits, body.window_min, body.max_time_min)
    if body.threshold_min > body.max_time_min:
        raise HttpProblem("invalid-parameter", "threshold_min must not exceed max_time_min")
    for i, feature in enumerate(body.services):
        category = feature.properties.get("category")
        if not isinstance(category, str) or not CATEGORY.fullmatch(category):
            raise HttpProblem(
                "invalid-parameter",
                f"services[{i}]: category must be 1-40 letters, digits, '_' or '-'",
            )
    tt = snap.network.timetable
    assert tt is not None
    at = parse_datetime(body.at, tt.timezone)
    job = submit(
        ctx,
        snap,
        request,
        "diagnosis",
        {
            "zones": [f.model_dump() for f in body.zones],
            "services": [f.model_dump() for f in body.services],
            "at": at.isoformat(),
            "threshold_min": body.threshold_min,
            "window_min": body.window_min,
            "max_time_min": body.max_time_min,
        },
    )
    return accepted(job)
