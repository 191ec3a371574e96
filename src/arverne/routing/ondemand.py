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

How a query uses them (:class:`Feeders`, an extra mode of the query's ends through the seam
of :mod:`arverne.routing.extra_legs` that bike share and carpool use too), for a departure at
``t0``:

- first mile: real offers from the origin to a few served stops (the nearest ones and those
  nearest the destination), each an access entry arriving at the stop at the promised latest
  drop-off (plus the walk from the drop-off point); a second offer per stop promises the
  arrival ``TIGHT_S`` after the first's planned one, when the first's promise is later;
- last mile: egress entries at the served stops near the destination, timed by the drive
  estimate counting no wait; after the search each journey ending with one is offered for real
  at its actual arrival at the stop (the leg then shows the offer's promise; a refused one drops
  the journey). An offer arriving later than estimated raises the estimate, a refused one takes
  the entry out, and the search runs again (:mod:`arverne.routing.extra_legs`), so another
  egress that the too-early estimate had beaten is found;
- door to door: one offer from the origin to the destination.

Arrive-by and range queries do not use feeders (an offer depends on its pickup time).

Known approximations: a first-mile entry arrives at a promised latest drop-off, so a bus
leaving between the planned drop-off and the tighter promise is not tried; a raised last-mile
estimate is the wait at one arrival time, so (within ``RESEARCH`` searches) an earlier arrival
at that stop with a shorter wait may still be judged by it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from functools import partial
from typing import Protocol, runtime_checkable

import numpy as np

from arverne.errors import InputError
from arverne.geo import haversine_m
from arverne.routing.extra_legs import Ends, Entry, ModeLegs, placeholder
from arverne.routing.journey import DemandOffer, Journey, Leg
from arverne.routing.query import stop_point

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


class Feeders:
    """The on-demand services of one forward query, as an extra mode of its ends
    (:class:`arverne.routing.extra_legs.ExtraMode`; see the module docstring).

    Parameters
    ----------
    feeders
        The on-demand services to ask (distinct names).
    """

    def __init__(self, feeders: Sequence[Feeder]) -> None:
        names = [f.name for f in feeders]
        if len(set(names)) != len(names):
            raise InputError(f"feeders must have distinct names, got {names}")
        self.feeders = list(feeders)

    def legs(self, ends: Ends) -> ModeLegs:
        """First-mile offers, last-mile estimates and door-to-door offers of every feeder."""
        out = ModeLegs()
        wheelchair = ends.options.wheelchair
        for feeder in self.feeders:
            out.first += _first_mile(feeder, ends)
            out.last += _last_mile(feeder, ends)
            offer = feeder.offer(ends.o, ends.d, earliest=ends.t0, wheelchair=wheelchair)
            if offer is not None:
                out.direct.append(
                    Journey(offer_legs(offer, ("origin", ends.o, "destination", ends.d)))
                )
        return out


def _candidates(
    feeder: Feeder, ends: Ends, point: LonLat, other: LonLat, *, from_point: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(stop indices, estimated seconds) of the served stops worth asking."""
    s = ends.usable
    lon, lat = ends.search.stop_lon[s], ends.search.stop_lat[s]
    reach = np.asarray(feeder.reach_s(point, lon, lat, from_point=from_point), np.float64)
    ok = np.flatnonzero(np.isfinite(reach))
    near = ok[np.argsort(reach[ok], kind="stable")[:NEAR_STOPS]]
    toward = haversine_m(other[0], other[1], lon[ok], lat[ok])
    far = ok[np.argsort(toward, kind="stable")[:TOWARD_STOPS]]
    pick = np.unique(np.concatenate([near, far]))
    return s[pick], reach[pick]


def _first_mile(feeder: Feeder, ends: Ends) -> list[Entry]:
    """Offers from the origin to the candidate stops, each an entry with its times fixed."""
    t0, o, wheelchair = ends.t0, ends.o, ends.options.wheelchair
    stops, _ = _candidates(feeder, ends, o, ends.d, from_point=True)
    out = []
    for s in stops.tolist():
        name, pt = stop_point(ends.search, s)
        offer = feeder.offer(o, pt, earliest=t0, wheelchair=wheelchair)
        if offer is None:
            continue
        offers = [offer]
        # the promise leaves room for the ride's slack: also ask for the arrival soon after
        # the planned one, so that a bus leaving before the promised arrival is tried
        tight = offer.planned_dropoff + dt.timedelta(seconds=TIGHT_S)
        if tight < offer.latest_dropoff:
            other = feeder.offer(o, pt, earliest=t0, wheelchair=wheelchair, latest_arrival=tight)
            if other is not None and other.latest_dropoff < offer.latest_dropoff:
                offers.append(other)
        for of in offers:
            at_stop = of.latest_dropoff + dt.timedelta(seconds=of.walk_from_dropoff_s)
            info = placeholder("on_demand", ("origin", o, -1), (name, pt, s), offer=of)
            secs = math.ceil((at_stop - t0).total_seconds())
            out.append(Entry(s, secs, of.walk_to_pickup_s, info, partial(offer_legs, of)))
    return out


def _last_mile(feeder: Feeder, ends: Ends) -> list[Entry]:
    """Estimates from the candidate stops to the destination, offered for real when settled."""
    stops, reach = _candidates(feeder, ends, ends.d, ends.o, from_point=False)
    settle = partial(_last_mile_offer, feeder, ends.options.wheelchair)
    out = []
    for s, r in zip(stops.tolist(), reach.tolist(), strict=True):
        name, pt = stop_point(ends.search, s)
        # counts no wait: the real offer is asked at the arrival at the stop (settle)
        info = placeholder("on_demand", (name, pt, s), ("destination", ends.d, -1), offer=None)
        out.append(Entry(s, TRANSFER_S + math.ceil(r), 0, info, settle))
    return out


def _last_mile_offer(feeder: Feeder, wheelchair: bool, leg: Leg) -> list[Leg] | None:
    """The legs of the feeder's real offer for a last-mile placeholder, asked ``TRANSFER_S``
    after the arrival at its stop (None when refused).
    """
    earliest = leg.start + dt.timedelta(seconds=TRANSFER_S)
    offer = feeder.offer(leg.from_lonlat, leg.to_lonlat, earliest=earliest, wheelchair=wheelchair)
    return None if offer is None else offer_legs(offer, leg)


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
