"""Live sources in the service, on the demo territory: GTFS-realtime (file and loopback URL),
GBFS and carpool offers read on a schedule, applied to departures, lines, vehicles and
journeys; a failed read keeps the last good state; a request never mixes two live states.

Scenario (Monday 2026-11-30): bus 10's 07:00 run from Saint-Vidal (07:09 at Chambourg Église)
runs 5 minutes late, its 07:35 run from the station (07:45 at Chambourg) is cancelled, an alert
concerns line 10, and one vehicle position is on the late run.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.transit import gtfs_realtime_pb2 as pb

from arverne.errors import InputError
from arverne.network.network import Network
from arverne.service.settings import ENV_SETTINGS, ServiceLimits, ServiceSettings
from tests.feeds import rt_messages as rtm
from tests.service.conftest import DEMO_DAY, make_client
from tests.service.test_serve import _free_port
from tests.service.test_swap import _renamed

NS = "territory-gtfs:"
LATE = "L10-SEM-1-0700"
CANCELLED = "L10-SEM-0-0735"
LIMITS = ServiceLimits(rate_per_s=1000.0, rate_burst=1000)
CHAMB = (3.110565, 45.760103)
GARE_A = (3.103087, 45.700108)


def scenario_message(delay_s: int = 300) -> bytes:
    """The scenario's GTFS-realtime message (trip updates, an alert, a vehicle)."""
    return rtm.message(
        timestamp=1_796_000_000,
        trip_updates=[
            rtm.trip_update(LATE, start_date=DEMO_DAY, delay=delay_s),
            rtm.trip_update(CANCELLED, start_date=DEMO_DAY, relationship="CANCELED"),
        ],
        alerts=[rtm.alert({"route_id": "L10"}, header="Roadworks at Chambourg")],
        vehicles=[rtm.vehicle(45.762, 3.16, trip_id=LATE)],
    )


def settings(demo_net: Path, **live: Any) -> ServiceSettings:
    """Settings over the demo network with the given live sources."""
    return ServiceSettings(network_dir=demo_net, limits=LIMITS, **live)


@pytest.fixture(scope="module")
def rt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario's message as a file."""
    path = tmp_path_factory.mktemp("rt") / "trip-updates.pb"
    path.write_bytes(scenario_message())
    return path


@pytest.fixture(scope="module")
def live(demo_net: Path, rt_file: Path) -> Iterator[TestClient]:
    """An app reading the scenario's file every 60 s."""
    with make_client(settings(demo_net, realtime_sources=(str(rt_file),))) as c:
        yield c


@pytest.fixture(scope="module")
def static(demo_net: Path) -> Iterator[TestClient]:
    """An app without live sources."""
    with make_client(settings(demo_net)) as c:
        yield c


def departures(client: TestClient, stop: str = "CHAMB", at: str = "0700") -> list[dict[str, Any]]:
    """The first four departures from a stop on the scenario's Monday."""
    r = client.get(
        f"/v1/stops/{NS}{stop}/departures", params={"datetime": f"{DEMO_DAY}T{at}", "count": 4}
    )
    assert r.status_code == 200, r.text
    deps: list[dict[str, Any]] = r.json()["departures"]
    return deps


def test_departures_carry_delays_and_flag_the_cancelled_run(
    live: TestClient, static: TestClient
) -> None:
    """At Chambourg from 07:00: the late run leaves 07:14 (scheduled 07:09, delay 300 s), the
    cancelled 07:45 is listed and flagged, the others keep their timetable times; line 10's
    alert is on each of its departures. Without live sources delay_s stays null.
    """
    got = departures(live)
    by_trip = {d["trip_id"]: d for d in got}
    late, gone = by_trip[NS + LATE], by_trip[NS + CANCELLED]
    assert late["departure"].startswith("2026-11-30T07:14")
    assert late["scheduled_departure"].startswith("2026-11-30T07:09")
    assert (late["delay_s"], late["status"], late["cancelled"]) == (300, "realtime", False)
    assert gone["departure"].startswith("2026-11-30T07:45")
    assert (gone["status"], gone["cancelled"], gone["delay_s"]) == ("cancelled", True, None)
    assert all(d["alerts"][0]["header"] == "Roadworks at Chambourg" for d in got)
    plain = departures(static)
    assert [d["trip_id"] for d in plain] == [d["trip_id"] for d in got]
    assert all(d["delay_s"] is None and d["status"] == "scheduled" for d in plain)
    untouched = [d for d in got if d["trip_id"] not in (NS + LATE, NS + CANCELLED)]
    assert [d["departure"] for d in untouched] == [
        d["departure"] for d in plain if d["trip_id"] in {u["trip_id"] for u in untouched}
    ]


