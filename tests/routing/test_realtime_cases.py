"""Real time in journeys, case by case: alerts, added trips, skipped stops, mismatched feeds,
copy-on-write versions, the live planner, and the shared BART, Caltrain and Bull Runner feeds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

from arverne.errors import InputError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.realtime import read_gtfs_rt
from arverne.network.network import Network
from arverne.network.realtime import TimetableIndex, apply_realtime
from arverne.network.timetable import build_timetable
from arverne.routing.live import follow_realtime
from arverne.routing.planner import Planner
from tests.conftest import shared_path
from tests.feeds import rt_messages as m
from tests.feeds.test_realtime import _Server
from tests.routing.gtfs_gen import D0, N_DAYS, GenFeed, GenTrip, write_feed

UTC = dt.UTC
DAY0 = int(dt.datetime.combine(D0, dt.time(), UTC).timestamp())
DATE = f"{D0:%Y%m%d}"
H8 = 8 * 3600


def _trip(route: int, stops: list[int], start: int, hop: int = 600) -> GenTrip:
    times = [start + j * hop for j in range(len(stops))]
    n = len(stops)
    return GenTrip(route, 0, stops, times, list(times), [0] * n, [0] * n, 1, "")


def _static(feed: GenFeed) -> Planner:
    """A planner of the feed's timetable (no streets)."""
    with tempfile.TemporaryDirectory() as tmp:
        tt = build_timetable([read_gtfs(write_feed(Path(tmp) / "g", feed.files()), name="g")])
    return Planner(Network(timetable=tt))


@pytest.fixture(scope="module")
def planner() -> Planner:
    """Bus r0 s0 -> s1 -> s2 at 08:00 (t0) and 09:00 (t1); tram r1 s0 -> s3 at 08:00 (t2)."""
    return _static(
        GenFeed(
            4,
            [1] * 4,
            [3, 0],
            [_trip(0, [0, 1, 2], H8), _trip(0, [0, 1, 2], H8 + 3600), _trip(1, [0, 3], H8)],
            [[True] * N_DAYS],
        )
    )


@pytest.fixture(scope="module")
def block_planner() -> Planner:
    """Block b1: t0 s0 -> s1 at 08:00 (arrives 08:10), then t1 s1 -> s2 at 08:15."""
    trips = [_trip(0, [0, 1], H8), _trip(0, [1, 2], H8 + 900)]
    for t in trips:
        t.block = "b1"
    return _static(GenFeed(3, [1] * 3, [3], trips, [[True] * N_DAYS]))


def _plan(planner: Planner, a: int, b: int, hour: float = 7.5) -> list:  # type: ignore[type-arg]
    tt = planner.tt
    when = dt.datetime.combine(D0, dt.time(), UTC) + dt.timedelta(hours=hour)
    return planner.plan_stops(tt.stop_index(f"g:s{a}"), tt.stop_index(f"g:s{b}"), depart_at=when)


def _live(planner: Planner, data: bytes) -> Planner:
    """A planner of the same static network with the message applied."""
    live = Planner(planner.static)
    live.use_realtime(apply_realtime(live.tt, read_gtfs_rt(data, now=DAY0)))
    return live


def test_alert_reaches_the_journeys_it_concerns(planner: Planner) -> None:
    """A route alert reaches journeys riding that route only; a stop alert those boarding or
    leaving there; an alert active another day reaches none; an agency alert reaches all.
    """
    data = m.message(
        timestamp=DAY0,
        alerts=[
            m.alert({"route_id": "r0"}, header="bus works"),
            m.alert({"stop_id": "s3"}, header="tram stop closed"),
            m.alert({"route_id": "r1"}, header="later", active=[(DAY0 + 86400, DAY0 + 2 * 86400)]),
            m.alert({"agency_id": "a"}, header="strike"),
        ],
    )
    live = _live(planner, data)
    bus = _plan(live, 0, 2)[0]
    tram = _plan(live, 0, 3)[0]
    assert [leg.route_id for leg in bus.legs] == ["g:r0"]
    assert [a.header for a in bus.alerts] == ["bus works", "strike"]
    assert [a.header for a in tram.alerts] == ["tram stop closed", "strike"]
    assert bus.to_dict()["alerts"][0]["header"] == "bus works"
    # the static planner knows no alert
    assert not _plan(planner, 0, 2)[0].alerts


