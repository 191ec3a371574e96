"""Kill -9 a booking process at random moments, many times: no confirmed booking is lost,
none is half-written, and every stored plan still keeps every promise (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arverne.fleet.ondemand import OnDemandService
from tests.fleet.darp_check import check_service, check_stored
from tests.store._kill_child import KILL_PARAMS, kill_area, kill_fleet
from tests.store.backends import StoreLocation

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _read_log(path: Path) -> tuple[int, list[str], list[str]]:
    ready = 0
    confirmed: list[str] = []
    cancelled: list[str] = []
    if not path.exists():
        return 0, confirmed, cancelled
    for line in path.read_text().splitlines():
        if line == "R":
            ready += 1
        elif line.startswith("C "):
            confirmed.append(line[2:])
        elif line.startswith("X "):
            cancelled.append(line[2:])
    return ready, confirmed, cancelled


@pytest.mark.slow
def test_kill_minus_nine_loses_nothing(store_location: StoreLocation, tmp_path: Path) -> None:
    """20 times: start the booking child, let it book for a random 30-300 ms, SIGKILL it, then
    reopen the store: every booking the child logged as confirmed (logged only after commit) is
    stored (confirmed, or cancelled if it logged the cancellation or the kill hit right after
    that commit), no booking lacks its plan rows or has stray ones, every plan keeps every
    promise, and the service rebuilds from the store."""
    # compile the kernels once here so that every child loads them from numba's cache
    with store_location.open() as store:
        warm = OnDemandService(kill_area(), store, kill_fleet(), params=KILL_PARAMS)
        warm.reoptimise(now_s=5 * 3600.0, max_runtime=0.0)
    log = tmp_path / "child.log"
    rng = random.Random(2024)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    unlogged_allowance = 0
    for kill in range(KILLS):
        ready_before = _read_log(log)[0]
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.store._kill_child", store_location.location,
             store_location.schema, str(log), str(kill)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 30.0
        while _read_log(log)[0] == ready_before:
            if child.poll() is not None:
                err = child.stderr.read().decode() if child.stderr else ""
                pytest.fail(f"child died before booking: {err[-2000:]}")
            if time.monotonic() > deadline:
                child.kill()
                pytest.fail("child did not start within 30 s")
            time.sleep(0.005)
        time.sleep(rng.uniform(0.03, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stderr:
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL, "the child must have been running when killed"
        unlogged_allowance += 1

        _ready, confirmed, cancelled = _read_log(log)
        with store_location.open() as store:
            state = store.load()
        stored = {b.booking_id: b for b in state.bookings}
        for bid in confirmed:
            assert bid in stored, f"kill {kill}: confirmed booking {bid} lost"
        for bid in cancelled:
            assert stored[bid].status == "cancelled", f"kill {kill}: cancellation of {bid} lost"
        # at most one commit per kill may have landed without reaching the log
        unlogged_confirmed = set(stored) - set(confirmed)
        unlogged_cancel = {b for b, row in stored.items() if row.status == "cancelled"} - set(cancelled)
        assert len(unlogged_confirmed) + len(unlogged_cancel) <= unlogged_allowance
        # nothing half-written: confirmed <=> exactly its two stops; cancelled <=> none
        stops: dict[str, list[str]] = {}
        for row in state.plan:
            stops.setdefault(row.booking_id, []).append(row.kind)
        for bid, row in stored.items():
            want = ["pickup", "dropoff"] if row.status == "confirmed" else []
            assert sorted(stops.get(bid, [])) == sorted(want), f"kill {kill}: booking {bid} half-written"
        assert set(stops) <= set(stored)
        errors = check_stored(state, kill_area())
        assert not errors, f"kill {kill}: {errors[:5]}"
    assert len(confirmed) > KILLS, "the child should have booked many trips"
    # the service itself rebuilds from the store and its plans pass the checker
    with store_location.open() as store:
        service = OnDemandService(kill_area(), store, params=KILL_PARAMS)
        assert not check_service(service)
        assert len(service.bookings()) == sum(1 for b in stored.values() if b.status == "confirmed")
