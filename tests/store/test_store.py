"""The bookings store, the same tests on SQLite and PostgreSQL (see tests/store/backends.py)."""

from __future__ import annotations

import dataclasses

import pytest

from arverne.errors import StoreError
from arverne.store import BookingRow, PlanRow, VehicleRow
from arverne.store.schema import SCHEMA_VERSION
from tests.store.backends import StoreLocation

VEHICLES = [
    VehicleRow("v1", 8, 1, "depot", 21600.0, 75600.0),
    VehicleRow("v2", 4, 0, "depot", 25200.0, 64800.0),
]


def booking(bid: str, vehicle: str = "v1", status: str = "confirmed") -> BookingRow:
    return BookingRow(
        booking_id=bid, rider="r", status=status, vehicle_id=vehicle, pickup_point="a",
        dropoff_point="b", passengers=1, wheelchairs=0, requested_s=20000.0,
        earliest_pickup_s=30000.0, latest_arrival_s=None, pickup_lo_s=30000.0,
        pickup_hi_s=30600.0, latest_dropoff_s=32000.0, direct_s=600.0, max_ride_s=1500.0,
        pickup_service_s=60.0, dropoff_service_s=60.0,
    )  # fmt: skip


def plan(bid: str, vehicle: str = "v1", seq0: int = 0) -> list[PlanRow]:
    return [
        PlanRow(vehicle, seq0, bid, "pickup", "a", 30000.0, 30600.0, 30100.0),
        PlanRow(vehicle, seq0 + 1, bid, "dropoff", "b", -1e9, 32000.0, 30760.0),
    ]


def test_roundtrip(store_location: StoreLocation) -> None:
    """Vehicles, a booking and its plan are read back exactly as written, with the schema version."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        store.commit(bookings=[booking("b1")], plans={"v1": plan("b1")})
        state = store.load()
    assert state.vehicles == VEHICLES
    assert state.bookings == [booking("b1")]
    assert state.plan == plan("b1")
    assert state.meta["schema_version"] == str(SCHEMA_VERSION)


def test_reopen_keeps_everything(store_location: StoreLocation) -> None:
    """Closing and reopening the store (a restart) shows the same committed rows."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        store.commit(
            bookings=[booking("b1"), booking("b2", "v2")],
            plans={"v1": plan("b1"), "v2": plan("b2", "v2")},
        )
        before = store.load()
    with store_location.open() as store:
        assert store.load() == before


def test_failed_commit_writes_nothing(store_location: StoreLocation) -> None:
    """A commit whose plan names an unknown booking fails as a whole: its booking is not stored."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        bad = [*plan("b1"), PlanRow("v1", 2, "ghost", "pickup", "a", 0.0, 1.0, 0.5)]
        with pytest.raises(StoreError):
            store.commit(bookings=[booking("b1")], plans={"v1": bad})
        state = store.load()
        assert state.bookings == [] and state.plan == []
        # the store is still usable afterwards
        store.commit(bookings=[booking("b1")], plans={"v1": plan("b1")})
        assert len(store.load().plan) == 2


def test_duplicate_stop_refused(store_location: StoreLocation) -> None:
    """The same pickup planned twice (on two vehicles) is refused by the schema; nothing changes."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        store.commit(bookings=[booking("b1")], plans={"v1": plan("b1")})
        with pytest.raises(StoreError):
            store.commit(plans={"v2": plan("b1", "v2")})
        assert store.load().plan == plan("b1")


def test_plan_replaced_per_vehicle(store_location: StoreLocation) -> None:
    """Committing a vehicle's plan replaces that vehicle's rows only; moving a booking between
    vehicles in one commit works."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        store.commit(
            bookings=[booking("b1"), booking("b2", "v2")],
            plans={"v1": plan("b1"), "v2": plan("b2", "v2")},
        )
        moved = dataclasses.replace(booking("b1"), vehicle_id="v2")
        store.commit(
            bookings=[moved], plans={"v1": [], "v2": [*plan("b2", "v2"), *plan("b1", "v2", 2)]}
        )
        state = store.load()
    assert [(r.vehicle_id, r.seq, r.booking_id) for r in state.plan] == [
        ("v2", 0, "b2"), ("v2", 1, "b2"), ("v2", 2, "b1"), ("v2", 3, "b1"),
    ]  # fmt: skip
    assert {b.booking_id: b.vehicle_id for b in state.bookings} == {"b1": "v2", "b2": "v2"}


def test_cancel_updates_status(store_location: StoreLocation) -> None:
    """A cancellation rewrites the booking row (upsert) and removes its stops in one commit."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        store.commit(bookings=[booking("b1")], plans={"v1": plan("b1")})
        cancelled = dataclasses.replace(booking("b1"), status="cancelled", cancelled_s=25000.0)
        store.commit(bookings=[cancelled], plans={"v1": []})
        state = store.load()
    assert state.bookings == [cancelled] and state.plan == []


