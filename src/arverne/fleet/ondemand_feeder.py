"""Arverne's live on-demand service inside journeys: a planner feeder and one-call booking.

:class:`ServiceFeeder` is the :class:`arverne.routing.ondemand.Feeder` of an
:class:`~arverne.fleet.ondemand.OnDemandService`: an offer is the service's own quote (the
insertion it would make into the live vehicle plans, with every promise already made kept),
so it can be booked as shown. :func:`book_journey` books every such leg of a journey in one
call and checks each booking against the offer shown: the pickup window must lie inside the one
shown and the latest drop-off be no later. When the plans changed meanwhile (another rider was
booked first) and the shown times can no longer be kept, the bookings already made for the
journey are cancelled and :class:`~arverne.errors.OfferExpiredError` is raised.

A rider is picked up and dropped off at the service point nearest each end, at most
``ServiceParams.max_walk_m`` away, walking there and back at ``walk_speed_mps``. A journey that
asks for wheelchair access asks the service for a wheelchair place (and no seat): only a
shuttle with wheelchair places can take it. Times are seconds since midnight of the service's
day (``day``) in the service, datetimes in the journey.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arverne.errors import OfferExpiredError, ProblemError
from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_model import Offer, Refusal, TripRequest
from arverne.geo import haversine_m
from arverne.routing.journey import DemandOffer, Journey
from arverne.routing.ondemand import as_zone_of, wall_clock

LonLat = tuple[float, float]
TOLERANCE_S = 1e-6
"""Booked times may differ from the shown ones by float rounding only."""


@dataclass(frozen=True)
class _Request:
    """What a :class:`ServiceFeeder` offer carries to be booked."""

    trip: TripRequest
    now_s: float


class ServiceFeeder:
    """The feeder of a live :class:`OnDemandService` (see the module docstring).

    Parameters
    ----------
    service
        The live service (its area's points are where riders meet the shuttle).
    day
        The service day its plans are for; other days get no offer.
    name
        The feeder's name (an offer's ``provider``).
    zone
        The zone's name shown on the leg.
    names
        Names shown for the meeting points, by point id (default: the ids).
    walk_speed_mps
        Walking speed to and from the meeting points.
    clock
        The time now: offers are asked, and booked, at it (never before the service's own
        clock); default: the computer's clock. A simulation passes its own.
    """

    def __init__(
        self,
        service: OnDemandService,
        *,
        day: dt.date,
        name: str = "arverne",
        zone: str = "on-demand zone",
        names: Mapping[str, str] | None = None,
        walk_speed_mps: float = 1.3,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if not walk_speed_mps > 0:
            raise ProblemError("ServiceFeeder: walk_speed_mps must be > 0")
        self.service = service
        self.day = day
        self.name = name
        self.zone = zone
        self.names = dict(names or {})
        self.walk_speed_mps = walk_speed_mps
        self.clock = clock or wall_clock
        self.last_refusal: Refusal | None = None
        """The service's answer to the last offer refused (why there was none)."""

    def _nearest(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(service point index, walk metres; ``inf`` beyond ``max_walk_m``) per point."""
        area = self.service.area
        d = haversine_m(lon[:, None], lat[:, None], area.lon[None, :], area.lat[None, :])
        k = np.argmin(d, axis=1)
        walk = d[np.arange(len(lon)), k]
        return k, np.where(walk <= self.service.params.max_walk_m, walk, np.inf)

    def reach_s(
        self, point: LonLat, lon: np.ndarray, lat: np.ndarray, *, from_point: bool
    ) -> np.ndarray:
        """Direct driving seconds between the meeting points of ``point`` and of each (lon,
        lat), walks included; ``inf`` outside the area or at the same meeting point.
        """
        lon, lat = np.asarray(lon, np.float64), np.asarray(lat, np.float64)
        (p,), (wp,) = self._nearest(np.array([point[0]]), np.array([point[1]]))
        k, walk = self._nearest(lon, lat)
        tt = self.service.area.travel_s
        drive = tt[p, k] if from_point else tt[k, p]
        out = drive + (walk + wp) / self.walk_speed_mps
        return np.where(np.isfinite(walk) & (k != p) & np.isfinite(wp), out, np.inf)

    def _now_s(self, like: dt.datetime) -> float:
        """Now in the service's seconds (its clock never goes back: never before its own)."""
        now = self._seconds(as_zone_of(self.clock(), like))
        return max(now, self.service.now_s or -math.inf)

    def _seconds(self, t: dt.datetime) -> float:
        midnight = dt.datetime.combine(self.day, dt.time(0), tzinfo=t.tzinfo)
        return (t - midnight).total_seconds()

    def _time(self, s: float, tz: dt.tzinfo | None) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(0), tzinfo=tz) + dt.timedelta(seconds=s)

    def offer(
        self,
        pickup: LonLat,
        dropoff: LonLat,
        *,
        earliest: dt.datetime,
        wheelchair: bool,
        latest_arrival: dt.datetime | None = None,
    ) -> DemandOffer | None:
        """The service's quote for the ride, asked now (``clock``; None, with
        ``last_refusal`` set, when refused). With ``latest_arrival`` the service is asked for
        an arrival by then (its promise), and a quote picking up before ``earliest`` is
        refused.
        """
        if earliest.date() != self.day:
            self.last_refusal = Refusal("outside_hours", f"the service plans {self.day} only")
            return None
        k, walk = self._nearest(
            np.array([pickup[0], dropoff[0]]), np.array([pickup[1], dropoff[1]])
        )
        if not np.isfinite(walk).all():
            self.last_refusal = Refusal("outside_zone", "an end lies outside the service area")
            return None
        walk_a, walk_b = (math.ceil(float(w) / self.walk_speed_mps) for w in walk)
        area = self.service.area
        leave_s = self._seconds(earliest) + walk_a
        trip = TripRequest(
            pickup=area.point_id[int(k[0])],
            dropoff=area.point_id[int(k[1])],
            earliest_pickup_s=leave_s if latest_arrival is None else None,
            latest_arrival_s=None
            if latest_arrival is None
            else self._seconds(as_zone_of(latest_arrival, earliest)) - walk_b,
            passengers=0 if wheelchair else 1,
            wheelchairs=1 if wheelchair else 0,
        )
        now_s = self._now_s(earliest)
        answer = self.service.quote(trip, now_s=now_s)
        if not isinstance(answer, Refusal) and answer.pickup_window_s[0] < leave_s:
            answer = Refusal("too_late", "the arrival asked for needs a pickup before departure")
        if isinstance(answer, Refusal):
            self.last_refusal = answer
            return None
        tz = earliest.tzinfo
        a, b = int(k[0]), int(k[1])
        names = [self.names.get(p, p) for p in (area.point_id[a], area.point_id[b])]
        return DemandOffer(
            provider=self.name,
            zone=self.zone,
            pickup_name=names[0],
            pickup_lonlat=(float(area.lon[a]), float(area.lat[a])),
            dropoff_name=names[1],
            dropoff_lonlat=(float(area.lon[b]), float(area.lat[b])),
            pickup_window=(
                self._time(answer.pickup_window_s[0], tz),
                self._time(answer.pickup_window_s[1], tz),
            ),
            planned_pickup=self._time(answer.planned_pickup_s, tz),
            planned_dropoff=self._time(answer.planned_dropoff_s, tz),
            latest_dropoff=self._time(answer.latest_dropoff_s, tz),
            bookable=True,
            wheelchair=wheelchair,
            walk_to_pickup_s=walk_a,
            walk_from_dropoff_s=walk_b,
            request=_Request(trip, now_s),
        )

    def book(self, offer: DemandOffer, *, rider: str = "") -> Offer:
        """Book an offer this feeder made; the booking keeps the times shown or is not made.

        It is booked now (``clock``, never before the quote's time). The service is first
        asked again without booking: when the clock or the plans moved since the offer and its
        answer no longer fits the times shown, nothing is booked. Otherwise it is booked, and
        checked again (another process may have booked in between): a booking that does not fit
        is cancelled.

        Raises
        ------
        OfferExpiredError
            When the service refuses the ride now, or would take it only with a pickup window
            or a latest drop-off outside the ones shown. Nothing stays booked, except in one
            race: another process changed the plan between the check and the booking, and the
            shuttle must already leave for the rider (the booking can no longer be cancelled;
            the message names it).
        """
        req = offer.request
        if offer.provider != self.name or not isinstance(req, _Request):
            raise ProblemError(f"{self.name}: the offer was made by {offer.provider!r}")
        now_s = max(req.now_s, self._now_s(offer.pickup_window[0]))
        trip = dataclasses.replace(req.trip, rider=rider)
        self._check(offer, self.service.quote(trip, now_s=now_s))
        answer = self.service.book(trip, now_s=now_s)
        try:
            self._check(offer, answer)
        except OfferExpiredError:
            assert isinstance(answer, Offer)
            try:
                self.service.cancel(answer.booking_id, now_s=now_s)
            except ProblemError:
                raise OfferExpiredError(
                    f"{self.name}: another booking changed the plan meanwhile; booking "
                    f"{answer.booking_id} stands at other times (the shuttle is on its way)"
                ) from None
            raise
        assert isinstance(answer, Offer)
        return answer

    def _check(self, offer: DemandOffer, answer: Offer | Refusal) -> None:
        """Raise OfferExpiredError unless ``answer`` keeps the times ``offer`` showed."""
        where = offer.pickup_name
        if isinstance(answer, Refusal):
            raise OfferExpiredError(
                f"{self.name}: the ride from {where} can no longer be booked "
                f"({answer.reason}: {answer.message})"
            )
        lo, hi = (self._seconds(t) for t in offer.pickup_window)
        latest = self._seconds(offer.latest_dropoff)
        blo, bhi = answer.pickup_window_s
        if (
            blo < lo - TOLERANCE_S
            or bhi > hi + TOLERANCE_S
            or answer.latest_dropoff_s > latest + TOLERANCE_S
        ):
            raise OfferExpiredError(
                f"{self.name}: the plans or the clock moved; the ride from {where} is now "
                "offered at other times (plan the journey again)"
            )


