"""Journeys and their legs: the planner's results, as GeoJSON, text or plain dicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from arverne.feeds.realtime import Alert

COORD_DECIMALS = 6
"""Decimals of GeoJSON coordinates: 0.1 m, finer than streets and shapes are drawn; the 17
digits of an interpolated point (a leg's end on a street) would carry nothing more."""

#: Street modes a leg may use besides transit (``bikeshare``: a shared vehicle, see
#: :mod:`arverne.routing.bikeshare`; ``carpool``: a seat in a driver's car,
#: :mod:`arverne.routing.carpool`).
STREET_MODES = ("walk", "bike", "car", "bikeshare", "carpool")


def transit_mode(route_type: int) -> str:
    """Readable mode name of a GTFS route_type (basic or extended)."""
    basic = {
        0: "tram",
        1: "metro",
        2: "rail",
        3: "bus",
        4: "ferry",
        5: "cable_tram",
        6: "aerial_lift",
        7: "funicular",
        11: "trolleybus",
        12: "monorail",
    }
    if route_type in basic:
        return basic[route_type]
    families = [
        (100, 200, "rail"),
        (200, 300, "coach"),
        (400, 500, "metro"),
        (700, 800, "bus"),
        (800, 900, "trolleybus"),
        (900, 1000, "tram"),
        (1000, 1100, "ferry"),
        (1300, 1400, "aerial_lift"),
        (1400, 1500, "funicular"),
        (1500, 1600, "taxi"),
    ]
    for lo, hi, name in families:
        if lo <= route_type < hi:
            return name
    return "transit"


def _line(leg: Leg) -> list[list[float]]:
    """GeoJSON LineString coordinates of a leg's drawn line, rounded to
    :data:`COORD_DECIMALS` (a single point is doubled: a LineString has two at least).
    """
    line = np.asarray(leg.geometry() or [leg.from_lonlat, leg.to_lonlat], dtype=np.float64)
    if len(line) == 1:
        line = np.repeat(line, 2, axis=0)
    out: list[list[float]] = np.round(line, COORD_DECIMALS).tolist()
    return out


def _clock(t: dt.datetime, day: dt.date) -> str:
    """``HH:MM``, with the date in front when ``t`` falls on another day than ``day``."""
    return f"{t:%H:%M}" if t.date() == day else f"{t:%a %Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class StopCall:
    """A stop served during a transit leg (board, intermediate or alight)."""

    stop_idx: int
    stop_id: str
    name: str
    lon: float
    lat: float
    arrival: dt.datetime
    departure: dt.datetime


@dataclass(frozen=True)
class DemandOffer:
    """An on-demand ride offered inside a journey (a zone's shuttle, first/last mile or door to
    door), as a feeder (:mod:`arverne.routing.ondemand`) answered it.
    """

    provider: str
    """Name of the feeder that made the offer (the one that books it)."""
    zone: str
    pickup_name: str
    pickup_lonlat: tuple[float, float]
    dropoff_name: str
    dropoff_lonlat: tuple[float, float]
    pickup_window: tuple[dt.datetime, dt.datetime]
    """The rider is picked up within this window."""
    planned_pickup: dt.datetime
    planned_dropoff: dt.datetime
    latest_dropoff: dt.datetime
    """The rider is dropped off by then."""
    bookable: bool
    """Booked in one call through its feeder (a live dispatcher's checked answer); False: the
    zone is run by someone else and ``booking`` says how to book it."""
    booking: str = ""
    """How to book (phone, web, advance notice) when not ``bookable``."""
    service_window: tuple[dt.datetime, dt.datetime] | None = None
    """When the zone runs that day (GTFS-Flex pickup/drop-off window)."""
    estimated: bool = False
    """Times estimated from the zone's rules (straight line), not a dispatcher's answer."""
    wheelchair: bool = False
    walk_to_pickup_s: int = 0
    walk_from_dropoff_s: int = 0
    request: Any = field(default=None, repr=False, compare=False)
    """What the provider needs to book the offer (opaque to routing)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (times in ISO 8601)."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "zone": self.zone,
            "pickup": {"name": self.pickup_name, "lon": self.pickup_lonlat[0],
                       "lat": self.pickup_lonlat[1]},
            "dropoff": {"name": self.dropoff_name, "lon": self.dropoff_lonlat[0],
                        "lat": self.dropoff_lonlat[1]},
            "pickup_window": [t.isoformat() for t in self.pickup_window],
            "planned_pickup": self.planned_pickup.isoformat(),
            "planned_dropoff": self.planned_dropoff.isoformat(),
            "latest_dropoff": self.latest_dropoff.isoformat(),
            "bookable": self.bookable,
            "estimated": self.estimated,
            "wheelchair": self.wheelchair,
        }  # fmt: skip
        if self.booking:
            out["booking"] = self.booking
        if self.service_window is not None:
            out["service_window"] = [t.isoformat() for t in self.service_window]
        return out


@dataclass(frozen=True)
class Leg:
    """One leg of a journey: a street leg (walk, bike, car) or a ride on one trip."""

    mode: str
    """``walk``, ``bike``, ``car`` or the transit mode (``bus``, ``tram``, ``metro``, ``rail``, ...)."""
    start: dt.datetime
    end: dt.datetime
    from_name: str
    to_name: str
    from_lonlat: tuple[float, float]
    to_lonlat: tuple[float, float]
    coords: list[tuple[float, float]]
    """(lon, lat) outline: the two ends (street legs) or the stop sequence (transit legs);
    :meth:`geometry` gives the drawn line."""
    from_stop_idx: int = -1
    to_stop_idx: int = -1
    length_m: float = float("nan")
    """Street legs: length in metres (nan when unknown)."""
    route_id: str = ""
    route_short_name: str = ""
    route_long_name: str = ""
    route_type: int = -1
    agency: str = ""
    trip_id: str = ""
    headsign: str = ""
    stops: list[StopCall] = field(default_factory=list)
    """Transit legs: board stop, intermediate stops, alight stop."""
    stay_seated: bool = False
    """Transit legs: the rider stays in the vehicle from the previous leg (in-seat transfer)."""
    estimated: bool = False
    """Street legs: estimated on the straight line (no street near an end), not measured."""
    on_demand: DemandOffer | None = None
    """On-demand legs (``mode="on_demand"``): the offer, its promise and how to book it."""
    realtime: bool = False
    """Transit legs: the times come from a real-time prediction (GTFS-realtime)."""
    delay_s: int = 0
    """Transit legs: real-time delay at the alighting stop, seconds (negative: early)."""
    alerts: tuple[Alert, ...] = ()
    """Service alerts that concern the leg (its route, trip, agency, or its two stops)."""
    geometry_fn: Callable[[], list[tuple[float, float]]] | None = field(
        default=None, repr=False, compare=False
    )
    """Computes the drawn line on demand (street path, trip shape); None: ``coords``."""

    def geometry(self) -> list[tuple[float, float]]:
        """(lon, lat) line of the leg: the street path for street legs, the trip's shape between
        the two stops (else the stop sequence) for transit legs; computed once, on demand.
        """
        cached = self.__dict__.get("_geometry")
        if cached is None:
            cached = self.coords
            if self.geometry_fn is not None:
                try:
                    cached = self.geometry_fn() or self.coords
                except Exception:
                    cached = self.coords
            object.__setattr__(self, "_geometry", cached)
        return cached

    @property
    def is_transit(self) -> bool:
        """Whether the leg rides a vehicle: a trip of the timetable or an on-demand shuttle."""
        return self.mode not in STREET_MODES

    @property
    def duration_s(self) -> int:
        """Seconds from the leg's start to its end."""
        return int((self.end - self.start).total_seconds())

    def describe(self, day: dt.date | None = None) -> str:
        """One line of text; times carry their date when it is not ``day`` (the start's day
        by default).
        """
        day = day or self.start.date()
        span = f"{_clock(self.start, day)}-{_clock(self.end, self.start.date())}"
        od = self.on_demand
        if od is not None:
            lo, hi = od.pickup_window
            how = "book in the journey" if od.bookable else od.booking
            est = ", estimated" if od.estimated else ""
            return (
                f"{span}  on demand ({od.zone}{est}): {od.pickup_name} -> {od.dropoff_name}, "
                f"pickup {_clock(lo, day)}-{_clock(hi, day)}, "
                f"arrival by {_clock(od.latest_dropoff, day)} [{how}]"
            )
        if self.is_transit:
            name = self.route_short_name or self.route_long_name or self.route_id
            head = f" towards {self.headsign}" if self.headsign else ""
            seat = " (stay seated)" if self.stay_seated else ""
            n = max(len(self.stops) - 2, 0)
            live = ""
            if self.realtime:
                live = f" [live, {self.delay_s // 60:+d} min]" if self.delay_s else " [live]"
            warn = "".join(f"\n    ! {a.header or a.effect}" for a in self.alerts)
            return (
                f"{span}  {self.mode} {name}{head}{seat}: "
                f"{self.from_name} -> {self.to_name} ({n} stops between){live}{warn}"
            )
        dist = f", {self.length_m:.0f} m" if self.length_m == self.length_m else ""
        if self.estimated:
            dist += " (straight-line estimate)"
        return (
            f"{span}  {self.mode} {self.duration_s // 60} min{dist}: "
            f"{self.from_name} -> {self.to_name}"
        )

    def to_dict(self, *, stops: bool = True) -> dict[str, Any]:
        """Plain JSON-ready dict (times in ISO 8601 with offset); ``stops=False`` leaves out a
        transit leg's stop calls (GeoJSON draws the leg instead).
        """
        out: dict[str, Any] = {
            "mode": self.mode,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "duration_s": self.duration_s,
            "from": {
                "name": self.from_name,
                "lon": self.from_lonlat[0],
                "lat": self.from_lonlat[1],
            },
            "to": {"name": self.to_name, "lon": self.to_lonlat[0], "lat": self.to_lonlat[1]},
        }
        if self.on_demand is not None:
            out["on_demand"] = self.on_demand.to_dict()
        elif self.is_transit:
            out.update(
                route_id=self.route_id,
                route_short_name=self.route_short_name,
                route_long_name=self.route_long_name,
                route_type=self.route_type,
                agency=self.agency,
                trip_id=self.trip_id,
                headsign=self.headsign,
                stay_seated=self.stay_seated,
                realtime=self.realtime,
                delay_s=self.delay_s,
                alerts=[a.to_dict() for a in self.alerts],
            )
            if stops:
                out["stops"] = [
                    {
                        "stop_id": c.stop_id,
                        "name": c.name,
                        "lon": c.lon,
                        "lat": c.lat,
                        "arrival": c.arrival.isoformat(),
                        "departure": c.departure.isoformat(),
                    }
                    for c in self.stops
                ]
        else:
            if self.length_m == self.length_m:
                out["length_m"] = self.length_m
            if self.estimated:
                out["estimated"] = True
        return out


@dataclass(frozen=True)
class Journey:
    """A door-to-door (or stop-to-stop) journey: legs in order, with totals."""

    legs: list[Leg]

    @property
    def departure(self) -> dt.datetime:
        """When the journey leaves its origin."""
        return self.legs[0].start

    @property
    def arrival(self) -> dt.datetime:
        """When the journey reaches its destination."""
        return self.legs[-1].end

    @property
    def duration_s(self) -> int:
        """Seconds from departure to arrival."""
        return int((self.arrival - self.departure).total_seconds())

    @property
    def n_rides(self) -> int:
        """Vehicles boarded (an in-seat continuation is not a new vehicle)."""
        return sum(1 for leg in self.legs if leg.is_transit and not leg.stay_seated)

    @property
    def transfers(self) -> int:
        """Changes of vehicle (rides minus one)."""
        return max(self.n_rides - 1, 0)

    @property
    def walk_s(self) -> int:
        """Seconds spent on walking legs (waiting excluded)."""
        return sum(leg.duration_s for leg in self.legs if leg.mode == "walk")

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Service alerts concerning any leg, each once, in leg order."""
        seen: dict[str, Alert] = {}
        for leg in self.legs:
            for a in leg.alerts:
                seen.setdefault(a.alert_id, a)
        return tuple(seen.values())

    def to_text(self, day: dt.date | None = None) -> str:
        """A readable multi-line description; a leg starting on another day than ``day`` (the
        query's; the departure's by default) shows its date.
        """
        day = day or self.departure.date()
        head = (
            f"{self.departure:%Y-%m-%d %H:%M} -> {_clock(self.arrival, self.departure.date())}  "
            f"{self.duration_s // 60} min, {self.transfers} transfer(s), walk {self.walk_s // 60} min"
        )
        return "\n".join([head, *("  " + leg.describe(day) for leg in self.legs)])

    def __str__(self) -> str:
        return self.to_text()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "departure": self.departure.isoformat(),
            "arrival": self.arrival.isoformat(),
            "duration_s": self.duration_s,
            "transfers": self.transfers,
            "walk_s": self.walk_s,
            "alerts": [a.to_dict() for a in self.alerts],
            "legs": [leg.to_dict() for leg in self.legs],
        }

    def to_frame(self) -> Any:
        """The legs as a pandas DataFrame (one row per leg, times as timestamps)."""
        import pandas as pd

        rows = []
        for leg in self.legs:
            row = leg.to_dict(stops=False)
            row["from"] = row["from"]["name"]
            row["to"] = row["to"]["name"]
            row["start"], row["end"] = leg.start, leg.end
            rows.append(row)
        return pd.DataFrame(rows)

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection: one LineString feature per leg, properties per leg."""
        features = []
        for i, leg in enumerate(self.legs):
            props = leg.to_dict(stops=False)
            props["leg"] = i
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": _line(leg)},
                    "properties": props,
                }
            )
        return {
            "type": "FeatureCollection",
            "features": features,
            "properties": {
                "departure": self.departure.isoformat(),
                "arrival": self.arrival.isoformat(),
                "duration_s": self.duration_s,
                "transfers": self.transfers,
                "walk_s": self.walk_s,
            },
        }
