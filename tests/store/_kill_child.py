"""Child process of the kill test: books (and sometimes cancels) trips in a loop, forever.

:func:`run_child` (or ``python -m tests.store._kill_child LOCATION SCHEMA LOG SEED``) opens the
service on the store (rebuilding the plans from it), writes ``R`` to LOG, then loops; a line
``C <id>`` is appended to LOG only AFTER a booking's commit returned, ``X <id>`` after a
cancellation's.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_model import Offer, ServiceParams, Shuttle, TripRequest
from arverne.fleet.service_area import ServiceArea, straight_line_area

NOW_S = 5 * 3600.0  # before the service opens: nothing freezes, every run sees the same clock


def kill_area() -> ServiceArea:
    """40 points over ~10 km x 10 km, straight-line times (deterministic)."""
    rng = np.random.default_rng(7)
    lon = 3.05 + rng.random(40) * 0.13
    lat = 45.72 + rng.random(40) * 0.09
    return straight_line_area([f"s{i}" for i in range(40)], lon, lat)


def kill_fleet() -> list[Shuttle]:
    """Eight vehicles, one with wheelchair places."""
    return [
        Shuttle(f"v{i}", 6, 1 if i == 0 else 0, "s0", 6 * 3600.0, 21 * 3600.0) for i in range(8)
    ]


KILL_PARAMS = ServiceParams(max_events=120)


def main(argv: list[str]) -> None:
    run_child(argv[0], argv[1], argv[2], int(argv[3]))


def run_child(location: str, schema: str, log_path: str, seed: int) -> None:
    """Book forever (until killed)."""
    service = OnDemandService.open(
        kill_area(), location, kill_fleet(), params=KILL_PARAMS, schema=schema
    )
    # load the compiled kernels from numba's cache before saying ready
    service.quote(TripRequest("s1", "s2", earliest_pickup_s=8 * 3600.0), now_s=NOW_S)
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, b"R\n")
    rng = random.Random(seed)
    points = service.area.point_id
    while True:
        mine = list(service.bookings())
        if mine and rng.random() < 0.15:
            bid = rng.choice(mine)
            service.cancel(bid, now_s=NOW_S)
            os.write(fd, f"X {bid}\n".encode())
            continue
        a, b = rng.sample(points, 2)
        t = 6 * 3600.0 + rng.random() * 14 * 3600.0
        if rng.random() < 0.7:
            req = TripRequest(a, b, earliest_pickup_s=t, passengers=rng.randint(1, 3))
        else:
            req = TripRequest(
                a, b, latest_arrival_s=t + 1800.0, passengers=1, wheelchairs=rng.randint(0, 1)
            )
        answer = service.book(req, now_s=NOW_S)
        if isinstance(answer, Offer):
            os.write(fd, f"C {answer.booking_id}\n".encode())


if __name__ == "__main__":
    main(sys.argv[1:])
