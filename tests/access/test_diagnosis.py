"""The territory diagnosis: times, reasons, counts that add up, outputs, comparison, suggest."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.access.compare import compare_diagnoses, greedy_cover, suggest
from arverne.access.diagnosis import (
    REASONS,
    DiagnosisParams,
    compute_diagnosis,
    grid_points,
    read_services,
)
from arverne.access.diagnosis_report import summary_text, write_comparison, write_diagnosis
from arverne.access.scenarios import AddLine, OnDemandZone, build_scenario
from arverne.errors import InputError
from arverne.network.network import Network
from tests.access import territory
from tests.access.reference_matrix import planner_matrix

AT = dt.datetime(2024, 3, 4, 8, 0)
PARAMS = DiagnosisParams(at=AT, threshold_min=30, window_min=20, max_changes=1)


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> Network:
    """The six-village territory, built without streets."""
    from arverne.feeds.gtfs import read_gtfs
    from arverne.network.links import build_links
    from arverne.network.timetable import build_timetable

    folder = territory.write_territory(tmp_path_factory.mktemp("territory"))
    tt = build_timetable([read_gtfs(folder, name="t")])
    links, _ = build_links(None, tt)
    return Network(timetable=tt, links=links)


@pytest.fixture(scope="module")
def diagnosis(network):
    """The diagnosis of the territory at 08:00, one point per zone."""
    return compute_diagnosis(
        network, territory.zones(), territory.services(), params=PARAMS, matrix=planner_matrix
    )


def test_each_village_gets_its_reason(diagnosis) -> None:
    """Each village of the territory is within 30 min of the doctor or beyond for the one
    reason built into it (no stop, no bus at that hour, too many changes, too long, no
    connection)."""
    reasons = dict(zip(diagnosis.points["zone_id"], diagnosis.points["reason_health"], strict=True))
    assert reasons == territory.EXPECTED
    v = diagnosis.zones.set_index("zone_id").loc["V", "time_health"]
    assert 20 < v <= 30


def test_counts_add_up_to_population(diagnosis) -> None:
    """People within plus beyond, and beyond by reason, add up to the zones' population;
    the ranked table lists every zone with people beyond, most people first."""
    for c in diagnosis.categories:
        counts = diagnosis.counts(c)
        assert counts["population"] == pytest.approx(float(diagnosis.zones["population"].sum()))
        assert counts["within"] + counts["beyond"] == pytest.approx(counts["population"])
        assert sum(counts[r] for r in REASONS) == pytest.approx(counts["beyond"])
        assert diagnosis.zones[f"beyond_{c}"].sum() == pytest.approx(counts["beyond"])
    table = diagnosis.beyond("health")
    assert list(table["zone_id"]) == ["X", "Z", "Y", "W", "Q"]
    assert table["people_beyond"].sum() == 1500


def test_weighted_points_split_zone_population(network) -> None:
    """Population-weighted points: a zone's people are shared among its points in proportion
    to their weights and still add up; a zone without points keeps one on its surface."""
    pts = pd.DataFrame(
        {
            "zone_id": ["V", "V", "W"],
            "population": [3.0, 1.0, 1.0],
            "lon": [3.0, 3.006, 3.30],
            "lat": [45.0, 45.0, 45.0],
        }
    )
    diag = compute_diagnosis(
        network,
        territory.zones(),
        territory.services(),
        params=PARAMS,
        points=pts,
        categories=["health"],
        matrix=planner_matrix,
    )
    v = diag.points[diag.points["zone_id"] == "V"]["population"].tolist()
    assert v == [750.0, 250.0]
    assert diag.counts("health")["population"] == pytest.approx(2500)
    assert diag.point_method == "population-weighted points"
    grid = grid_points(territory.zones(), 400)
    assert grid.groupby("zone_id")["population"].sum().to_dict() == pytest.approx(
        {vid: float(pop) for vid, (_, pop) in territory.VILLAGES.items()}
    )


def test_outputs_are_written(diagnosis, tmp_path) -> None:
    """Maps, GeoPackage layers, tables and both summaries are written; the summary gives the
    numbers of the counts."""
    import pyogrio

    files = write_diagnosis(diagnosis, tmp_path)
    assert files["map"].stat().st_size > 10_000
    layers = {name for name, _ in pyogrio.list_layers(files["gpkg"])}
    assert layers == {"zones", "points", "services"}
    en = summary_text(diagnosis, "en")
    assert "1,500 people" in en and "too many changes" in en and "straight-line" in en
    fr = files["summary_fr"].read_text(encoding="utf-8")
    assert "1\u202f500 habitants" in fr and "trop de correspondances" in fr


def test_compare_and_suggest(network, diagnosis, tmp_path) -> None:
    """An on-demand zone around village W feeding stop F brings W's 200 people within 30 min;
    a new line from K to the town does the same for Q; suggest ranks them by people."""
    import shapely

    odz = OnDemandZone(
        "W-odz",
        shapely.box(3.29, 44.99, 3.31, 45.01),
        hubs=("F",),
        points=((45.0, 3.3),),
        response_s=120,
        step_s=120,
        start_s=7 * 3600,
        end_s=10 * 3600,
        speed_kmh=80,
    )
    line = AddLine(
        "QB", ("K", "B"), headway_s=600, start_s=7 * 3600, end_s=10 * 3600, run_s=(15 * 60,)
    )
    scenario = build_scenario(network, [line])
    after = compute_diagnosis(
        scenario, territory.zones(), territory.services(), params=PARAMS, matrix=planner_matrix
    )
    cmp = compare_diagnoses(diagnosis, after, name="line QB")
    z = cmp.zones.set_index("zone_id")
    assert z.loc["Q", "people_gaining_health"] == 100
    assert z.loc["Q", "gained_health"] > 0
    assert cmp.totals("health")["people_gaining"] == 100
    files = write_comparison(cmp, tmp_path)
    assert files["delta_map"].exists()
    ranked = suggest(
        network,
        territory.zones(),
        territory.services(),
        [("line QB", [line]), ("on-demand W", [odz])],
        category="health",
        params=PARAMS,
        matrix=planner_matrix,
    )
    assert ranked["candidate"].tolist() == ["on-demand W", "line QB"]
    assert ranked["people_newly_covered"].tolist() == [200, 100]


def test_bad_inputs_are_refused(network, tmp_path) -> None:
    """Zones without population or with repeated ids, services without category, a bad CSV
    row and an impossible threshold are refused with one clear sentence."""
    zones = territory.zones()
    with pytest.raises(InputError, match="population"):
        compute_diagnosis(
            network, zones.drop(columns="population"), territory.services(), params=PARAMS
        )
    dup = zones.copy()
    dup.loc[1, "id"] = "V"
    with pytest.raises(InputError, match="appears twice"):
        compute_diagnosis(network, dup, territory.services(), params=PARAMS)
    csv = tmp_path / "s.csv"
    csv.write_text("id,category,lat,lon\na,health,45,3\nb,health,95,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 3"):
        read_services(csv)
    with pytest.raises(InputError, match="threshold"):
        DiagnosisParams(at=AT, threshold_min=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sets(st.integers(0, 7), max_size=5), min_size=1, max_size=6),
    st.lists(st.integers(0, 50), min_size=8, max_size=8),
    st.integers(1, 4),
)
def test_greedy_cover_against_brute_force(covers, weights, k) -> None:
    """Greedy maximal covering on random small inputs: one pick is the best single candidate,
    each pick adds the most uncovered weight of those left, and the total is at least
    (1 - 1/e) of the best choice of k found by brute force."""
    w = np.array(weights, np.float64)
    picks = greedy_cover(covers, w, k)

    def weight_of(sets):
        union = set().union(*sets) if sets else set()
        return float(sum(w[j] for j in union))

    best = max(
        weight_of([covers[i] for i in combo])
        for combo in itertools.combinations(range(len(covers)), min(k, len(covers)))
    )
    total = sum(g for _, g in picks)
    assert total == pytest.approx(weight_of([covers[i] for i, _ in picks]))
    assert total >= (1 - 1 / math.e) * best - 1e-9
    if k == 1 and picks:
        assert total == best
    covered: set[int] = set()
    for i, gain in picks:
        others = [
            weight_of([covers[j] - covered])
            for j in range(len(covers))
            if j not in [p for p, _ in picks[: picks.index((i, gain))]]
        ]
        assert gain == max(others) and gain > 0
        covered |= covers[i]


def test_default_matrix_agrees_with_reference(network, diagnosis) -> None:
    """The diagnosis on the project's travel-time matrix gives the reference matrix's times
    and reasons on the six-village territory."""
    fast = compute_diagnosis(network, territory.zones(), territory.services(), params=PARAMS)
    for c in diagnosis.categories:
        np.testing.assert_allclose(
            fast.points[f"time_{c}"].to_numpy(), diagnosis.points[f"time_{c}"].to_numpy(), atol=1e-9
        )
        assert fast.points[f"reason_{c}"].tolist() == diagnosis.points[f"reason_{c}"].tolist()
