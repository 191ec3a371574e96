"""The live on-demand service: offers keep every promise through bookings, cancellations and
re-optimisation; refusals carry their reason; bad input gives a clear error."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.errors import ProblemError, StoreError
from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_model import Offer, Refusal, ServiceParams, Shuttle, TripRequest
from arverne.fleet.service_area import ServiceArea, straight_line_area
from arverne.store import open_store
from tests.fleet.darp_check import check_service, check_stored

H = 3600.0


def area(n: int = 30, seed: int = 1) -> ServiceArea:
    """Random points over ~12 km x 11 km near Clermont-Ferrand, straight-line times."""
    rng = np.random.default_rng(seed)
    lon = 3.0 + rng.random(n) * 0.15
    lat = 45.7 + rng.random(n) * 0.1
    return straight_line_area([f"p{i}" for i in range(n)], lon, lat)


def fleet(k: int = 4, seats: int = 6, wheelchairs: int = 1) -> list[Shuttle]:
    return [Shuttle(f"v{i}", seats, wheelchairs, "p0", 6 * H, 21 * H) for i in range(k)]


def service(
    tmp_path: Path, vehicles: list[Shuttle] | None = None, **params: float
) -> OnDemandService:
    return OnDemandService.open(
        area(),
        tmp_path / "b.sqlite",
        vehicles or fleet(),
        params=ServiceParams(**params),  # type: ignore[arg-type]
    )


def test_random_day_keeps_every_promise(tmp_path: Path) -> None:
    """A day of 160 random requests (earliest pickup or latest arrival, wheelchairs), the clock
    advancing, random cancellations and three re-optimisations: after every phase the checker
    finds every promise kept, and no booking's promise ever changes."""
    svc = service(tmp_path)
    rng = random.Random(5)
    promised: dict[str, tuple[float, float, float, float]] = {}
    reasons: set[str] = set()
    for k in range(160):
        now = 6 * H + k * 300.0
        a, b = rng.sample(svc.area.point_id, 2)
        t = now + rng.uniform(0, 2 * H)
        if rng.random() < 0.7:
            req = TripRequest(a, b, earliest_pickup_s=t, passengers=rng.randint(1, 3))
        else:
            req = TripRequest(
                a, b, latest_arrival_s=t + H, passengers=rng.randint(0, 1), wheelchairs=1
            )
        ans = svc.book(req, now_s=now)
        if isinstance(ans, Offer):
            lo, hi = ans.pickup_window_s
            assert lo <= ans.planned_pickup_s <= hi
            assert ans.planned_dropoff_s <= ans.latest_dropoff_s
            assert hi - lo <= svc.params.window_s + 1e-9
            if req.earliest_pickup_s is not None:
                assert lo >= req.earliest_pickup_s - 1e-9
                assert hi <= req.earliest_pickup_s + svc.params.max_wait_s + 1e-9
            else:
                assert req.latest_arrival_s is not None
                assert ans.latest_dropoff_s <= req.latest_arrival_s + 1e-9
            assert ans.max_ride_s == pytest.approx(
                svc.params.ride_factor * ans.direct_s + svc.params.ride_constant_s
            )
            promised[ans.booking_id] = (lo, hi, ans.latest_dropoff_s, ans.max_ride_s)
        else:
            reasons.add(ans.reason)
        if k % 10 == 9 and svc.bookings():
            bid = rng.choice(sorted(svc.bookings()))
            try:
                svc.cancel(bid, now_s=now)
                promised.pop(bid)
            except ProblemError as exc:
                assert "already being served" in str(exc)
        if k % 50 == 49:
            before = svc.total_travel_s()
            rep = svc.reoptimise(now_s=now, max_runtime=0.3, seed=k)
            assert rep.travel_after_s <= before + 1e-6
            assert svc.total_travel_s() == pytest.approx(rep.travel_after_s)
        if k % 20 == 19:
            assert check_service(svc) == []
    assert len(promised) > 30
    assert reasons <= {"capacity", "no_vehicle_in_time", "too_late", "outside_hours"}
    for bid, row in svc.bookings().items():
        assert (row.pickup_lo_s, row.pickup_hi_s, row.latest_dropoff_s, row.max_ride_s) == promised[
            bid
        ]
    assert check_service(svc) == []
    assert check_stored(svc.store.load(), svc.area) == []
    svc.close()


