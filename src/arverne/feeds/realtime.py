"""GTFS-Realtime: trip updates, service alerts and vehicle positions, read into plain records.

:func:`read_gtfs_rt` reads one ``FeedMessage`` (a file, a URL or bytes) with
gtfs-realtime-bindings into a :class:`RealtimeFeed` of frozen records keyed by the feed's own
ids; matching them against a timetable is the network's job
(:func:`arverne.network.realtime.apply_realtime`).
:class:`arverne.feeds.realtime_fetch.RealtimeFetcher` reads sources again on a schedule the caller
sets.

A feed is never refused for its content: a malformed message, a stale header, times that are
not POSIX seconds or that run backwards give :class:`~arverne.feeds.notices.Notice` s. Codes are
the canonical GTFS-realtime validator's (``E001`` ... ``W008``, see its RULES.md) where one
exists, else one of :data:`REALTIME_CODES`.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from arverne.errors import InputError
from arverne.feeds.notices import Notice, Notices, Severity

REALTIME_CODES: dict[str, Severity] = {
    "invalid_protobuf": Severity.ERROR,
    "fetch_failed": Severity.ERROR,
    "foreign_realtime_feed": Severity.ERROR,
    "trip_not_running": Severity.WARNING,
    "stop_time_update_unmatched": Severity.WARNING,
    "added_trip_unusable": Severity.WARNING,
    "trip_copy_unusable": Severity.WARNING,
    "unsupported_schedule_relationship": Severity.INFO,
    "differential_feed": Severity.WARNING,
    "duplicate_trip_update": Severity.WARNING,
    "alert_entity_unmatched": Severity.WARNING,
}
"""Codes of Arverne's own for what the canonical GTFS-realtime validator has no rule for."""

MAX_AGE = dt.timedelta(seconds=65)
"""A header older than this when read is stale (the validator's W008 threshold)."""

_HMS = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
_DATE = re.compile(r"^\d{8}$")
# POSIX seconds stay below this until the year 5138; a larger value is milliseconds (E001)
_POSIX_MAX = 10**11


class StopTimeUpdate(NamedTuple):
    """A prediction for one stop of a trip: absolute times (POSIX s) or delays (s), or none.

    A named tuple: a message holds thousands of them, made in the feed's hot loop.
    """

    stop_sequence: int | None
    stop_id: str | None
    relationship: str = "SCHEDULED"
    """``SCHEDULED``, ``SKIPPED`` (the vehicle does not stop) or ``NO_DATA``."""
    arrival_time: int | None = None
    arrival_delay: int | None = None
    departure_time: int | None = None
    departure_delay: int | None = None

    @property
    def has_data(self) -> bool:
        """Whether the update predicts a time (a time or a delay, arrival or departure)."""
        return not (
            self.arrival_time is None
            and self.arrival_delay is None
            and self.departure_time is None
            and self.departure_delay is None
        )


@dataclass(frozen=True)
class TripProperties:
    """The new trip a ``DUPLICATED`` update makes: its id, and when it runs when that differs
    from the copied trip (GTFS-rt ``TripUpdate.TripProperties``).
    """

    trip_id: str | None = None
    start_date: dt.date | None = None
    start_time: str | None = None
    """``HH:MM:SS`` of the copy's first departure."""


@dataclass(frozen=True)
class TripUpdate:
    """The real-time state of one trip instance (the feed's ids, not yet matched)."""

    entity_id: str
    trip_id: str | None
    route_id: str | None = None
    direction_id: int | None = None
    start_time: str | None = None
    """``HH:MM:SS`` of the scheduled start (frequency-based trips, alternative matching)."""
    start_date: dt.date | None = None
    relationship: str = "SCHEDULED"
    """``SCHEDULED``, ``ADDED``, ``CANCELED``, ``DELETED``, ``UNSCHEDULED``, ``DUPLICATED``,
    ``NEW``, ``REPLACEMENT``."""
    stop_time_updates: tuple[StopTimeUpdate, ...] = ()
    delay: int | None = None
    """Trip-level delay (s): applies to stops no stop-time update covers."""
    timestamp: int | None = None
    vehicle_id: str | None = None
    properties: TripProperties | None = None
    """``trip_properties`` when the message has them."""


