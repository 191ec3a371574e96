"""Reading GTFS-realtime messages: records, validator notices, files, URLs and the fetcher."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from arverne.errors import InputError
from arverne.feeds.notices import Severity
from arverne.feeds.realtime import read_gtfs_rt
from arverne.feeds.realtime_fetch import RealtimeFetcher
from tests.conftest import shared_path
from tests.feeds import rt_messages as m

T0 = 1_700_000_000


def _codes(feed: object) -> list[str]:
    return [n.code for n in feed.notices]  # type: ignore[attr-defined]


def test_trip_update_records() -> None:
    """A trip update with times, delays, a skipped stop and NO_DATA reads into its records."""
    data = m.message(
        timestamp=T0,
        trip_updates=[
            m.trip_update(
                "t1",
                [
                    m.stu("a", seq=1, arr=T0 + 60, dep=T0 + 90),
                    m.stu("b", seq=2, arr_delay=120),
                    m.stu("c", seq=3, skipped=True),
                    m.stu("d", seq=4, no_data=True),
                ],
                start_date="20231114",
                start_time="07:05:00",
                route_id="r",
                timestamp=T0 - 5,
            ),
            m.trip_update("t2", relationship="CANCELED"),
        ],
    )
    feed = read_gtfs_rt(data, now=T0)
    assert feed.ok and feed.timestamp == T0 and not feed.notices
    tu, cancelled = feed.trip_updates
    assert (tu.trip_id, tu.route_id, tu.start_time) == ("t1", "r", "07:05:00")
    assert tu.start_date == dt.date(2023, 11, 14) and tu.timestamp == T0 - 5
    a, b, c, d = tu.stop_time_updates
    assert (a.arrival_time, a.departure_time, a.arrival_delay) == (T0 + 60, T0 + 90, None)
    assert (b.arrival_delay, b.arrival_time, b.has_data) == (120, None, True)
    assert (c.relationship, d.relationship, c.has_data) == ("SKIPPED", "NO_DATA", False)
    assert cancelled.relationship == "CANCELED" and cancelled.properties is None


def test_trip_properties() -> None:
    """A DUPLICATED update's trip_properties read into their record; a start time or date
    that is not one is a notice (E020, E021) and left out."""
    props = {"trip_id": "t1-copy", "start_date": "20231115", "start_time": "25:10:00"}
    bad = {"trip_id": "t1-bis", "start_date": "2023-11-15", "start_time": "7h"}
    tus = [
        m.trip_update("t1", relationship="DUPLICATED", properties=props),
        m.trip_update("t1", relationship="DUPLICATED", properties=bad),
    ]
    feed = read_gtfs_rt(m.message(timestamp=T0, trip_updates=tus), now=T0)
    good, wrong = (tu.properties for tu in feed.trip_updates)
    assert good is not None and wrong is not None
    assert (good.trip_id, good.start_date, good.start_time) == (
        "t1-copy",
        dt.date(2023, 11, 15),
        "25:10:00",
    )
    assert (wrong.trip_id, wrong.start_date, wrong.start_time) == ("t1-bis", None, None)
    assert sorted(_codes(feed)) == ["E020", "E021"]


def test_alerts_and_vehicles() -> None:
    """Alerts keep text, effect, periods and informed entities; vehicles keep position and trip."""
    data = m.message(
        alerts=[m.alert({"route_id": "r1"}, {"stop_id": "s", "route_id": "r2"}, header="works")],
        vehicles=[m.vehicle(45.1, 3.2, trip_id="t1"), m.vehicle(95.0, 3.0)],
    )
    feed = read_gtfs_rt(data, now=T0)
    (alert,) = feed.alerts
    assert alert.header == "works" and alert.effect == "SIGNIFICANT_DELAYS"
    assert [(e.route_id, e.stop_id) for e in alert.informed] == [("r1", None), ("r2", "s")]
    assert alert.active_during(0, 1)  # no period: always
    (vp,) = feed.vehicles  # the one at latitude 95 is refused
    assert (vp.lat, vp.lon) == pytest.approx((45.1, 3.2), abs=1e-5)  # float32 on the wire
    assert (vp.trip_id, vp.vehicle_id) == ("t1", "bus-1")
    assert _codes(feed) == ["E026"]


def test_alert_period() -> None:
    """An alert with an active period is active only when the time span meets it."""
    feed = read_gtfs_rt(m.message(alerts=[m.alert({"route_id": "r"}, active=[(100, 200)])]), now=T0)
    a = feed.alerts[0]
    assert a.active_during(150, 160) and a.active_during(50, 100) and not a.active_during(201, 300)


def test_malformed_message_is_a_notice() -> None:
    """Bytes that are not a FeedMessage give an empty feed with invalid_protobuf, never a crash."""
    for junk in (b"\xff\xff\x00garbage", b"", m.message()[:-3] + b"\x12"):
        feed = read_gtfs_rt(junk, now=T0)
        assert not feed.ok and not feed.trip_updates and _codes(feed) == ["invalid_protobuf"]
        assert feed.notices[0].severity is Severity.ERROR


@pytest.mark.parametrize(
    ("stamp", "now", "code"),
    [
        (T0 - 3600, T0, "W008"),  # stale header
        (T0 * 1000, T0, "E001"),  # milliseconds
        (None, T0, "W001"),  # no timestamp
    ],
)
def test_header_timestamp_notices(stamp: int | None, now: int, code: str) -> None:
    """A stale, millisecond or missing header timestamp gives the validator's code."""
    feed = read_gtfs_rt(m.message(timestamp=stamp), now=now)
    assert _codes(feed) == [code]


