"""Base versus scenario: who gains access, minutes gained per zone; and ``suggest``, which ranks
candidate edits (on-demand zones, stops, lines) by the people they newly bring within the
threshold, greedily (maximal covering).

Maximal covering: each candidate *covers* the representative points it brings within the
threshold of the category (alone, on the base network); the greedy pick takes, k times, the
candidate covering the most people not yet covered. Effects of candidates are taken as
independent (two on-demand zones feeding each other are not modelled together), the usual
assumption of the covering model; the greedy answer is within 1 - 1/e of the best choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.access.diagnosis import Diagnosis, DiagnosisParams, MatrixFn, compute_diagnosis
from arverne.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from arverne.access.scenarios import Edit
    from arverne.network.network import Network


@dataclass
class Comparison:
    """Per zone and category: times before and after, minutes gained, people gaining access.

    ``zones`` columns per category ``c``: ``time_base_c``, ``time_scenario_c`` (minutes, NaN
    not reached), ``gained_c`` (base minus scenario, a zone not reached counting as the
    longest time searched), ``people_gaining_c`` and ``people_losing_c`` (moving across the
    threshold).
    """

    name: str
    categories: tuple[str, ...]
    zones: gpd.GeoDataFrame
    threshold_min: float

    def totals(self, category: str) -> dict[str, float]:
        """People gaining and losing access, and the zones where times improve."""
        z = self.zones
        return {
            "people_gaining": float(z[f"people_gaining_{category}"].sum()),
            "people_losing": float(z[f"people_losing_{category}"].sum()),
            "zones_faster": int((z[f"gained_{category}"] > 0).sum()),
            "zones_slower": int((z[f"gained_{category}"] < 0).sum()),
        }

    def text(self, lang: str = "en") -> str:
        """A sentence per category, in French or English."""
        lines = []
        for c in self.categories:
            t = self.totals(c)
            if lang == "fr":
                lines.append(
                    f"- {c} ({self.name}) : {round(t['people_gaining'])} habitants passent sous "
                    f"{self.threshold_min:g} min, {round(t['people_losing'])} au-dessus ; "
                    f"{t['zones_faster']} zones plus rapides, {t['zones_slower']} plus lentes."
                )
            else:
                lines.append(
                    f"- {c} ({self.name}): {round(t['people_gaining'])} people come within "
                    f"{self.threshold_min:g} min, {round(t['people_losing'])} fall beyond; "
                    f"{t['zones_faster']} zones faster, {t['zones_slower']} slower."
                )
        return "\n".join(lines) + "\n"


def compare_diagnoses(
    base: Diagnosis, scenario: Diagnosis, *, name: str = "scenario"
) -> Comparison:
    """The difference between two diagnoses of the same zones and points.

    Raises
    ------
    InputError
        When the two diagnoses are not of the same points or categories.
    """
    if list(base.points["zone_id"]) != list(scenario.points["zone_id"]) or (
        base.categories != scenario.categories
    ):
        raise InputError("the two diagnoses are not of the same zones, points and categories")
    cap = float(base.params.max_time_min)
    zones = base.zones[["zone_id", "name", "population", "geometry"]].copy()
    for c in base.categories:
        tb = base.zones[f"time_{c}"].to_numpy(np.float64)
        ts = scenario.zones[f"time_{c}"].to_numpy(np.float64)
        zones[f"time_base_{c}"] = tb
        zones[f"time_scenario_{c}"] = ts
        gained = np.nan_to_num(tb, nan=cap) - np.nan_to_num(ts, nan=cap)
        zones[f"gained_{c}"] = np.where(np.isnan(tb) & np.isnan(ts), np.nan, gained)
        was = base.points[f"reason_{c}"].to_numpy(str) != ""
        now = scenario.points[f"reason_{c}"].to_numpy(str) != ""
        pop = base.points["population"].to_numpy(np.float64)
        zid = base.points["zone_id"].to_numpy()
        for col, mask in ((f"people_gaining_{c}", was & ~now), (f"people_losing_{c}", ~was & now)):
            per_zone = _sum_by(zid, pop * mask)
            zones[col] = zones["zone_id"].map(per_zone).fillna(0.0).to_numpy()
    return Comparison(name, base.categories, zones, base.params.threshold_min)


def _sum_by(keys: np.ndarray, values: np.ndarray) -> dict[Any, float]:
    out: dict[Any, float] = {}
    for k, v in zip(keys.tolist(), values.tolist(), strict=True):
        out[k] = out.get(k, 0.0) + v
    return out


def greedy_cover(covers: Sequence[set[int]], weight: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Greedy maximal covering: up to ``k`` (candidate, people newly covered) picks.

    Each pick is the candidate covering the most weight not yet covered (ties: the first
    candidate); picks stop early when no candidate adds anything.
    """
    covered: set[int] = set()
    picks: list[tuple[int, float]] = []
    left = set(range(len(covers)))
    for _ in range(k):
        best, gain = -1, 0.0
        for i in sorted(left):
            g = float(sum(weight[j] for j in covers[i] - covered))
            if g > gain:
                best, gain = i, g
        if best < 0:
            break
        picks.append((best, gain))
        covered |= covers[best]
        left.discard(best)
    return picks


def suggest(
    network: Network,
    zones: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    candidates: Sequence[tuple[str, Sequence[Edit]]],
    *,
    category: str,
    params: DiagnosisParams,
    k: int = 3,
    points: pd.DataFrame | None = None,
    matrix: MatrixFn | None = None,
) -> pd.DataFrame:
    """Rank candidate edits by the people they newly bring within the threshold (greedy).

    Parameters
    ----------
    network
        The base network.
    zones, services, params, points, matrix
        As :func:`arverne.access.diagnosis.compute_diagnosis`.
    candidates
        (name, edits) pairs: an on-demand zone, a stop, a line, or several edits together.
    category
        The service category to cover.
    k
        Most candidates to pick.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``candidate``, ``people_newly_covered`` (beyond what earlier picks cover),
        ``people_alone`` (what the candidate covers by itself), ``cumulative``.
    """
    import pandas as pd

    from arverne.access.scenarios import build_scenario

    if not candidates:
        raise InputError("suggest needs at least one candidate")
    base = compute_diagnosis(
        network, zones, services, params=params, points=points, categories=[category], matrix=matrix
    )
    beyond = base.points[f"reason_{category}"].to_numpy(str) != ""
    weight = base.points["population"].to_numpy(np.float64)
    covers: list[set[int]] = []
    for name, edits in candidates:
        scenario = build_scenario(network, edits, name=name)
        diag = compute_diagnosis(
            scenario,
            zones,
            services,
            params=params,
            points=points,
            categories=[category],
            matrix=matrix,
        )
        within = diag.points[f"reason_{category}"].to_numpy(str) == ""
        covers.append(set(np.flatnonzero(beyond & within).tolist()))
    picks = greedy_cover(covers, weight, k)
    rows = []
    total = 0.0
    for rank, (i, gain) in enumerate(picks, start=1):
        total += gain
        alone = float(weight[list(covers[i])].sum()) if covers[i] else 0.0
        rows.append((rank, candidates[i][0], gain, alone, total))
    return pd.DataFrame(
        rows, columns=["rank", "candidate", "people_newly_covered", "people_alone", "cumulative"]
    )
