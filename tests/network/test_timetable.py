"""The timetable compile: patterns, FIFO blocks, services, time zones, merging, store."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.feeds.gtfs import read_gtfs
from arverne.network import _trips as trips_module
from arverne.network._compile import (
    _argsort_u64,
    fifo_patterns,
    inseat_chains,
    key_hashes,
    loop_free_windows,
    pattern_keys,
    trip_patterns,
)
from arverne.network.network import Network
from arverne.network.timetable import Timetable, build_timetable
from tests.conftest import shared_path
from tests.routing.gtfs_gen import GenFeed, gen_feeds, write_feed

AGENCY = "agency_id,agency_name,agency_url,agency_timezone\nag,Agency,https://a.example,{tz}"
STOPS = """
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding
ST,Station,45.0,3.0,1,,1
A,Alpha,45.0,3.0,0,ST,0
B,Bravo,45.01,3.0,0,,2
C,Charlie,45.02,3.0,0,,0
"""
ROUTES = "route_id,agency_id,route_short_name,route_long_name,route_type\nR,ag,1,One,3"
CAL = """
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
WK,1,1,1,1,1,0,0,20240304,20240308
"""


def feed(tmp: Path, name: str, tz: str = "Europe/Paris", **files: str):  # type: ignore[no-untyped-def]
    base = {
        "agency.txt": AGENCY.format(tz=tz),
        "stops.txt": STOPS,
        "routes.txt": ROUTES,
        "calendar.txt": CAL,
    }
    base.update({f"{k}.txt": v for k, v in files.items()})
    return read_gtfs(write_feed(tmp / name, base), name=name)


OVERTAKE_TRIPS = (
    "route_id,service_id,trip_id,trip_headsign\nR,WK,slow,Slow\nR,WK,fast,Fast\nR,WK,late,Late"
)
OVERTAKE_TIMES = """
trip_id,arrival_time,departure_time,stop_id,stop_sequence
slow,08:00:00,08:00:00,A,1
slow,08:30:00,08:30:00,B,2
slow,09:00:00,09:00:00,C,3
fast,08:05:00,08:05:00,A,1
fast,08:15:00,08:15:00,B,2
fast,08:25:00,08:25:00,C,3
late,09:00:00,09:00:00,A,1
late,09:30:00,09:30:00,B,2
late,25:10:00,25:10:00,C,3
"""


def test_patterns_split_so_no_trip_overtakes(tmp_path: Path) -> None:
    """Three trips on one stop sequence where 'fast' overtakes 'slow': two patterns, each with
    every stop-time column sorted; 'late' runs past midnight (25:10 kept as 90,600 s)."""
    tt = build_timetable([feed(tmp_path, "f", trips=OVERTAKE_TRIPS, stop_times=OVERTAKE_TIMES)])
    assert tt.n_trips == 3 and tt.n_patterns == 2
    for p in range(tt.n_patterns):
        a, b = tt.pattern_trip_ptr[p], tt.pattern_trip_ptr[p + 1]
        n = tt.pattern_stop_ptr[p + 1] - tt.pattern_stop_ptr[p]
        for col in (tt.st_arr_s, tt.st_dep_s):
            block = np.stack([col[tt.trip_st_ptr[t] : tt.trip_st_ptr[t] + n] for t in range(a, b)])
            assert (np.diff(block, axis=0) >= 0).all()
    late = int(np.flatnonzero(tt.trip_id == "f:late")[0])
    assert tt.st_arr_s[tt.trip_st_ptr[late] + 2] == 25 * 3600 + 600
    assert str(tt.trip_headsign[late]) == "Late"
    # per-stop pattern lists point back at the stop
    for s in range(tt.n_stops):
        for j in range(tt.stop_pattern_ptr[s], tt.stop_pattern_ptr[s + 1]):
            p, i = tt.stop_pattern[j], tt.stop_pattern_pos[j]
            assert tt.pattern_stop[tt.pattern_stop_ptr[p] + i] == s


def test_stops_services_and_merge(tmp_path: Path) -> None:
    """Two feeds merged: ids namespaced 'feed:id', parents indexed, wheelchair inherited from
    the parent station, calendar_dates applied, the second feed's days re-based on the first."""
    trips = "route_id,service_id,trip_id\nR,WK,t"
    times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nt,08:00:00,08:00:00,A,1\nt,08:10:00,08:10:00,B,2"
    dates = "service_id,date,exception_type\nWK,20240306,2"
    one = feed(tmp_path, "one", trips=trips, stop_times=times, calendar_dates=dates)
    cal2 = CAL.replace("20240304", "20240306").replace("20240308", "20240312")
    two = feed(tmp_path, "two", trips=trips, stop_times=times, calendar=cal2)
    tt = build_timetable([one, two])
    assert tt.first_date == "2024-03-04" and tt.n_days == 9
    assert list(tt.feed_name) == ["one", "two"]
    a = tt.stop_index("one:A")
    assert tt.stop_parent[a] == tt.stop_index("one:ST")
    assert tt.stop_wheelchair[a] == 1  # inherited from the station
    assert tt.stop_wheelchair[tt.stop_index("two:B")] == 2
    assert tt.stop_index("two:A") != a
    services = {str(s): i for i, s in enumerate(tt.service_id)}
    assert tt.service_active[services["one:WK"]].tolist() == [1, 1, 0, 1, 1, 0, 0, 0, 0]
    assert tt.service_active[services["two:WK"]].tolist() == [0, 0, 1, 1, 1, 0, 0, 1, 1]
    assert sorted(str(t) for t in tt.trip_id) == ["one:t", "two:t"]
    assert list(tt.route_short_name) == ["1", "1"] and tt.route_type.tolist() == [3, 3]


