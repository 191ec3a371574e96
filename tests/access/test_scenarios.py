"""Scenarios: edits spliced into the compiled base equal a network rebuilt from the edited GTFS,
and every array the edits leave alone is the base's own memory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.access.scenarios import (
    AddLine,
    AddStop,
    ChangeFrequency,
    OnDemandZone,
    RemoveLine,
    build_scenario,
    timetable_edit,
)
from arverne.errors import InputError
from arverne.network.network import Network
from arverne.routing.planner import Planner
from tests.routing.gtfs_gen import D0, gen_feeds, hms, write_feed

TWO_ROUTES = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,UTC",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,A,45.00,3.00\nB,B,45.01,3.00\nC,C,45.02,3.00",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,a,1,3\nR2,a,2,3",
    "trips.txt": "route_id,service_id,trip_id\nR1,v,t1\nR2,v,t2",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "t1,08:00:00,08:00:00,A,1\nt1,08:10:00,08:10:00,B,2\nt2,08:20:00,08:20:00,B,1\nt2,08:30:00,08:30:00,C,2",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
    "v,1,1,1,1,1,0,0,20240304,20240315",
}
"""Two routes: R1 A -> B at 08:00, R2 B -> C at 08:20, weekdays of two weeks of March 2024."""


ONE_ROUTE = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,UTC",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,A,45.00,3.00\nB,B,45.05,3.00",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,a,1,3",
    "trips.txt": "route_id,service_id,trip_id\nR1,v,t1",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "t1,08:30:00,08:30:00,A,1\nt1,08:50:00,08:50:00,B,2",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
    "v,1,1,1,1,1,0,0,20240304,20240315",
}
"""One route: R1 A -> B (5.6 km) at 08:30, weekdays of two weeks of March 2024."""


def _network(folder: Path) -> Network:
    """A network built in memory from a GTFS folder, without streets (straight-line footpaths)."""
    from arverne.feeds.gtfs import read_gtfs
    from arverne.network.links import build_links
    from arverne.network.timetable import build_timetable

    tt = build_timetable([read_gtfs(folder, name="f")])
    links, _ = build_links(None, tt)
    return Network(timetable=tt, links=links)


def _with_places(files: dict[str, str], seed: int) -> dict[str, str]:
    """The feed with its stops spread over ~2 km (some within a footpath of each other)."""
    rng = random.Random(seed)
    lines = files["stops.txt"].splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        sid, name, _, _, wheel = line.split(",")
        out.append(
            f"{sid},{name},{45 + rng.random() * 0.02:.6f},{3 + rng.random() * 0.02:.6f},{wheel}"
        )
    return {**files, "stops.txt": "\n".join(out)}


def _edited_files(files: dict[str, str], net: Network, edits: list) -> dict[str, str]:
    """The GTFS text with the edit's rows written in: what a planner would do by hand."""
    tt = net.timetable
    assert tt is not None
    edit = timetable_edit(tt, edits)
    off = {str(tt.trip_id[t]).split(":", 1)[1] for t in edit.off_trips}
    out = dict(files)
    trips = [r for r in files["trips.txt"].splitlines() if r.split(",")[2] not in off]
    times = [r for r in files["stop_times.txt"].splitlines() if r.split(",")[0] not in off]
    stops = files["stops.txt"].splitlines()
    for i, sid in enumerate(edit.stop_id):
        stops.append(f"{sid},{edit.stop_name[i]},{edit.stop_lat[i]:.9f},{edit.stop_lon[i]:.9f},0")
    routes = files["routes.txt"].splitlines()
    for i, rid in enumerate(edit.route_id):
        routes.append(f"{rid},a,{edit.route_name[i]},{edit.route_type[i]}")
    stop_ids = [str(s).split(":", 1)[1] for s in tt.stop_id] + edit.stop_id
    route_ids = [str(r).split(":", 1)[1] for r in tt.route_id] + edit.route_id
    service_ids = [str(v).split(":", 1)[1] for v in tt.service_id]
    calendar = files["calendar.txt"].splitlines()
    end = tt.first_day + dt.timedelta(days=tt.n_days - 1)
    for i, days in enumerate(edit.service_days):
        flags = ",".join(
            "1" if d in days else "0" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        )
        calendar.append(f"e{i},{flags},{tt.first_day:%Y%m%d},{end:%Y%m%d}")
        service_ids.append(f"e{i}")
    for k, (trip_id, route, service, stop, arr, dep) in enumerate(edit.trips):
        trips.append(f"{route_ids[route]},{service_ids[service]},{trip_id},,0")
        board, alight = edit.permissions.get(k, ([True] * len(stop), [True] * len(stop)))
        for j, s in enumerate(stop):
            times.append(
                f"{trip_id},{hms(arr[j])},{hms(dep[j])},{stop_ids[s]},{j + 1},"
                f"{0 if board[j] else 1},{0 if alight[j] else 1}"
            )
    out.update(
        {
            "trips.txt": "\n".join(trips),
            "stop_times.txt": "\n".join(times),
            "stops.txt": "\n".join(stops),
            "routes.txt": "\n".join(routes),
            "calendar.txt": "\n".join(calendar),
        }
    )
    return out