@dataclass(frozen=True)
class BookedJourney:
    """A journey whose on-demand legs are booked."""

    journey: Journey
    bookings: list[tuple[int, Offer]]
    """(leg index, the service's confirmed booking) of each booked leg."""


def book_journey(
    journey: Journey, feeders: Sequence[ServiceFeeder], *, rider: str = ""
) -> BookedJourney:
    """Book every bookable on-demand leg of a journey in one call, keeping the times shown.

    Parameters
    ----------
    journey
        A journey planned with these feeders.
    feeders
        The feeders that made its offers (matched by name).
    rider
        Stored with each booking.

    Returns
    -------
    BookedJourney
        The journey and its bookings; legs of zones run by someone else are left to the rider
        (their leg says how to book).

    Raises
    ------
    OfferExpiredError
        When a leg can no longer be booked as shown: the legs already booked for this journey
        are cancelled (those whose shuttle already left for the rider stand, and are named).
    ProblemError
        When a bookable leg's feeder is not among ``feeders``.
    """
    by_name = {f.name: f for f in feeders}
    done: list[tuple[int, Offer, ServiceFeeder]] = []
    try:
        for i, leg in enumerate(journey.legs):
            od = leg.on_demand
            if od is None or not od.bookable:
                continue
            feeder = by_name.get(od.provider)
            if feeder is None:
                raise ProblemError(f"book_journey: no feeder named {od.provider!r}")
            done.append((i, feeder.book(od, rider=rider), feeder))
    except BaseException as exc:
        kept = []
        for _, booked, feeder in done:  # its clock stands where the booking left it
            try:
                feeder.service.cancel(booked.booking_id, now_s=feeder.service.now_s or 0.0)
            except ProblemError:  # its shuttle already left for the rider
                kept.append(booked.booking_id)
        if kept:
            raise OfferExpiredError(
                f"{exc}; the journey's earlier bookings {', '.join(kept)} stand (their shuttles "
                "are on their way)"
            ) from exc
        raise
    return BookedJourney(journey, [(i, booked) for i, booked, _ in done])