def test_fresh_header_has_no_notice() -> None:
    """A header 30 s old is not stale (the bound is 65 s)."""
    assert not read_gtfs_rt(m.message(timestamp=T0 - 30), now=T0).notices


def test_stop_time_update_notices() -> None:
    """Unsorted stop_sequence (E002), times running backwards (E022), departure before
    arrival (E025), a bad start_date (E021) and an entity newer than the header (E012).
    """
    data = m.message(
        timestamp=T0,
        trip_updates=[
            m.trip_update(
                "t",
                [
                    m.stu("a", seq=2, arr=T0 + 100, dep=T0 + 50),
                    m.stu("b", seq=1, arr=T0 + 10),
                ],
                start_date="2023-11-14",
                timestamp=T0 + 10,
            )
        ],
    )
    codes = _codes(read_gtfs_rt(data, now=T0))
    assert sorted(codes) == ["E002", "E012", "E021", "E022", "E025"]


def test_alert_without_entity() -> None:
    """An alert with no informed entity gives E032 and is kept (it informs nobody)."""
    feed = read_gtfs_rt(m.message(alerts=[m.alert()]), now=T0)
    assert _codes(feed) == ["E032"] and feed.alerts[0].informed == ()


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """A local path that is no file is the caller's mistake: a clear InputError."""
    with pytest.raises(InputError, match="neither a file nor"):
        read_gtfs_rt(tmp_path / "nope.pb")


def test_file_source(tmp_path: Path) -> None:
    """A message read from a file names the file in its notices."""
    path = tmp_path / "tu.pb"
    path.write_bytes(m.message(timestamp=T0 - 600))
    feed = read_gtfs_rt(path, now=T0)
    assert feed.source == str(path) and feed.notices[0].file == str(path)