def test_cancel_leaves_other_promises(tmp_path: Path) -> None:
    """Cancelling one booking removes its two stops; the other bookings keep their promises and
    nobody is planned later than before."""
    svc = service(tmp_path)
    offers = []
    for k in range(12):
        ans = svc.book(
            TripRequest(f"p{1 + k}", f"p{15 + k}", earliest_pickup_s=8 * H + 600 * k), now_s=6 * H
        )
        assert isinstance(ans, Offer)
        offers.append(ans)
    before = {
        s.booking_id: s.planned_s
        for v in svc.vehicles
        for s in svc.plan(v.vehicle_id)
        if s.booking_id
    }
    svc.cancel(offers[3].booking_id, now_s=6 * H)
    after = {
        s.booking_id: s.planned_s
        for v in svc.vehicles
        for s in svc.plan(v.vehicle_id)
        if s.booking_id
    }
    assert offers[3].booking_id not in after
    assert all(after[b] <= before[b] + 1e-9 for b in after)
    assert check_service(svc) == []
    state = svc.store.load()
    assert {b.booking_id: b.status for b in state.bookings}[offers[3].booking_id] == "cancelled"
    with pytest.raises(ProblemError):
        svc.cancel(offers[3].booking_id, now_s=6 * H)


def test_frozen_booking_cannot_be_cancelled_or_moved(tmp_path: Path) -> None:
    """Once the vehicle has left for a pickup, the booking cannot be cancelled, and a
    re-optimisation leaves its stops where they are."""
    svc = service(tmp_path)
    ans = svc.book(TripRequest("p3", "p9", earliest_pickup_s=7 * H), now_s=6 * H)
    assert isinstance(ans, Offer)
    for k in range(8):
        svc.book(
            TripRequest(f"p{10 + k}", f"p{20 + k}", earliest_pickup_s=8 * H + 300 * k), now_s=6 * H
        )
    with pytest.raises(ProblemError, match="already being served"):
        svc.cancel(ans.booking_id, now_s=ans.planned_pickup_s)
    stops = [s for s in svc.plan(ans.vehicle_id) if s.booking_id == ans.booking_id]
    assert stops[0].frozen and stops[0].tw_lo_s == stops[0].tw_hi_s == stops[0].planned_s
    svc.reoptimise(now_s=ans.planned_pickup_s, max_runtime=0.2)
    again = [s for s in svc.plan(ans.vehicle_id) if s.booking_id == ans.booking_id]
    assert again[0] == stops[0]
    assert check_service(svc) == []


def test_reopen_rebuilds_same_plans(tmp_path: Path) -> None:
    """Closing and reopening the service rebuilds exactly the same plans from the store."""
    svc = service(tmp_path)
    rng = random.Random(3)
    for _ in range(40):
        a, b = rng.sample(svc.area.point_id, 2)
        svc.book(TripRequest(a, b, earliest_pickup_s=rng.uniform(7 * H, 12 * H)), now_s=6 * H)
    svc.reoptimise(now_s=6 * H, max_runtime=0.2)
    plans = {v.vehicle_id: svc.plan(v.vehicle_id) for v in svc.vehicles}
    svc.close()
    again = OnDemandService.open(area(), tmp_path / "b.sqlite")
    assert {v.vehicle_id: again.plan(v.vehicle_id) for v in again.vehicles} == plans
    assert check_service(again) == []


def test_quote_books_nothing(tmp_path: Path) -> None:
    """A quote gives the same offer as a booking would, but stores and plans nothing."""
    svc = service(tmp_path)
    req = TripRequest("p1", "p2", earliest_pickup_s=9 * H)
    q = svc.quote(req, now_s=6 * H)
    assert isinstance(q, Offer)
    assert svc.bookings() == {} and svc.store.load().bookings == []
    b = svc.book(req, now_s=6 * H)
    assert isinstance(b, Offer)
    assert (q.pickup_window_s, q.planned_dropoff_s, q.vehicle_id) == (
        b.pickup_window_s,
        b.planned_dropoff_s,
        b.vehicle_id,
    )


def test_store_failure_promises_nothing(tmp_path: Path) -> None:
    """When the store cannot commit, book raises StoreError and the plans stay as they were
    (seen through the store reopened, since the views read what other processes changed)."""
    svc = service(tmp_path)
    svc.book(TripRequest("p1", "p2", earliest_pickup_s=9 * H), now_s=6 * H)
    plans = {v.vehicle_id: svc.plan(v.vehicle_id) for v in svc.vehicles}
    svc.store.close()
    with pytest.raises(StoreError):
        svc.book(TripRequest("p3", "p4", earliest_pickup_s=9 * H), now_s=6 * H)
    svc.store = open_store(tmp_path / "b.sqlite")
    assert {v.vehicle_id: svc.plan(v.vehicle_id) for v in svc.vehicles} == plans
    assert len(svc.bookings()) == 1