@dataclass(frozen=True)
class InformedEntity:
    """What an alert is about; every given selector must match (GTFS-rt EntitySelector)."""

    agency_id: str | None = None
    route_id: str | None = None
    route_type: int | None = None
    direction_id: int | None = None
    trip_id: str | None = None
    stop_id: str | None = None


@dataclass(frozen=True)
class Alert:
    """A service alert: text, cause and effect, when it is active, what it concerns."""

    alert_id: str
    header: str = ""
    description: str = ""
    url: str = ""
    cause: str = "UNKNOWN_CAUSE"
    effect: str = "UNKNOWN_EFFECT"
    active: tuple[tuple[int | None, int | None], ...] = ()
    """(start, end) POSIX seconds, either open; none means always active."""
    informed: tuple[InformedEntity, ...] = ()

    def active_during(self, start_s: float, end_s: float) -> bool:
        """Whether the alert is active at some moment of ``[start_s, end_s]`` (POSIX s)."""
        if not self.active:
            return True
        return any(
            (lo is None or lo <= end_s) and (hi is None or hi >= start_s) for lo, hi in self.active
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "id": self.alert_id,
            "header": self.header,
            "description": self.description,
            "url": self.url,
            "cause": self.cause,
            "effect": self.effect,
            "active": [list(p) for p in self.active],
        }


@dataclass(frozen=True)
class VehiclePosition:
    """Where a vehicle is (kept for the API and the map)."""

    entity_id: str
    lat: float
    lon: float
    vehicle_id: str | None = None
    label: str | None = None
    trip_id: str | None = None
    route_id: str | None = None
    start_date: dt.date | None = None
    bearing: float | None = None
    speed_mps: float | None = None
    stop_id: str | None = None
    current_status: str | None = None
    occupancy: str | None = None
    timestamp: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (dates in ISO form)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["start_date"] = self.start_date.isoformat() if self.start_date else None
        return out


