"""On-demand legs in journeys: first mile, last mile, door to door, wheelchair places, and
offers that, booked, keep the times they showed (scenario in tests/fleet/ondemand_scenario.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from arverne.errors import InputError, NoRouteError, OfferExpiredError, ProblemError
from arverne.feeds.flex import read_flex
from arverne.fleet.ondemand_feeder import (
    ServiceFeeder,
    book_journey,
    offer_from_json,
    offer_to_json,
)
from arverne.fleet.ondemand_model import Offer, TripRequest
from arverne.routing.flex_feeder import FlexFeeder
from arverne.routing.journey import Journey
from arverne.routing.planner import Planner, PlanOptions
from tests.fleet.darp_check import check_service
from tests.fleet.ondemand_scenario import (
    DAY,
    POINTS,
    SANTE,
    at,
    scenario_planner,
    scenario_service,
)

WHEELCHAIR = PlanOptions(wheelchair=True)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Planner, Path]:
    return scenario_planner(tmp_path_factory.mktemp("ondemand"))


def clock(hhmm: str) -> Callable[[], dt.datetime]:
    """A clock standing at ``hhmm`` of the scenario's day."""
    return lambda: at(hhmm)


def _demand(j: Journey) -> list:
    return [leg.on_demand for leg in j.legs if leg.on_demand is not None]


def test_village_at_eight_gets_the_on_demand_leg(scenario, tmp_path: Path) -> None:
    """From a hamlet at 08:00 to the health centre: buses alone wait for the 12:03 bus; with
    Arverne's zone the first journey is a shuttle to the bus station then the 08:40 town bus;
    booked in one call, the stored booking has the times shown and
    every plan passes the independent checker."""
    planner, _ = scenario
    bus_only = planner.plan(POINTS["HAM1"], SANTE, depart_at=at("08:00"))
    assert bus_only[0].legs[1].start.strftime("%H:%M") == "12:03"
    feeder = ServiceFeeder(
        scenario_service(tmp_path / "b.sqlite"), day=DAY, zone="TAD", clock=clock("08:00")
    )
    journeys = planner.plan(POINTS["HAM1"], SANTE, depart_at=at("08:00"), feeders=[feeder])
    best = journeys[0]
    assert best.legs[0].mode == "on_demand" and best.legs[1].mode == "bus"
    (offer,) = _demand(best)
    assert offer.bookable and not offer.estimated and offer.dropoff_name == "GARE"
    assert best.legs[0].end <= best.legs[1].start  # the promise is in time for the bus
    # the promise aimed 5 minutes after the planned drop-off catches the 08:40 town bus (the
    # first promise alone, arrival by 08:56, would wait for the 09:00 one)
    assert best.legs[1].start.replace(tzinfo=None) == at("08:40")
    assert "on demand (TAD)" in best.to_text() and best.to_dict()["legs"][0]["on_demand"]
    booked = book_journey(best, [feeder], rider="ana")
    ((i, stored),) = booked.bookings
    assert i == 0 and isinstance(stored, Offer)
    row = feeder.service.bookings()[stored.booking_id]
    lo, hi = (t.replace(tzinfo=None) for t in offer.pickup_window)
    midnight = dt.datetime.combine(DAY, dt.time(0))
    assert (row.pickup_lo_s, row.pickup_hi_s) == pytest.approx(
        ((lo - midnight).total_seconds(), (hi - midnight).total_seconds()), abs=1e-6
    )
    assert row.rider == "ana" and check_service(feeder.service) == []


def test_last_mile_is_offered_at_the_arrival(scenario, tmp_path: Path) -> None:
    """From the health centre at 09:00 to the hamlet: the town line to the bus station, then
    the shuttle, asked for two minutes after the bus arrives (its pickup window starts then or
    later)."""
    planner, _ = scenario
    feeder = ServiceFeeder(scenario_service(tmp_path / "b.sqlite"), day=DAY, clock=clock("09:00"))
    best = planner.plan(SANTE, POINTS["HAM1"], depart_at=at("09:00"), feeders=[feeder])[0]
    assert [leg.mode for leg in best.legs][-2:] == ["bus", "on_demand"]
    bus, shuttle = best.legs[-2:]
    assert shuttle.start >= bus.end + dt.timedelta(seconds=120)
    assert shuttle.on_demand is not None and shuttle.on_demand.pickup_name == "GARE"
    assert best.arrival.replace(tzinfo=None) < at("10:30")


