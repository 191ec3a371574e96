"""Accessibility indicators against plain Python on random tables, and against PySAL access."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.access.indicators import (
    Decay,
    compute_2sfca,
    compute_cumulative,
    compute_gravity,
    compute_nearest,
)
from arverne.errors import InputError


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random long table (some cells missing or NaN, two percentile columns) and random
    opportunities (some destinations without a row, some rows without opportunities)."""
    n_o = draw(st.integers(1, 6))
    n_d = draw(st.integers(1, 6))
    rows = []
    for o in range(n_o):
        for d in range(n_d):
            if draw(st.booleans()) or (o == 0 and d == 0):
                t = [draw(st.one_of(st.none(), st.integers(0, 90))) for _ in range(2)]
                rows.append((f"o{o}", f"d{d}", *(math.nan if x is None else float(x) for x in t)))
    matrix = pd.DataFrame(rows, columns=["from_id", "to_id", "travel_time_p25", "travel_time_p75"])
    ids = [f"d{d}" for d in range(n_d) if draw(st.booleans())] + ["elsewhere"]
    opp = pd.DataFrame(
        {
            "id": ids,
            "jobs": [draw(st.integers(0, 50)) for _ in ids],
            "gps": [draw(st.integers(0, 3)) for _ in ids],
        }
    )
    return matrix, opp


def plain(matrix: pd.DataFrame, opp: pd.DataFrame, weight, time_cols: list[str]) -> dict:
    """Plain loops: per origin and column, the mean over time columns of sum count x weight."""
    counts = {r["id"]: r for _, r in opp.iterrows()}
    out: dict = {}
    for o in dict.fromkeys(matrix["from_id"]):
        for col in ("jobs", "gps"):
            total = 0.0
            for tc in time_cols:
                for _, r in matrix[matrix["from_id"] == o].iterrows():
                    t = r[tc]
                    if r["to_id"] in counts and not math.isnan(t):
                        total += counts[r["to_id"]][col] * weight(t)
            out[(o, col)] = total / len(time_cols)
    return out


def check(frame: pd.DataFrame, want: dict) -> None:
    """The frame's value of each (origin, column) equals the plain answer."""
    assert list(frame["id"]) == list(dict.fromkeys(k[0] for k in want))
    for (o, col), v in want.items():
        got = frame.loc[frame["id"] == o, col].iloc[0]
        assert got == pytest.approx(v, rel=1e-12, abs=1e-12) or (math.isnan(got) and math.isnan(v))


COLS = ["travel_time_p25", "travel_time_p75"]


@settings(max_examples=60, deadline=None)
@given(data=tables(), cutoffs=st.lists(st.integers(1, 90), min_size=1, max_size=3))
def test_cumulative_equals_plain_python(data: tuple, cutoffs: list[int]) -> None:
    """Random tables: opportunities within each cutoff, averaged over cutoffs and over the two
    percentile columns, equal plain loops."""
    matrix, opp = data
    got = compute_cumulative(matrix, opp, cutoff=cutoffs)
    parts = [plain(matrix, opp, lambda t, c=c: float(t <= c), COLS) for c in cutoffs]
    check(got, {k: sum(p[k] for p in parts) / len(parts) for k in parts[0]})


@settings(max_examples=60, deadline=None)
@given(
    data=tables(),
    kind=st.sampled_from(["exponential", "linear", "logistic"]),
    cutoff=st.integers(5, 60),
    beta=st.floats(0.01, 0.5),
)
def test_gravity_equals_plain_python(data: tuple, kind: str, cutoff: int, beta: float) -> None:
    """Random tables and decays: the gravity sum equals plain loops with the decay written out."""
    matrix, opp = data
    decay = Decay(kind, cutoff=cutoff, beta=beta, sd=cutoff / 4)
    s = (cutoff / 4) * math.sqrt(3) / math.pi
    fn = {
        "exponential": lambda t: math.exp(-beta * t),
        "linear": lambda t: max(0.0, 1 - t / cutoff),
        "logistic": lambda t: 1 / (1 + math.exp((t - cutoff) / s)),
    }[kind]
    check(compute_gravity(matrix, opp, decay=decay), plain(matrix, opp, fn, COLS))


@settings(max_examples=60, deadline=None)
@given(data=tables(), k=st.integers(1, 4))
def test_kth_nearest_equals_plain_python(data: tuple, k: int) -> None:
    """Random tables: minutes to the k-th unit of each count (destinations by time, counts
    summed until k), averaged over the percentile columns, NaN when fewer than k are reached."""
    matrix, opp = data
    counts = {r["id"]: r for _, r in opp.iterrows()}
    want = {}
    for o in dict.fromkeys(matrix["from_id"]):
        for col in ("jobs", "gps"):
            vals = []
            for tc in COLS:
                rows = matrix[(matrix["from_id"] == o) & matrix[tc].notna()]
                cells = sorted(
                    (r[tc], counts[r["to_id"]][col] if r["to_id"] in counts else 0)
                    for _, r in rows.iterrows()
                )
                seen, when = 0, math.nan
                for t, c in cells:
                    seen += c
                    if seen >= k:
                        when = t
                        break
                vals.append(when)
            want[(o, col)] = sum(vals) / len(vals)
    check(compute_nearest(matrix, opp, k=k), want)