def test_lines_vehicles_and_status_show_the_live_state(live: TestClient, rt_file: Path) -> None:
    """Line 10 carries the alert (line 20 none); /v1/vehicles has the one vehicle with its
    route, and none outside a far box; /v1/status names the source by file name only, with
    its read time and the counts of what matched.
    """
    lines = {f["properties"]["short_name"]: f for f in live.get("/v1/lines").json()["features"]}
    assert [a["header"] for a in lines["10"]["properties"]["alerts"]] == ["Roadworks at Chambourg"]
    assert lines["20"]["properties"]["alerts"] == []
    body = live.get("/v1/vehicles").json()
    assert body["properties"]["live"] is True
    (vehicle,) = body["features"]
    assert vehicle["geometry"]["coordinates"] == pytest.approx([3.16, 45.762])  # float32
    assert vehicle["properties"]["trip_id"] == LATE and vehicle["properties"]["route"] == "10"
    far = live.get("/v1/vehicles", params={"bbox": "0,0,1,1"}).json()
    assert far["features"] == []
    status = live.get("/v1/status").json()["live"]
    (source,) = status["sources"]
    assert source["source"] == rt_file.name and source["error"] is None
    assert source["read_at"] is not None
    assert status["realtime"]["counts"]["cancelled"] == 1
    assert status["realtime"]["counts"]["vehicles_matched"] == 1


def test_without_live_sources_vehicles_are_empty(static: TestClient) -> None:
    """A service without GTFS-realtime: no vehicles, live false, status live null."""
    body = static.get("/v1/vehicles").json()
    assert body["features"] == [] and body["properties"]["live"] is False
    assert static.get("/v1/status").json()["live"] is None