def test_alerts_of_stops_and_lines(planner: Planner) -> None:
    """Stop and line pages: an alert naming s3 is the stop's, a route alert its line's, an
    agency alert every line's, a trip alert its trip's line."""
    data = m.message(
        timestamp=DAY0,
        alerts=[
            m.alert({"stop_id": "s3"}, header="closed"),
            m.alert({"route_id": "r0"}, header="works"),
            m.alert({"agency_id": "a"}, header="strike"),
            m.alert({"trip_id": "t2"}, header="late tram"),
        ],
    )
    rt = apply_realtime(planner.tt, read_gtfs_rt(data, now=DAY0))
    tt = planner.tt
    r0, r1 = (int(np.flatnonzero(tt.route_id == f"g:{r}")[0]) for r in ("r0", "r1"))
    assert [a.header for a in rt.stop_alerts(tt.stop_index("g:s3"))] == ["closed"]
    assert not rt.stop_alerts(tt.stop_index("g:s0"))
    assert [a.header for a in rt.route_alerts(r0)] == ["works", "strike"]
    assert [a.header for a in rt.route_alerts(r1)] == ["strike", "late tram"]


def test_delay_shifts_arrival_and_marks_the_leg(planner: Planner) -> None:
    """A 5-minute delay from s1 on shifts the arrival at s2 and the leg says live, +300 s."""
    tu = m.trip_update(
        "t0", [m.stu("s0", arr_delay=0), m.stu("s1", arr_delay=300)], start_date=DATE
    )
    live = _live(planner, m.message(timestamp=DAY0, trip_updates=[tu]))
    (j,) = _plan(live, 0, 2)
    (leg,) = j.legs
    assert leg.realtime and leg.delay_s == 300
    assert j.arrival == dt.datetime.combine(D0, dt.time(8, 25), UTC)
    assert "[live, +5 min]" in j.to_text()
    static = _plan(planner, 0, 2)[0].legs[0]
    assert not static.realtime and static.delay_s == 0


def test_on_time_confirmation_changes_no_array(planner: Planner) -> None:
    """An update that confirms the schedule adds no trip but marks the leg live."""
    tu = m.trip_update("t0", [m.stu("s0", arr_delay=0)], start_date=DATE)
    rt = apply_realtime(planner.tt, read_gtfs_rt(m.message(trip_updates=[tu]), now=DAY0))
    assert rt.timetable is planner.tt and rt.counts["on_time"] == 1
    live = Planner(planner.static)
    live.use_realtime(rt)
    leg = _plan(live, 0, 2)[0].legs[0]
    assert leg.realtime and leg.delay_s == 0 and leg.trip_id == "g:t0"


def test_skipped_stop_cannot_be_used(planner: Planner) -> None:
    """With s1 skipped by t0, a rider from s1 waits for t1, and t0 cannot drop at s1."""
    tu = m.trip_update("t0", [m.stu("s0", arr_delay=0), m.stu("s1", skipped=True)], start_date=DATE)
    live = _live(planner, m.message(timestamp=DAY0, trip_updates=[tu]))
    assert [leg.trip_id for leg in _plan(live, 1, 2)[0].legs] == ["g:t1"]
    assert _plan(live, 0, 1)[0].arrival == dt.datetime.combine(D0, dt.time(9, 10), UTC)
    assert _plan(planner, 0, 1)[0].arrival == dt.datetime.combine(D0, dt.time(8, 10), UTC)


def test_added_trip_is_boardable(planner: Planner) -> None:
    """An ADDED trip with known stops and times (no route given) runs and can be boarded; its
    route is the one serving its stops in order.
    """
    stops = [
        m.stu(f"s{i}", arr=DAY0 + H8 + 900 + 300 * i, dep=DAY0 + H8 + 900 + 300 * i)
        for i in (0, 1, 2)
    ]
    tu = m.trip_update("extra", stops, relationship="ADDED")
    live = _live(planner, m.message(timestamp=DAY0, trip_updates=[tu]))
    assert live.realtime is not None and live.realtime.counts["added"] == 1
    (leg,) = _plan(live, 0, 2, hour=8.1)[0].legs
    assert (leg.trip_id, leg.route_id, leg.realtime) == ("g:extra", "g:r0", True)
    assert leg.start == dt.datetime.combine(D0, dt.time(8, 15), UTC)