@settings(max_examples=60, deadline=None)
@given(data=tables(), cutoff=st.integers(5, 90), decayed=st.booleans())
def test_2sfca_equals_plain_python(data: tuple, cutoff: int, decayed: bool) -> None:
    """Random tables with a population per origin: supply per demand within reach (plain or
    with a linear decay at both steps) equals the two steps written as loops."""
    matrix, opp = data
    origins = list(dict.fromkeys(matrix["from_id"]))
    demand = pd.DataFrame({"id": origins, "pop": [10.0 * (i + 1) for i in range(len(origins))]})
    decay = Decay("linear", cutoff=120) if decayed else None

    def w(t: float) -> float:
        if math.isnan(t) or t > cutoff:
            return 0.0
        return max(0.0, 1 - t / 120) if decayed else 1.0

    pop = dict(zip(demand["id"], demand["pop"], strict=True))
    sup = {r["id"]: r for _, r in opp.iterrows()}
    want = {}
    for o in origins:
        for col in ("jobs", "gps"):
            acc = []
            for tc in COLS:
                total = 0.0
                for _, r in matrix[matrix["from_id"] == o].iterrows():
                    j = r["to_id"]
                    seen = sum(
                        pop[q["from_id"]] * w(q[tc])
                        for _, q in matrix[matrix["to_id"] == j].iterrows()
                    )
                    s = sup[j][col] if j in sup else 0.0
                    total += (s / seen if seen > 0 else 0.0) * w(r[tc])
                acc.append(total)
            want[(o, col)] = sum(acc) / len(acc)
    got = compute_2sfca(matrix, demand, opp, cutoff=cutoff, decay=decay, demand_column="pop")
    check(got, want)


def pysal_case() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A random complete table of 30 tracts to 12 practices, populations and doctors."""
    rng = np.random.default_rng(11)
    tracts = [f"t{i}" for i in range(30)]
    practices = [f"p{j}" for j in range(12)]
    matrix = pd.DataFrame(
        [(t, p, float(rng.integers(1, 70))) for t in tracts for p in practices],
        columns=["from_id", "to_id", "travel_time"],
    )
    demand = pd.DataFrame({"id": tracts, "pop": rng.integers(100, 5000, len(tracts)).astype(float)})
    supply = pd.DataFrame(
        {"id": practices, "doc": rng.integers(1, 9, len(practices)).astype(float)}
    )
    return matrix, demand, supply


def test_2sfca_and_gravity_equal_pysal_access() -> None:
    """30 tracts x 12 practices: 2SFCA within 30 minutes (plain and with a Gaussian-like
    exponential decay), and the decayed sum of doctors (PySAL's weighted catchment), equal
    PySAL access's answers."""
    from access import Access

    matrix, demand, supply = pysal_case()
    cost = matrix.rename(columns={"from_id": "origin", "to_id": "dest", "travel_time": "cost"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc = Access(
            demand_df=demand.rename(columns={"id": "geoid"}),
            demand_index="geoid",
            demand_value="pop",
            supply_df=supply.rename(columns={"id": "geoid"}),
            supply_index="geoid",
            supply_value=["doc"],
            cost_df=cost,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        plain_2sfca = acc.two_stage_fca(name="2sfca", max_cost=30)
        beta = 0.05
        e2 = acc.two_stage_fca(name="e2", max_cost=30, weight_fn=lambda t: math.exp(-beta * t))
        grav = acc.weighted_catchment(
            name="grav", weight_fn=lambda t: math.exp(-beta * t), max_cost=1e9
        )
    ours = compute_2sfca(matrix, demand, supply, cutoff=30, demand_column="pop").set_index("id")
    np.testing.assert_allclose(ours["doc"], plain_2sfca.loc[ours.index, "2sfca_doc"], rtol=1e-12)
    ours_e = compute_2sfca(
        matrix,
        demand,
        supply,
        cutoff=30,
        decay=Decay("exponential", beta=beta),
        demand_column="pop",
    ).set_index("id")
    np.testing.assert_allclose(ours_e["doc"], e2.loc[ours.index, "e2_doc"], rtol=1e-12)
    g = compute_gravity(matrix, supply, decay=Decay("exponential", beta=beta)).set_index("id")
    np.testing.assert_allclose(g["doc"], grav.loc[g.index, "grav_doc"], rtol=1e-12)


def test_bad_inputs_are_refused() -> None:
    """A table without from_id or times, opportunities with repeated ids or no counts, a bad
    decay, k = 0: each refused in one sentence."""
    matrix, _, supply = pysal_case()
    with pytest.raises(InputError, match="from_id"):
        compute_cumulative(matrix.drop(columns="from_id"), supply, cutoff=30)
    with pytest.raises(InputError, match="travel_time"):
        compute_cumulative(matrix.drop(columns="travel_time"), supply, cutoff=30)
    with pytest.raises(InputError, match="more than once"):
        compute_cumulative(matrix, pd.concat([supply, supply]), cutoff=30)
    with pytest.raises(InputError, match="count"):
        compute_cumulative(matrix, supply[["id"]], cutoff=30)
    with pytest.raises(InputError, match="beta"):
        Decay("exponential")
    with pytest.raises(InputError, match="decay"):
        Decay("cubic", cutoff=3)
    with pytest.raises(InputError, match="k must"):
        compute_nearest(matrix, supply, k=0)
