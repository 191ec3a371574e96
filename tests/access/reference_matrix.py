"""A plain travel-time matrix for tests: one door-to-door plan per pair and departure minute."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from arverne.errors import NoRouteError
from arverne.routing.options import PlanOptions
from arverne.routing.planner import Planner


def planner_matrix(
    network,
    origins,
    destinations,
    *,
    departure: dt.datetime,
    window: dt.timedelta,
    max_time: dt.timedelta,
    options: PlanOptions,
    **_: object,
) -> pd.DataFrame:
    """``from_id, to_id, travel_time``: the median (nearest rank, ``ceil(n / 2)``) over the
    window's n departure minutes of the earliest arrival minus the departure; minutes
    unreached or over ``max_time`` count as infinite, and an infinite median is NaN."""
    planner = Planner(network)
    zone = ZoneInfo(network.timetable.timezone)
    minutes = range(max(int(window.total_seconds() // 60), 1))
    cap = max_time.total_seconds() / 60
    rows = []
    for oid, og in zip(origins["id"], origins.geometry, strict=True):
        for did, dg in zip(destinations["id"], destinations.geometry, strict=True):
            times = []
            for m in minutes:
                t0 = departure + dt.timedelta(minutes=m)
                try:
                    js = planner.plan((og.y, og.x), (dg.y, dg.x), depart_at=t0, options=options)
                except NoRouteError:
                    times.append(np.inf)
                    continue
                best = min(j.arrival for j in js).astimezone(zone).replace(tzinfo=None) - t0
                minutes_taken = best.total_seconds() / 60
                times.append(minutes_taken if minutes_taken <= cap else np.inf)
            med = float(sorted(times)[math.ceil(len(times) / 2) - 1])
            rows.append((str(oid), str(did), med if np.isfinite(med) else np.nan))
    return pd.DataFrame(rows, columns=["from_id", "to_id", "travel_time"])