def test_door_to_door_inside_the_zone(scenario, tmp_path: Path) -> None:
    """Between two hamlets 2.5 km apart, no bus: the shuttle door to door, promised before
    the walk would arrive."""
    planner, _ = scenario
    feeder = ServiceFeeder(scenario_service(tmp_path / "b.sqlite"), day=DAY, clock=clock("08:00"))
    journeys = planner.plan(POINTS["HAM2"], POINTS["HAM3"], depart_at=at("08:00"), feeders=[feeder])
    shuttle = [j for j in journeys if _demand(j)]
    assert shuttle and [leg.mode for leg in shuttle[0].legs] == ["on_demand"]
    walk = planner.plan(POINTS["HAM2"], POINTS["HAM3"], depart_at=at("08:00"))[0]
    assert shuttle[0].arrival < walk.arrival


@pytest.mark.parametrize("places", [0, 1])
def test_wheelchair_needs_a_wheelchair_place(scenario, tmp_path: Path, places: int) -> None:
    """A wheelchair journey from the hamlet at 08:00: a fleet without wheelchair places offers
    no shuttle (the service refuses for capacity); with one wheelchair place on v0 the shuttle
    comes, the offer says wheelchair, and the booking takes that place on v0."""
    planner, _ = scenario
    svc = scenario_service(tmp_path / "b.sqlite", wheelchairs=places)
    feeder = ServiceFeeder(svc, day=DAY, clock=clock("08:00"))
    journeys = planner.plan(
        POINTS["HAM1"], SANTE, depart_at=at("08:00"), options=WHEELCHAIR, feeders=[feeder]
    )
    offers = [o for j in journeys for o in _demand(j)]
    if not places:
        assert offers == []
        gare = (POINTS["GARE"][1], POINTS["GARE"][0])
        ham = (POINTS["HAM1"][1], POINTS["HAM1"][0])
        when = at("08:00")
        assert feeder.offer(ham, gare, earliest=when, wheelchair=True) is None
        assert feeder.last_refusal is not None and feeder.last_refusal.reason == "capacity"
        return
    assert offers and all(o.wheelchair for o in offers)
    ((_, stored),) = book_journey(next(j for j in journeys if _demand(j)), [feeder]).bookings
    row = svc.bookings()[stored.booking_id]
    assert (row.wheelchairs, row.passengers, row.vehicle_id) == (1, 0, "v0")


def _random_offers(planner: Planner, svc, n: int, seed: int) -> tuple[int, int]:
    """Plan random journeys through the zone, 07:00 to 18:00, until ``n`` on-demand offers
    were booked (two in three are cancelled again before their pickup, as riders do, so the
    fleet does not fill up); return (booked, refused at booking).
    """
    now = [at("07:00")]
    feeder = ServiceFeeder(svc, day=DAY, clock=lambda: now[0])
    rng = random.Random(seed)
    ends = [*POINTS.values(), SANTE]
    zone = [p for k, p in POINTS.items() if k != "GARE"]
    booked = refused = 0
    tries = 6 * n
    for k in range(tries):
        if booked >= n:
            break
        t = at("07:00") + dt.timedelta(seconds=round((k + rng.random()) * 11 * 3600 / tries))
        now[0] = t  # riders ask as they leave
        a = rng.choice(zone)
        a = (a[0] + rng.uniform(-0.002, 0.002), a[1] + rng.uniform(-0.002, 0.002))
        b = rng.choice(ends)
        if rng.random() < 0.5:
            a, b = b, a
        options = WHEELCHAIR if rng.random() < 0.1 else PlanOptions()
        try:
            journeys = planner.plan(a, b, depart_at=t, options=options, feeders=[feeder])
        except NoRouteError:
            continue
        for j in journeys:  # legs follow one another; a ride's times are its offer's
            assert all(b.start >= a.end for a, b in zip(j.legs, j.legs[1:], strict=False))
            for leg in j.legs:
                if leg.on_demand is not None:
                    assert (leg.start, leg.end) == (
                        leg.on_demand.pickup_window[0],
                        leg.on_demand.latest_dropoff,
                    )
        with_shuttle = [j for j in journeys if any(o.bookable for o in _demand(j))]
        if not with_shuttle:
            continue
        j = rng.choice(with_shuttle)
        try:
            result = book_journey(j, [feeder], rider=f"r{booked}")
        except OfferExpiredError:
            refused += 1
            continue
        for i, stored in result.bookings:
            od = j.legs[i].on_demand
            assert od is not None
            midnight = dt.datetime.combine(DAY, dt.time(0), tzinfo=od.latest_dropoff.tzinfo)
            lo, hi = ((w - midnight).total_seconds() for w in od.pickup_window)
            assert stored.pickup_window_s == pytest.approx((lo, hi), abs=1e-6)
            assert stored.latest_dropoff_s <= (od.latest_dropoff - midnight).total_seconds() + 1e-6
            booked += 1
            if rng.random() < 2 / 3:
                with contextlib.suppress(ProblemError):  # the shuttle has left for the rider
                    svc.cancel(stored.booking_id, now_s=od.request.now_s)
    return booked, refused


