"""``/v1/map/*``: what the web map needs that the rest of the API does not give.

The page uses no outside tiles: it draws the streets of the network being served (by bounding
box, here), its lines (``/v1/lines``) and stops (``/v1/stops``). ``/v1/map/extent`` gives the
first view. A version's street layer is computed once (:class:`arverne.service.basemap.BaseMap`,
kept in the snapshot's memo).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from arverne.service.basemap import BaseMap, parse_bbox
from arverne.service.context import CurrentSnapshot
from arverne.service.geojson import FeatureCollection, json_response
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses
from arverne.service.snapshot import Snapshot

router = APIRouter(prefix="/v1/map", tags=["map"])

MAX_STREET_SEGMENTS = 50_000
"""Most street segments one ``/v1/map/streets`` answer holds (about 10 MB of GeoJSON)."""

GEOJSON = "application/geo+json"


class ExtentOut(BaseModel):
    """Where the network lies: the page's first view and how much it draws."""

    bbox: list[float] = Field(description="min_lon, min_lat, max_lon, max_lat of streets and stops")
    center: list[float] = Field(description="lon, lat of the box's centre")
    street_segments: int = Field(description="street segments the whole network draws")
    stops: int = Field(description="stops and stations of the timetable")
    network_version: str


def _base(snap: Snapshot) -> BaseMap:
    return snap.memo("basemap", lambda: BaseMap.build(snap.network))


@router.get("/extent", response_model=ExtentOut, responses=problem_responses(*COMMON_ERRORS))
def get_extent(snap: CurrentSnapshot) -> ExtentOut:
    """The network's bounding box and centre, and how many street segments and stops it has."""
    return ExtentOut(**_base(snap).extent, network_version=snap.version)


@router.get(
    "/streets",
    response_class=Response,
    response_model=FeatureCollection,
    responses={
        200: {
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
            "description": "a GeoJSON FeatureCollection of LineStrings",
        },
        **problem_responses(*COMMON_ERRORS),
    },
)
def get_streets(
    snap: CurrentSnapshot,
    bbox: Annotated[
        str, Query(max_length=200, description="min_lon,min_lat,max_lon,max_lat (WGS84)")
    ],
) -> Any:
    """Street segments meeting ``bbox``, one LineString each, ``kind`` their drawn class
    (motorway, road, track, path: from which modes may pass). At most
    ``MAX_STREET_SEGMENTS``; a larger box is refused before any is built.
    """
    box = parse_bbox(bbox)
    base = _base(snap)
    n = base.count_streets(box)
    if n > MAX_STREET_SEGMENTS:
        raise HttpProblem(
            "limit-exceeded",
            f"bbox holds {n} street segments, more than {MAX_STREET_SEGMENTS}: zoom in",
        )
    return Response(json_response(base.streets(box)).body, media_type=GEOJSON)
