"""``GET /v1/journeys``: door-to-door journeys, in Navitia's parameter grammar.

``from`` and ``to`` are ``lon;lat`` (Navitia's order) or a stop id of the network;
``datetime`` is ``YYYYMMDDThhmm[ss]`` in the network's time zone; ``datetime_represents`` is
``departure`` or ``arrival``; ``timeframe_duration`` (or ``window``) asks for every
Pareto-optimal journey over that many seconds. ``forbidden_uris[]`` and ``allowed_id[]`` take
``line:<route_id>`` (or ``route:``), ``route_type:<n>``, ``mode:<bus|tram|...>`` (or
``physical_mode:``), ``network:<agency name>`` (or ``agency:``). Each maps onto one field of
:class:`arverne.routing.options.PlanOptions`; the answer is one GeoJSON FeatureCollection per
journey (one LineString per leg).

On-demand legs: a departure query (no window) also asks the service's live dispatcher (when it
runs one: :class:`arverne.service.ondemand.OnDemandDesk`) and the GTFS-Flex zones of the
network's feeds; their legs carry the offer (its promise, or the zone's booking rules). A
journey with live offers carries a ``booking_ref`` (when the service has a token) that
``POST /v1/journeys/bookings`` books in one call, keeping the times shown or refusing with
409 ``offer-expired``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from arverne.errors import InputError, OfferExpiredError, ProblemError, StoreError
from arverne.routing.options import PlanOptions
from arverne.service.context import Context, CurrentSnapshot, Shared, Writer, shared_modes
from arverne.service.geojson import FeatureCollection, json_response
from arverne.service.ondemand import (
    MAX_REFERENCE_CHARS,
    JourneyFeeders,
    read_booking_reference,
    reference_key,
)
from arverne.service.params import parse_datetime, parse_place
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses
from arverne.service.query import QueryModel
from arverne.service.snapshot import Snapshot

if TYPE_CHECKING:
    from arverne.fleet.ondemand_model import Offer
    from arverne.routing.journey import Journey

router = APIRouter(prefix="/v1", tags=["journeys"])

MAX_URIS = 100
"""Most entries of ``forbidden_uris[]`` or ``allowed_id[]``."""

_URI_KINDS = {
    "line": "routes",
    "route": "routes",
    "route_type": "route_types",
    "mode": "modes",
    "physical_mode": "modes",
    "commercial_mode": "modes",
    "network": "agencies",
    "agency": "agencies",
}


class JourneysOut(BaseModel):
    """Journeys (earliest first), each a GeoJSON FeatureCollection of its legs; the properties
    of one with live on-demand legs carry ``booking_ref`` (for ``POST /v1/journeys/bookings``).
    """

    journeys: list[FeatureCollection]
    other_day: bool = Field(description="the first journey leaves (arrives) on another day")
    network_version: str


class JourneyQuery(BaseModel):
    """The parameters of ``GET /v1/journeys`` (Navitia's names)."""

    from_: str = Field(alias="from", max_length=200, description="lon;lat or stop id")
    to: str = Field(max_length=200, description="lon;lat or stop id")
    datetime: str | None = Field(
        None, max_length=20, description="YYYYMMDDThhmm[ss], network time (default: now)"
    )
    datetime_represents: Literal["departure", "arrival"] = "departure"
    timeframe_duration: int | None = Field(
        None, ge=0, description="range query over this many seconds"
    )
    window: int | None = Field(None, ge=0, description="alias of timeframe_duration")
    wheelchair: bool = False
    max_walking_duration_to_pt: int | None = Field(
        None, ge=0, le=7200, description="longest walk to or from a stop, s"
    )
    max_walking_transfer_duration: int | None = Field(
        None, ge=0, le=7200, description="longest walk between two stops, s"
    )
    walking_speed: float | None = Field(None, ge=0.1, le=5.0)
    max_nb_transfers: int | None = Field(None, ge=0, le=20)
    min_change: int | None = Field(
        None, ge=0, le=3600, description="least time for a change of vehicle, s"
    )
    max_duration: int | None = Field(None, ge=1, le=2 * 86400)
    first_section_mode: list[Literal["walk", "bike", "car"]] | None = Field(
        None, alias="first_section_mode[]"
    )
    last_section_mode: list[Literal["walk", "bike"]] | None = Field(
        None, alias="last_section_mode[]"
    )
    forbidden_uris: list[str] | None = Field(None, alias="forbidden_uris[]", max_length=MAX_URIS)
    allowed_id: list[str] | None = Field(None, alias="allowed_id[]", max_length=MAX_URIS)
    school: bool = Field(True, description="use school services")
    bikeshare: bool = Field(False, description="also offer a ride on the live bike share (GBFS)")
    carpool: bool = Field(
        False, description="also offer a ride with one of the drivers' carpool offers"
    )


JOURNEY_QUERY = QueryModel(JourneyQuery)


@router.get(
    "/journeys",
    response_model=JourneysOut,
    responses={
        200: {
            "description": "Journeys",
            "headers": {
                "Server-Timing": {
                    "description": "plan;dur=<ms>: the worker's planning time, GeoJSON built",
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_responses(*COMMON_ERRORS, 404),
    },
    openapi_extra=JOURNEY_QUERY.openapi_extra,
)
async def get_journeys(
    ctx: Context,
    snap: CurrentSnapshot,
    q: Annotated[JourneyQuery, Depends(JOURNEY_QUERY)],
) -> Any:
    """Door-to-door journeys between two places, Pareto-optimal on (arrival, transfers)."""
    if q.timeframe_duration is not None and q.window is not None:
        raise HttpProblem("invalid-parameter", "give timeframe_duration or window, not both")
    window_s = q.timeframe_duration if q.timeframe_duration is not None else q.window or 0
    if window_s > ctx.settings.limits.max_window_s:
        raise HttpProblem(
            "limit-exceeded",
            f"timeframe_duration {window_s} s is more than {ctx.settings.limits.max_window_s} s",
        )
    shared = shared_modes(snap, bikeshare=q.bikeshare, carpool=q.carpool)
    tt = snap.network.timetable
    assert tt is not None  # a network without a timetable is refused when loaded by Planner
    origin = parse_place(q.from_, tt, "from")
    destination = parse_place(q.to, tt, "to")
    when = parse_datetime(q.datetime, tt.timezone)
    options = _options(
        wheelchair=q.wheelchair,
        walk_to_pt=q.max_walking_duration_to_pt,
        walk_transfer=q.max_walking_transfer_duration,
        walking_speed=q.walking_speed,
        max_nb_transfers=q.max_nb_transfers,
        min_change=q.min_change,
        max_duration=q.max_duration,
        first=q.first_section_mode,
        last=q.last_section_mode,
        forbidden=q.forbidden_uris or [],
        allowed=q.allowed_id,
        school=q.school,
    )
    arrive_by = q.datetime_represents == "arrival"
    demand = None
    if not arrive_by and not window_s:  # on-demand services answer departures only
        demand = JourneyFeeders(ctx.ondemand, ctx.settings.token, snap)
    # one search (no range) with no shuttle desk to ask (its lock): milliseconds of CPU
    short = not window_s and ctx.ondemand is None and snap.planner_ready()
    body, plan_ms = await ctx.admission.run(
        _plan,
        snap,
        origin,
        destination,
        when,
        arrive_by,
        window_s,
        options,
        shared,
        demand,
        short=short,
    )
    return json_response(body, headers={"Server-Timing": f"plan;dur={plan_ms:.2f}"})


def _plan(
    snap: Snapshot,
    origin: tuple[float, float],
    destination: tuple[float, float],
    when: dt.datetime,
    arrive_by: bool,
    window_s: int,
    options: PlanOptions,
    shared: Shared,
    demand: JourneyFeeders | None,
) -> tuple[dict[str, Any], float]:
    """Plan on the request's snapshot and build the answer (in a worker thread); with the
    milliseconds it took (the response's Server-Timing).
    """
    start = time.perf_counter()
    with snap.planner() as planner, demand or contextlib.nullcontext():
        journeys = planner.plan(
            origin,
            destination,
            depart_at=when,
            arrive_by=arrive_by,
            window=dt.timedelta(seconds=window_s),
            options=options,
            bikeshare=shared.bikeshare,
            carpool=shared.carpool,
            feeders=demand.feeders if demand else (),
        )
        first = journeys[0].arrival if arrive_by else journeys[0].departure
        body = {
            "journeys": [demand.to_geojson(j) if demand else j.to_geojson() for j in journeys],
            "other_day": first.date() != when.date(),
            "network_version": snap.version,
        }
    return body, (time.perf_counter() - start) * 1000


def _options(
    *,
    wheelchair: bool,
    walk_to_pt: int | None,
    walk_transfer: int | None,
    walking_speed: float | None,
    max_nb_transfers: int | None,
    min_change: int | None,
    max_duration: int | None,
    first: Sequence[str] | None,
    last: Sequence[str] | None,
    forbidden: list[str],
    allowed: list[str] | None,
    school: bool,
) -> PlanOptions:
    """The planner options a query's parameters ask for (defaults where none is given)."""
    values: dict[str, Any] = {"wheelchair": wheelchair, "school": school}
    if walk_to_pt is not None:
        values["max_walk_access_s"] = values["max_walk_egress_s"] = walk_to_pt
    if walk_transfer is not None:
        values["max_walk_transfer_s"] = walk_transfer
    if walking_speed is not None:
        values["walk_speed_mps"] = walking_speed
    if max_nb_transfers is not None:
        values["max_transfers"] = max_nb_transfers
    if min_change is not None:
        values["min_change_s"] = min_change
    if max_duration is not None:
        values["max_duration_s"] = max_duration
    for name, modes in (("access_mode", first), ("egress_mode", last)):
        if modes:
            if len(set(modes)) > 1:
                raise HttpProblem("invalid-parameter", f"{name}: give one mode, got {modes}")
            values[name] = modes[0]
    for field, names in _uri_fields(forbidden, "forbidden_uris[]").items():
        values[f"exclude_{field}"] = names
    if allowed is not None:
        for field, names in _uri_fields(allowed, "allowed_id[]").items():
            values[field] = names
    try:
        return PlanOptions(**values)
    except InputError as exc:
        raise HttpProblem("invalid-parameter", str(exc)) from None


def _uri_fields(uris: list[str], param: str) -> dict[str, tuple[Any, ...]]:
    """``kind:value`` entries grouped by the PlanOptions field they fill."""
    out: dict[str, list[Any]] = {}
    for uri in uris:
        kind, sep, value = uri.partition(":")
        field = _URI_KINDS.get(kind)
        if not sep or field is None or not value:
            raise HttpProblem(
                "invalid-parameter",
                f"{param} {uri!r} is not one of {', '.join(sorted(_URI_KINDS))} followed by "
                "':' and a value",
            )
        if field == "route_types":
            try:
                out.setdefault(field, []).append(int(value))
            except ValueError:
                raise HttpProblem(
                    "invalid-parameter", f"{param} {uri!r}: route_type is not a number"
                ) from None
        else:
            out.setdefault(field, []).append(value.lower() if field == "modes" else value)
    return {k: tuple(v) for k, v in out.items()}


# ------------------------------------------------------------------ booking a journey


class JourneyBookingIn(BaseModel):
    """A journey's ``booking_ref`` (as ``GET /v1/journeys`` gave it) and who rides."""

    booking_ref: str = Field(min_length=1, max_length=MAX_REFERENCE_CHARS)
    rider: str = Field("", max_length=200)


class LegBookingOut(BaseModel):
    """One on-demand leg booked: the confirmed booking and its promises (ISO 8601)."""

    leg: int = Field(description="index of the leg in the journey as planned")
    booking_id: str
    vehicle_id: str
    pickup_point: str
    dropoff_point: str
    pickup_window: tuple[str, str]
    latest_dropoff: str
    planned_pickup: str
    planned_dropoff: str


class JourneyBookingOut(BaseModel):
    """Every live on-demand leg of the journey, booked."""

    bookings: list[LegBookingOut]


@router.post(
    "/journeys/bookings",
    response_model=JourneyBookingOut,
    status_code=201,
    responses={
        200: {"model": JourneyBookingOut, "description": "Booked before: the same bookings"},
        **problem_responses(*COMMON_ERRORS, 401, 403, 404, 409),
    },
    dependencies=[Writer],
)
async def post_journey_booking(ctx: Context, request: JourneyBookingIn) -> Any:
    """Book every live on-demand leg of a planned journey in one call, with the times it showed;
    409 ``offer-expired`` when the plans moved since (nothing stays booked: plan again). A
    reference books once: sent again, it answers 200 with the bookings it made.
    """
    desk = ctx.ondemand
    if desk is None:
        raise HttpProblem("not-found", "this service runs no on-demand transport")
    assert ctx.settings.token is not None  # Writer refused the request otherwise
    try:
        legs, journey = read_booking_reference(
            request.booking_ref, reference_key(ctx.settings.token)
        )
    except InputError as exc:
        raise HttpProblem("invalid-parameter", f"booking_ref: {exc}") from None

    ledger = ctx.need_ledger()
    key = ledger.key(request.booking_ref)

    def book() -> tuple[int, dict[str, Any]]:
        from arverne.fleet.ondemand_feeder import book_journey

        claim = ledger.claim(key)
        if claim == "pending":
            raise HttpProblem("conflict", "this journey is being booked by another request")
        if isinstance(claim, dict):
            return 200, claim  # booked before: the same bookings, nothing booked again
        try:
            with desk.lock:
                feeder = desk.feeder()
                booked = book_journey(journey, [feeder], rider=request.rider)
        except BaseException:
            ledger.release(key)
            raise
        answer = {"bookings": _booked_legs(journey, legs, feeder.day, booked.bookings)}
        ledger.done(key, answer)
        return 201, answer

    try:
        status, answer = await run_in_threadpool(book)
    except OfferExpiredError as exc:
        raise HttpProblem("offer-expired", str(exc)) from None
    except StoreError as exc:
        raise HttpProblem("unavailable", f"the bookings store failed: {exc}"[:300]) from None
    except ProblemError as exc:
        raise HttpProblem("invalid-parameter", str(exc)) from None
    return json_response(answer, status_code=status)


def _booked_legs(
    journey: Journey, legs: list[int], day: dt.date, bookings: list[tuple[int, Offer]]
) -> list[dict[str, Any]]:
    """The booked legs as the API shows them (times in the zone the journey showed)."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=journey.legs[0].start.tzinfo)

    def iso(seconds: float) -> str:
        return (midnight + dt.timedelta(seconds=seconds)).isoformat()

    return [
        {
            "leg": legs[i],
            "booking_id": offer.booking_id,
            "vehicle_id": offer.vehicle_id,
            "pickup_point": offer.pickup_point,
            "dropoff_point": offer.dropoff_point,
            "pickup_window": [iso(t) for t in offer.pickup_window_s],
            "latest_dropoff": iso(offer.latest_dropoff_s),
            "planned_pickup": iso(offer.planned_pickup_s),
            "planned_dropoff": iso(offer.planned_dropoff_s),
        }
        for i, offer in bookings
    ]