def _copied(part, base) -> set[str]:
    """Fields of ``part`` that are not the base's own arrays (shared ones checked by memory)."""
    out = set()
    for f in dataclasses.fields(part):
        mine, theirs = getattr(part, f.name), getattr(base, f.name)
        if not isinstance(mine, np.ndarray):
            continue
        if mine is theirs:
            assert mine.size == 0 or np.shares_memory(mine, theirs)
        else:
            out.add(f.name)
    return out


def _answers(net: Network, times: list[dt.datetime]) -> list:
    planner = Planner(net)
    tt = net.timetable
    assert tt is not None
    out = []
    for a in range(tt.n_stops):
        for b in range(tt.n_stops):
            if a == b:
                continue
            for when in times:
                js = planner.plan_stops(a, b, depart_at=when)
                out.append((a, b, when, [(j.departure, j.arrival, j.transfers) for j in js]))
    return out


@st.composite
def _scenarios(draw: st.DrawFn) -> tuple:
    feed = draw(gen_feeds(max_trips=3, first_s=6 * 3600, span_s=6 * 3600))
    for t in feed.trips:
        t.block = ""  # in-seat chains through a removed trip are not rebuilt (see _splice)
    n_routes = len(feed.route_types)
    edits: list = []
    stop = st.integers(0, feed.n_stops - 1).map(lambda s: f"s{s}")
    point = st.tuples(st.floats(45.0, 45.02), st.floats(3.0, 3.02))
    if draw(st.booleans()):
        a, b = draw(stop), draw(stop)
        if a != b:
            edits.append(
                AddLine(
                    "L",
                    (a, draw(point), b),
                    headway_s=draw(st.sampled_from([600, 1800])),
                    start_s=7 * 3600,
                    end_s=draw(st.sampled_from([8 * 3600, 10 * 3600])),
                    days=draw(st.sampled_from([("mon", "tue", "wed"), ("tue",), ("mon", "sun")])),
                    both_directions=draw(st.booleans()),
                )
            )
    touched = -1
    if n_routes > 1 and draw(st.booleans()):
        touched = draw(st.integers(0, n_routes - 1))
        edits.append(RemoveLine(f"r{touched}"))
    elif draw(st.booleans()):
        touched = draw(st.integers(0, n_routes - 1))
        edits.append(
            ChangeFrequency(f"r{touched}", headway_s=900, start_s=6 * 3600, end_s=13 * 3600)
        )
    r = draw(st.integers(0, n_routes - 1))
    if r != touched and draw(st.booleans()):
        first = next(t for t in feed.trips if t.route == r).stops[0]
        edits.append(
            AddStop(
                f"r{r}", draw(point), after_stop=f"s{first}", dwell_s=draw(st.sampled_from([0, 30]))
            )
        )
    if draw(st.booleans()):
        edits.append(
            OnDemandZone(
                "Z",
                None,
                hubs=(draw(stop),),
                points=(draw(point),),
                response_s=draw(st.sampled_from([0, 300])),
                start_s=7 * 3600,
                end_s=8 * 3600,
                step_s=600,
                days=("mon",),
            )
        )
    return feed, edits, draw(st.integers(0, 1000))


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(_scenarios())
def test_scenario_plans_like_rebuilt_feed(tmp_path_factory, case) -> None:
    """Random small feeds and random edits (a new line through a new stop, a line removed or
    its frequency changed, a stop added to a line, an on-demand zone feeding a stop): every stop-to-stop answer at 07:10 and 09:00 on two days equals the
    answer on a network rebuilt from the GTFS with the edit's rows written in."""
    feed, edits, seed = case
    folder = tmp_path_factory.mktemp("base")
    files = _with_places(feed.files(), seed)
    base = _network(write_feed(folder, files))
    scenario = build_scenario(base, edits)
    rebuilt = _network(
        write_feed(tmp_path_factory.mktemp("edited"), _edited_files(files, base, edits))
    )
    times = [
        dt.datetime.combine(D0 + dt.timedelta(days=d), dt.time(h, m))
        for d in (0, 1)
        for h, m in ((7, 10), (9, 0))
    ]
    assert _answers(scenario, times) == _answers(rebuilt, times)