def test_added_trip_with_unknown_stop_is_a_notice(planner: Planner) -> None:
    """An ADDED trip through an unknown stop is not added: a notice says why."""
    stops = [m.stu("s0", arr=DAY0 + H8), m.stu("nowhere", arr=DAY0 + H8 + 60)]
    tu = m.trip_update("extra", stops, relationship="ADDED")
    rt = apply_realtime(planner.tt, read_gtfs_rt(m.message(timestamp=DAY0, trip_updates=[tu])))
    assert rt.timetable is planner.tt
    assert [n.code for n in rt.notices if n.code != "W008"] == ["added_trip_unusable"]


def test_mismatched_feeds_are_notices(planner: Planner) -> None:
    """Unknown trip ids (E003), unknown stops (E011), a trip not running that day, a stale
    header (W008) and another agency's feed are notices; nothing crashes or changes.
    """
    tus = [
        m.trip_update("ghost", [m.stu("s0", arr_delay=60)], start_date=DATE),
        m.trip_update("t0", [m.stu("zz", arr_delay=60)], start_date=DATE),
        m.trip_update("t1", [m.stu("s0", arr_delay=60)], start_date="20300101"),
    ]
    stale = read_gtfs_rt(m.message(timestamp=DAY0 - 3600, trip_updates=tus), now=DAY0)
    rt = apply_realtime(planner.tt, stale)
    codes = sorted(n.code for n in rt.notices)
    assert codes == ["E003", "E011", "W008", "trip_not_running"]
    assert rt.counts["unmatched"] == 2
    foreign = m.message(
        trip_updates=[m.trip_update("BART-1", [m.stu("MONT", arr_delay=60)])],
        vehicles=[m.vehicle(37.7, -122.4, trip_id="BART-2")],
    )
    rt = apply_realtime(planner.tt, read_gtfs_rt(foreign, now=1_700_000_000))
    assert [n.code for n in rt.notices] == ["foreign_realtime_feed"]
    assert rt.timetable is planner.tt and not rt.vehicles


def test_version_is_copy_on_write(planner: Planner) -> None:
    """A version shares every array the update does not change with its base, and the base's
    arrays keep their values.
    """
    tt = planner.tt
    before = {
        f.name: np.array(getattr(tt, f.name))
        for f in dataclasses.fields(tt)
        if isinstance(getattr(tt, f.name), np.ndarray)
    }
    tus = [
        m.trip_update("t0", [m.stu("s0", arr_delay=120)], start_date=DATE),
        m.trip_update("t2", start_date=DATE, relationship="CANCELED"),
    ]
    rt = apply_realtime(tt, read_gtfs_rt(m.message(trip_updates=tus), now=DAY0))
    v = rt.timetable
    for name, values in before.items():
        assert np.array_equal(getattr(tt, name), values), name
    for name in ("stop_id", "route_id", "shape_lon", "transfer_from_stop", "inseat_from_trip"):
        assert getattr(v, name) is getattr(tt, name)
    t0 = int(np.flatnonzero(tt.trip_id == "g:t0")[0])
    assert v.n_trips == tt.n_trips + 1 and rt.base_trip(tt.n_trips) == t0
    t2 = int(np.flatnonzero(tt.trip_id == "g:t2")[0])
    assert not v.service_active[v.trip_service[t2], 0] and v.service_active[v.trip_service[t2], 1]


def test_version_saves_and_loads(planner: Planner, tmp_path: Path) -> None:
    """A real-time version is an ordinary timetable part: the store saves it and its checks
    accept it on load, with the same answers."""
    tu = m.trip_update("t0", [m.stu("s1", arr_delay=300)], start_date=DATE)
    rt = apply_realtime(planner.tt, read_gtfs_rt(m.message(trip_updates=[tu]), now=DAY0))
    loaded = Network.load(Network(timetable=rt.timetable).save(tmp_path / "rt"))
    assert loaded.timetable is not None and loaded.timetable.n_trips == rt.timetable.n_trips
    assert _plan(Planner(loaded), 0, 2)[0].arrival == dt.datetime.combine(D0, dt.time(8, 25), UTC)


def test_use_realtime_refuses_a_foreign_version(planner: Planner) -> None:
    """A version applied to another timetable is refused; None goes back to static."""
    other = dataclasses.replace(planner.tt)
    rt = apply_realtime(other, read_gtfs_rt(m.message(), now=1_700_000_000))
    live = Planner(planner.static)
    with pytest.raises(InputError, match="not applied to this planner"):
        live.use_realtime(rt)
    live.use_realtime(None)
    assert live.realtime is None and live.tt is planner.tt