def offer_to_json(offer: DemandOffer) -> dict[str, Any]:
    """A :class:`ServiceFeeder` offer as JSON-ready values, to be booked later, maybe by another
    process: the times shown and the request its feeder will make (:func:`offer_from_json`
    reads it back).

    Raises
    ------
    ProblemError
        When ``offer`` was not made by a :class:`ServiceFeeder`.
    """
    req = offer.request
    if not isinstance(req, _Request):
        raise ProblemError(f"offer_to_json: the offer of {offer.provider!r} is not a live one")
    trip = req.trip
    return {
        "provider": offer.provider,
        "zone": offer.zone,
        "pickup": [offer.pickup_name, *offer.pickup_lonlat],
        "dropoff": [offer.dropoff_name, *offer.dropoff_lonlat],
        "pickup_window": [t.isoformat() for t in offer.pickup_window],
        "planned": [offer.planned_pickup.isoformat(), offer.planned_dropoff.isoformat()],
        "latest_dropoff": offer.latest_dropoff.isoformat(),
        "wheelchair": offer.wheelchair,
        "walks_s": [offer.walk_to_pickup_s, offer.walk_from_dropoff_s],
        "trip": [trip.pickup, trip.dropoff, trip.earliest_pickup_s, trip.latest_arrival_s,
                 trip.passengers, trip.wheelchairs],
        "now_s": req.now_s,
    }  # fmt: skip


def offer_from_json(data: Mapping[str, Any]) -> DemandOffer:
    """The bookable offer :func:`offer_to_json` wrote.

    Raises
    ------
    ProblemError
        When ``data`` is not what :func:`offer_to_json` writes.
    """
    try:
        time = dt.datetime.fromisoformat
        pickup, dropoff = data["pickup"], data["dropoff"]
        a, b, earliest, latest, passengers, wheelchairs = data["trip"]
        trip = TripRequest(a, b, earliest, latest, passengers, wheelchairs)
        lo, hi = (time(t) for t in data["pickup_window"])
        planned_pickup, planned_dropoff = (time(t) for t in data["planned"])
        walk_a, walk_b = (int(w) for w in data["walks_s"])
        return DemandOffer(
            provider=str(data["provider"]),
            zone=str(data["zone"]),
            pickup_name=str(pickup[0]),
            pickup_lonlat=(float(pickup[1]), float(pickup[2])),
            dropoff_name=str(dropoff[0]),
            dropoff_lonlat=(float(dropoff[1]), float(dropoff[2])),
            pickup_window=(lo, hi),
            planned_pickup=planned_pickup,
            planned_dropoff=planned_dropoff,
            latest_dropoff=time(data["latest_dropoff"]),
            bookable=True,
            wheelchair=bool(data["wheelchair"]),
            walk_to_pickup_s=walk_a,
            walk_from_dropoff_s=walk_b,
            request=_Request(trip, float(data["now_s"])),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ProblemError(f"offer_from_json: not a written offer ({exc})") from None
