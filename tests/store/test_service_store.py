"""The on-demand service on each store backend: bookings, cancellations and re-optimisation are
stored with their plans, and a restart rebuilds the same plans (SQLite and PostgreSQL)."""

from __future__ import annotations

import random

from arverne.fleet.ondemand import Offer, OnDemandService, TripRequest
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