def test_follow_realtime_swaps_versions(planner: Planner) -> None:
    """A planner following a loopback URL plans on each round's version, whole."""
    server = _Server()
    try:
        live = Planner(planner.static)
        tu = m.trip_update("t0", [m.stu("s0", arr_delay=600)], start_date=DATE)
        server.body = m.message(trip_updates=[tu])
        fetcher = follow_realtime(live, [server.url], every=dt.timedelta(seconds=60), start=False)
        fetcher.fetch_once()
        assert fetcher.last_error is None and live.realtime is not None
        assert _plan(live, 0, 2)[0].legs[0].delay_s == 600
        server.body = m.message(trip_updates=[])
        fetcher.fetch_once()  # a full dataset without the update: back to the schedule
        assert live.realtime.counts.get("updated", 0) == 0
        assert _plan(live, 0, 2)[0].legs[0].delay_s == 0
    finally:
        server.close()


def test_queries_while_versions_swap(planner: Planner) -> None:
    """Queries running while another thread swaps versions always see one whole version: the
    arrival is the schedule's or the delayed one, never an error.
    """
    live = Planner(planner.static)
    versions = [
        apply_realtime(
            live.tt,
            read_gtfs_rt(
                m.message(
                    trip_updates=[m.trip_update("t0", [m.stu("s0", arr_delay=d)], start_date=DATE)]
                ),
                now=DAY0,
            ),
        )
        for d in (0, 300, 600)
    ]
    stop = threading.Event()

    def swap() -> None:
        i = 0
        while not stop.is_set():
            live.use_realtime(versions[i % 3])
            i += 1

    thread = threading.Thread(target=swap)
    thread.start()
    try:
        seen = {_plan(live, 0, 2)[0].arrival.time() for _ in range(60)}
    finally:
        stop.set()
        thread.join()
    assert seen <= {dt.time(8, 20), dt.time(8, 25), dt.time(8, 30)}


@pytest.mark.parametrize(
    ("bundle", "static", "messages", "expect"),
    [
        (
            "bart-rt",
            "bart-rt.zip",
            ["bart-trip-updates.pb", "bart-alerts.pb"],
            {"trip_updates": 91, "matched": 65, "updated": 65, "added": 7, "alerts_matched": 1},
        ),
        (
            "caltrain-rt",
            "ct.zip",
            ["ct-trip-updates.pb", "ct-vehicle-positions.pb", "ct-service-alerts.pb"],
            {"trip_updates": 19, "matched": 19, "vehicles": 14, "vehicles_matched": 14},
        ),
        (
            "bullrunner-rt",
            "bullrunner-gtfs.zip",
            ["bullrunner-vehicle-positions"],
            {"vehicles": 10, "vehicles_matched": 10},
        ),
    ],
)
def test_real_feeds_apply(bundle: str, static: str, messages: list[str], expect: dict) -> None:  # type: ignore[type-arg]
    """The shared real-time messages apply to their static feeds without error, with the
    counts of matched trips the messages hold (BART: 18 trip ids of another timetable, one
    added trip with one stop), and the planner answers on the version.
    """
    name = static.split(".")[0]
    tt = build_timetable([read_gtfs(shared_path(f"bundles/{bundle}/{static}"), name=name)])
    feeds = []
    for msg in messages:
        path = shared_path(f"bundles/{bundle}/{msg}")
        feeds.append(read_gtfs_rt(path, now=read_gtfs_rt(path).timestamp))
    rt = apply_realtime(tt, feeds, index=TimetableIndex(tt))
    for key, value in expect.items():
        assert rt.counts.get(key, 0) == value, (key, rt.counts)
    assert not [n for n in rt.notices if n.code in ("foreign_realtime_feed", "invalid_protobuf")]
    planner = Planner(Network(timetable=tt))
    planner.use_realtime(rt)
    if rt.timetable is not tt:
        t = tt.n_trips  # the first new trip: plan along it from just before it leaves
        p = int(rt.timetable.trip_pattern[t])
        stops = rt.timetable.pattern_stop[
            rt.timetable.pattern_stop_ptr[p] : rt.timetable.pattern_stop_ptr[p + 1]
        ]
        day = next(iter(rt.tracked))[1] if rt.tracked else 0
        start = (
            tt.day_start_utc_s(day) + int(rt.timetable.st_dep_s[rt.timetable.trip_st_ptr[t]]) - 60
        )
        when = dt.datetime.fromtimestamp(start, UTC)
        journeys = planner.plan_stops(int(stops[0]), int(stops[-1]), depart_at=when)
        assert journeys and any(leg.realtime for j in journeys for leg in j.legs)