def test_refusal_reasons(tmp_path: Path) -> None:
    """Each refusal carries its reason: outside the zone, outside hours, too late, same place,
    too many riders for any vehicle, vehicles full, no vehicle in time."""
    svc = service(tmp_path, max_wait_s=120.0)
    t = 9 * H
    far = (2.0, 44.0)
    assert (
        _reason(svc.book(TripRequest(far, "p1", earliest_pickup_s=t), now_s=6 * H))
        == "outside_zone"
    )
    assert (
        _reason(svc.book(TripRequest("p1", far, earliest_pickup_s=t), now_s=6 * H))
        == "outside_zone"
    )
    assert (
        _reason(svc.book(TripRequest("p1", "p2", earliest_pickup_s=4 * H), now_s=3 * H))
        == "outside_hours"
    )
    assert (
        _reason(svc.book(TripRequest("p1", "p2", latest_arrival_s=23 * H), now_s=6 * H))
        == "outside_hours"
    )
    assert (
        _reason(svc.book(TripRequest("p1", "p2", earliest_pickup_s=7 * H), now_s=10 * H))
        == "too_late"
    )
    assert (
        _reason(svc.book(TripRequest("p1", "p1", earliest_pickup_s=t), now_s=6 * H)) == "same_place"
    )
    assert (
        _reason(svc.book(TripRequest("p1", "p2", earliest_pickup_s=t, passengers=7), now_s=6 * H))
        == "capacity"
    )
    assert (
        _reason(svc.book(TripRequest("p1", "p2", earliest_pickup_s=t, wheelchairs=2), now_s=6 * H))
        == "capacity"
    )
    # the depot p0 is far from p5: asking to leave p5 right now cannot be met within 2 minutes
    now = 10 * H
    assert svc.area.travel_s[0, 5] > 300
    assert (
        _reason(svc.book(TripRequest("p5", "p6", earliest_pickup_s=now), now_s=now))
        == "no_vehicle_in_time"
    )


def test_full_vehicle_refused_for_capacity(tmp_path: Path) -> None:
    """One vehicle with two seats: two riders fill it at 9:00; a third rider at the same place
    and time is refused for capacity (the vehicle could come, but it is full)."""
    svc = service(
        tmp_path,
        vehicles=[Shuttle("solo", 2, 0, "p0", 6 * H, 21 * H)],
        max_wait_s=120.0,
        window_s=120.0,
    )
    for _ in range(2):
        assert isinstance(
            svc.book(TripRequest("p1", "p2", earliest_pickup_s=9 * H), now_s=6 * H), Offer
        )
    assert (
        _reason(svc.book(TripRequest("p1", "p2", earliest_pickup_s=9 * H), now_s=6 * H))
        == "capacity"
    )
    assert check_service(svc) == []


def test_snapping_lonlat_to_service_points(tmp_path: Path) -> None:
    """A lon/lat a few metres from a service point is served from that point."""
    svc = service(tmp_path)
    lon, lat = float(svc.area.lon[4]) + 1e-5, float(svc.area.lat[4])
    ans = svc.book(TripRequest((lon, lat), "p7", earliest_pickup_s=9 * H), now_s=6 * H)
    assert isinstance(ans, Offer) and ans.pickup_point == "p4"


@pytest.mark.parametrize(
    ("request_kw", "match"),
    [
        ({"pickup": "nowhere"}, "not a service point"),
        ({"earliest_pickup_s": None}, "exactly one"),
        ({"latest_arrival_s": 10 * H}, "exactly one"),
        ({"passengers": -1}, "passengers"),
        ({"passengers": 0, "wheelchairs": 0}, "at least one"),
        ({"wheelchairs": 1.5}, "wheelchairs"),
        ({"earliest_pickup_s": float("nan")}, "finite"),
        ({"pickup": (200.0, 45.0)}, "WGS84"),
        ({"pickup": ("a", "b")}, "point id or"),
    ],
)
def test_bad_requests(tmp_path: Path, request_kw: dict, match: str) -> None:  # type: ignore[type-arg]
    """Malformed requests raise ProblemError with a sentence naming the field."""
    svc = service(tmp_path)
    kw = {"pickup": "p1", "dropoff": "p2", "earliest_pickup_s": 9 * H, **request_kw}
    with pytest.raises(ProblemError, match=match):
        svc.book(TripRequest(**kw), now_s=6 * H)