def test_unchanged_arrays_are_shared(tmp_path) -> None:
    """A removed line only switches trips off: stop times, patterns and stops are the base's
    memory; an added line shares the stops and links it leaves alone; the base is unchanged."""
    files = TWO_ROUTES
    base = _network(write_feed(tmp_path, files))
    tt = base.timetable
    before = {
        f.name: np.array(getattr(tt, f.name), copy=True)
        for f in dataclasses.fields(tt)
        if isinstance(getattr(tt, f.name), np.ndarray)
    }
    removed = build_scenario(base, [RemoveLine("R2")])
    assert _copied(removed.timetable, tt) == {"trip_service", "service_id", "service_active"}
    assert removed.links is base.links and removed.streets is base.streets
    added = build_scenario(
        base, [AddLine("X", ("A", "C"), headway_s=600, start_s=7 * 3600, end_s=9 * 3600)]
    )
    at = added.timetable
    copied = _copied(at, tt)
    assert not copied & {"stop_id", "stop_lon", "stop_name", "transfer_from_stop", "shape_lon"}
    assert {"st_arr_s", "pattern_stop", "route_id", "trip_id"} <= copied
    assert added.links is base.links
    assert at.n_trips == tt.n_trips + 24
    for name, value in before.items():
        assert np.array_equal(getattr(tt, name), value), f"base {name} changed"
    # the rider from A reaches C at 08:08 on the new line instead of 08:30
    plan = Planner(added).plan_stops(0, 2, depart_at=dt.datetime(2024, 3, 4, 7, 55))
    assert min(j.arrival for j in plan).time() < dt.time(8, 30)
    with_stop = build_scenario(base, [AddStop("R1", (45.005, 3.001, "mid"), after_stop="A")])
    assert with_stop.timetable.n_stops == 4
    assert np.shares_memory(with_stop.timetable.route_id, tt.route_id)
    assert with_stop.links is not None and with_stop.links.n_stops == 4


def test_walk_to_a_new_stop_keeps_the_change_time_of_the_stop_it_leaves(tmp_path) -> None:
    """Stop B asks 5 minutes for any change (transfers.txt B -> B); a new line's stop 270 m
    away is reached from B no sooner than that, as on a network rebuilt with the stop in its
    GTFS (a hypothesis case found the scenario walking there in 4 min 34 s)."""
    files = {
        **TWO_ROUTES,
        "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,B,2,300",
    }
    base = _network(write_feed(tmp_path, files))
    net = build_scenario(
        base,
        [AddLine("L", ((45.0078, 3.0015), "C"), headway_s=600, start_s=7 * 3600, end_s=9 * 3600)],
    )
    links = net.links
    b, new = 1, 3
    row = slice(links.footpath_ptr[b], links.footpath_ptr[b + 1])
    to_new = np.asarray(links.footpath_time_s[row])[np.asarray(links.footpath_to[row]) == new]
    assert to_new.tolist() == [300]