@dataclass(frozen=True)
class RealtimeFeed:
    """One GTFS-realtime message, read; entities in the order of the message."""

    source: str
    """The file, URL or label it was read from."""
    timestamp: int | None = None
    """Header timestamp, POSIX seconds (None when missing or not POSIX)."""
    incremental: bool = False
    trip_updates: tuple[TripUpdate, ...] = ()
    alerts: tuple[Alert, ...] = ()
    vehicles: tuple[VehiclePosition, ...] = ()
    notices: tuple[Notice, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether the message could be read at all (no ``invalid_protobuf``/``fetch_failed``)."""
        return not any(n.code in ("invalid_protobuf", "fetch_failed") for n in self.notices)


def severity_of(code: str) -> Severity:
    """Severity of a notice code: the validator's ``E``/``W`` prefix, else :data:`REALTIME_CODES`."""
    if code in REALTIME_CODES:
        return REALTIME_CODES[code]
    return Severity.ERROR if code.startswith("E") else Severity.WARNING


def add_notice(notices: Notices, code: str, source: str, fld: str | None, message: str) -> None:
    """One real-time notice (``file`` is the source's name; real-time has no CSV rows)."""
    notices.add(code, severity_of(code), source, None, fld, message)


def read_gtfs_rt(
    source: str | Path | bytes,
    *,
    now: float | None = None,
    max_age: dt.timedelta = MAX_AGE,
    timeout_s: float = 10.0,
    label: str | None = None,
) -> RealtimeFeed:
    """Read one GTFS-realtime ``FeedMessage`` from a file, an http(s) URL or bytes.

    Parameters
    ----------
    source
        A path, an ``http://`` or ``https://`` URL, or the message's bytes.
    now
        POSIX seconds the header is judged against for staleness (default: the clock).
    max_age
        A header older than this is stale (notice ``W008``).
    timeout_s
        Timeout of a URL fetch.
    label
        Name of the source in notices (default: the path or URL).

    Returns
    -------
    RealtimeFeed
        The records and notices; an unreadable URL or message gives an empty feed whose notice
        says why (``fetch_failed``, ``invalid_protobuf``).

    Raises
    ------
    InputError
        When ``source`` is a local path that is not a readable file (a command-line mistake,
        not a feed's).
    """
    if isinstance(source, bytes):
        name = label or "<bytes>"
        return parse_feed_message(source, name, now=now, max_age=max_age)
    text = str(source)
    name = label or text
    if text.startswith(("http://", "https://")):
        data = fetch_url(text, timeout_s)
        if isinstance(data, RealtimeFeed):
            return data
        return parse_feed_message(data, name, now=now, max_age=max_age)
    path = Path(text)
    if not path.is_file():
        raise InputError(f"GTFS-realtime source {text!r} is neither a file nor an http(s) URL")
    return parse_feed_message(path.read_bytes(), name, now=now, max_age=max_age)


def failed_feed(source: str, why: str) -> RealtimeFeed:
    """An empty feed whose one notice says why nothing was read."""
    notices = Notices()
    add_notice(notices, "fetch_failed", source, None, f"{source}: {why}")
    return RealtimeFeed(source=source, notices=tuple(notices.items))


def fetch_url(url: str, timeout_s: float) -> bytes | RealtimeFeed:
    """The body at ``url``, or an empty feed saying why it could not be fetched."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bytes(response.read())
    except (OSError, ValueError) as exc:
        return failed_feed(url, f"fetch failed ({exc})")


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def _text(translated: Any) -> str:
    """The English (else first) translation of a TranslatedString."""
    items = list(translated.translation)
    for t in items:
        if t.language.lower().startswith("en"):
            return str(t.text)
    return str(items[0].text) if items else ""


def parse_feed_message(
    data: bytes, source: str, *, now: float | None = None, max_age: dt.timedelta = MAX_AGE
) -> RealtimeFeed:
    """Decode a ``FeedMessage`` and check what needs no timetable (see :func:`read_gtfs_rt`)."""
    from google.protobuf.message import DecodeError
    from google.transit import gtfs_realtime_pb2 as pb

    notices = Notices()
    msg = pb.FeedMessage()
    try:
        msg.ParseFromString(data)
        if not msg.IsInitialized():
            raise DecodeError("required fields are missing")
    except (DecodeError, ValueError, RuntimeError) as exc:
        add_notice(
            notices,
            "invalid_protobuf",
            source,
            None,
            f"{source}: not a GTFS-realtime FeedMessage ({exc})",
        )
        return RealtimeFeed(source=source, notices=tuple(notices.items))

    header = msg.header
    stamp: int | None = None
    if not header.HasField("timestamp") or header.timestamp == 0:
        add_notice(
            notices, "W001", source, "header.timestamp", f"{source}: header has no timestamp"
        )
    elif header.timestamp > _POSIX_MAX:
        add_notice(
            notices,
            "E001",
            source,
            "header.timestamp",
            f"{source}: header timestamp {header.timestamp} is not POSIX seconds (milliseconds?)",
        )
    else:
        stamp = int(header.timestamp)
        clock = time.time() if now is None else now
        age = clock - stamp
        if age > max_age.total_seconds():
            add_notice(
                notices,
                "W008",
                source,
                "header.timestamp",
                f"{source}: header timestamp {_iso(stamp)} is {age:.0f} s old "
                f"(stale beyond {max_age.total_seconds():.0f} s)",
            )

    checks = _Checks(notices, source, stamp)
    trip_updates: list[TripUpdate] = []
    alerts: list[Alert] = []
    vehicles: list[VehiclePosition] = []
    for entity in msg.entity:
        if entity.HasField("trip_update"):
            trip_updates.append(_trip_update(entity.id, entity.trip_update, checks))
        if entity.HasField("alert"):
            alerts.append(_alert(entity.id, entity.alert, checks))
        if entity.HasField("vehicle"):
            vp = _vehicle(entity.id, entity.vehicle, checks)
            if vp is not None:
                vehicles.append(vp)
    return RealtimeFeed(
        source=source,
        timestamp=stamp,
        incremental=header.incrementality == pb.FeedHeader.DIFFERENTIAL,
        trip_updates=tuple(trip_updates),
        alerts=tuple(alerts),
        vehicles=tuple(vehicles),
        notices=tuple(notices.items),
    )


def _iso(stamp: int) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass
class _Checks:
    """The per-message checks every entity goes through."""

    notices: Notices
    source: str
    header_s: int | None

    def add(self, code: str, fld: str, message: str) -> None:
        add_notice(self.notices, code, self.source, fld, f"{self.source}: {message}")

    def stamp(self, value: int, what: str, entity: str) -> int | None:
        """A POSIX timestamp, checked (E001 not POSIX, E012 later than the header)."""
        if value > _POSIX_MAX or value < 0:
            self.add("E001", what, f"entity {entity!r}: {what} {value} is not POSIX seconds")
            return None
        if what.endswith("timestamp") and self.header_s is not None and value > self.header_s:
            self.add(
                "E012", what, f"entity {entity!r}: {what} {value} is after the header timestamp"
            )
        return value

    def start(self, trip: Any, entity: str) -> tuple[str | None, dt.date | None]:
        """The trip's start_time and start_date, checked (E020, E021)."""
        start_time = str(trip.start_time) if trip.HasField("start_time") else None
        if start_time is not None and not _HMS.match(start_time):
            self.add("E020", "trip.start_time", f"entity {entity!r}: start_time {start_time!r}")
            start_time = None
        start_date = None
        if trip.HasField("start_date"):
            text = str(trip.start_date)
            try:
                if not _DATE.match(text):
                    raise ValueError
                start_date = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                self.add("E021", "trip.start_date", f"entity {entity!r}: start_date {text!r}")
        return start_time, start_date


_STU_RELATIONSHIP = {0: "SCHEDULED", 1: "SKIPPED", 2: "NO_DATA", 3: "UNSCHEDULED"}


def _checked(t: int, what: str, entity: str, checks: _Checks) -> int | None:
    """A StopTimeEvent time (0: unset), checked as POSIX seconds."""
    if not t:
        return None
    if t > _POSIX_MAX or t < 0:
        checks.stamp(t, what, entity)
        return None
    return t


def _trip_update(entity: str, tu: Any, checks: _Checks) -> TripUpdate:
    from google.transit import gtfs_realtime_pb2 as pb

    trip = tu.trip
    start_time, start_date = checks.start(trip, entity)
    if not trip.HasField("trip_id"):
        checks.add("W006", "trip.trip_id", f"entity {entity!r}: trip_update has no trip_id")
    stus: list[StopTimeUpdate] = []
    last_seq = -1
    last_t = 0
    # the hot loop of a message: no call per event
    for u in tu.stop_time_update:
        has = u.HasField
        seq = u.stop_sequence if has("stop_sequence") else None
        if seq is not None:
            if seq <= last_seq:
                checks.add(
                    "E002",
                    "stop_time_update.stop_sequence",
                    f"entity {entity!r}: stop_sequence {seq} after {last_seq}",
                )
            else:
                last_seq = seq
        at = ad = de = dd = None
        if has("arrival"):
            ev = u.arrival
            at = _checked(ev.time, "arrival.time", entity, checks)
            ad = ev.delay if ev.HasField("delay") else None
        if has("departure"):
            ev = u.departure
            de = _checked(ev.time, "departure.time", entity, checks)
            dd = ev.delay if ev.HasField("delay") else None
        if at is not None and de is not None and de < at:
            checks.add(
                "E025",
                "stop_time_update.departure",
                f"entity {entity!r}: departure {de} before arrival {at}",
            )
        # E022 is between stops: a departure before its own arrival is E025 above
        first = at if at is not None else de
        if first is not None:
            if first < last_t or (de is not None and de < last_t):
                checks.add(
                    "E022",
                    "stop_time_update",
                    f"entity {entity!r}: a time at stop {len(stus) + 1} is before the previous "
                    f"stop's {last_t}",
                )
            last_t = max(last_t, first, de or 0)
        stus.append(
            StopTimeUpdate(
                seq,
                u.stop_id if has("stop_id") else None,
                _STU_RELATIONSHIP.get(u.schedule_relationship, "SCHEDULED"),
                at,
                ad,
                de,
                dd,
            )
        )
    stamp = (
        checks.stamp(int(tu.timestamp), "trip_update.timestamp", entity) if tu.timestamp else None
    )
    properties = None
    if tu.HasField("trip_properties"):
        tp = tu.trip_properties
        copy_time, copy_date = checks.start(tp, entity)
        properties = TripProperties(
            trip_id=str(tp.trip_id) if tp.HasField("trip_id") else None,
            start_date=copy_date,
            start_time=copy_time,
        )
    return TripUpdate(
        entity_id=entity,
        trip_id=str(trip.trip_id) if trip.HasField("trip_id") else None,
        route_id=str(trip.route_id) if trip.HasField("route_id") else None,
        direction_id=int(trip.direction_id) if trip.HasField("direction_id") else None,
        start_time=start_time,
        start_date=start_date,
        relationship=_enum_name(pb.TripDescriptor.ScheduleRelationship, trip.schedule_relationship),
        stop_time_updates=tuple(stus),
        delay=int(tu.delay) if tu.HasField("delay") else None,
        timestamp=stamp,
        vehicle_id=str(tu.vehicle.id) if tu.HasField("vehicle") and tu.vehicle.id else None,
        properties=properties,
    )


def _alert(entity: str, alert: Any, checks: _Checks) -> Alert:
    from google.transit import gtfs_realtime_pb2 as pb

    informed = []
    for e in alert.informed_entity:
        sel = InformedEntity(
            agency_id=str(e.agency_id) if e.HasField("agency_id") else None,
            route_id=str(e.route_id) if e.HasField("route_id") else None,
            route_type=int(e.route_type) if e.HasField("route_type") else None,
            direction_id=int(e.direction_id) if e.HasField("direction_id") else None,
            trip_id=str(e.trip.trip_id) if e.HasField("trip") and e.trip.trip_id else None,
            stop_id=str(e.stop_id) if e.HasField("stop_id") else None,
        )
        if sel == InformedEntity():
            checks.add("E033", "informed_entity", f"alert {entity!r}: informed_entity is empty")
            continue
        informed.append(sel)
    if not alert.informed_entity:
        checks.add("E032", "informed_entity", f"alert {entity!r} has no informed_entity")
    periods = []
    for p in alert.active_period:
        lo = checks.stamp(int(p.start), "active_period.start", entity) if p.start else None
        hi = checks.stamp(int(p.end), "active_period.end", entity) if p.end else None
        periods.append((lo, hi))
    return Alert(
        alert_id=entity,
        header=_text(alert.header_text),
        description=_text(alert.description_text),
        url=_text(alert.url),
        cause=_enum_name(pb.Alert.Cause, alert.cause),
        effect=_enum_name(pb.Alert.Effect, alert.effect),
        active=tuple(periods),
        informed=tuple(informed),
    )


def _vehicle(entity: str, v: Any, checks: _Checks) -> VehiclePosition | None:
    from google.transit import gtfs_realtime_pb2 as pb

    if not v.HasField("position"):
        return None
    pos = v.position
    lat, lon = float(pos.latitude), float(pos.longitude)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        checks.add("E026", "position", f"vehicle {entity!r}: position ({lat}, {lon}) is invalid")
        return None
    bearing = float(pos.bearing) if pos.HasField("bearing") else None
    if bearing is not None and not 0 <= bearing <= 360:
        checks.add("E027", "position.bearing", f"vehicle {entity!r}: bearing {bearing}")
        bearing = None
    _, start_date = checks.start(v.trip, entity) if v.HasField("trip") else (None, None)
    stamp = checks.stamp(int(v.timestamp), "vehicle.timestamp", entity) if v.timestamp else None
    return VehiclePosition(
        entity_id=entity,
        lat=lat,
        lon=lon,
        vehicle_id=str(v.vehicle.id) if v.HasField("vehicle") and v.vehicle.id else None,
        label=str(v.vehicle.label) if v.HasField("vehicle") and v.vehicle.label else None,
        trip_id=str(v.trip.trip_id) if v.HasField("trip") and v.trip.trip_id else None,
        route_id=str(v.trip.route_id) if v.HasField("trip") and v.trip.route_id else None,
        start_date=start_date,
        bearing=bearing,
        speed_mps=float(pos.speed) if pos.HasField("speed") else None,
        stop_id=str(v.stop_id) if v.HasField("stop_id") else None,
        current_status=_enum_name(pb.VehiclePosition.VehicleStopStatus, v.current_status)
        if v.HasField("current_status")
        else None,
        occupancy=_enum_name(pb.VehiclePosition.OccupancyStatus, v.occupancy_status)
        if v.HasField("occupancy_status")
        else None,
        timestamp=stamp,
    )