def test_bad_setup(tmp_path: Path) -> None:
    """Empty fleet, unknown depot, impossible shifts, bad parameters and bad matrices are refused
    with ProblemError; cancelling an unknown booking too."""
    with pytest.raises(ProblemError, match="empty fleet"):
        OnDemandService.open(area(), tmp_path / "e.sqlite", [])
    with pytest.raises(ProblemError, match="not a service point"):
        OnDemandService.open(
            area(), tmp_path / "d.sqlite", [Shuttle("v", 4, 0, "ghost", 6 * H, 20 * H)]
        )
    with pytest.raises(ProblemError, match="shift_end_s"):
        Shuttle("v", 4, 0, "p0", 20 * H, 6 * H)
    with pytest.raises(ProblemError, match="seats"):
        Shuttle("v", 0, 0, "p0", 6 * H, 20 * H)
    with pytest.raises(ProblemError, match="ride_factor"):
        ServiceParams(ride_factor=0.5)
    with pytest.raises(ProblemError, match="max_wait_s"):
        ServiceParams(max_wait_s=-1.0)
    with pytest.raises(ProblemError, match="travel_s"):
        ServiceArea.build(
            ["a", "b"], [3.0, 3.1], [45.0, 45.1], np.array([[0.0, np.inf], [1.0, 0.0]]), source="x"
        )
    with pytest.raises(ProblemError, match="unique"):
        ServiceArea.build(["a", "a"], [3.0, 3.1], [45.0, 45.1], np.zeros((2, 2)), source="x")
    svc = service(tmp_path)
    with pytest.raises(ProblemError, match="not a confirmed booking"):
        svc.cancel("nope", now_s=6 * H)
    with pytest.raises(ProblemError, match="unknown vehicle"):
        svc.plan("nope")


def test_area_closes_triangle() -> None:
    """A matrix where a detour is shorter than the direct time is closed on construction."""
    tt = np.array([[0.0, 100.0, 10.0], [100.0, 0.0, 10.0], [10.0, 10.0, 0.0]])
    a = ServiceArea.build(["a", "b", "c"], [3.0, 3.1, 3.2], [45.0, 45.0, 45.0], tt, source="test")
    assert a.travel_s[0, 1] == 20.0 and a.source == "test"