def test_other_time_zone_is_shifted(tmp_path: Path) -> None:
    """A second feed in Europe/London (one hour behind Paris in March) has its 08:00 stored as
    09:00 in the timetable's zone (the first feed's)."""
    trips = "route_id,service_id,trip_id\nR,WK,t"
    times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nt,08:00:00,08:00:00,A,1\nt,08:10:00,08:10:00,B,2"
    paris = feed(tmp_path, "paris", trips=trips, stop_times=times)
    london = feed(tmp_path, "london", tz="Europe/London", trips=trips, stop_times=times)
    tt = build_timetable([paris, london])
    assert tt.timezone == "Europe/Paris"
    t = int(np.flatnonzero(tt.trip_id == "london:t")[0])
    assert tt.st_dep_s[tt.trip_st_ptr[t]] == 9 * 3600
    start = dt.datetime.fromtimestamp(tt.day_start_utc_s(0), dt.UTC)
    assert start == dt.datetime(2024, 3, 3, 23, 0, tzinfo=dt.UTC)


def test_in_seat_chains_and_store_round_trip(tmp_path: Path) -> None:
    """Block 'b' chains t1 and t2 (meeting at B) into one extra chained trip with two parts;
    the timetable saves without object arrays and loads back equal, memory-mapped."""
    trips = "route_id,service_id,trip_id,block_id\nR,WK,t1,b\nR,WK,t2,b"
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    t1,08:00:00,08:00:00,A,1
    t1,08:10:00,08:10:00,B,2
    t2,08:12:00,08:12:00,B,1
    t2,08:20:00,08:20:00,C,2
    """
    tt = build_timetable([feed(tmp_path, "f", trips=trips, stop_times=times)])
    assert tt.n_trips == 3 and int(tt.trip_chained.sum()) == 1
    chained = int(np.flatnonzero(tt.trip_chained)[0])
    parts = tt.part_trip[tt.trip_part_ptr[chained] : tt.trip_part_ptr[chained + 1]]
    assert [str(tt.trip_id[p]) for p in parts] == ["f:t1", "f:t2"]
    assert len(tt.inseat_from_trip) == 1
    Network(timetable=tt).save(tmp_path / "net")
    back = Network.load(tmp_path / "net").timetable
    assert isinstance(back, Timetable)
    for name, value in vars(tt).items():
        other = getattr(back, name)
        if isinstance(value, np.ndarray):
            assert value.dtype != object
            np.testing.assert_array_equal(np.asarray(other), value, err_msg=name)
        else:
            assert other == value, name


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(gen=gen_feeds())
def test_compile_keeps_every_trip_exactly(gen: GenFeed) -> None:
    """Random feeds: every GTFS trip comes back with its stops, times and permissions; each
    pattern is FIFO; trips are grouped by (stops, permissions) only."""
    with tempfile.TemporaryDirectory() as tmp:
        tt = build_timetable([read_gtfs(write_feed(Path(tmp) / "g", gen.files()), name="g")])
    stop_num = [int(str(s).removeprefix("g:s")) for s in tt.stop_id]
    for k, trip in enumerate(gen.trips):
        t = int(np.flatnonzero(tt.trip_id == f"g:t{k}")[0])
        p = tt.trip_pattern[t]
        a, b = tt.pattern_stop_ptr[p], tt.pattern_stop_ptr[p + 1]
        assert [stop_num[s] for s in tt.pattern_stop[a:b]] == trip.stops
        st = slice(tt.trip_st_ptr[t], tt.trip_st_ptr[t] + b - a)
        assert tt.st_arr_s[st].tolist() == trip.arr
        assert tt.st_dep_s[st].tolist() == trip.dep
        assert tt.pattern_board[a:b].tolist() == [x != 1 for x in trip.pickup]
        assert tt.pattern_alight[a:b].tolist() == [x != 1 for x in trip.dropoff]
    for p in range(tt.n_patterns):
        a, b = tt.pattern_trip_ptr[p], tt.pattern_trip_ptr[p + 1]
        n = tt.pattern_stop_ptr[p + 1] - tt.pattern_stop_ptr[p]
        assert (tt.trip_pattern[a:b] == p).all()
        for col in (tt.st_arr_s, tt.st_dep_s):
            block = np.stack([col[tt.trip_st_ptr[t] : tt.trip_st_ptr[t] + n] for t in range(a, b)])
            assert (np.diff(block, axis=0) >= 0).all()


@pytest.mark.parametrize(
    ("paths", "real_trips"),
    [
        (
            ("bundles/porto-alegre/poa_eptc.zip", "bundles/porto-alegre/poa_trensurb.zip"),
            2374 + 1248,
        ),
        (("bundles/portland/trimet-2routes.zip",), 2341),
    ],
)
def test_real_feeds_compile(paths: tuple[str, ...], real_trips: int) -> None:
    """Porto Alegre (two feeds) and Portland compile: every trip of the feeds is there (plus
    chained in-seat trips), patterns are FIFO, services cover the calendar."""
    feeds = [read_gtfs(shared_path(p)) for p in paths]
    tt = build_timetable(feeds)
    assert int((~tt.trip_chained).sum()) == real_trips
    assert tt.n_stop_times == int(np.diff(tt.pattern_stop_ptr)[tt.trip_pattern].sum())
    for p in range(tt.n_patterns):
        a, b = tt.pattern_trip_ptr[p], tt.pattern_trip_ptr[p + 1]
        n = int(tt.pattern_stop_ptr[p + 1] - tt.pattern_stop_ptr[p])
        rows = tt.trip_st_ptr[a] + np.arange((b - a) * n)
        block = tt.st_dep_s[rows].reshape(b - a, n)
        assert (np.diff(block, axis=0) >= 0).all()
    assert tt.service_active.any(axis=1).all()


def test_inseat_chains_across_services_and_forbidden_pairs(tmp_path: Path) -> None:
    """transfer_type 4 chains t1 (weekdays, accessible) into t2 (Wednesday to Sunday, not
    accessible): the chained trip runs on a new service 'SA&WK' (Wednesday to Friday) and is
    not accessible; a transfer_type 5 row forbids the block pair b1 -> b2."""
    cal = CAL + "SA,0,0,1,1,1,1,1,20240304,20240308"
    trips = """
    route_id,service_id,trip_id,trip_headsign,block_id,wheelchair_accessible
    R,WK,t1,One,,1
    R,SA,t2,Two,,2
    R,WK,b1,,blk,0
    R,WK,b2,,blk,0
    """
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    t1,08:00:00,08:00:00,A,1
    t1,08:10:00,08:10:00,B,2
    t2,08:12:00,08:12:00,B,1
    t2,08:20:00,08:20:00,C,2
    b1,09:00:00,09:00:00,A,1
    b1,09:10:00,09:10:00,B,2
    b2,09:12:00,09:12:00,B,1
    b2,09:20:00,09:20:00,C,2
    """
    transfers = """
    from_stop_id,to_stop_id,from_trip_id,to_trip_id,transfer_type
    B,B,t1,t2,4
    B,B,b1,b2,5
    """
    f = feed(tmp_path, "f", calendar=cal, trips=trips, stop_times=times, transfers=transfers)
    tt = build_timetable([f])
    assert tt.trip_id[tt.trip_chained].tolist() == ["f:t1+1"]
    chained = int(np.flatnonzero(tt.trip_chained)[0])
    assert str(tt.service_id[tt.trip_service[chained]]) == "f:SA&f:WK"
    assert tt.service_active[tt.trip_service[chained]].tolist() == [0, 0, 1, 1, 1]
    assert tt.trip_wheelchair[chained] == 2 and str(tt.trip_headsign[chained]) == "Two"
    assert [str(tt.trip_id[t]) for t in tt.inseat_from_trip] == ["f:t1"]
    assert [str(tt.trip_id[t]) for t in tt.inseat_to_trip] == ["f:t2"]
    assert tt.transfer_from_stop.size == 0  # rows between trips are no stop-to-stop transfers


