"""On-demand legs in journeys: the :class:`Feeder` seam and the planner's use of it.

A feeder answers for one on-demand service (a zone's shuttle): how long a drive from a point
to a set of places would take (:meth:`Feeder.reach_s`, cheap, used to pick candidates) and what
it offers for one ride (:meth:`Feeder.offer`). The planner (floor 4) only knows this protocol;
the feeders live where their knowledge is:

- :class:`arverne.routing.flex_feeder.FlexFeeder`: a GTFS-Flex zone run by someone else; the
  offer shows the window and the booking rules (phone, advance notice), times estimated;
- :class:`arverne.fleet.ondemand_feeder.ServiceFeeder`: a zone run by Arverne's live dispatcher
  (:class:`~arverne.fleet.ondemand.OnDemandService`); the offer is the dispatcher's checked
  quote against the live vehicle plans, booked as shown by
  :func:`arverne.fleet.ondemand_feeder.book_journey`.

How a query uses them (:class:`DemandLegs`), for a departure at ``t0``:

- first mile: real offers from the origin to a few served stops (the nearest ones and those
  nearest the destination), each an access entry arriving at the stop at the promised latest
  drop-off (plus the walk from the drop-off point); a second offer per stop promises the
  arrival ``TIGHT_S`` after the first's planned one, when the first's promise is later;
- last mile: egress entries at the served stops near the destination, timed by the drive
  estimate; after the search each journey ending with one is offered for real at its actual
  arrival at the stop (the leg then shows the offer's promise; a refused one drops the journey);
- door to door: one offer from the origin to the destination.

Arrive-by and range queries do not use feeders (an offer depends on its pickup time).

Known approximations: a first-mile entry arrives at a promised latest drop-off, so a bus
leaving between the planned drop-off and the tighter promise is not tried; a last-mile estimate
assumes no wait for the shuttle, so the search may keep it over another egress that, once the
shuttle is offered for real, would have arrived earlier.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from arverne.errors import InputError
from arverne.geo import haversine_m
from arverne.routing.journey import DemandOffer, Journey, Leg
from arverne.routing.options import PlanOptions
from arverne.routing.query import local_time, stop_point
from arverne.routing.search import Query, Search

LonLat = tuple[float, float]

NEAR_STOPS = 4
"""First/last mile: offers asked to this many of the nearest served stops ..."""
TOWARD_STOPS = 4
"""... and to this many of the served stops nearest the other end of the journey."""
TRANSFER_S = 120
"""Last mile: the shuttle is asked for this long after the arrival at the stop."""
TIGHT_S = 300
"""First mile: a second offer is asked for an arrival this long after the first's planned one."""


@runtime_checkable
class Feeder(Protocol):
    """One on-demand service as the planner sees it (see the module docstring)."""

    name: str
    """Unique among the feeders of one query; an offer's ``provider``."""

    def reach_s(
        self, point: LonLat, lon: np.ndarray, lat: np.ndarray, *, from_point: bool
    ) -> np.ndarray:
        """Estimated riding seconds between ``point`` and each (lon, lat): from the point when
        ``from_point``, else to it; ``inf`` where the service does not take that ride.
        """
        ...

    def offer(
        self,
        pickup: LonLat,
        dropoff: LonLat,
        *,
        earliest: dt.datetime,
        wheelchair: bool,
        latest_arrival: dt.datetime | None = None,
    ) -> DemandOffer | None:
        """The ride picking up at ``pickup`` from ``earliest`` on (and, when given, promising
        the arrival at ``dropoff`` by ``latest_arrival``), asked now (the feeder's own clock:
        booking notices and the dispatcher's plans run on real time, not on the query's); None
        when the service cannot take it.
        """
        ...


def wall_clock() -> dt.datetime:
    """The computer's time now, with its zone: a feeder's default clock."""
    return dt.datetime.now().astimezone()


def as_zone_of(t: dt.datetime, like: dt.datetime) -> dt.datetime:
    """``t`` on the clock of ``like``: in its zone, or naive when ``like`` is (a naive time is
    taken as on that clock already).
    """
    if like.tzinfo is None:
        return t if t.tzinfo is None else t.astimezone().replace(tzinfo=None)
    return t.astimezone(like.tzinfo) if t.tzinfo is not None else t.replace(tzinfo=like.tzinfo)


