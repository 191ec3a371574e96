"""Kill -9 a booking process at random moments, many times: no confirmed booking is lost,
none is half-written, and every stored plan still keeps every promise (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest

from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_model import Offer, TripRequest
from tests.fleet.darp_check import check_service, check_stored
from tests.store._kill_child import KILL_PARAMS, kill_area, kill_fleet, run_child
from tests.store.backends import StoreLocation

KILLS = 30


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
    """30 times: fork the booking child, let it book for a random 20-250 ms, SIGKILL it, then
    reopen the store: every booking the child logged as confirmed (logged only after commit) is
    stored (confirmed, or cancelled if it logged the cancellation or the kill hit right after
    that commit), no booking lacks its plan rows or has stray ones, every plan keeps every
    promise, and the service rebuilds from the store."""
    # compile the kernels here, on a scratch store, so that every forked child has them
    warm = OnDemandService.open(
        kill_area(), tmp_path / "warm.sqlite", kill_fleet(), params=KILL_PARAMS
    )
    offer = warm.book(TripRequest("s1", "s2", earliest_pickup_s=8 * 3600.0), now_s=5 * 3600.0)
    assert isinstance(offer, Offer)
    warm.cancel(offer.booking_id, now_s=5 * 3600.0)
    warm.close()
    log = tmp_path / "child.log"
    rng = random.Random(2024)
    ctx = multiprocessing.get_context("fork")
    for kill in range(KILLS):
        ready_before = _read_log(log)[0]
        # a forked child: its own process and its own connection, the kernels already compiled
        child = ctx.Process(
            target=run_child, args=(store_location.location, store_location.schema, str(log), kill)
        )
        child.start()
        deadline = time.monotonic() + 30.0
        while _read_log(log)[0] == ready_before:
            if not child.is_alive():
                pytest.fail(f"kill {kill}: the child died before booking (exit {child.exitcode})")
            if time.monotonic() > deadline:
                child.kill()
                pytest.fail(f"kill {kill}: the child did not start within 30 s")
            time.sleep(0.002)
        time.sleep(rng.uniform(0.02, 0.25))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        assert child.exitcode == -signal.SIGKILL, "the child must have been running when killed"

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
        unlogged_cancel = {b for b, row in stored.items() if row.status == "cancelled"} - set(
            cancelled
        )
        assert len(unlogged_confirmed) + len(unlogged_cancel) <= kill + 1
        # nothing half-written: confirmed <=> exactly its two stops; cancelled <=> none
        stops: dict[str, list[str]] = {}
        for row in state.plan:
            stops.setdefault(row.booking_id, []).append(row.kind)
        for bid, row in stored.items():
            want = ["pickup", "dropoff"] if row.status == "confirmed" else []
            assert sorted(stops.get(bid, [])) == sorted(want), (
                f"kill {kill}: booking {bid} half-written"
            )
        assert set(stops) <= set(stored)
        errors = check_stored(state, kill_area())
        assert not errors, f"kill {kill}: {errors[:5]}"
    assert len(confirmed) > KILLS, "the child should have booked many trips"
    # the service itself rebuilds from the store and its plans pass the checker
    with store_location.open() as store:
        service = OnDemandService(kill_area(), store, params=KILL_PARAMS)
        assert not check_service(service)
        assert len(service.bookings()) == sum(1 for b in stored.values() if b.status == "confirmed")
