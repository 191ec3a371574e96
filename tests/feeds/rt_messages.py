"""GTFS-realtime messages for the tests, built with gtfs-realtime-bindings (never hand bytes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from google.transit import gtfs_realtime_pb2 as pb


def message(
    *,
    timestamp: int | None = 1_700_000_000,
    trip_updates: Iterable[Any] = (),
    alerts: Iterable[Any] = (),
    vehicles: Iterable[Any] = (),
) -> bytes:
    """A FeedMessage (FULL_DATASET) with the given entities, serialised."""
    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    if timestamp is not None:
        msg.header.timestamp = timestamp
    n = 0
    for kind, items in (("trip_update", trip_updates), ("alert", alerts), ("vehicle", vehicles)):
        for item in items:
            entity = msg.entity.add()
            entity.id = f"e{n}"
            n += 1
            getattr(entity, kind).CopyFrom(item)
    return msg.SerializeToString()


def stu(
    stop_id: str | None,
    *,
    seq: int | None = None,
    arr: int | None = None,
    dep: int | None = None,
    arr_delay: int | None = None,
    dep_delay: int | None = None,
    skipped: bool = False,
    no_data: bool = False,
) -> dict[str, Any]:
    """One stop-time update as keyword data for :func:`trip_update`."""
    return {
        "stop_id": stop_id,
        "seq": seq,
        "arr": arr,
        "dep": dep,
        "arr_delay": arr_delay,
        "dep_delay": dep_delay,
        "skipped": skipped,
        "no_data": no_data,
    }


def trip_update(
    trip_id: str | None,
    stops: Sequence[dict[str, Any]] = (),
    *,
    start_date: str | None = None,
    start_time: str | None = None,
    route_id: str | None = None,
    relationship: str = "SCHEDULED",
    timestamp: int | None = None,
    delay: int | None = None,
    properties: dict[str, str] | None = None,
) -> Any:
    """A TripUpdate message (``properties``: trip_properties trip_id, start_date, start_time)."""
    tu = pb.TripUpdate()
    if trip_id is not None:
        tu.trip.trip_id = trip_id
    if start_date is not None:
        tu.trip.start_date = start_date
    if start_time is not None:
        tu.trip.start_time = start_time
    if route_id is not None:
        tu.trip.route_id = route_id
    tu.trip.schedule_relationship = pb.TripDescriptor.ScheduleRelationship.Value(relationship)
    if timestamp is not None:
        tu.timestamp = timestamp
    if delay is not None:
        tu.delay = delay
    for key, value in (properties or {}).items():
        setattr(tu.trip_properties, key, value)
    for s in stops:
        u = tu.stop_time_update.add()
        if s["stop_id"] is not None:
            u.stop_id = s["stop_id"]
        if s["seq"] is not None:
            u.stop_sequence = s["seq"]
        if s["arr"] is not None:
            u.arrival.time = s["arr"]
        if s["arr_delay"] is not None:
            u.arrival.delay = s["arr_delay"]
        if s["dep"] is not None:
            u.departure.time = s["dep"]
        if s["dep_delay"] is not None:
            u.departure.delay = s["dep_delay"]
        rel = pb.TripUpdate.StopTimeUpdate
        if s["skipped"]:
            u.schedule_relationship = rel.SKIPPED
        elif s["no_data"]:
            u.schedule_relationship = rel.NO_DATA
    return tu


def alert(
    *entities: dict[str, Any],
    header: str = "alert",
    effect: str = "SIGNIFICANT_DELAYS",
    active: Sequence[tuple[int, int]] = (),
) -> Any:
    """An Alert message; each entity a dict of agency_id, route_id, stop_id, trip_id, ..."""
    a = pb.Alert()
    for e in entities:
        sel = a.informed_entity.add()
        for key, value in e.items():
            if key == "trip_id":
                sel.trip.trip_id = value
            else:
                setattr(sel, key, value)
    a.header_text.translation.add(text=header, language="en")
    a.effect = pb.Alert.Effect.Value(effect)
    for lo, hi in active:
        period = a.active_period.add()
        period.start, period.end = lo, hi
    return a


def vehicle(
    lat: float, lon: float, *, trip_id: str | None = None, route_id: str | None = None
) -> Any:
    """A VehiclePosition message."""
    v = pb.VehiclePosition()
    v.position.latitude, v.position.longitude = lat, lon
    if trip_id is not None:
        v.trip.trip_id = trip_id
    if route_id is not None:
        v.trip.route_id = route_id
    v.vehicle.id = "bus-1"
    return v