def test_on_demand_zone_is_labelled_and_feeds_hubs(tmp_path) -> None:
    """An on-demand zone around a village with no stop: pickup points become estimated stops of
    a route of type 715, with a ride every step to the hub taking response + drive time."""
    import shapely

    base = _network(write_feed(tmp_path, ONE_ROUTE))
    zone = shapely.box(3.05, 44.99, 3.07, 45.01)
    net = build_scenario(
        base,
        [
            OnDemandZone(
                "Z",
                zone,
                hubs=("A",),
                response_s=600,
                spacing_m=1000,
                step_s=300,
                start_s=7 * 3600,
                end_s=9 * 3600,
            )
        ],
    )
    tt = net.timetable
    new_routes = np.flatnonzero(np.asarray(tt.route_type) == 715)
    assert len(new_routes) == 1 and "estimated" in str(tt.route_long_name[new_routes[0]])
    n_points = tt.n_stops - 2
    assert n_points >= 2
    assert all("estimated" in str(n) for n in tt.stop_name[2:])
    # a rider at a pickup point at 07:00 reaches B via the hub by the 08:30 bus
    js = Planner(net).plan_stops(2, 1, depart_at=dt.datetime(2024, 3, 4, 7, 0))
    assert min(j.arrival for j in js).time() == dt.time(8, 50)
    ride = [j for j in js if j.transfers == 1]
    assert ride


def test_bad_edits_are_refused(tmp_path) -> None:
    """Unknown lines and stops, and impossible values, are refused with a clear InputError."""
    base = _network(write_feed(tmp_path, ONE_ROUTE))
    with pytest.raises(InputError, match="not in the network"):
        build_scenario(base, [RemoveLine("nope")])
    with pytest.raises(InputError, match="not in the network"):
        build_scenario(base, [AddLine("L", ("A", "Z"), headway_s=600)])
    with pytest.raises(InputError, match="headway_s"):
        AddLine("L", ("A", "B"), headway_s=0)
    with pytest.raises(InputError, match="days"):
        AddLine("L", ("A", "B"), headway_s=60, days=("monday",))
    with pytest.raises(InputError, match="no trip"):
        build_scenario(base, [ChangeFrequency("R1", headway_s=600, start_s=0, end_s=3600)])


def test_scenario_saves_and_loads_through_the_store_checks(tmp_path) -> None:
    """A scenario with every kind of edit is a network like any other: saved, then loaded with
    the store's schema, pointer and index checks and its digests verified, it plans the same;
    a line removed after a stop was added to it is gone with its new trips."""
    import shapely

    base = _network(write_feed(tmp_path / "base", TWO_ROUTES))
    edits = [
        AddLine("L", ("A", (45.015, 3.01), "C"), headway_s=600, start_s=7 * 3600, end_s=9 * 3600),
        ChangeFrequency("R2", headway_s=1200, start_s=6 * 3600, end_s=13 * 3600),
        AddStop("R1", (45.005, 3.005), after_stop="A"),
        OnDemandZone("Z", shapely.box(3.0, 45.0, 3.02, 45.02), hubs=("B",), spacing_m=800),
        RemoveLine("R1"),
    ]
    scenario = build_scenario(base, edits)
    loaded = Network.load(scenario.save(tmp_path / "scenario"), verify=True)
    assert loaded.manifest["scenario"]["edits"] == [type(e).__name__ for e in edits]
    # R1 is gone, with the trips the added stop had given it
    r1 = int(np.flatnonzero(loaded.timetable.route_id == "f:R1")[0])
    on_r1 = np.asarray(loaded.timetable.trip_route) == r1
    never = ~np.asarray(loaded.timetable.service_active).any(axis=1)
    assert never[np.asarray(loaded.timetable.trip_service)[on_r1]].all()
    times = [dt.datetime.combine(D0, dt.time(7, 10)), dt.datetime.combine(D0, dt.time(8, 5))]
    assert _answers(loaded, times) == _answers(scenario, times)