def test_inseat_station_test_in_a_later_feed(tmp_path: Path) -> None:
    """In the second of two feeds, block 'x' runs B -> A then D -> C (A and D are different
    places, though D's index in its feed equals the merged index of A's station) and block 'y'
    runs B -> A then A2 -> C (A and A2 share station ST): only block 'y' becomes a chained trip."""
    plain = feed(
        tmp_path,
        "one",
        trips="route_id,service_id,trip_id\nR,WK,t",
        stop_times="trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "t,07:00:00,07:00:00,A,1\nt,07:10:00,07:10:00,B,2",
    )
    stops = STOPS + "D,Delta,45.03,3.0,0,,0\nA2,Alpha two,45.0,3.0,0,ST,0\n"
    trips = "route_id,service_id,trip_id,block_id\nR,WK,u1,x\nR,WK,u2,x\nR,WK,v1,y\nR,WK,v2,y"
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    u1,08:00:00,08:00:00,B,1
    u1,08:10:00,08:10:00,A,2
    u2,08:12:00,08:12:00,D,1
    u2,08:20:00,08:20:00,C,2
    v1,09:00:00,09:00:00,B,1
    v1,09:10:00,09:10:00,A,2
    v2,09:12:00,09:12:00,A2,1
    v2,09:20:00,09:20:00,C,2
    """
    two = feed(tmp_path, "two", stops=stops, trips=trips, stop_times=times)
    tt = build_timetable([plain, two])
    assert tt.trip_id[tt.trip_chained].tolist() == ["two:v1+1"]


def _chained_stations(tt: Timetable) -> list[list[int]]:
    """Stations served by each chained trip, a change of trip at one station counted once."""
    station = np.where(tt.stop_parent >= 0, tt.stop_parent, np.arange(tt.n_stops))
    out = []
    for t in np.flatnonzero(tt.trip_chained):
        p = tt.trip_pattern[t]
        s = station[tt.pattern_stop[tt.pattern_stop_ptr[p] : tt.pattern_stop_ptr[p + 1]]]
        out.append(s[np.r_[True, s[1:] != s[:-1]]].tolist())
    return out


SHUTTLE_STOPS = STOPS + "M,Middle,45.015,3.0,0,,0\nL,Loop,45.015,3.01,0,,0\n"


def _block_feed(tmp: Path, runs: list[str]):  # type: ignore[no-untyped-def]
    """One block 'b' whose trips run the given stop strings ('AMB': A, M, B), ten minutes a stop
    and two minutes at each terminus."""
    trips = "route_id,service_id,trip_id,block_id\n" + "".join(
        f"R,WK,t{k},b\n" for k in range(len(runs))
    )
    rows, minute = [], 8 * 60
    for k, run in enumerate(runs):
        for i, stop in enumerate(run):
            rows.append(
                f"t{k},{minute // 60:02d}:{minute % 60:02d}:00,"
                f"{minute // 60:02d}:{minute % 60:02d}:00,{stop},{i + 1}"
            )
            minute += 10 if i < len(run) - 1 else 2
    times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "\n".join(rows)
    return feed(tmp, "f", stops=SHUTTLE_STOPS, trips=trips, stop_times=times)


def test_shuttle_block_never_chains_back_and_forth(tmp_path: Path) -> None:
    """Defect 5: block 'b' shuttles A -> M -> B -> M -> A four times. Staying seated through a
    terminus only brings the rider back past stops already served (boarding there later is the
    same ride), so no chained trip is made: before the fix one chained trip of eight parts
    served M eight times and doubled the stop times."""
    tt = build_timetable([_block_feed(tmp_path, ["AMB", "BMA"] * 4)])
    assert int(tt.trip_chained.sum()) == 0
    assert tt.n_trips == 8 and tt.n_stop_times == 24


def test_loop_line_block_chains_each_change_once(tmp_path: Path) -> None:
    """A loop line split at its termini (A -> C -> B, then B -> L -> A, three times over): each
    change of trip lies in one chained trip of two trips that closes the loop (A ... A), and no
    chained trip serves a station twice on the way, so a rider from C to L stays seated."""
    tt = build_timetable([_block_feed(tmp_path, ["ACB", "BLA"] * 3)])
    ids = [str(t) for t in tt.trip_id[tt.trip_chained]]
    assert sorted(ids) == [f"f:t{k}+1" for k in range(5)]
    for served in _chained_stations(tt):
        assert len(served) == 5 and served[0] == served[-1] and len(set(served)) == 4


def _visits(stations: list[list[int]]) -> list[int]:
    """Stations of a run of trips, a trip's first stop at its previous trip's last one merged."""
    out: list[int] = []
    for trip in stations:
        out.extend(trip[1:] if out and trip[0] == out[-1] else trip)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    chains=st.lists(
        st.lists(st.lists(st.integers(0, 5), min_size=2, max_size=4), min_size=2, max_size=6),
        min_size=1,
        max_size=3,
    )
)
def test_loop_free_windows_match_plain_reference(chains: list[list[list[int]]]) -> None:
    """Random chains of trips over six stations: the kept runs are exactly the runs of two or
    more trips whose visits are distinct (the last may close the loop at the first, with at
    least four visits), not inside another such run; every run is checked by brute force."""
    trips = [trip for chain in chains for trip in chain]
    length = np.array([len(t) for t in trips], np.int64)
    start = np.cumsum(length) - length
    row_station = np.array([s for t in trips for s in t], np.int64)
    sizes = np.array([len(c) for c in chains], np.int64)
    chain_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    chain_trip = np.arange(len(trips), dtype=np.int64)

    def good(a: int, b: int) -> bool:
        v = _visits(trips[a:b])
        if len(set(v)) == len(v):
            return b - a >= 2
        return b - a >= 2 and v[0] == v[-1] and len(set(v[:-1])) == len(v) - 1 and len(v) >= 4

    expected = []
    for lo, hi in itertools.pairwise(chain_ptr.tolist()):
        runs = [(a, b) for a in range(lo, hi) for b in range(a + 2, hi + 1) if good(a, b)]
        expected += [
            (a, b)
            for a, b in runs
            if not any(x <= a and b <= y and (x, y) != (a, b) for x, y in runs)
        ]
    first, end = loop_free_windows(chain_ptr, chain_trip, start, length, row_station, 6)
    assert list(zip(first.tolist(), end.tolist(), strict=True)) == expected


@st.composite
def flat_trips(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Random trips as flat columns: few stops and permissions (keys repeat), times in a small
    range (ties and overtakes)."""
    n = draw(st.integers(1, 25))
    lengths = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    m = sum(lengths)

    def column(values: st.SearchStrategy[int] | st.SearchStrategy[bool]) -> list[int]:
        return draw(st.lists(values, min_size=m, max_size=m))

    length = np.array(lengths, np.int64)
    return (
        np.cumsum(length) - length,
        length,
        np.array(column(st.integers(0, 2)), np.int32),
        np.array(column(st.booleans()), bool),
        np.array(column(st.booleans()), bool),
        np.array(column(st.integers(0, 4)), np.int32),
        np.array(column(st.integers(0, 4)), np.int32),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(trips=flat_trips(), collide=st.booleans())
def test_pattern_kernels_match_plain_reference(
    trips: tuple[np.ndarray, ...], collide: bool
) -> None:
    """Random flat trips: pattern_keys groups trips by (stops, board, alight) like a dict, also
    when every hash collides; fifo_patterns sorts each key's trips by row (departures, then
    arrivals; ties in trip order) and puts each in the first pattern it does not overtake."""
    start, length, stop, board, alight, arr, dep = trips
    n = start.shape[0]

    def rows(k: int) -> slice:
        return slice(int(start[k]), int(start[k] + length[k]))

    keys: dict[tuple[tuple[int, ...], ...], list[int]] = {}
    for k in range(n):
        key = (tuple(stop[rows(k)]), tuple(board[rows(k)]), tuple(alight[rows(k)]))
        keys.setdefault(key, []).append(k)
    expected_rep = [0] * n
    for members in keys.values():
        for k in members:
            expected_rep[k] = members[0]
    digest = np.zeros(n, np.uint64) if collide else key_hashes(start, length, stop, board, alight)
    assert pattern_keys(digest, start, length, stop, board, alight).tolist() == expected_rep

    key_trip = np.array([k for members in keys.values() for k in members], np.int64)
    key_ptr = np.cumsum([0] + [len(members) for members in keys.values()]).astype(np.int64)

    def row(k: int) -> list[int]:
        return dep[rows(k)].tolist() + arr[rows(k)].tolist()

    expected: list[list[int]] = []
    for members in keys.values():
        groups: list[list[int]] = []
        for k in sorted(members, key=row):
            fit = [
                g for g in groups if all(x >= y for x, y in zip(row(k), row(g[-1]), strict=True))
            ]
            if fit:
                fit[0].append(k)
            else:
                groups.append([k])
        expected.extend(groups)
    ptr, trip = fifo_patterns(key_ptr, key_trip, start, length, arr, dep)
    assert [trip[a:b].tolist() for a, b in itertools.pairwise(ptr.tolist())] == expected
    ptr, trip = trip_patterns(start, length, stop, board, alight, arr, dep)
    assert [trip[a:b].tolist() for a, b in itertools.pairwise(ptr.tolist())] == expected


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    n=st.integers(1, 8),
    pairs=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=12),
)
def test_inseat_chains_match_plain_reference(n: int, pairs: list[tuple[int, int]]) -> None:
    """Random (trip, next trip) pairs, cycles included: inseat_chains keeps a pair when its first
    trip has no next and its second no previous trip yet, and walks one chain from each kept
    first trip without a previous one, in the order the pairs were kept."""
    pairs = [(a % n, b % n) for a, b in pairs]
    nxt: dict[int, int] = {}
    has_prev: set[int] = set()
    for a, b in pairs:
        if a not in nxt and b not in has_prev:
            nxt[a] = b
            has_prev.add(b)
    expected = []
    for head in nxt:
        if head in has_prev:
            continue
        chain = [head]
        while chain[-1] in nxt and nxt[chain[-1]] not in chain:
            chain.append(nxt[chain[-1]])
        expected.append(chain)
    pair_from = np.array([a for a, _ in pairs], np.int64)
    pair_to = np.array([b for _, b in pairs], np.int64)
    ptr, trip = inseat_chains(pair_from, pair_to, n)
    assert [trip[a:b].tolist() for a, b in itertools.pairwise(ptr.tolist())] == expected


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(0, 3), st.integers(0, 2**64 - 1), st.just(2**64 - 1)),
        max_size=300,
    )
)
def test_radix_argsort_is_a_stable_argsort(values: list[int]) -> None:
    """The kernels' radix argsort of 64-bit hashes equals numpy's stable argsort (repeats,
    values with the top bit set and the extremes included)."""
    array = np.array(values, dtype=np.uint64)
    np.testing.assert_array_equal(_argsort_u64(array), np.argsort(array, kind="stable"))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 6)), max_size=30),
    st.integers(1, 8),
)
def test_take_ranges_gathers_range_after_range(ranges: list[tuple[int, int]], step: int) -> None:
    """Gathering ranges of rows a few at a time gives the concatenated slices, whatever the
    step (empty ranges and ranges longer than a step included)."""
    values = np.arange(100, 130, dtype=np.int32)
    start = np.array([a for a, _ in ranges], dtype=np.int64)
    length = np.array([min(n, 30 - a) for a, n in ranges], dtype=np.int64)
    expected = [values[a : a + n] for a, n in zip(start, length, strict=True)]
    with patch.object(trips_module, "_GATHER_ROWS", step):
        (got,) = trips_module.take_ranges([values], start, length)
    np.testing.assert_array_equal(got, np.concatenate([np.zeros(0, np.int32), *expected]))
