"""A GTFS-Flex zone run by someone else as a feeder, on C-TRAN's real feed (The Current)."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

import numpy as np
import pytest

from arverne.feeds.flex import FlexFeed, read_flex
from arverne.geo import haversine_m
from arverne.routing.flex_feeder import FlexFeeder
from arverne.routing.ondemand import Feeder
from tests.conftest import shared_path

PACIFIC = zoneinfo.ZoneInfo("US/Pacific")


@pytest.fixture(scope="module")
def ctran() -> FlexFeed:
    return read_flex(shared_path("gtfs/transitland/ctran-flex.zip"))


def _inside(flex: FlexFeed, name: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two points 230 m apart inside the zone called ``name``."""
    (zone,) = [z for z in flex.zones.values() if z.name == name]
    p = zone.geometry.buffer(-0.003).representative_point()
    return (p.x, p.y), (p.x + 0.003, p.y)


def test_ride_inside_a_ctran_zone(ctran: FlexFeed) -> None:
    """Inside Rose Village on Monday 6 October 2025 at 09:00 (same-day booking, no notice):
    the offer picks up at 09:00, arrives after the feed's mean duration (1.3 x the straight
    line driving estimate + 1,200 s, computed here by hand), shows C-TRAN's phone number and the
    05:30-19:00 window, is estimated and not bookable; the feeder satisfies the Feeder protocol."""
    t = dt.datetime(2025, 10, 6, 9, 0, tzinfo=PACIFIC)
    feeder = FlexFeeder(ctran, name="the-current", clock=lambda: t)
    assert isinstance(feeder, Feeder)
    a, b = _inside(ctran, "Rose Village")
    offer = feeder.offer(a, b, earliest=t, wheelchair=False)
    assert offer is not None and not offer.bookable and offer.estimated
    drive = float(haversine_m(a[0], a[1], b[0], b[1])) * 1.3 / 8.0
    assert offer.pickup_window == (t, t)
    assert offer.planned_dropoff == t + dt.timedelta(seconds=math.ceil(1.3 * drive + 1200.0))
    assert "360-695-0123" in offer.booking and offer.zone == "Rose Village"
    assert offer.service_window is not None
    assert [w.strftime("%H:%M") for w in offer.service_window] == ["05:30", "19:00"]
    reach = feeder.reach_s(a, np.array([b[0], 0.0]), np.array([b[1], 0.0]), from_point=True)
    assert reach[0] == pytest.approx(1.3 * drive + 1200.0) and reach[1] == np.inf


def test_no_ride_outside_the_zones_or_the_window(ctran: FlexFeed) -> None:
    """From the middle of the Columbia river no ride is offered; inside Rose Village at 19:30,
    after the window, neither."""
    t = dt.datetime(2025, 10, 6, 9, 0, tzinfo=PACIFIC)
    feeder = FlexFeeder(ctran, clock=lambda: t)
    a, b = _inside(ctran, "Rose Village")
    river = (-122.70, 45.61)
    assert feeder.offer(river, b, earliest=t, wheelchair=False) is None
    late = t.replace(hour=19, minute=30)
    assert feeder.offer(a, b, earliest=late, wheelchair=False) is None


def test_no_ride_from_a_point_to_itself(ctran: FlexFeed) -> None:
    """Inside Rose Village at 09:00, a ride from a point to the same point (the planner asks
    one when the origin is itself a served stop) is no offer: it would put a leg going nowhere
    in front of the journey that simply boards there."""
    t = dt.datetime(2025, 10, 6, 9, 0, tzinfo=PACIFIC)
    feeder = FlexFeeder(ctran, clock=lambda: t)
    a, _ = _inside(ctran, "Rose Village")
    assert feeder.offer(a, a, earliest=t, wheelchair=False) is None
