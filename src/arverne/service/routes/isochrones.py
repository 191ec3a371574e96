"""``GET /v1/isochrones``: isochrones from a place, as GeoJSON polygons (one per cutoff).

Navitia's grammar: ``from=lon;lat`` (or a stop id), ``datetime``, ``boundary_duration[]``
(seconds, repeatable; default 10, 20, 30, 45, 60 minutes), plus ``mode`` (``transit`` or a
street mode), ``wheelchair``, ``max_walking_duration_to_pt`` and ``walking_speed``. Answered at
once, behind the planner queue: the cutoffs are bounded by the service's limit.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Query
from starlette.responses import Response

from arverne.errors import InputError
from arverne.routing.options import PlanOptions
from arverne.service.context import Context, CurrentSnapshot
from arverne.service.geojson import FeatureCollection
from arverne.service.params import parse_datetime, parse_place
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses
from arverne.service.snapshot import Snapshot

router = APIRouter(prefix="/v1", tags=["isochrones"])

DEFAULT_BOUNDARIES_S = (600, 1200, 1800, 2700, 3600)
MAX_BOUNDARIES = 10


@router.get(
    "/isochrones",
    response_model=FeatureCollection,
    responses=problem_responses(*COMMON_ERRORS, 404),
)
async def get_isochrones(
    ctx: Context,
    snap: CurrentSnapshot,
    from_: Annotated[str, Query(alias="from", max_length=200, description="lon;lat or stop id")],
    datetime: Annotated[
        str | None, Query(max_length=20, description="YYYYMMDDThhmm[ss] (default: now)")
    ] = None,
    boundary_duration: Annotated[
        list[int] | None,
        Query(alias="boundary_duration[]", max_length=MAX_BOUNDARIES, description="seconds"),
    ] = None,
    mode: Literal["transit", "walk", "bike", "car"] = "transit",
    wheelchair: bool = False,
    max_walking_duration_to_pt: Annotated[int | None, Query(ge=0, le=7200)] = None,
    walking_speed: Annotated[float | None, Query(ge=0.1, le=5.0)] = None,
) -> Any:
    """Areas reached within each cutoff from a place (streets and the reached part of the street
    the frontier cuts, never a hull), in WGS84, largest cutoff first.
    """
    bounds = sorted(set(boundary_duration or DEFAULT_BOUNDARIES_S))
    limit = ctx.settings.limits.max_cutoff_s
    if bounds[0] <= 0:
        raise HttpProblem("invalid-parameter", "boundary_duration[] must be positive seconds")
    if bounds[-1] > limit:
        raise HttpProblem(
            "limit-exceeded", f"boundary_duration {bounds[-1]} s is more than {limit} s"
        )
    tt = snap.network.timetable
    assert tt is not None
    origin = parse_place(from_, tt, "from")
    when = parse_datetime(datetime, tt.timezone)
    values: dict[str, Any] = {"wheelchair": wheelchair}
    if max_walking_duration_to_pt is not None:
        values["max_walk_access_s"] = values["max_walk_egress_s"] = max_walking_duration_to_pt
    if walking_speed is not None:
        values["walk_speed_mps"] = walking_speed
    try:
        options = PlanOptions(**values)
    except InputError as exc:
        raise HttpProblem("invalid-parameter", str(exc)) from None
    body = await ctx.admission.run(_isochrones, snap, origin, when, bounds, mode, options)
    return Response(body.encode(), media_type="application/json")


def _isochrones(
    snap: Snapshot,
    origin: tuple[float, float],
    when: dt.datetime,
    bounds: list[int],
    mode: str,
    options: PlanOptions,
) -> str:
    """Compute on the request's snapshot (one search at a time: it holds search state)."""
    from arverne.access.isochrones import compute_isochrones
    from arverne.access.reach import ReachSearch

    search: ReachSearch = snap.memo("reach_search", lambda: ReachSearch(snap.network))
    with snap.memo("reach_lock", threading.Lock):
        frame, _surface = compute_isochrones(
            snap.network,
            origin,
            departure=when,
            cutoffs=[b / 60 for b in bounds],
            mode=mode,
            options=options,
            search=search,
        )
    # shapely writes the geometries (geopandas' to_json is 50x slower on city-sized polygons)
    wgs84 = frame.to_crs("EPSG:4326")
    geometries = shapely.to_geojson(wgs84.geometry.values).tolist()
    rows = wgs84.drop(columns="geometry").to_dict("records")
    features = ",".join(
        f'{{"type":"Feature","geometry":{geometry},"properties":{_dumps(row)}}}'
        for geometry, row in zip(geometries, rows, strict=True)
    )
    properties = _dumps({"network_version": snap.version})
    return f'{{"type":"FeatureCollection","properties":{properties},"features":[{features}]}}'


def _dumps(value: Any) -> str:
    """Compact JSON; numpy scalars as Python numbers; NaN is an error, never invalid JSON."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False, default=lambda v: v.item())
