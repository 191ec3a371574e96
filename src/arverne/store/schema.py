"""The bookings store's schema and row types, shared by the SQLite and PostgreSQL backends.

One schema, written in the SQL both engines accept (``TEXT``, ``INTEGER``, ``DOUBLE PRECISION``,
``CHECK``, ``REFERENCES``); the backends differ only in how they connect and in the parameter
placeholder.

Tables
------
``meta(key, value)``: schema version and service settings worth keeping.
``vehicles``: the fleet (seats, wheelchair places, depot, shift) and each plan's version
(``plan_version``, raised by every write of that vehicle's plan: a writer that planned against
an older version is refused and plans again, see :meth:`arverne.store.BookingStore.commit`).
``bookings``: every confirmed or cancelled booking with the promise made to the rider.
``plan_events``: each vehicle's ordered pickups and drop-offs (depots are implied by the
vehicle); a confirmed booking has exactly two rows here, a cancelled one none. Every change of
a booking is written in the same transaction as the plan rows it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 2

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # version 1 -> 2: plan versions, so that several processes can share one store
    1: ("ALTER TABLE vehicles ADD COLUMN plan_version INTEGER NOT NULL DEFAULT 0",),
}
"""The statements that bring a store from a version (the key) to the next one."""

TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS vehicles (
        vehicle_id TEXT PRIMARY KEY,
        seats INTEGER NOT NULL CHECK (seats >= 0),
        wheelchairs INTEGER NOT NULL CHECK (wheelchairs >= 0),
        depot_point TEXT NOT NULL,
        shift_start_s DOUBLE PRECISION NOT NULL,
        shift_end_s DOUBLE PRECISION NOT NULL CHECK (shift_end_s >= shift_start_s),
        plan_version INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS bookings (
        booking_id TEXT PRIMARY KEY,
        rider TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
        vehicle_id TEXT NOT NULL REFERENCES vehicles (vehicle_id),
        pickup_point TEXT NOT NULL,
        dropoff_point TEXT NOT NULL,
        passengers INTEGER NOT NULL CHECK (passengers >= 0),
        wheelchairs INTEGER NOT NULL CHECK (wheelchairs >= 0),
        requested_s DOUBLE PRECISION NOT NULL,
        earliest_pickup_s DOUBLE PRECISION,
        latest_arrival_s DOUBLE PRECISION,
        pickup_lo_s DOUBLE PRECISION NOT NULL,
        pickup_hi_s DOUBLE PRECISION NOT NULL CHECK (pickup_hi_s >= pickup_lo_s),
        latest_dropoff_s DOUBLE PRECISION NOT NULL,
        direct_s DOUBLE PRECISION NOT NULL,
        max_ride_s DOUBLE PRECISION NOT NULL,
        pickup_service_s DOUBLE PRECISION NOT NULL,
        dropoff_service_s DOUBLE PRECISION NOT NULL,
        cancelled_s DOUBLE PRECISION
    )""",
    """CREATE TABLE IF NOT EXISTS plan_events (
        vehicle_id TEXT NOT NULL REFERENCES vehicles (vehicle_id),
        seq INTEGER NOT NULL,
        booking_id TEXT NOT NULL REFERENCES bookings (booking_id),
        kind TEXT NOT NULL CHECK (kind IN ('pickup', 'dropoff')),
        point TEXT NOT NULL,
        tw_lo_s DOUBLE PRECISION NOT NULL,
        tw_hi_s DOUBLE PRECISION NOT NULL,
        planned_s DOUBLE PRECISION NOT NULL,
        frozen INTEGER NOT NULL CHECK (frozen IN (0, 1)),
        PRIMARY KEY (vehicle_id, seq),
        UNIQUE (booking_id, kind)
    )""",
)


@dataclass(frozen=True)
class VehicleRow:
    """One vehicle of the fleet."""

    vehicle_id: str
    seats: int
    wheelchairs: int
    depot_point: str
    shift_start_s: float
    shift_end_s: float


@dataclass(frozen=True)
class BookingRow:
    """A booking and the promise made: pickup in [pickup_lo_s, pickup_hi_s], drop-off by
    ``latest_dropoff_s``, ride at most ``max_ride_s`` (seconds since midnight of the service day).
    """

    booking_id: str
    rider: str
    status: str
    vehicle_id: str
    pickup_point: str
    dropoff_point: str
    passengers: int
    wheelchairs: int
    requested_s: float
    earliest_pickup_s: float | None
    latest_arrival_s: float | None
    pickup_lo_s: float
    pickup_hi_s: float
    latest_dropoff_s: float
    direct_s: float
    max_ride_s: float
    pickup_service_s: float
    dropoff_service_s: float
    cancelled_s: float | None = None


@dataclass(frozen=True)
class PlanRow:
    """One stop of a vehicle's plan (``seq`` 0, 1, ... in driving order)."""

    vehicle_id: str
    seq: int
    booking_id: str
    kind: str
    point: str
    tw_lo_s: float
    tw_hi_s: float
    planned_s: float
    frozen: int = 0
    """1 when the vehicle has left for this stop (it can no longer move)."""


@dataclass(frozen=True)
class StoredState:
    """Everything the service needs to rebuild its plans after a restart."""

    vehicles: list[VehicleRow]
    bookings: list[BookingRow]
    plan: list[PlanRow]
    """Plan rows sorted by vehicle then ``seq``."""
    meta: dict[str, str]
    versions: dict[str, int] = field(default_factory=dict)
    """Plan version of each vehicle read (see ``vehicles.plan_version``)."""
