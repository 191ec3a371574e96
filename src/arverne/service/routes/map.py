"""``/v1/map/*``: the web map's base layers, drawn from the network being served.

The page uses no outside tiles: streets (by bounding box), lines (in their GTFS colours) and
stops come from the network itself as GeoJSON, and ``/v1/map/extent`` gives the first view and
the timetable's dates. The layers of a network version are computed once and kept until the
version changes (:class:`arverne.service.basemap.BaseMap`).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from arverne.service.basemap import BaseMap, parse_bbox
from arverne.service.context import Context, CurrentSnapshot
from arverne.service.geojson import FeatureCollection, json_response
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses
from arverne.service.snapshot import Snapshot

router = APIRouter(prefix="/v1/map", tags=["map"])

MAX_STREET_SEGMENTS = 50_000
"""Most street segments one ``/v1/map/streets`` answer holds (about 10 MB of GeoJSON)."""

GEOJSON = "application/geo+json"
_lock = threading.Lock()


class ExtentOut(BaseModel):
    """Where the network lies and when its timetable runs: the page's first view."""

    bbox: list[float] = Field(description="min_lon, min_lat, max_lon, max_lat of streets and stops")
    center: list[float] = Field(description="lon, lat of the box's centre")
    street_segments: int = Field(description="street segments the whole network draws")
    stops: int
    timezone: str | None = Field(description="IANA time zone of the timetable")
    first_date: str | None = Field(description="ISO date of the timetable's first day")
    days: int = Field(description="days the timetable covers from first_date")
    network_version: str


def _layers(ctx: Context, snap: Snapshot) -> tuple[BaseMap, dict[str, bytes]]:
    """The base layers of the request's network version, computed on first use per version."""
    cached = ctx.extras.get("basemap")
    if cached is None or cached[0] != snap.version:
        with _lock:
            cached = ctx.extras.get("basemap")
            if cached is None or cached[0] != snap.version:
                base = BaseMap.build(snap.network)
                answers: dict[str, bytes] = {}  # whole layers, serialised once
                cached = (snap.version, base, answers)
                ctx.extras["basemap"] = cached
    return cached[1], cached[2]


def _geojson(body: dict[str, Any]) -> Response:
    """``body`` as compact GeoJSON (the service's JSON encoding, GeoJSON's media type)."""
    return Response(json_response(body).body, media_type=GEOJSON)


_GEOJSON_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        "description": "a GeoJSON FeatureCollection",
    }
}


@router.get("/extent", response_model=ExtentOut, responses=problem_responses(*COMMON_ERRORS))
def get_extent(ctx: Context, snap: CurrentSnapshot) -> ExtentOut:
    """The network's bounding box and centre, its street count and its timetable's dates."""
    base, _ = _layers(ctx, snap)
    return ExtentOut(**base.extent, network_version=snap.version)


@router.get(
    "/streets",
    response_class=Response,
    response_model=FeatureCollection,
    responses={**_GEOJSON_OK, **problem_responses(*COMMON_ERRORS)},
)
def get_streets(
    ctx: Context,
    snap: CurrentSnapshot,
    bbox: Annotated[
        str, Query(max_length=200, description="min_lon,min_lat,max_lon,max_lat (WGS84)")
    ],
) -> Response:
    """Street segments meeting ``bbox``, one LineString each, ``kind`` their drawn class
    (motorway, road, track, cycleway, path: which modes may pass). At most
    ``MAX_STREET_SEGMENTS``; a larger box is refused before any is built.
    """
    box = parse_bbox(bbox)
    base, _ = _layers(ctx, snap)
    n = base.count_streets(box)
    if n > MAX_STREET_SEGMENTS:
        raise HttpProblem(
            "limit-exceeded",
            f"bbox holds {n} street segments, more than {MAX_STREET_SEGMENTS}: zoom in",
        )
    return _geojson(base.streets(box))


@router.get(
    "/lines",
    response_class=Response,
    response_model=FeatureCollection,
    responses={**_GEOJSON_OK, **problem_responses(*COMMON_ERRORS)},
)
def get_lines(ctx: Context, snap: CurrentSnapshot) -> Response:
    """Every line (GTFS route) as one MultiLineString of its trips' shapes (else its stop
    sequences), with ``route_id``, names, mode and ``color`` (``#rrggbb``).
    """
    base, answers = _layers(ctx, snap)
    if "lines" not in answers:
        answers["lines"] = _geojson(base.lines).body
    return Response(answers["lines"], media_type=GEOJSON)


@router.get(
    "/stops",
    response_class=Response,
    response_model=FeatureCollection,
    responses={**_GEOJSON_OK, **problem_responses(*COMMON_ERRORS)},
)
def get_stops(ctx: Context, snap: CurrentSnapshot) -> Response:
    """Every stop and station as a Point with its id, name and the lines serving it."""
    base, answers = _layers(ctx, snap)
    if "stops" not in answers:
        answers["stops"] = _geojson(base.stops).body
    return Response(answers["stops"], media_type=GEOJSON)