def test_cancelled_part_stops_the_in_seat_ride(block_planner: Planner) -> None:
    """Block b1 runs t0 s0->s1 then t1 s1->s2: with t1 cancelled on day 0, nobody rides
    from s0 to s2 that day (neither seated through nor by changing): the answer is day 1's
    seated ride."""
    assert bool(np.asarray(block_planner.tt.trip_chained).any())
    tu = m.trip_update("t1", start_date=DATE, relationship="CANCELED")
    live = _live(block_planner, m.message(timestamp=DAY0, trip_updates=[tu]))
    (seated,) = _plan(live, 0, 2)  # the next day's: day 0 has none
    assert seated.departure.date() == D0 + dt.timedelta(days=1)
    assert [leg.trip_id for leg in seated.legs] == ["g:t0", "g:t1"] and seated.legs[1].stay_seated


def test_stop_sequence_picks_the_visit_of_a_loop(tmp_path: Path) -> None:
    """Loop t0 s0 -> s1 -> s0 -> s2 numbered 10, 20, 30, 40: an update of stop_sequence 30
    alone delays the second visit of s0, not the first; one naming s2 with stop_sequence 20
    (E045) is matched by its stop id; the sequences survive a version's save and load."""
    trip = _trip(0, [0, 1, 0, 2], H8)
    trip.seq = [10, 20, 30, 40]
    feed = GenFeed(3, [1] * 3, [3], [trip], [[True] * N_DAYS])
    tt = build_timetable([read_gtfs(write_feed(tmp_path / "g", feed.files()), name="g")])
    assert tt.stop_sequences(0).tolist() == [10, 20, 30, 40]
    tus = [m.trip_update("t0", [m.stu(None, seq=30, arr_delay=300)], start_date=DATE)]
    rt = apply_realtime(tt, read_gtfs_rt(m.message(timestamp=DAY0, trip_updates=tus), now=DAY0))
    v, t = rt.timetable, tt.n_trips
    st0 = int(v.trip_st_ptr[t])
    assert v.st_arr_s[st0 : st0 + 4].tolist() == [H8, H8 + 600, H8 + 1500, H8 + 2100]
    assert not rt.notices
    loaded = Network.load(Network(timetable=v).save(tmp_path / "rt")).timetable
    assert loaded is not None and loaded.stop_sequences(t).tolist() == [10, 20, 30, 40]
    tus = [m.trip_update("t0", [m.stu("s2", seq=20, arr_delay=60)], start_date=DATE)]
    rt = apply_realtime(tt, read_gtfs_rt(m.message(timestamp=DAY0, trip_updates=tus), now=DAY0))
    st0 = int(rt.timetable.trip_st_ptr[t])
    assert rt.timetable.st_arr_s[st0 : st0 + 4].tolist() == [H8, H8 + 600, H8 + 1200, H8 + 1860]
    assert [n.code for n in rt.notices] == ["E045"]


@pytest.mark.parametrize(("late", "seated"), [(240, True), (420, False)])
def test_delayed_run_keeps_the_seat_while_the_layover_absorbs_it(
    block_planner: Planner, late: int, seated: bool
) -> None:
    """Block b1: t0 s0 -> s1 arrives 08:10, t1 s1 -> s2 leaves 08:15. With t0 4 min late the
    rider stays seated (arriving at t1's time, no delay carried into t1); 7 min late, t1 has
    left: no seated ride that day, and no ride of t1 at all from s0 (it left before)."""
    tu = m.trip_update("t0", [m.stu("s1", arr_delay=late)], start_date=DATE)
    live = Planner(block_planner.static)
    rt = apply_realtime(
        live.tt, read_gtfs_rt(m.message(timestamp=DAY0, trip_updates=[tu]), now=DAY0)
    )
    live.use_realtime(rt)
    assert rt.counts.get("seated_rides", 0) == int(seated)
    first = _plan(live, 0, 2)[0]
    if seated:
        assert first.departure.date() == D0 and first.arrival.time() == dt.time(8, 25)
        assert [leg.trip_id for leg in first.legs] == ["g:t0", "g:t1"]
        assert first.legs[1].stay_seated and first.legs[1].delay_s == 0
        assert first.legs[0].delay_s == late
    else:
        assert first.departure.date() == D0 + dt.timedelta(days=1)