class _Server:
    """A loopback HTTP server returning ``body`` (settable) at any path."""

    def __init__(self) -> None:
        self.body = b""
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tu.pb"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    """A loopback HTTP server for one test."""
    s = _Server()
    yield s
    s.close()


def test_url_source(server: _Server) -> None:
    """A message served over HTTP on loopback reads like the file."""
    server.body = m.message(timestamp=T0, trip_updates=[m.trip_update("t")])
    feed = read_gtfs_rt(server.url, now=T0)
    assert feed.ok and [tu.trip_id for tu in feed.trip_updates] == ["t"]


def test_unreachable_url_is_a_notice(server: _Server) -> None:
    """A URL nobody answers gives fetch_failed, not an exception."""
    url = server.url
    server.close()
    feed = read_gtfs_rt(url, timeout_s=2)
    assert not feed.ok and _codes(feed) == ["fetch_failed"]


def test_fetcher_rounds_and_timestamp_checks(server: _Server) -> None:
    """Each round hands its feeds over; a header going back gives E018, the same header with
    other content E017; a callback that raises does not end the schedule.
    """
    got: list[list[str]] = []

    def on_feeds(feeds: list) -> None:  # type: ignore[type-arg]
        got.append(_codes(feeds[0]))
        if len(got) == 2:
            raise RuntimeError("a bad round")

    fetcher = RealtimeFetcher([server.url], every=dt.timedelta(seconds=60), on_feeds=on_feeds)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    server.body = m.message(timestamp=now)
    fetcher.fetch_once()
    server.body = m.message(timestamp=now - 10)
    fetcher.fetch_once()
    server.body = m.message(timestamp=now - 10, trip_updates=[m.trip_update("t")])
    fetcher.fetch_once()
    assert got == [[], ["E018"], ["E017"]]
    assert isinstance(fetcher.last_error, RuntimeError) and fetcher.rounds == 3


def test_fetcher_schedule(server: _Server) -> None:
    """Started, the fetcher runs rounds every interval on its thread until stopped."""
    server.body = m.message(timestamp=int(dt.datetime.now(dt.UTC).timestamp()))
    done = threading.Event()
    rounds: list[int] = []

    def on_feeds(feeds: list) -> None:  # type: ignore[type-arg]
        rounds.append(len(feeds))
        if len(rounds) >= 3:
            done.set()

    with RealtimeFetcher([server.url], every=dt.timedelta(seconds=0.05), on_feeds=on_feeds):
        assert done.wait(10)
    assert rounds[:3] == [1, 1, 1]


def test_fetcher_reads_files(tmp_path: Path) -> None:
    """A fetcher reads files too; a file gone missing is a fetch_failed notice, not an error."""
    path = tmp_path / "tu.pb"
    path.write_bytes(m.message(timestamp=int(dt.datetime.now(dt.UTC).timestamp())))
    got: list[list[str]] = []
    fetcher = RealtimeFetcher(
        [path, tmp_path / "gone.pb"],
        every=dt.timedelta(seconds=60),
        on_feeds=lambda feeds: got.append([",".join(_codes(f)) for f in feeds]),
    )
    fetcher.fetch_once()
    assert got == [["", "fetch_failed"]]


def test_fetcher_refuses_bad_schedule() -> None:
    """A fetcher without sources or with a non-positive interval is refused."""
    with pytest.raises(InputError, match="positive"):
        RealtimeFetcher(["x"], every=dt.timedelta(0), on_feeds=lambda f: None)
    with pytest.raises(InputError, match="at least one"):
        RealtimeFetcher([], every=dt.timedelta(seconds=1), on_feeds=lambda f: None)


@pytest.mark.parametrize(
    ("path", "counts"),
    [
        ("bundles/bart-rt/bart-trip-updates.pb", (91, 0, 0)),
        ("bundles/bart-rt/bart-alerts.pb", (0, 1, 0)),
        ("bundles/caltrain-rt/ct-trip-updates.pb", (19, 0, 0)),
        ("bundles/caltrain-rt/ct-vehicle-positions.pb", (0, 0, 14)),
        ("bundles/caltrain-rt/ct-service-alerts.pb", (0, 0, 0)),
        ("bundles/bullrunner-rt/bullrunner-vehicle-positions", (0, 0, 10)),
    ],
)
def test_real_messages(path: str, counts: tuple[int, int, int]) -> None:
    """The shared BART, Caltrain and Bull Runner messages read whole, judged at their own time."""
    probe = read_gtfs_rt(shared_path(path))
    feed = read_gtfs_rt(shared_path(path), now=probe.timestamp)
    assert feed.ok and "W008" in _codes(probe) and "W008" not in _codes(feed)
    assert (len(feed.trip_updates), len(feed.alerts), len(feed.vehicles)) == counts
    assert all(n.severity <= Severity.ERROR for n in feed.notices)
