"""Walks inside stations from a pathways.txt table (GTFS column names)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arverne.network.links import build_links
from arverne.network.pathways import pathway_footpaths

# station ST (0) with entrance E (1), a node N (2) and platforms P1 (3) and P2 (4, 100 m north)
STOP_ID = np.array(["ST", "E", "N", "P1", "P2"])
LON = np.full(5, 3.0)
LAT = np.array([45.0, 45.0, 45.0, 45.0, 45.0009])
PARENT = np.array([-1, 0, 0, 0, 0])
PATHWAYS = pd.DataFrame(
    {
        "pathway_id": ["w", "down", "up", "hall", "gate", "lost"],
        "from_stop_id": ["E", "N", "P1", "N", "P1", "X"],
        "to_stop_id": ["N", "P1", "N", "P2", "P2", "P1"],
        "pathway_mode": [1, 2, 4, 1, 6, 1],
        "is_bidirectional": [1, 0, 0, 1, 0, 1],
        "length": [65.0, 13.0, np.nan, np.nan, np.nan, 5.0],
        "traversal_time": [-1, -1, 30, 40, np.nan, 1],
    }
)


def test_pathway_times_are_least_walks_through_the_station():
    """E-N walkway 65 m both ways (50 s at 1.3 m/s), N -> P1 stairs 13 m at half speed (20 s),
    P1 -> N escalator 30 s, N-P2 40 s both ways, P1 -> P2 a gate with neither time nor length
    (the 100 m straight line times 1.3, at 1.3 m/s: 101 s, beaten by 70 s through N); the row
    from the unknown stop X is left out. Every pair joined gets its least time."""
    f, t, s = pathway_footpaths(PATHWAYS, STOP_ID, LON, LAT)
    got = {(STOP_ID[a], STOP_ID[b]): int(x) for a, b, x in zip(f, t, s, strict=True)}
    assert got == {
        ("E", "N"): 50, ("E", "P1"): 70, ("E", "P2"): 90,
        ("N", "E"): 50, ("N", "P1"): 20, ("N", "P2"): 40,
        ("P1", "N"): 30, ("P1", "E"): 80, ("P1", "P2"): 70,
        ("P2", "N"): 40, ("P2", "E"): 90, ("P2", "P1"): 60,
    }  # fmt: skip
    pairs = list(zip(f.tolist(), t.tolist(), strict=True))
    assert pairs == sorted(pairs)


def test_pathways_replace_the_estimate_inside_a_station():
    """Without pathways P1 -> P2 (one station, 100 m apart, no streets) is estimated at 101 s;
    with them it is the 70 s walk through N and no longer labelled estimated, while the
    station's other estimated pairs keep their estimate."""
    plain, _ = build_links(None, LON, LAT, stop_parent=PARENT)

    def path(links, a, b):
        lo, hi = links.footpath_ptr[a], links.footpath_ptr[a + 1]
        k = lo + list(links.footpath_to[lo:hi]).index(b)
        return int(links.footpath_time_s[k]), bool(links.footpath_straight_line[k])

    assert path(plain, 3, 4) == (101, True)
    through = build_links(
        None, LON, LAT, stop_parent=PARENT, pathways=pathway_footpaths(PATHWAYS, STOP_ID, LON, LAT)
    )[0]
    assert path(through, 3, 4) == (70, False)
    assert path(through, 4, 3) == (60, False)
    assert path(through, 0, 3) == path(plain, 0, 3)  # the station node: no pathway
