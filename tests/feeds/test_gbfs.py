"""GBFS 2.x and 3.0 read from the shared real feeds, a gbfs.json, and a loopback URL."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from arverne.errors import InputError
from arverne.feeds.gbfs import SPEED_MPS, read_gbfs
from tests.conftest import shared_path


def test_bay_wheels_stations_and_free_bikes() -> None:
    """Bay Wheels (GBFS 2.x folder, no gbfs.json): 496 stations with their live counts, the
    free bikes that are neither reserved nor disabled, ridden as bicycles; rentable and free
    docks are zero where a station is not renting or returning."""
    share = read_gbfs(shared_path("gbfs/baywheels"))
    raw = json.loads(Path(shared_path("gbfs/baywheels/station_status.json")).read_text())
    status = {s["station_id"]: s for s in raw["data"]["stations"]}
    assert share.n_stations == 496 and share.version.startswith("2")
    for k in range(share.n_stations):
        s = status.get(share.station_id[k], {})
        renting = s.get("is_renting") and s.get("is_installed")
        assert share.station_vehicles[k] == (s.get("num_bikes_available", 0) if renting else 0)
    bikes = json.loads(Path(shared_path("gbfs/baywheels/free_bike_status.json")).read_text())
    free = [b for b in bikes["data"]["bikes"] if not b["is_reserved"] and not b["is_disabled"]]
    assert share.vehicle_id.size == len(free) > 0
    assert share.speed_mps(-1) == SPEED_MPS["bicycle"]
    assert share.ride_may_end(share.vehicle_lon, share.vehicle_lat, -1).all()  # no zones


def test_helsinki_through_its_gbfs_json() -> None:
    """Helsinki's gbfs.json lists file: URLs of another machine: each is found beside it; of
    its 10 stations, 3 without an id or a place are left out with a notice each, the rest
    carry their names and counts."""
    share = read_gbfs(shared_path("gbfs/helsinki/gbfs.json"))
    assert share.n_stations == 7 and len(share.notices) == 3
    assert {n.code for n in share.notices} == {"missing_required_field"}
    assert share.station_name[0] and (share.station_vehicles >= 0).all()
    assert int(share.station_vehicles.sum()) > 0 and int(share.station_docks.sum()) > 0


def test_almere_v3_vehicles_types_and_geofencing() -> None:
    """Almere (GBFS 3.0): of 6 free-floating electric mopeds, one reserved and one disabled are
    not offered; they are ridden at the moped speed; a ride
    ends only inside a zone allowing it (global rule: not outside), never inside the
    'Hub Bergnet' zone that forbids it."""
    share = read_gbfs(shared_path("gbfs/almere-v3"))
    assert share.version == "3.0" and share.vehicle_id.size == 4 and share.n_stations == 0
    (moped,) = share.types
    assert moped.form_factor == "moped" and share.speed_mps(0) == SPEED_MPS["moped"]
    assert not share.ride_end_allowed_outside
    assert not share.ride_may_end(np.array([0.0]), np.array([0.0]), 0)[0]
    forbidden = next(z for z in share.zones if not z.ride_end_allowed)
    ring = forbidden.polygons[0][0]
    inside = ring[:-1].mean(axis=0)
    assert not share.ride_may_end(inside[:1], inside[1:], 0)[0]
    allowed = next(z for z in share.zones if z.ride_end_allowed)
    centre = allowed.polygons[0][0][:-1].mean(axis=0)
    assert share.ride_may_end(centre[:1], centre[1:], 0)[0]


def test_gbfs_json_over_http(tmp_path: Path) -> None:
    """A gbfs.json served on loopback whose feeds are http URLs is read like the folder."""
    folder = Path(shared_path("gbfs/helsinki"))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: object, **kw: object) -> None:
            super().__init__(*a, directory=str(tmp_path), **kw)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    names = ("station_information", "station_status")
    for name in names:
        (tmp_path / f"{name}.json").write_bytes((folder / f"{name}.json").read_bytes())
    feeds = [{"name": n, "url": f"{base}/{n}.json"} for n in names]
    (tmp_path / "gbfs.json").write_text(json.dumps({"data": {"en": {"feeds": feeds}}}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        share = read_gbfs(f"{base}/gbfs.json")
    finally:
        server.shutdown()
    assert share.n_stations == read_gbfs(folder).n_stations == 7


def test_bad_sources_are_refused(tmp_path: Path) -> None:
    """A missing path, a folder without GBFS files and a file that is not JSON each raise an
    InputError naming the source."""
    with pytest.raises(InputError, match="no such GBFS"):
        read_gbfs(tmp_path / "nothing")
    with pytest.raises(InputError, match="no GBFS"):
        read_gbfs(tmp_path)
    (tmp_path / "station_information.json").write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        read_gbfs(tmp_path)