def test_params_are_frozen() -> None:
    """Service parameters are immutable."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        ServiceParams().window_s = 1.0  # type: ignore[misc]


def _reason(answer: Offer | Refusal) -> str:
    assert isinstance(answer, Refusal), answer
    assert answer.message
    return answer.reason


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_random_operations_keep_promises(seed: int) -> None:
    """Random small fleets (1-3 vehicles, 1-4 seats) under random bookings, cancellations,
    clock moves and re-optimisations: the independent checker finds every promise kept."""
    import tempfile

    rng = random.Random(seed)
    vehicles = [
        Shuttle(
            f"v{i}", rng.randint(1, 4), rng.randint(0, 1), f"p{rng.randint(0, 29)}", 6 * H, 21 * H
        )
        for i in range(rng.randint(1, 3))
    ]
    params = ServiceParams(
        max_wait_s=rng.choice([300.0, 1800.0]),
        window_s=rng.choice([0.0, 600.0]),
        ride_factor=rng.choice([1.0, 1.5]),
        ride_constant_s=rng.choice([0.0, 300.0]),
        max_events=40,
    )
    with tempfile.TemporaryDirectory() as tmp:
        svc = OnDemandService.open(
            area(seed=seed % 5), Path(tmp) / "b.sqlite", vehicles, params=params
        )
        now = 6 * H
        for _ in range(30):
            now += rng.uniform(0, 900)
            op = rng.random()
            if op < 0.75:
                a, b = rng.sample(svc.area.point_id, 2)
                t = now + rng.uniform(0, 2 * H)
                kw = {"earliest_pickup_s": t} if rng.random() < 0.6 else {"latest_arrival_s": t + H}
                chairs = 1 if rng.random() < 0.2 else 0
                req = TripRequest(
                    a, b, passengers=rng.randint(1 - chairs, 2), wheelchairs=chairs, **kw
                )  # type: ignore[arg-type]
                svc.book(req, now_s=now)
            elif op < 0.9 and svc.bookings():
                with contextlib.suppress(ProblemError):
                    svc.cancel(rng.choice(sorted(svc.bookings())), now_s=now)
            else:
                svc.reoptimise(now_s=now, max_runtime=0.05, seed=seed)
            assert check_service(svc) == []
        assert check_stored(svc.store.load(), svc.area) == []
        svc.close()


@pytest.mark.parametrize(
    ("request_kw", "match"),
    [
        ({"earliest_pickup_s": None}, "exactly one"),
        ({"latest_arrival_s": 10 * H}, "exactly one"),
        ({"passengers": -1}, "passengers"),
        ({"passengers": True}, "passengers"),
        ({"passengers": 0, "wheelchairs": 0}, "at least one"),
        ({"wheelchairs": 1.5}, "wheelchairs"),
        ({"earliest_pickup_s": float("nan")}, "finite"),
        ({"earliest_pickup_s": None, "latest_arrival_s": float("inf")}, "finite"),
        ({"earliest_pickup_s": "9:00"}, "finite"),
        ({"pickup": (200.0, 45.0)}, "WGS84"),
        ({"dropoff": (3.0, float("nan"))}, "WGS84"),
        ({"pickup": ("a", "b")}, "point id or"),
        ({"pickup": (3.0, 45.0, 0.0)}, "point id or"),
        ({"pickup": ""}, "empty point id"),
        ({"rider": None}, "rider"),
    ],
)
def test_trip_request_checks_itself(request_kw: dict, match: str) -> None:  # type: ignore[type-arg]
    """A malformed TripRequest is refused when it is built, before any service sees it, with a
    ProblemError naming the field (like ServiceParams and Shuttle)."""
    kw = {"pickup": "p1", "dropoff": "p2", "earliest_pickup_s": 9 * H, **request_kw}
    with pytest.raises(ProblemError, match=match):
        TripRequest(**kw)


def test_service_area_distances_are_great_circle() -> None:
    """The service area measures with the one distance formula (arverne.geo.haversine_m): the
    distance to the nearest point from a third of a degree north of one, and the straight-line travel
    times are the great-circle ones (an equirectangular formula was 0.6 % short)."""
    from arverne.fleet.matrix import straight_line_m
    from arverne.geo import haversine_m

    a = area()
    lon, lat = float(a.lon[3]), float(a.lat[3]) + 0.3
    idx, dist = a.nearest(lon, lat)
    assert dist == pytest.approx(float(haversine_m(lon, lat, a.lon[idx], a.lat[idx])), rel=1e-12)
    assert dist == pytest.approx(float(np.min(haversine_m(lon, lat, a.lon, a.lat))), rel=1e-12)
    expected = straight_line_m(a.lon, a.lat) / (40.0 / 3.6)
    np.testing.assert_allclose(a.travel_s, expected, rtol=1e-12, atol=1e-9)


def test_a_shuttle_on_its_way_back_takes_no_more_rides(tmp_path: Path) -> None:
    """A shuttle whose last drop-off leaves it just time to drive back to its depot by the end
    of its shift: once the clock passes the moment it must leave, advancing the clock keeps its
    plan (it used to raise 'plan broke': the shuttle was held at its last stop until now), a
    new ride goes to the other shuttle and re-optimisation gives it none."""
    pts = straight_line_area(["p0", "p1"], [3.0, 3.1], [45.7, 45.7], speed_kmh=40.0)
    tt = float(pts.travel_s[0, 1])
    end = 12 * H
    vehicles = [Shuttle("v0", 4, 0, "p0", 6 * H, end), Shuttle("v1", 4, 0, "p0", 6 * H, 20 * H)]
    svc = OnDemandService.open(pts, tmp_path / "b.sqlite", vehicles[:1])
    pickup = end - 2 * tt - 2 * svc.params.boarding_s - 100.0
    first = svc.book(TripRequest("p0", "p1", earliest_pickup_s=pickup), now_s=pickup - H)
    assert isinstance(first, Offer) and first.vehicle_id == "v0"
    svc.advance(end - tt + 50.0)  # past the moment v0 must leave p1 for its depot
    assert check_service(svc) == []
    svc.close()
    svc = OnDemandService.open(pts, tmp_path / "b.sqlite", vehicles)
    late = svc.book(
        TripRequest("p1", "p0", earliest_pickup_s=end - tt + 60.0), now_s=end - tt + 50.0
    )
    assert isinstance(late, Offer) and late.vehicle_id == "v1"
    svc.reoptimise(now_s=end - tt + 60.0, max_runtime=0.2)  # nor does re-optimisation
    assert [s.booking_id for s in svc.plan("v0") if s.kind == "pickup"] == [first.booking_id]
    assert check_service(svc) == []
