"""``GET /v1/stops`` (by area or name, as GeoJSON points) and
``GET /v1/stops/{stop_id}/departures`` (the next departures: from the timetable, with the
service's live GTFS-realtime state applied when it has one: delays, cancelled runs and skipped
stops flagged, alerts).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from arverne.errors import InputError
from arverne.routing.catalog import find_stops, next_departures
from arverne.routing.journey import transit_mode
from arverne.routing.live_departures import LiveDeparture, realtime_departures
from arverne.service.context import Context, CurrentSnapshot
from arverne.service.geojson import FeatureCollection, json_response
from arverne.service.live import AlertOut
from arverne.service.params import parse_datetime
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses

router = APIRouter(prefix="/v1", tags=["stops"])

_WHEELCHAIR = {0: "unknown", 1: "yes", 2: "no"}


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(abs(v) <= 180 for v in values):
        raise HttpProblem(
            "invalid-parameter", f"bbox {text[:80]!r} is not min_lon,min_lat,max_lon,max_lat"
        )
    return values[0], values[1], values[2], values[3]


@router.get(
    "/stops",
    response_model=FeatureCollection,
    responses=problem_responses(*COMMON_ERRORS),
)
def get_stops(
    ctx: Context,
    snap: CurrentSnapshot,
    bbox: Annotated[
        str | None, Query(max_length=120, description="min_lon,min_lat,max_lon,max_lat")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="text the name contains (accents ignored)")
    ] = None,
    count: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    """Stops inside a box and/or whose name contains a text, as GeoJSON points, by name."""
    tt = snap.network.timetable
    assert tt is not None
    limit = min(count or ctx.settings.limits.max_results, ctx.settings.limits.max_results)
    try:
        found = find_stops(tt, bbox=_bbox(bbox), name=q, limit=limit)
    except InputError as exc:
        raise HttpProblem("invalid-parameter", str(exc)) from None
    features = []
    for i in found.tolist():
        parent = int(tt.stop_parent[i])
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(tt.stop_lon[i]), float(tt.stop_lat[i])],
                },
                "properties": {
                    "stop_id": str(tt.stop_id[i]),
                    "name": str(tt.stop_name[i]),
                    "code": str(tt.stop_code[i]),
                    "location_type": int(tt.stop_location_type[i]),
                    "parent_station": str(tt.stop_id[parent]) if parent >= 0 else None,
                    "wheelchair": _WHEELCHAIR.get(int(tt.stop_wheelchair[i]), "unknown"),
                },
            }
        )
    return json_response({"type": "FeatureCollection", "features": features})


class DepartureOut(BaseModel):
    """One departure: when, which line, towards where."""

    stop_id: str
    stop_name: str
    departure: dt.datetime
    route_id: str
    route_short_name: str
    mode: str
    headsign: str
    trip_id: str
    scheduled_departure: dt.datetime | None = Field(
        description="timetable time (null for a trip real time added)"
    )
    delay_s: int | None = Field(
        default=None, description="predicted minus scheduled departure, s (null: no prediction)"
    )
    status: Literal["scheduled", "realtime", "added", "cancelled", "skipped"] = Field(
        description="scheduled: no prediction; cancelled: the run does not run; skipped: it "
        "runs without stopping here"
    )
    cancelled: bool = Field(description="no one can board here (cancelled run or skipped stop)")
    alerts: list[AlertOut] = Field(description="service alerts about this run here")


class DeparturesOut(BaseModel):
    """The next departures from a stop (and its platforms), earliest first."""

    departures: list[DepartureOut]
    network_version: str


@router.get(
    "/stops/{stop_id}/departures",
    response_model=DeparturesOut,
    responses=problem_responses(*COMMON_ERRORS, 404),
)
def get_departures(
    ctx: Context,
    snap: CurrentSnapshot,
    stop_id: Annotated[str, Path(max_length=200)],
    datetime: Annotated[
        str | None, Query(max_length=20, description="YYYYMMDDThhmm[ss] (default: now)")
    ] = None,
    duration: Annotated[int, Query(ge=0, le=86400, description="span, seconds")] = 7200,
    count: Annotated[int, Query(ge=1)] = 20,
) -> Any:
    """The next departures from a stop (a station: from each of its platforms), with real-time
    delays, cancelled runs and alerts when the service reads a GTFS-realtime feed.
    """
    tt = snap.network.timetable
    assert tt is not None
    try:
        stop = tt.stop_index(stop_id)
    except KeyError:
        raise HttpProblem("not-found", f"stop {stop_id[:80]!r} is not in the network") from None
    after = parse_datetime(datetime, tt.timezone)
    span = dt.timedelta(seconds=duration)
    limit = min(count, ctx.settings.limits.max_results)
    rt = snap.live.realtime if snap.live is not None else None
    found = (
        realtime_departures(rt, stop, after, span=span, limit=limit)
        if rt is not None
        else [
            LiveDeparture(d, d.departure, None, "scheduled")
            for d in next_departures(tt, stop, after, span=span, limit=limit)
        ]
    )
    # a trip real time added exists in the version's timetable only
    version = rt.timetable if rt is not None else tt
    return json_response(
        {
            "departures": [
                {
                    "stop_id": str(tt.stop_id[d.stop_idx]),
                    "stop_name": str(tt.stop_name[d.stop_idx]),
                    "departure": d.departure.isoformat(),
                    "scheduled_departure": x.scheduled.isoformat() if x.scheduled else None,
                    "route_id": str(tt.route_id[d.route_idx]),
                    "route_short_name": str(tt.route_short_name[d.route_idx]),
                    "mode": transit_mode(int(tt.route_type[d.route_idx])),
                    "headsign": d.headsign,
                    "trip_id": str(version.trip_id[d.trip_idx]),
                    "delay_s": x.delay_s,
                    "status": x.status,
                    "cancelled": x.cancelled,
                    "alerts": [a.to_dict() for a in x.alerts],
                }
                for x in found
                for d in (x.departure,)
            ],
            "network_version": snap.version,
        }
    )
