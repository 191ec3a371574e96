"""Several processes book into one store at once (as several HTTP workers do): no booking is
lost, no seat is promised twice, every promise holds and the store reopens (SQLite and
PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

from arverne.errors import ProblemError
from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_model import Offer, TripRequest
from tests.fleet.darp_check import check_service, check_stored
from tests.store._kill_child import KILL_PARAMS, NOW_S, kill_area, kill_fleet
from tests.store.backends import StoreLocation

PROCESSES = 4
BOOKINGS = 200


def _book_many(location: str, schema: str, log_path: str, seed: int, start: object) -> None:
    """Child: open the service on the shared store, wait for the others, then send BOOKINGS
    requests (and cancel one in ten of the confirmed bookings it sees, its own or another's).
    ``C <id> lo hi latest`` is logged after a booking's commit returned, ``X <id>`` after a
    cancellation's."""
    service = OnDemandService.open(
        kill_area(), location, kill_fleet(), params=KILL_PARAMS, schema=schema
    )
    rng = random.Random(seed)
    points = service.area.point_id
    lines: list[str] = []
    start.wait()  # type: ignore[attr-defined]
    for _ in range(BOOKINGS):
        a, b = rng.sample(points, 2)
        t = 6 * 3600.0 + rng.random() * 13 * 3600.0
        if rng.random() < 0.7:
            request = TripRequest(a, b, earliest_pickup_s=t, passengers=rng.randint(1, 3))
        else:
            request = TripRequest(
                a, b, latest_arrival_s=t + 1800.0, passengers=1, wheelchairs=rng.randint(0, 1)
            )
        answer = service.book(request, now_s=NOW_S)
        if isinstance(answer, Offer):
            lo, hi = answer.pickup_window_s
            lines.append(f"C {answer.booking_id} {lo!r} {hi!r} {answer.latest_dropoff_s!r}")
        if rng.random() < 0.1:
            confirmed = sorted(service.bookings())
            if confirmed:
                victim = rng.choice(confirmed)
                try:
                    service.cancel(victim, now_s=NOW_S)
                    lines.append(f"X {victim}")
                except ProblemError:
                    pass  # another process cancelled it first
    service.close()
    Path(log_path).write_text("\n".join(lines) + "\n")


def test_four_processes_book_into_one_store(store_location: StoreLocation, tmp_path: Path) -> None:
    """4 processes x 200 requests (plus cross-process cancellations) into one store at once,
    8 vehicles: afterwards every booking a process confirmed is stored once with the promise it
    was given (or cancelled, if some process logged its cancellation), each confirmed booking
    has exactly its two plan rows, no plan puts more riders on board than seats, every planned
    time keeps its promise, and a new service rebuilds from the store."""
    # compile the kernels once here so that the forked children find them ready
    warm = OnDemandService.open(
        kill_area(), tmp_path / "warm.sqlite", kill_fleet(), params=KILL_PARAMS
    )
    warm.book(TripRequest("s1", "s2", earliest_pickup_s=8 * 3600.0), now_s=NOW_S)
    warm.close()
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    logs = [tmp_path / f"child{k}.log" for k in range(PROCESSES)]
    children = [
        ctx.Process(
            target=_book_many,
            args=(store_location.location, store_location.schema, str(logs[k]), k, start),
        )
        for k in range(PROCESSES)
    ]
    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(timeout=300)
        assert child.exitcode == 0, f"a booking process failed (exit {child.exitcode})"

    promised: dict[str, tuple[float, float, float]] = {}
    cancelled: set[str] = set()
    for log in logs:
        for line in log.read_text().split("\n"):
            if line.startswith("C "):
                bid, lo, hi, latest = line[2:].split()
                assert bid not in promised
                promised[bid] = (float(lo), float(hi), float(latest))
            elif line.startswith("X "):
                assert line[2:] not in cancelled, "one booking cancelled twice"
                cancelled.add(line[2:])
    assert len(promised) > PROCESSES * BOOKINGS // 4, "too few bookings to test anything"
    assert cancelled <= set(promised)

    with store_location.open() as store:
        state = store.load()
    stored = {b.booking_id: b for b in state.bookings}
    assert len(stored) == len(state.bookings)
    assert set(stored) == set(promised), "a confirmed booking is missing, or one was invented"
    for bid, (lo, hi, latest) in promised.items():
        row = stored[bid]
        assert row.status == ("cancelled" if bid in cancelled else "confirmed")
        assert (row.pickup_lo_s, row.pickup_hi_s, row.latest_dropoff_s) == (lo, hi, latest)
    stops: dict[str, list[str]] = {}
    for plan_row in state.plan:
        stops.setdefault(plan_row.booking_id, []).append(plan_row.kind)
    for bid, row in stored.items():
        want = ["dropoff", "pickup"] if row.status == "confirmed" else []
        assert sorted(stops.get(bid, [])) == want, f"booking {bid}: plan rows {stops.get(bid)}"
    assert check_stored(state, kill_area()) == []  # seats, windows, ride times, shifts

    with store_location.open() as store:
        again = OnDemandService(kill_area(), store, params=KILL_PARAMS)
        assert set(again.bookings()) == set(promised) - cancelled
        assert check_service(again) == []