def _journey(client: TestClient, **extra: Any) -> dict[str, Any]:
    r = client.get(
        "/v1/journeys",
        params={
            "from": f"{NS}CHAMB",
            "to": f"{NS}GARE_A",
            "datetime": f"{DEMO_DAY}T0700",
            **extra,
        },
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _rides(journey: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        f["properties"] for f in journey["features"] if f["properties"].get("trip_id") is not None
    ]


def test_journeys_use_the_live_state(live: TestClient, static: TestClient) -> None:
    """Chambourg to the station at 07:00: the static plan rides the 07:09; the live one rides
    the same run 300 s later, its leg marked real-time with the line's alert.
    """
    before = _rides(_journey(static)["journeys"][0])[0]
    after = _rides(_journey(live)["journeys"][0])[0]
    assert before["trip_id"] == after["trip_id"] == NS + LATE
    assert before["realtime"] is False
    assert after["realtime"] is True and after["delay_s"] == 300
    assert [a["header"] for a in after["alerts"]] == ["Roadworks at Chambourg"]
    assert before["start"].startswith("2026-11-30T07:09")
    assert after["start"].startswith("2026-11-30T07:14")


def test_a_failed_read_keeps_the_last_good_state(demo_net: Path, tmp_path: Path) -> None:
    """The file turns to garbage, then disappears: each read notes why in /v1/status and the
    5-minute delay stays; a good file again clears the error and its new delay (2 min) is used.
    """
    path = tmp_path / "rt.pb"
    path.write_bytes(scenario_message())
    with make_client(settings(demo_net, realtime_sources=(str(path),))) as c:
        feeds = c.app.state.context.live  # type: ignore[attr-defined]
        for damage in (lambda: path.write_bytes(b"not a protobuf"), path.unlink):
            damage()
            feeds.refresh()
            (source,) = c.get("/v1/status").json()["live"]["sources"]
            assert source["error"] and str(tmp_path) not in source["error"]
            assert source["tried_at"] > source["read_at"]
            assert departures(c)[0]["delay_s"] == 300
        path.write_bytes(scenario_message(delay_s=120))
        feeds.refresh()
        (source,) = c.get("/v1/status").json()["live"]["sources"]
        assert source["error"] is None
        assert departures(c)[0]["delay_s"] == 120


def test_an_unchanged_feed_is_not_applied_again(demo_net: Path, tmp_path: Path) -> None:
    """The same message read again (a producer that has not moved on): the applied version and
    its planner are the very ones served before; a new message (a 2-minute delay) is applied."""
    path = tmp_path / "rt.pb"
    path.write_bytes(scenario_message())
    with make_client(settings(demo_net, realtime_sources=(str(path),))) as c:
        ctx = c.app.state.context  # type: ignore[attr-defined]
        before = ctx.networks.snapshot().live.realtime
        ctx.live.refresh()
        assert ctx.networks.snapshot().live.realtime is before
        path.write_bytes(scenario_message(delay_s=120))
        ctx.live.refresh()
        assert ctx.networks.snapshot().live.realtime is not before
        assert departures(c)[0]["delay_s"] == 120


def test_a_request_keeps_one_live_state(live: TestClient, rt_file: Path) -> None:
    """A snapshot taken before a new live state is published keeps its own real-time version
    and planners on it; the next snapshot has the new one, on the same network version.
    """
    ctx = live.app.state.context  # type: ignore[attr-defined]
    before = ctx.networks.snapshot()
    assert before.live is not None and before.live.realtime is not None
    inputs = ctx.live.inputs
    ctx.networks.publish(dataclasses.replace(inputs, realtime=(), generation=inputs.generation + 1))
    after = ctx.networks.snapshot()
    assert after.version == before.version and after.network is before.network
    assert after.live.realtime is None and before.live.realtime is not None
    with before.planner() as p:
        assert p.realtime is before.live.realtime
    with after.planner() as p:
        assert p.realtime is None
    ctx.networks.publish(inputs)  # the module's other tests see the scenario again


class _Server(http.server.ThreadingHTTPServer):
    body = b""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def test_a_loopback_url_is_read_and_a_dead_one_noted(demo_net: Path) -> None:
    """A GTFS-realtime URL on loopback (with a key in its query) is read; once the server is
    gone the next read fails, the status names the URL without its query, and the delay stays.
    """
    server = _Server(("127.0.0.1", 0), _Handler)
    server.body = scenario_message()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/rt?key=SECRET"
    with make_client(settings(demo_net, realtime_sources=(url,), live_timeout_s=2)) as c:
        assert departures(c)[0]["delay_s"] == 300
        server.shutdown()
        server.server_close()
        c.app.state.context.live.refresh()  # type: ignore[attr-defined]
        text = c.get("/v1/status").text
        assert "SECRET" not in text
        (source,) = json.loads(text)["live"]["sources"]
        assert source["source"].endswith("/rt") and source["error"]
        assert departures(c)[0]["delay_s"] == 300


def write_gbfs(folder: Path) -> Path:
    """A GBFS 2.3 system: a station with bikes beside Chambourg, one with docks by the station."""
    folder.mkdir()
    stations = [("CH", CHAMB[0] + 0.0005, CHAMB[1]), ("GA", GARE_A[0] + 0.0005, GARE_A[1])]
    info = [
        {"station_id": s, "name": s, "lon": lon, "lat": lat, "capacity": 10}
        for s, lon, lat in stations
    ]
    status = [
        {
            "station_id": s,
            "num_bikes_available": 5 if s == "CH" else 0,
            "num_docks_available": 5 if s == "GA" else 0,
            "is_installed": True,
            "is_renting": True,
            "is_returning": True,
            "last_reported": 1_796_000_000,
        }
        for s, _, _ in stations
    ]
    for name, data in (
        ("station_information", {"stations": info}),
        ("station_status", {"stations": status}),
        ("system_information", {"system_id": "velo", "name": "Vélo", "language": "fr"}),
    ):
        doc = {"last_updated": 1_796_000_000, "ttl": 60, "version": "2.3", "data": data}
        (folder / f"{name}.json").write_text(json.dumps(doc))
    return folder


def write_offers(path: Path) -> Path:
    """One driver from Chambourg to the station, leaving between 07:20 and 07:40, 3 seats."""
    path.write_text(
        "driver_id,origin_lat,origin_lon,destination_lat,destination_lon,depart_earliest,"
        "depart_latest,seats,max_detour_min\n"
        f"d1,{CHAMB[1]},{CHAMB[0]},{GARE_A[1]},{GARE_A[0]},2026-11-30T07:20,2026-11-30T07:40,3,10\n"
    )
    return path


def test_journeys_offer_bike_share_and_carpool_when_asked(demo_net: Path, tmp_path: Path) -> None:
    """With a GBFS folder and a carpool CSV: bikeshare=true adds a bike-share journey from
    Chambourg to the station at 07:20 (the next bus leaves at 07:59), carpool=true a carpool
    ride from a driver leaving Chambourg from 07:20; without the flags neither appears; /v1/status counts both sources.
    """
    offers = write_offers(tmp_path / "offers.csv")
    live_settings = settings(
        demo_net, gbfs_source=str(write_gbfs(tmp_path / "gbfs")), carpool_offers=offers
    )
    with make_client(live_settings) as c:

        def modes(**extra: Any) -> set[str]:
            body = _journey(c, datetime=f"{DEMO_DAY}T0720", **extra)
            return {
                str(f["properties"].get("mode")) for j in body["journeys"] for f in j["features"]
            }

        plain = modes()
        assert not {"bikeshare", "carpool"} & plain
        assert "bikeshare" in modes(bikeshare="true")
        assert "carpool" in modes(carpool="true")
        status = c.get("/v1/status").json()["live"]
        assert status["bikeshare"]["stations"] == 2 and status["carpool"]["offers"] == 1


def test_asking_for_a_source_the_service_lacks_is_refused(static: TestClient) -> None:
    """bikeshare=true or carpool=true on a service without them: 400 invalid-parameter."""
    for flag in ("bikeshare", "carpool"):
        r = static.get(
            "/v1/journeys",
            params={"from": f"{NS}CHAMB", "to": f"{NS}GARE_A", flag: "true"},
        )
        assert r.status_code == 400 and r.json()["code"] == "invalid-parameter"
        assert flag in r.json()["detail"]


def test_serve_flags_read_live_sources(demo_net: Path, rt_file: Path, tmp_path: Path) -> None:
    """`arverne serve NET --realtime FILE --workers 2`: every worker reads the file (the
    vehicle is on /v1/vehicles from fresh connections); a missing --carpool file is refused at
    start with exit code 3.
    """
    code = "from arverne.cli import main; main()"
    missing = subprocess.run(
        [sys.executable, "-c", code, "serve", str(demo_net), "--carpool", str(tmp_path / "no")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 3 and "no such file" in missing.stderr
    port = _free_port()
    args = ["serve", str(demo_net), "--port", str(port), "--workers", "2"]
    args += ["--realtime", str(rt_file), "--realtime-every", "5"]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], start_new_session=True)
    try:
        seen: list[int] = []
        deadline = time.monotonic() + 60
        while len(seen) < 6 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/vehicles", timeout=5) as r:
                    seen.append(len(json.loads(r.read())["features"]))
            except OSError:
                time.sleep(0.3)
        assert seen == [1] * 6
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_live_state_follows_network_swaps_and_never_mixes(demo_net: Path, tmp_path: Path) -> None:
    """Four threads list Chambourg's departures while the network pointer swaps between two
    versions (stop names 'A:' and 'B:') and new live states (both 07:00 and 07:50 runs 300 s
    late, then 120 s) are published: every answer names one version's stops and gives one
    delay to both runs; both versions and both delays were seen; after the last swap the live
    state is applied to the version served.
    """
    base = Network.load(demo_net)
    a, b = _renamed(base, "A:"), _renamed(base, "B:")
    folder = tmp_path / "net"
    a.save(folder)

    def message(delay: int) -> bytes:
        return rtm.message(
            timestamp=1_796_000_000,
            trip_updates=[
                rtm.trip_update(trip, start_date=DEMO_DAY, delay=delay)
                for trip in (LATE, "L10-SEM-1-0750")
            ],
        )

    feed = tmp_path / "rt.pb"
    feed.write_bytes(message(300))
    limits = ServiceLimits(rate_per_s=1e6, rate_burst=1_000_000, queue_depth=64)
    live_settings = ServiceSettings(
        network_dir=folder, realtime_sources=(str(feed),), limits=limits
    )
    seen: set[tuple[str, int]] = set()
    failures: list[str] = []
    stop = threading.Event()
    with make_client(live_settings) as c:
        feeds = c.app.state.context.live  # type: ignore[attr-defined]

        def load() -> None:
            while not stop.is_set():
                r = c.get(
                    f"/v1/stops/{NS}CHAMB/departures",
                    params={"datetime": f"{DEMO_DAY}T0700", "count": 4},
                )
                if r.status_code != 200:
                    failures.append(r.text)
                    continue
                deps = r.json()["departures"]
                prefixes = {d["stop_name"][:2] for d in deps}
                delays = {d["delay_s"] for d in deps if d["status"] == "realtime"}
                if len(prefixes) != 1 or len(delays) != 1:
                    failures.append(f"mixed answer: {prefixes} {delays}")
                    continue
                seen.add((prefixes.pop(), delays.pop()))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(8):
            (b if i % 2 == 0 else a).save(folder)
            feed.write_bytes(message(120 if i % 2 == 0 else 300))
            feeds.refresh()
        stop.set()
        for t in threads:
            t.join()
        snap = c.app.state.context.networks.snapshot()  # type: ignore[attr-defined]
        assert snap.live.realtime.base is snap.network.timetable
        last = departures(c)
    assert not failures, failures[:3]
    assert {p for p, _ in seen} == {"A:", "B:"} and {d for _, d in seen} == {120, 300}
    assert last[0]["stop_name"].startswith("A:") and last[0]["delay_s"] == 300


def test_the_schedule_refreshes_in_the_background(demo_net: Path, tmp_path: Path) -> None:
    """Sources read every second by the lifespan's task: a new delay in the file (2 min) and
    a GBFS folder that disappears are picked up without any call; the bike share read before
    stays in use, its source showing the error.
    """
    path = tmp_path / "rt.pb"
    path.write_bytes(scenario_message())
    gbfs = write_gbfs(tmp_path / "gbfs")
    every = {"realtime_every_s": 1.0, "gbfs_every_s": 1.0}
    live_settings = settings(
        demo_net, realtime_sources=(str(path),), gbfs_source=str(gbfs), **every
    )
    with make_client(live_settings) as c:
        assert departures(c)[0]["delay_s"] == 300
        path.write_bytes(scenario_message(delay_s=120))
        for name in ("station_information", "station_status", "system_information"):
            (gbfs / f"{name}.json").unlink()
        gbfs.rmdir()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = c.get("/v1/status").json()["live"]
            errors = {s["kind"]: s["error"] for s in status["sources"]}
            if departures(c)[0]["delay_s"] == 120 and errors["gbfs"]:
                break
            time.sleep(0.2)
        assert departures(c)[0]["delay_s"] == 120
        assert errors["gbfs"] and errors["gtfs-rt"] is None
        assert status["bikeshare"]["stations"] == 2


def test_a_malformed_gbfs_feed_is_noted_not_fatal(demo_net: Path, tmp_path: Path) -> None:
    """GBFS files that turn malformed (stations not a list, then not JSON): each read notes
    why in /v1/status, the two stations read before stay, and journeys still answer.
    """
    gbfs = write_gbfs(tmp_path / "gbfs")
    with make_client(settings(demo_net, gbfs_source=str(gbfs))) as c:
        feeds = c.app.state.context.live  # type: ignore[attr-defined]
        status_file = gbfs / "station_status.json"
        for text in ('{"last_updated": 1, "data": {"stations": "oops"}}', "{not json"):
            status_file.write_text(text)
            feeds.refresh()
            live = c.get("/v1/status").json()["live"]
            assert live["sources"][0]["error"] and str(tmp_path) not in live["sources"][0]["error"]
            assert live["bikeshare"]["stations"] == 2
            assert _journey(c, bikeshare="true")["journeys"]


def test_live_settings_are_checked_and_travel_to_workers(demo_net: Path, tmp_path: Path) -> None:
    """An interval of 0 s or NaN is refused; sources, intervals and the shared folder survive
    the trip through the environment to the workers.
    """
    for bad in (0, float("nan"), True):
        with pytest.raises(InputError, match="realtime_every_s"):
            settings(demo_net, realtime_every_s=bad)
    given = settings(
        demo_net,
        realtime_sources=("a.pb", "http://127.0.0.1:1/rt"),
        realtime_every_s=5,
        gbfs_source="gbfs/",
        carpool_offers=tmp_path / "offers.csv",
        shared_dir=tmp_path,
    )
    assert ServiceSettings.from_env({ENV_SETTINGS: given.to_env()}) == given


def test_a_vehicle_with_a_nan_speed_is_served(demo_net: Path, tmp_path: Path) -> None:
    """A vehicle position whose speed is NaN (or infinite): /v1/vehicles answers 200 with the
    speed unknown (null), never invalid JSON nor a server error.
    """
    vehicles = []
    for speed in (float("nan"), float("inf")):
        v = pb.VehiclePosition()
        v.CopyFrom(rtm.vehicle(45.762, 3.16, trip_id=LATE))
        v.position.speed = speed
        vehicles.append(v)
    path = tmp_path / "rt.pb"
    path.write_bytes(rtm.message(timestamp=1_796_000_000, vehicles=vehicles))
    with make_client(settings(demo_net, realtime_sources=(str(path),))) as c:
        r = c.get("/v1/vehicles")
    assert r.status_code == 200
    assert [f["properties"]["speed_mps"] for f in r.json()["features"]] == [None, None]
