"""The on-demand service on each store backend: bookings, cancellations and re-optimisation are
stored with their plans, and a restart rebuilds the same plans (SQLite and PostgreSQL)."""

from __future__ import annotations

import random

from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_model import Offer, TripRequest
from tests.fleet.darp_check import check_service, check_stored
from tests.store._kill_child import KILL_PARAMS, kill_area, kill_fleet
from tests.store.backends import StoreLocation

H = 3600.0


def test_service_roundtrip(store_location: StoreLocation) -> None:
    """Book 60 trips, cancel some, re-optimise, move the clock; the store then holds exactly the
    confirmed bookings with their plans, and a new service opened on it rebuilds identical plans
    that keep every promise."""
    area = kill_area()
    rng = random.Random(1)
    with store_location.open() as store:
        svc = OnDemandService(area, store, kill_fleet(), params=KILL_PARAMS)
        offers = []
        for k in range(60):
            now = 6 * H + 120 * k
            a, b = rng.sample(area.point_id, 2)
            ans = svc.book(
                TripRequest(a, b, earliest_pickup_s=now + rng.uniform(0, 3 * H)), now_s=now
            )
            if isinstance(ans, Offer):
                offers.append(ans)
            if k % 15 == 14:
                svc.cancel(offers[-2].booking_id, now_s=now)
        svc.reoptimise(now_s=8 * H, max_runtime=0.3)
        svc.advance(8.5 * H)
        svc.book(TripRequest("s1", "s2", earliest_pickup_s=9 * H), now_s=8.5 * H)
        plans = {v.vehicle_id: svc.plan(v.vehicle_id) for v in svc.vehicles}
        confirmed = set(svc.bookings())
        assert check_service(svc) == []
        state = store.load()
        assert {b.booking_id for b in state.bookings if b.status == "confirmed"} == confirmed
        assert check_stored(state, area) == []
    with store_location.open() as store:
        again = OnDemandService(area, store, params=KILL_PARAMS)
        again.advance(8.5 * H)
        assert set(again.bookings()) == confirmed
        for vid, stops in plans.items():
            got = again.plan(vid)
            assert [(s.kind, s.booking_id, s.point) for s in got] == [
                (s.kind, s.booking_id, s.point) for s in stops
            ]
            for x, y in zip(got, stops, strict=True):
                if x.kind in ("pickup", "dropoff"):
                    assert abs(x.planned_s - y.planned_s) < 1e-6
        assert check_service(again) == []


def test_two_services_share_one_store(store_location: StoreLocation) -> None:
    """Two services (two workers) open on one store: each sees the other's bookings before it
    plans, a booking never overwrites the other's plan rows, and one cancels the other's
    booking."""
    area = kill_area()
    with store_location.open() as store_a, store_location.open() as store_b:
        one = OnDemandService(area, store_a, kill_fleet()[:1], params=KILL_PARAMS)
        two = OnDemandService(area, store_b, params=KILL_PARAMS)
        first = one.book(TripRequest("s1", "s2", earliest_pickup_s=8 * H), now_s=5 * H)
        second = two.book(TripRequest("s3", "s4", earliest_pickup_s=8 * H), now_s=5 * H)
        assert isinstance(first, Offer) and isinstance(second, Offer)
        assert set(one.bookings()) == set(two.bookings()) == {first.booking_id, second.booking_id}
        assert check_stored(store_a.load(), area) == []
        one.cancel(second.booking_id, now_s=5 * H)
        assert set(two.bookings()) == {first.booking_id}
        assert [s.booking_id for s in two.plan("v0")] == [s.booking_id for s in one.plan("v0")]
        assert check_service(one) == [] and check_service(two) == []


def test_frozen_stops_stay_frozen_after_restart(store_location: StoreLocation) -> None:
    """A stop frozen by the clock is stored frozen; a service reopened on the store keeps it
    frozen (nothing may be inserted before it) without being told the time again."""
    area = kill_area()
    with store_location.open() as store:
        svc = OnDemandService(area, store, kill_fleet()[:1], params=KILL_PARAMS)
        offer = svc.book(TripRequest("s1", "s2", earliest_pickup_s=7 * H), now_s=6 * H)
        assert isinstance(offer, Offer)
        svc.book(TripRequest("s3", "s4", earliest_pickup_s=9 * H), now_s=7 * H)
        frozen = [s.booking_id for s in svc.plan("v0") if s.frozen]
        assert frozen and frozen[0] == offer.booking_id
    with store_location.open() as store:
        again = OnDemandService(area, store, params=KILL_PARAMS)
        assert [s.booking_id for s in again.plan("v0") if s.frozen] == frozen
