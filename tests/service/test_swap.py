"""A new network swapped in under load: no restart, and no request answered from two networks."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arverne.network.network import Network
from arverne.service.settings import ServiceLimits, ServiceSettings
from arverne.service.snapshot import NetworkHolder
from tests.service.conftest import DEMO_DAY, make_client

JOURNEY = {"from": "territory-gtfs:CHAMB", "to": "territory-gtfs:MARCHE",
           "datetime": f"{DEMO_DAY}T0700"}  # fmt: skip


def _renamed(network: Network, prefix: str) -> Network:
    """The same network with every stop name prefixed: a version whose answers tell it apart."""
    tt = network.timetable
    assert tt is not None
    names = np.char.add(prefix, np.asarray(tt.stop_name))
    return dataclasses.replace(network, timetable=dataclasses.replace(tt, stop_name=names))


@pytest.fixture
def versions(demo_net: Path, tmp_path: Path) -> tuple[Path, Network, Network]:
    """A network folder holding version A (stop names 'A:...'); B ('B:...') ready to swap in."""
    base = Network.load(demo_net)
    a, b = _renamed(base, "A:"), _renamed(base, "B:")
    folder = tmp_path / "net"
    a.save(folder)
    return folder, a, b


def _names(body: dict[str, Any]) -> set[str]:
    """Every stop name in a journeys answer (leg ends and served stops)."""
    names = set()
    for journey in body["journeys"]:
        for feature in journey["features"]:
            props = feature["properties"]
            names |= {props["from"]["name"], props["to"]["name"]}
            names |= {s["name"] for s in props.get("stops", [])}
    return names - {"origin", "destination"}


def test_swap_under_load_never_mixes_networks(versions: tuple[Path, Network, Network]) -> None:
    """Four threads plan journeys while the pointer swaps between A and B ten times: every
    answer is 200, names only one version's stops, and says which; both versions answered."""
    folder, a, b = versions
    settings = ServiceSettings(
        network_dir=folder,
        limits=ServiceLimits(
            rate_per_s=10_000.0, rate_burst=10_000, queue_depth=64, queue_wait_s=30.0
        ),
    )
    seen: dict[str, set[str]] = {}
    failures: list[str] = []
    stop = threading.Event()
    with make_client(settings) as c:

        def load() -> None:
            while not stop.is_set():
                r = c.get("/v1/journeys", params=JOURNEY)
                if r.status_code != 200:
                    failures.append(r.text)
                    continue
                body = r.json()
                prefixes = {name[:2] for name in _names(body)}
                if len(prefixes) != 1:
                    failures.append(f"mixed answer: {sorted(_names(body))}")
                seen.setdefault(body["network_version"], set()).update(prefixes)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(10):
            (b if i % 2 == 0 else a).save(folder)
        stop.set()
        for t in threads:
            t.join()
        final = c.get("/v1/status").json()["network"]["version"]
    assert not failures, failures[:3]
    assert all(len(p) == 1 for p in seen.values()), seen
    assert {"A:", "B:"} <= set().union(*seen.values()), seen
    assert final == (folder / "current").readlink().name


def test_snapshot_outlives_its_version(versions: tuple[Path, Network, Network]) -> None:
    """A snapshot taken before two swaps (its version's files removed) still plans."""
    import datetime as dt

    folder, a, b = versions
    holder = NetworkHolder(folder)
    old = holder.snapshot()
    b.save(folder)
    a.save(folder)  # the store keeps one previous version: A's first folder is gone now
    assert not (folder / old.version).exists()
    assert holder.snapshot().version != old.version
    tt = old.network.timetable
    assert tt is not None
    i, j = tt.stop_index("territory-gtfs:CHAMB"), tt.stop_index("territory-gtfs:MARCHE")
    with old.planner() as planner:
        journeys = planner.plan(
            (float(tt.stop_lat[i]), float(tt.stop_lon[i])),
            (float(tt.stop_lat[j]), float(tt.stop_lon[j])),
            depart_at=dt.datetime(2026, 11, 30, 7),
        )
    assert journeys and journeys[0].legs[1].from_name.startswith("A:")


def test_status_follows_the_pointer(versions: tuple[Path, Network, Network]) -> None:
    """Without a restart, /v1/status names the new version right after a swap."""
    folder, _a, b = versions
    with make_client(ServiceSettings(network_dir=folder)) as c:
        before = c.get("/v1/status").json()["network"]["version"]
        b.save(folder)
        after = c.get("/v1/status").json()["network"]["version"]
    assert before != after == (folder / "current").readlink().name


def test_client_errors_on_damaged_network_are_503(
    versions: tuple[Path, Network, Network], tmp_path: Path
) -> None:
    """A pointer moved to a damaged version: requests answer 503 unavailable, not 500."""
    folder, _a, _b = versions
    with make_client(ServiceSettings(network_dir=folder)) as c:
        bad = folder / "v-0123456789abcdef0123456789abcdef"
        bad.mkdir()
        (folder / "current").unlink()
        (folder / "current").symlink_to(bad.name)
        r = c.get("/v1/status")
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