class DemandLegs:
    """The on-demand part of one forward query: entries added to ``q``, and the settling of
    the journeys the search returns (see the module docstring).

    Parameters
    ----------
    search, q
        The search and the street query (its access and egress entries are extended).
    feeders
        The on-demand services to ask.
    origin, destination
        WGS84 (lat, lon), as the planner takes them.
    when
        The departure.
    options
        Query options (``wheelchair`` asks for a wheelchair place).
    """

    def __init__(
        self,
        search: Search,
        q: Query,
        feeders: Sequence[Feeder],
        origin: tuple[float, float],
        destination: tuple[float, float],
        when: dt.datetime,
        options: PlanOptions,
    ) -> None:
        names = [f.name for f in feeders]
        if len(set(names)) != len(names):
            raise InputError(f"feeders must have distinct names, got {names}")
        self.search = search
        self.q = q
        self.feeders = {f.name: f for f in feeders}
        self.o: LonLat = (float(origin[1]), float(origin[0]))
        self.d: LonLat = (float(destination[1]), float(destination[0]))
        self.t0 = local_time(search, when)
        self.wheelchair = options.wheelchair
        _trip_ok, stop_ok = search.allowed(options)
        self.usable = np.flatnonzero(search.routable_stop & stop_ok)
        self.direct: list[Journey] = []
        self._egress: dict[int, list[str]] = {}
        """Stop index -> the feeders whose last-mile estimates start there."""
        for feeder in feeders:
            self._first_mile(feeder)
            self._last_mile(feeder)
            offer = self._offer(feeder, self.o, self.d, self.t0)
            if offer is not None:
                ends = ("origin", self.o, "destination", self.d)
                self.direct.append(Journey(offer_legs(offer, ends)))

    def _offer(self, feeder: Feeder, a: LonLat, b: LonLat, t: dt.datetime) -> DemandOffer | None:
        return feeder.offer(a, b, earliest=t, wheelchair=self.wheelchair)

    def _candidates(
        self, feeder: Feeder, point: LonLat, other: LonLat, *, from_point: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(stop indices, estimated seconds) of the served stops worth asking."""
        s = self.usable
        lon, lat = self.search.stop_lon[s], self.search.stop_lat[s]
        reach = np.asarray(feeder.reach_s(point, lon, lat, from_point=from_point), np.float64)
        ok = np.flatnonzero(np.isfinite(reach))
        near = ok[np.argsort(reach[ok], kind="stable")[:NEAR_STOPS]]
        toward = haversine_m(other[0], other[1], lon[ok], lat[ok])
        far = ok[np.argsort(toward, kind="stable")[:TOWARD_STOPS]]
        pick = np.unique(np.concatenate([near, far]))
        return s[pick], reach[pick]

    def _first_mile(self, feeder: Feeder) -> None:
        q, t0 = self.q, self.t0
        stops, _ = self._candidates(feeder, self.o, self.d, from_point=True)
        acc, info = [], []
        for s in stops.tolist():
            name, pt = stop_point(self.search, s)
            offer = self._offer(feeder, self.o, pt, t0)
            if offer is None:
                continue
            offers = [offer]
            # the promise leaves room for the ride's slack: also ask for the arrival soon after
            # the planned one, so that a bus leaving before the promised arrival is tried
            tight = offer.planned_dropoff + dt.timedelta(seconds=TIGHT_S)
            if tight < offer.latest_dropoff:
                other = feeder.offer(self.o, pt, earliest=t0, wheelchair=self.wheelchair,
                                     latest_arrival=tight)  # fmt: skip
                if other is not None and other.latest_dropoff < offer.latest_dropoff:
                    offers.append(other)
            for o in offers:
                at_stop = o.latest_dropoff + dt.timedelta(seconds=o.walk_from_dropoff_s)
                acc.append((s, math.ceil((at_stop - t0).total_seconds()), o.walk_to_pickup_s))
                info.append(_entry(o, "origin", name, self.o, pt, -1, s))
        _extend(q, "access", acc, info)

    def _last_mile(self, feeder: Feeder) -> None:
        stops, reach = self._candidates(feeder, self.d, self.o, from_point=False)
        egr, info = [], []
        for s, r in zip(stops.tolist(), reach.tolist(), strict=True):
            name, pt = stop_point(self.search, s)
            # an estimate: the real offer is asked once the arrival at the stop is known
            egr.append((s, TRANSFER_S + math.ceil(r), 0))
            info.append(_entry(None, name, "destination", pt, self.d, s, -1))
            self._egress.setdefault(s, []).append(feeder.name)
        _extend(self.q, "egress", egr, info)

    def settle(self, journeys: list[Journey]) -> list[Journey]:
        """The journeys with their on-demand legs as offered: a first-mile placeholder becomes
        the offer's legs, a last-mile estimate is offered at the actual arrival at its stop
        (the journey is dropped when refused); the door-to-door offers are added.
        """
        out = []
        for j in journeys:
            legs: list[Leg] = []
            ok = True
            for i, leg in enumerate(j.legs):
                if leg.mode != "on_demand":
                    legs.append(leg)
                    continue
                if leg.on_demand is not None:  # first mile: offered already
                    legs.extend(offer_legs(leg.on_demand, leg))
                    continue
                offer = self._last_mile_offer(leg, legs[-1].end if legs else self.t0)
                if offer is None or i != len(j.legs) - 1:
                    ok = False
                    break
                legs.extend(offer_legs(offer, leg))
            if ok:
                out.append(Journey(legs))
        return out + self.direct

    def _last_mile_offer(self, leg: Leg, arrived: dt.datetime) -> DemandOffer | None:
        """The best real offer for a last-mile placeholder leg (the earliest promised arrival
        among the feeders serving its stop), asked for ``TRANSFER_S`` after ``arrived``.
        """
        earliest = arrived + dt.timedelta(seconds=TRANSFER_S)
        offers = [
            self._offer(self.feeders[name], leg.from_lonlat, leg.to_lonlat, earliest)
            for name in self._egress.get(leg.from_stop_idx, [])
        ]
        return min(
            (o for o in offers if o is not None),
            key=lambda o: o.latest_dropoff + dt.timedelta(seconds=o.walk_from_dropoff_s),
            default=None,
        )


def _entry(
    offer: DemandOffer | None,
    from_name: str,
    to_name: str,
    a: LonLat,
    b: LonLat,
    from_stop: int,
    to_stop: int,
) -> dict[str, Any]:
    """An access or egress entry's description (as :func:`arverne.routing.query` writes them)."""
    return {
        "mode": "on_demand",
        "offer": offer,
        "from_name": from_name,
        "to_name": to_name,
        "from": a,
        "to": b,
        "from_stop": from_stop,
        "to_stop": to_stop,
        "same_stop": False,
        "estimated": True,
    }


def _extend(q: Query, side: str, entries: list[tuple[int, int, int]], info: list[Any]) -> None:
    """Append (stop, seconds, walking seconds) entries to the query's access or egress."""
    if not entries:
        return
    e = np.array(entries, np.int32).reshape(-1, 3)
    for k, field in enumerate(("stop", "s", "walk")):
        name = f"{side}_{field}"
        setattr(q, name, np.concatenate([getattr(q, name), e[:, k]]).astype(np.int32))
    getattr(q, f"{side}_info").extend(info)


def offer_legs(offer: DemandOffer, start: Leg | tuple[str, LonLat, str, LonLat]) -> list[Leg]:
    """The legs of an offer: the walk to the pickup point (if any), the ride from the start of
    the pickup window to the promised latest drop-off, the walk from the drop-off point.

    ``start`` is the placeholder leg the offer replaces, or (from name, (lon, lat), to name,
    (lon, lat)) of the ride's two ends.
    """
    if isinstance(start, Leg):
        from_name, a, to_name, b = (
            start.from_name,
            start.from_lonlat,
            start.to_name,
            start.to_lonlat,
        )
    else:
        from_name, a, to_name, b = start
    legs = []
    lo = offer.pickup_window[0]
    if offer.walk_to_pickup_s > 0:
        legs.append(_walk(lo - dt.timedelta(seconds=offer.walk_to_pickup_s), lo, from_name,
                          offer.pickup_name, a, offer.pickup_lonlat))  # fmt: skip
    legs.append(
        Leg(
            mode="on_demand",
            start=lo,
            end=offer.latest_dropoff,
            from_name=offer.pickup_name,
            to_name=offer.dropoff_name,
            from_lonlat=offer.pickup_lonlat,
            to_lonlat=offer.dropoff_lonlat,
            coords=[offer.pickup_lonlat, offer.dropoff_lonlat],
            on_demand=offer,
            estimated=offer.estimated,
        )
    )
    if offer.walk_from_dropoff_s > 0:
        end = offer.latest_dropoff
        legs.append(_walk(end, end + dt.timedelta(seconds=offer.walk_from_dropoff_s),
                          offer.dropoff_name, to_name, offer.dropoff_lonlat, b))  # fmt: skip
    return legs


def _walk(
    start: dt.datetime, end: dt.datetime, from_name: str, to_name: str, a: LonLat, b: LonLat
) -> Leg:
    """A short walk to or from a meeting point, on the straight line."""
    return Leg(
        mode="walk", start=start, end=end, from_name=from_name, to_name=to_name,
        from_lonlat=a, to_lonlat=b, coords=[a, b], estimated=True,
    )  # fmt: skip
