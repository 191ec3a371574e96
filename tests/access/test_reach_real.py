"""Reach and isochrones on Porto Alegre (EPTC bus + Trensurb metro + city-centre streets)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from arverne.access.isochrones import IsochroneParams, isochrones_from_reach
from arverne.access.reach import ReachSearch
from arverne.network.network import Network
from arverne.routing.planner import Planner
from tests.access.test_isochrones import check_rule
from tests.access.test_reach import planner_s, same
from tests.conftest import shared_path

WHEN = dt.datetime(2019, 5, 15, 12, 10)
MAX = dt.timedelta(minutes=75)


@pytest.fixture(scope="module")
def poa(tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, Planner, ReachSearch]:
    """Porto Alegre built with its streets."""
    from arverne.network.build import build_network

    feeds = [shared_path(f"bundles/porto-alegre/{n}") for n in ("poa_eptc.zip", "poa_trensurb.zip")]
    osm = shared_path("bundles/porto-alegre/poa_osm.pbf")
    net = build_network(feeds, osm, tmp_path_factory.mktemp("poa") / "net")
    return net, Planner(net), ReachSearch(net)


@pytest.mark.slow
def test_porto_alegre_reach_equals_the_planner_at_300_street_points(poa: tuple) -> None:
    """Three origins at 12:10 on Wednesday 2019-05-15, 100 random street nodes each: the
    reach's time rounded up is the planner's earliest arrival (or both beyond 75 minutes)."""
    net, planner, search = poa
    s = net.streets
    rng = np.random.default_rng(15)
    nodes = np.flatnonzero(np.asarray(s.node_routable[s.mode_index("walk")]))
    for o_node in rng.choice(nodes, 3, replace=False):
        o = (float(s.node_lat[o_node]), float(s.node_lon[o_node]))
        reach = search.reach(o, departure=WHEN, max_time=MAX)
        for v in rng.choice(nodes, 100, replace=False):
            d = (float(s.node_lat[v]), float(s.node_lon[v]))
            got = float(reach.times_at([d[0]], [d[1]])[0])
            want = planner_s(planner, o, d, WHEN)
            assert same(got, want, MAX.total_seconds()), (o, d, got, want)
            assert math.isinf(got) or got <= MAX.total_seconds()


@pytest.mark.slow
def test_porto_alegre_isochrones_hold_the_rule_on_10000_points(poa: tuple) -> None:
    """One origin, cutoffs 10 to 60 minutes, default grid: 10,000 random street points obey
    the rule (reached inside, beyond the buffer outside)."""
    net, _, search = poa
    reach = search.reach((-30.0277, -51.2287), departure=WHEN, max_time=dt.timedelta(hours=1))
    frame, _ = isochrones_from_reach(reach, (10, 20, 30, 45, 60))
    assert frame.crs.to_string() == "EPSG:32722"
    check_rule(net, reach, frame, IsochroneParams(), 10_000)
