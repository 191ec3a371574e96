"""Carpool offers read from CSV and matched to riders, against a plain loop (hypothesis)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.errors import InputError
from arverne.feeds.carpool import CarpoolOffers, read_carpool_offers
from arverne.routing.carpool import carpool_journey, drive_s
from arverne.routing.planner import Planner
from tests.routing.test_scenarios import MON, at, planner

LAT0, LON0 = 45.77, 3.08
T8 = int(dt.datetime(2024, 3, 4, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))).timestamp())


@pytest.fixture(scope="module")
def pl(tmp_path_factory: pytest.TempPathFactory) -> Planner:
    """The scenarios' small feed near Clermont (Europe/Paris; a timetable for the search)."""
    trips = "route_id,service_id,trip_id\nR1,WK,a"
    times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "a,08:00:00,08:00:00,A,1\na,08:10:00,08:10:00,B,2"
    )
    return planner(tmp_path_factory.mktemp("cp"), trips=trips, stop_times=times)


def offers(rows: list[tuple[float, float, float, float, int, int, int, int]]) -> CarpoolOffers:
    """Offers from (dlat, dlon, dlat, dlon, leave after 08:00 s, window s, seats, detour s)."""
    r = np.array(rows, np.float64).reshape(-1, 8)
    return CarpoolOffers(
        driver_id=np.array([f"d{k}" for k in range(len(rows))], dtype=object),
        origin_lat=LAT0 + r[:, 0],
        origin_lon=LON0 + r[:, 1],
        destination_lat=LAT0 + r[:, 2],
        destination_lon=LON0 + r[:, 3],
        depart_earliest_s=(T8 + r[:, 4]).astype(np.int64),
        depart_latest_s=(T8 + r[:, 4] + r[:, 5]).astype(np.int64),
        seats=r[:, 6].astype(np.int32),
        max_detour_s=r[:, 7].astype(np.int32),
    )


def plain(
    pl: Planner, share: CarpoolOffers, o: tuple[float, float], d: tuple[float, float], t: int
) -> tuple[int, int] | None:
    """(pick-up, arrival) of the earliest arrival over every offer and every departure second
    of its window (smallest detour among equals), plainly."""
    best = None
    for k in range(len(share)):
        if share.seats[k] <= 0:
            continue
        home = (share.origin_lon[k], share.origin_lat[k])
        end = (share.destination_lon[k], share.destination_lat[k])
        to_rider = int(drive_s(pl.search, *home, o[1], o[0]))
        ride = int(drive_s(pl.search, o[1], o[0], d[1], d[0]))
        detour = to_rider + ride + int(drive_s(pl.search, d[1], d[0], *end))
        detour -= int(drive_s(pl.search, *home, *end))
        if detour > share.max_detour_s[k]:
            continue
        for leave in range(int(share.depart_earliest_s[k]), int(share.depart_latest_s[k]) + 1):
            if leave + to_rider >= t:
                key = (leave + to_rider + ride, detour)
                if best is None or key < best[0]:
                    best = (key, (leave + to_rider, leave + to_rider + ride))
                break
    return None if best is None else best[1]


near = st.floats(-0.05, 0.05)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            near,
            near,
            near,
            near,
            st.integers(-1800, 3600),
            st.integers(0, 1800),
            st.integers(0, 2),
            st.integers(0, 1200),
        ),
        max_size=5,
    ),
    ends=st.tuples(near, near, near, near),
    ready_s=st.integers(-1800, 3600),
)
def test_match_equals_plain_loop(
    pl: Planner, rows: list, ends: tuple[float, ...], ready_s: int
) -> None:
    """Random offers (windows, 0 to 2 seats, detour tolerances up to 20 min) and a random rider
    ready between 07:30 and 09:00: the ride offered picks her up no earlier than she is ready,
    from an offer with a seat whose detour fits, and arrives exactly when the plain loop over
    every offer and departure second says (none when it finds none)."""
    share = offers(rows)
    o, d = (LAT0 + ends[0], LON0 + ends[1]), (LAT0 + ends[2], LON0 + ends[3])
    when = dt.datetime.fromtimestamp(T8 + ready_s, tz=dt.UTC)
    journey = carpool_journey(pl.search, o, d, when, False, share)
    want = plain(pl, share, o, d, T8 + ready_s)
    if journey is None:
        assert want is None
        return
    (leg,) = journey.legs
    assert leg.mode == "carpool" and leg.estimated and journey.n_rides == 0
    assert (int(leg.start.timestamp()), int(leg.end.timestamp())) == want
    k = int(leg.to_name.rsplit("d", 1)[1].rstrip(")"))
    assert share.seats[k] > 0


def test_read_offers_and_the_planner_offers_the_ride(pl: Planner, tmp_path: Path) -> None:
    """A CSV of two offers (Europe/Paris times): the full car is never matched, the other picks
    the rider up at 07:40 and the planner offers that ride beside the walk; bad rows are
    refused naming the row and field."""
    path = tmp_path / "offers.csv"
    head = (
        "driver_id,origin_lat,origin_lon,destination_lat,destination_lon,"
        "depart_earliest,depart_latest,seats,max_detour_min\n"
    )
    path.write_text(
        head + "full,45.76,3.08,45.83,3.08,2024-03-04T07:30,2024-03-04T08:00,0,10\n"
        "anne,45.76,3.08,45.83,3.08,2024-03-04T07:30,2024-03-04T08:00,2,10\n"
    )
    share = read_carpool_offers(path, timezone="Europe/Paris")
    assert list(share.seats) == [0, 2] and len(share) == 2
    o, d = (LAT0, LON0), (LAT0 + 0.05, LON0)
    journeys = pl.plan(o, d, depart_at=at(MON, "07:40"), carpool=share)
    modes = sorted(leg.mode for j in journeys for leg in j.legs)
    assert "carpool" in modes
    ride = next(j for j in journeys if j.legs[0].mode == "carpool")
    assert ride.departure == at(MON, "07:40").replace(tzinfo=ride.departure.tzinfo)
    assert "anne" in ride.legs[0].to_name
    path.write_text(head + "x,45.76,3.08,45.83,3.08,2024-03-04T07:30,soon,1,10\n")
    with pytest.raises(InputError, match="row 2: depart_latest 'soon'"):
        read_carpool_offers(path, timezone="Europe/Paris")
    path.write_text("driver_id,origin_lat\n")
    with pytest.raises(InputError, match="missing column"):
        read_carpool_offers(path, timezone="Europe/Paris")