@pytest.mark.parametrize("n", [100, pytest.param(1000, marks=pytest.mark.slow)])
def test_random_offers_booked_as_shown(scenario, tmp_path: Path, n: int) -> None:
    """Random riders (hamlets, village, station, health centre; 10 % in wheelchairs) plan
    through the zone and book a journey with a shuttle at once: every journey's legs follow one
    another, every one of ``n`` offers is accepted with the window and latest arrival it showed
    (0 broken promises), and the stored plans pass the independent checker."""
    planner, _ = scenario
    svc = scenario_service(tmp_path / "b.sqlite", vehicles=30, extra_points=20)
    booked, refused = _random_offers(planner, svc, n, seed=n)
    assert (booked, refused) == (n, 0)
    assert check_service(svc) == []


def test_changed_plans_expire_an_offer_or_keep_it(scenario, tmp_path: Path) -> None:
    """An offer is shown, then other riders fill the only shuttle; booking the offer either
    gets exactly the times shown or is refused with OfferExpiredError, leaving nothing booked
    for that rider."""
    planner, _ = scenario
    svc = scenario_service(tmp_path / "b.sqlite", vehicles=1)
    feeder = ServiceFeeder(svc, day=DAY, clock=clock("08:00"))
    journeys = planner.plan(POINTS["HAM1"], SANTE, depart_at=at("08:00"), feeders=[feeder])
    j = next(j for j in journeys if _demand(j))
    for k in range(6):
        svc.book(TripRequest("HAM2", "GARE", earliest_pickup_s=8 * 3600.0 + 60 * k,
                             passengers=1), now_s=8 * 3600.0)  # fmt: skip
    try:
        result = book_journey(j, [feeder], rider="late")
    except OfferExpiredError:
        assert all(b.rider != "late" for b in svc.bookings().values())
    else:
        ((_, stored),) = result.bookings
        assert stored.pickup_window_s[0] == pytest.approx(
            (j.legs[0].start.replace(tzinfo=None) - dt.datetime.combine(DAY, dt.time(0)))
            .total_seconds(), abs=1e-6
        )  # fmt: skip
    assert check_service(svc) == []


def test_zone_run_by_someone_else_shows_booking_rules(scenario) -> None:
    """The scenario's GTFS-Flex zone (booked by phone an hour ahead, 08:00-18:00): asked at
        08:00 for a ride across the zone, the offer picks up from 09:00, estimated, not bookable,
        with the phone number and the window; booking the journey books nothing. On Saturday the
    zone does not run."""
    planner, path = scenario
    feeder = FlexFeeder(read_flex(path), name="tad-sud", clock=clock("08:00"))
    a, b = (45.676, 2.972), (45.718, 3.028)
    journeys = planner.plan(a, b, depart_at=at("08:00"), feeders=[feeder])
    (j,) = [j for j in journeys if _demand(j)]
    (offer,) = _demand(j)
    assert offer.pickup_window[0].strftime("%H:%M") == "09:00"
    assert not offer.bookable and offer.estimated and "04 73 00 00 01" in offer.booking
    assert offer.service_window is not None
    assert [t.strftime("%H:%M") for t in offer.service_window] == ["08:00", "18:00"]
    assert "60 min" in j.to_text() and book_journey(j, []).bookings == []
    with pytest.raises(NoRouteError):  # Saturday: neither the zone nor a bus runs
        planner.plan(a, b, depart_at=at("08:00").replace(day=9), feeders=[feeder])


