"""End to end: the travel-time matrix of a random town, its indicators, and the reach."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from arverne.access.indicators import Decay, compute_2sfca, compute_cumulative, compute_gravity
from arverne.access.matrix import travel_time_matrix
from arverne.access.reach import ReachSearch
from tests.access.town import build_town

WHEN = dt.datetime(2024, 3, 5, 7, 40)
MAX = dt.timedelta(minutes=90)


@pytest.mark.filterwarnings("ignore:.*straight-line estimates")
def test_matrix_cells_equal_reach_times_and_feed_the_indicators(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Random town 1 at 07:40, 6 homes to 8 places: each matrix cell (single departure) is the
    reach's time from that home rounded up to the second (two independent searches), and the
    jobs within 20 minutes, their exponential gravity and the GPs per inhabitant computed from
    the matrix equal the same indicators computed from the reach's times."""
    net = build_town(tmp_path_factory.mktemp("town"), 1)
    rng = np.random.default_rng(4)
    homes = pd.DataFrame(
        {
            "id": [f"h{i}" for i in range(6)],
            "lat": 45.7750 + rng.random(6) * 0.008,
            "lon": 3.0800 + rng.random(6) * 0.012,
        }
    )
    places = pd.DataFrame(
        {
            "id": [f"p{j}" for j in range(8)],
            "lat": 45.7750 + rng.random(8) * 0.008,
            "lon": 3.0800 + rng.random(8) * 0.05,
            "jobs": rng.integers(0, 100, 8),
            "gps": rng.integers(0, 4, 8),
        }
    )
    matrix = travel_time_matrix(
        net,
        homes,
        places[["id", "lat", "lon"]],
        departure=WHEN,
        window=dt.timedelta(0),
        max_time=MAX,
    )
    search = ReachSearch(net)
    rows = []
    for h in homes.itertuples():
        reach = search.reach((h.lat, h.lon), departure=WHEN, max_time=MAX)
        secs = reach.times_at(places["lat"].to_numpy(), places["lon"].to_numpy())
        for p, s in zip(places["id"], secs, strict=True):
            rows.append((h.id, p, math.ceil(s) / 60 if math.isfinite(s) else math.nan))
    ours = pd.DataFrame(rows, columns=["from_id", "to_id", "travel_time"])
    merged = matrix.merge(ours, on=["from_id", "to_id"], suffixes=("", "_reach"))
    assert len(merged) == 48
    np.testing.assert_allclose(merged["travel_time"], merged["travel_time_reach"], rtol=1e-12)
    opp = places[["id", "jobs", "gps"]]
    demand = homes.assign(pop=100.0 * (1 + np.arange(6)))[["id", "pop"]]
    decay = Decay("exponential", beta=0.08)
    for table in (compute_cumulative, compute_gravity, compute_2sfca):
        kwargs: dict = {"cutoff": 20}
        if table is compute_gravity:
            kwargs = {"decay": decay}
        if table is compute_2sfca:
            kwargs = {"cutoff": 30, "decay": decay, "demand_column": "pop"}
            a = table(matrix, demand, opp, **kwargs)
            b = table(ours, demand, opp, **kwargs)
        else:
            a, b = table(matrix, opp, **kwargs), table(ours, opp, **kwargs)
        pd.testing.assert_frame_equal(a, b, rtol=1e-12)
    assert compute_cumulative(matrix, opp, cutoff=90)["jobs"].max() > 0
