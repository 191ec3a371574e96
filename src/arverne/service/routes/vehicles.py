"""``GET /v1/vehicles``: where the vehicles are now (GTFS-realtime vehicle positions), as GeoJSON.

The positions are those of the request's live state (the last good read of the service's
GTFS-realtime sources); a service without one answers an empty collection whose
``properties.live`` is false, so a client (the map) knows to show no layer.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query

from arverne.service.basemap import parse_bbox
from arverne.service.context import CurrentSnapshot
from arverne.service.geojson import FeatureCollection, json_response
from arverne.service.problems import COMMON_ERRORS, problem_responses

router = APIRouter(prefix="/v1", tags=["vehicles"])


@router.get(
    "/vehicles", response_model=FeatureCollection, responses=problem_responses(*COMMON_ERRORS)
)
def get_vehicles(
    snap: CurrentSnapshot,
    bbox: Annotated[
        str | None, Query(max_length=120, description="min_lon,min_lat,max_lon,max_lat")
    ] = None,
) -> Any:
    """Vehicle positions as GeoJSON points (vehicle, trip, route, headsign, status, time);
    ``properties``: ``live`` (whether the service reads vehicle positions), the feed's
    ``timestamp`` and the ``network_version``.
    """
    box = parse_bbox(bbox) if bbox is not None else None
    rt = snap.live.realtime if snap.live is not None else None
    features: list[dict[str, Any]] = []
    if rt is not None:
        features = rt.vehicles_geojson()["features"]
        for f in features:  # a feed's NaN speed is no JSON number: unknown
            props = f["properties"]
            for key, value in props.items():
                if isinstance(value, float) and not math.isfinite(value):
                    props[key] = None
    if box is not None:
        west, south, east, north = box
        features = [
            f
            for f in features
            if west <= f["geometry"]["coordinates"][0] <= east
            and south <= f["geometry"]["coordinates"][1] <= north
        ]
    return json_response(
        {
            "type": "FeatureCollection",
            "features": features,
            "properties": {
                "live": rt is not None,
                "timestamp": rt.timestamp if rt is not None else None,
                "network_version": snap.version,
            },
        }
    )