def test_bad_status_refused(store_location: StoreLocation) -> None:
    """A status outside confirmed/cancelled is refused by the schema's CHECK."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        with pytest.raises(StoreError):
            store.commit(bookings=[booking("b1", status="maybe")])
        assert store.load().bookings == []


def test_closed_store_errors(store_location: StoreLocation) -> None:
    """Using a closed store raises StoreError, not a driver exception."""
    store = store_location.open()
    store.close()
    with pytest.raises(StoreError):
        store.load()


def test_sqlite_unopenable_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A SQLite path in a missing folder gives a StoreError naming the path."""
    from arverne.store import open_store

    with pytest.raises(StoreError, match="nope"):
        open_store(tmp_path / "nope" / "x.sqlite")


def test_stale_plan_version_refused(store_location: StoreLocation) -> None:
    """A commit planned against a plan version that another writer has since raised is refused
    as a whole (StalePlanError, nothing of it stored); at the current version it is stored and
    the version goes up by one."""
    from arverne.store import StalePlanError

    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        assert store.versions() == {"v1": 0, "v2": 0}
        assert store.commit(
            bookings=[booking("b1")], plans={"v1": plan("b1")}, expect_versions={"v1": 0}
        ) == {"v1": 1}
        with pytest.raises(StalePlanError):
            store.commit(
                bookings=[booking("b2")], plans={"v1": plan("b2")}, expect_versions={"v1": 0}
            )
        state = store.load()
        assert [b.booking_id for b in state.bookings] == ["b1"]
        assert state.plan == plan("b1")
        assert state.versions == {"v1": 1, "v2": 0}


def test_load_of_some_vehicles(store_location: StoreLocation) -> None:
    """Loading named vehicles reads their plans, their confirmed bookings and their versions
    only (what a process refreshes after another changed those plans)."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        store.commit(
            bookings=[booking("b1"), booking("b2", "v2")],
            plans={"v1": plan("b1"), "v2": plan("b2", "v2")},
        )
        state = store.load(["v2"])
    assert [v.vehicle_id for v in state.vehicles] == ["v2"]
    assert [b.booking_id for b in state.bookings] == ["b2"]
    assert state.plan == plan("b2", "v2")
    assert state.versions == {"v2": 1}


def _set_schema_version(store, version: int) -> None:  # type: ignore[no-untyped-def]
    with store._transaction() as cur:
        cur.execute(
            f"UPDATE meta SET value = {store.placeholder} WHERE key = 'schema_version'",
            (str(version),),
        )


def test_version_1_store_is_migrated(store_location: StoreLocation) -> None:
    """A store written by schema version 1 (no plan versions) opens: it gains the plan_version
    column at 0 and keeps every row."""
    with store_location.open() as store:
        store.put_vehicles(VEHICLES)
        store.commit(bookings=[booking("b1")], plans={"v1": plan("b1")})
        with store._transaction() as cur:
            cur.execute("ALTER TABLE vehicles DROP COLUMN plan_version")
        _set_schema_version(store, 1)
    with store_location.open() as store:
        state = store.load()
    assert state.meta["schema_version"] == str(SCHEMA_VERSION)
    assert state.versions == {"v1": 0, "v2": 0}
    assert state.plan == plan("b1") and state.vehicles == VEHICLES


def test_newer_store_refused(store_location: StoreLocation) -> None:
    """A store written by a newer Arverne (a schema version above ours) is refused with a
    StoreError naming the version, not misread."""
    with store_location.open() as store:
        _set_schema_version(store, SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match=f"schema_version {SCHEMA_VERSION + 1}"):
        store_location.open()
