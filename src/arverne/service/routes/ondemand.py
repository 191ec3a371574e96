"""On-demand transport: ``POST /v1/ondemand/requests`` (an offer or a refusal, at once),
``POST /v1/ondemand/bookings/{booking_id}/cancel`` and ``GET /v1/ondemand/vehicles/{vehicle_id}/plan``
(a driver's plan names riders and where they are picked up: it needs the token, as writes do).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from arverne.errors import ProblemError, StoreError
from arverne.service.context import Context, Writer
from arverne.service.geojson import json_response
from arverne.service.ondemand import OnDemandDesk, clock, parse_clock
from arverne.service.problems import COMMON_ERRORS, HttpProblem, problem_responses

router = APIRouter(prefix="/v1/ondemand", tags=["on-demand"])

PlaceIn = (
    Annotated[str, Field(min_length=1, max_length=200)]
    | Annotated[list[float], Field(min_length=2, max_length=2)]
)


class TripRequestIn(BaseModel):
    """A rider's request: a service point id or [lon, lat] at each end, and ONE time."""

    pickup: PlaceIn
    dropoff: PlaceIn
    earliest_pickup: str | None = Field(None, max_length=8, description="H:MM[:SS], local")
    latest_arrival: str | None = Field(None, max_length=8, description="H:MM[:SS], local")
    passengers: int = Field(1, ge=0, le=50)
    wheelchairs: int = Field(0, ge=0, le=10)
    rider: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _one_time(self) -> TripRequestIn:
        if (self.earliest_pickup is None) == (self.latest_arrival is None):
            raise ValueError("give exactly one of earliest_pickup and latest_arrival")
        return self


class OfferOut(BaseModel):
    """A confirmed booking and the promises made (times of the service day, local)."""

    status: Literal["offer"]
    booking_id: str
    vehicle_id: str
    pickup_point: str
    dropoff_point: str
    pickup_window: tuple[str | None, str | None]
    latest_dropoff: str | None
    max_ride_s: float
    planned_pickup: str | None
    planned_dropoff: str | None


class RefusalOut(BaseModel):
    """A request that cannot be served, with a stable reason."""

    status: Literal["refusal"]
    reason: str
    message: str


class CancelOut(BaseModel):
    """A cancelled booking."""

    booking_id: str
    status: Literal["cancelled"]


class PlanStopOut(BaseModel):
    """One stop of a vehicle's plan."""

    kind: str
    point: str
    booking_id: str | None
    planned: str | None
    window: tuple[str | None, str | None]
    seats_after: int
    wheelchairs_after: int
    frozen: bool


class PlanOut(BaseModel):
    """A vehicle's plan as it stands, depot to depot."""

    vehicle_id: str
    stops: list[PlanStopOut]


def _desk(ctx: Any) -> OnDemandDesk:
    desk: OnDemandDesk | None = ctx.ondemand
    if desk is None:
        raise HttpProblem("not-found", "this service runs no on-demand transport")
    return desk


def _place(place: str | list[float]) -> str | tuple[float, float]:
    return place if isinstance(place, str) else (place[0], place[1])


async def _call(desk: OnDemandDesk, fn: Any) -> Any:
    try:
        return await run_in_threadpool(desk.call, fn)
    except StoreError as exc:
        raise HttpProblem("unavailable", f"the bookings store failed: {exc}"[:300]) from None


@router.post(
    "/requests",
    response_model=OfferOut | RefusalOut,
    status_code=201,
    responses={
        200: {"model": RefusalOut, "description": "the request cannot be served"},
        **problem_responses(*COMMON_ERRORS, 401, 403, 404),
    },
    dependencies=[Writer],
)
async def post_request(ctx: Context, request: TripRequestIn) -> Any:
    """Book a ride at once: 201 with an offer (the booking is stored), or 200 with a refusal."""
    from arverne.fleet.ondemand_model import Offer, TripRequest

    desk = _desk(ctx)
    times = {}
    if request.earliest_pickup is not None:
        times["earliest_pickup_s"] = parse_clock(request.earliest_pickup, "earliest_pickup")
    if request.latest_arrival is not None:
        times["latest_arrival_s"] = parse_clock(request.latest_arrival, "latest_arrival")
    trip = TripRequest(
        pickup=_place(request.pickup),
        dropoff=_place(request.dropoff),
        passengers=request.passengers,
        wheelchairs=request.wheelchairs,
        rider=request.rider,
        **times,
    )
    answer = await _call(desk, lambda svc, now: svc.book(trip, now_s=now))
    if isinstance(answer, Offer):
        lo, hi = answer.pickup_window_s
        return json_response(
            {
                "status": "offer",
                "booking_id": answer.booking_id,
                "vehicle_id": answer.vehicle_id,
                "pickup_point": answer.pickup_point,
                "dropoff_point": answer.dropoff_point,
                "pickup_window": [clock(lo), clock(hi)],
                "latest_dropoff": clock(answer.latest_dropoff_s),
                "max_ride_s": round(answer.max_ride_s, 1),
                "planned_pickup": clock(answer.planned_pickup_s),
                "planned_dropoff": clock(answer.planned_dropoff_s),
            },
            status_code=201,
        )
    return json_response({"status": "refusal", "reason": answer.reason, "message": answer.message})


@router.post(
    "/bookings/{booking_id}/cancel",
    response_model=CancelOut,
    responses=problem_responses(*COMMON_ERRORS, 401, 403, 404, 409),
    dependencies=[Writer],
)
async def cancel_booking(
    ctx: Context, booking_id: Annotated[str, Path(max_length=100)]
) -> CancelOut:
    """Cancel a confirmed booking before its pickup (409 once the vehicle is on its way)."""
    desk = _desk(ctx)

    def cancel(svc: Any, now: float) -> None:
        if booking_id not in svc.bookings():
            raise HttpProblem("not-found", "no confirmed booking has this id")
        try:
            svc.cancel(booking_id, now_s=now)
        except ProblemError as exc:
            raise HttpProblem("conflict", str(exc)) from None

    await _call(desk, cancel)
    return CancelOut(booking_id=booking_id, status="cancelled")


@router.get(
    "/vehicles/{vehicle_id}/plan",
    response_model=PlanOut,
    responses=problem_responses(*COMMON_ERRORS, 401, 403, 404),
    dependencies=[Writer],  # riders' names and addresses: for the drivers and the operator
)
async def vehicle_plan(ctx: Context, vehicle_id: Annotated[str, Path(max_length=100)]) -> PlanOut:
    """A vehicle's plan as it stands: its stops, planned times, promised windows and loads
    (private: needs the bearer token).
    """
    desk = _desk(ctx)

    def plan(svc: Any, now: float) -> Any:
        if vehicle_id not in {v.vehicle_id for v in svc.vehicles}:
            raise HttpProblem("not-found", "no vehicle has this id")
        return svc.plan(vehicle_id)

    stops = await _call(desk, plan)
    return PlanOut(
        vehicle_id=vehicle_id,
        stops=[
            PlanStopOut(
                kind=s.kind,
                point=s.point,
                booking_id=s.booking_id,
                planned=clock(s.planned_s),
                window=(clock(s.tw_lo_s), clock(s.tw_hi_s)),
                seats_after=s.seats_after,
                wheelchairs_after=s.wheelchairs_after,
                frozen=s.frozen,
            )
            for s in stops
        ],
    )
