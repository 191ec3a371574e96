"""``GET /v1/lines``: every line with its colour, mode and drawn paths, as GeoJSON; with the
service alerts active now about each line when the service reads GTFS-realtime.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from arverne.routing.catalog import Line, lines
from arverne.service.context import CurrentSnapshot
from arverne.service.geojson import FeatureCollection, json_response
from arverne.service.problems import COMMON_ERRORS, problem_responses

router = APIRouter(prefix="/v1", tags=["lines"])


@router.get("/lines", response_model=FeatureCollection, responses=problem_responses(*COMMON_ERRORS))
def get_lines(
    snap: CurrentSnapshot,
    mode: Annotated[str | None, Query(max_length=30, description="bus, tram, rail, ...")] = None,
) -> Any:
    """Lines (GTFS routes) as MultiLineString features, one path per distinct pattern; a line
    whose trips draw nothing (on-demand zones) has a null geometry. ``alerts``: the service
    alerts active now about the line (its route, agency, route type or one of its trips).
    """
    tt = snap.network.timetable
    assert tt is not None
    all_lines: list[Line] = snap.memo("lines", lambda: lines(tt))
    rt = snap.live.realtime if snap.live is not None else None
    now = time.time()
    features = [
        {
            "type": "Feature",
            "geometry": (
                {
                    "type": "MultiLineString",
                    "coordinates": [[list(p) for p in path] for path in line.paths],
                }
                if line.paths
                else None
            ),
            "properties": {
                "route_id": line.route_id,
                "short_name": line.short_name,
                "long_name": line.long_name,
                "route_type": line.route_type,
                "mode": line.mode,
                "color": line.color,
                "agency": line.agency,
                "alerts": [
                    a.to_dict()
                    for a in (rt.route_alerts(line.route_idx) if rt is not None else ())
                    if a.active_during(now, now)
                ],
            },
        }
        for line in all_lines
        if mode is None or line.mode == mode.lower()
    ]
    return json_response({"type": "FeatureCollection", "features": features})