def test_feeders_refuse_arrive_by(scenario, tmp_path: Path) -> None:
    """Feeders answer departure queries only: arrive-by with a feeder is an InputError."""
    planner, _ = scenario
    feeder = ServiceFeeder(scenario_service(tmp_path / "b.sqlite"), day=DAY, clock=clock("09:00"))
    with pytest.raises(InputError, match="departure queries"):
        planner.plan(POINTS["HAM1"], SANTE, depart_at=at("09:00"), arrive_by=True,
                     feeders=[feeder])  # fmt: skip


def test_a_question_about_the_past_is_answered_now(scenario, tmp_path: Path) -> None:
    """The service's clock stands at 08:20: a journey planned for 08:00 gets no shuttle picking
    up before 08:20 (the quote is asked at the service's time, not the query's); at 09:00 the
    08:00 departure is past its longest wait and no shuttle is offered."""
    planner, _ = scenario
    svc = scenario_service(tmp_path / "b.sqlite")
    svc.advance(8 * 3600.0 + 1200.0)
    feeder = ServiceFeeder(svc, day=DAY, clock=clock("08:00"))
    journeys = planner.plan(POINTS["HAM1"], SANTE, depart_at=at("08:00"), feeders=[feeder])
    offers = [o for j in journeys for o in _demand(j)]
    assert offers and all(o.pickup_window[0].replace(tzinfo=None) >= at("08:20") for o in offers)
    svc.advance(9 * 3600.0)
    journeys = planner.plan(POINTS["HAM1"], SANTE, depart_at=at("08:00"), feeders=[feeder])
    assert not [o for j in journeys for o in _demand(j)]
    assert feeder.last_refusal is not None


def test_planning_ahead_leaves_the_dispatcher_clock_alone(scenario, tmp_path: Path) -> None:
    """At 08:00 a rider plans for 16:00: the shuttle is offered for 16:00 and the service's
    clock stays at 08:00 (nothing frozen ahead). Booked only at 16:10, after its pickup window
    opened, the same offer is refused as expired and nothing is booked."""
    planner, _ = scenario
    svc = scenario_service(tmp_path / "b.sqlite")
    now = [at("08:00")]
    feeder = ServiceFeeder(svc, day=DAY, clock=lambda: now[0])
    journeys = planner.plan(POINTS["HAM1"], SANTE, depart_at=at("16:00"), feeders=[feeder])
    j = next(j for j in journeys if _demand(j))
    assert _demand(j)[0].pickup_window[0].replace(tzinfo=None) >= at("16:00")
    assert svc.now_s == 8 * 3600.0
    now[0] = at("16:10")
    with pytest.raises(OfferExpiredError):
        book_journey(j, [feeder], rider="late")
    assert svc.bookings() == {}


def test_offer_written_as_json_books_as_the_journey_would(scenario, tmp_path: Path) -> None:
    """The hamlet-to-health-centre shuttle offer written as JSON text and read back (as a
    service's booking reference carries it to another worker): the same offer and request;
    booked alone, the stored pickup window is the one shown; a leg of another feeder, or
    broken JSON, is refused."""
    planner, _ = scenario
    feeder = ServiceFeeder(
        scenario_service(tmp_path / "b.sqlite"), day=DAY, zone="TAD", clock=clock("08:00")
    )
    best = planner.plan(POINTS["HAM1"], SANTE, depart_at=at("08:00"), feeders=[feeder])[0]
    (offer,) = _demand(best)
    back = offer_from_json(json.loads(json.dumps(offer_to_json(offer))))
    assert back == offer and back.request == offer.request
    leg = dataclasses.replace(best.legs[0], on_demand=back)
    ((_, stored),) = book_journey(Journey([leg]), [feeder]).bookings
    shown = tuple(
        (t - at("00:00").replace(tzinfo=t.tzinfo)).total_seconds() for t in offer.pickup_window
    )
    assert stored.pickup_window_s == pytest.approx(shown, abs=1e-6)
    with pytest.raises(ProblemError):
        offer_to_json(dataclasses.replace(offer, request="flex-trip"))
    with pytest.raises(ProblemError):
        offer_from_json({**offer_to_json(offer), "trip": [1, 2]})
