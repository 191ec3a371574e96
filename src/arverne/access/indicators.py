"""Accessibility indicators over a long travel-time table (vectorised numpy / pandas).

The table has r5py's shape, as :func:`arverne.access.matrix.travel_time_matrix` returns it:
``from_id``, ``to_id``, and ``travel_time`` minutes (or ``travel_time_pNN`` percentile
columns); a missing or NaN time means not reached. Opportunities are a DataFrame with a unique
``id`` column (the ``to_id`` values) and one count column per kind (jobs, schools, GPs...).

Every indicator returns one row per origin (``id``, every ``from_id`` of the table, in order of
first appearance) and one column per opportunity kind:

* :func:`compute_cumulative`: opportunities within a cutoff (averaged over several cutoffs);
* :func:`compute_gravity`: opportunities weighted by a :class:`Decay` of the time;
* :func:`compute_nearest`: minutes to the nearest opportunity, or to the k-th (counting the
  units of a count column: k doctors, not k places);
* :func:`compute_2sfca`: the two-step floating catchment ratio of supply per demand (GPs per
  inhabitant), optionally with a decay (enhanced 2SFCA).

Several time columns (percentiles over a departure window) are averaged: the indicator is
computed with each and the results are averaged, as r5py and the R ``accessibility`` package
do for cutoffs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np

from arverne.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

DECAYS = ("step", "exponential", "linear", "logistic")


@dataclass(frozen=True)
class Decay:
    """A weight of the travel time t (minutes), 1 at t = 0 for all but the logistic.

    * ``step``: 1 when t <= cutoff, else 0;
    * ``exponential``: exp(-beta t);
    * ``linear``: max(0, 1 - t / cutoff);
    * ``logistic``: 1 / (1 + exp((t - cutoff) / s)), s = sd sqrt(3) / pi: the survival of a
      logistic law of mean ``cutoff`` and standard deviation ``sd`` (R5's logistic decay).
    """

    kind: str
    cutoff: float = math.inf
    """Minutes (step, linear, logistic)."""
    beta: float = 0.0
    """Per minute (exponential)."""
    sd: float = 0.0
    """Minutes (logistic)."""

    def __post_init__(self) -> None:
        if self.kind not in DECAYS:
            raise InputError(f"decay must be one of {', '.join(DECAYS)}, got {self.kind!r}")
        if self.kind in ("step", "linear", "logistic") and not 0 < self.cutoff < math.inf:
            raise InputError(f"a {self.kind} decay needs a positive cutoff, got {self.cutoff}")
        if self.kind == "exponential" and not 0 < self.beta < math.inf:
            raise InputError(f"an exponential decay needs beta > 0, got {self.beta}")
        if self.kind == "logistic" and not 0 < self.sd < math.inf:
            raise InputError(f"a logistic decay needs sd > 0, got {self.sd}")

    def weights(self, minutes: np.ndarray) -> np.ndarray:
        """The weight of each time (0 where NaN: not reached)."""
        t = np.asarray(minutes, np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kind == "step":
                w = (t <= self.cutoff).astype(np.float64)
            elif self.kind == "exponential":
                w = np.exp(-self.beta * t)
            elif self.kind == "linear":
                w = np.clip(1.0 - t / self.cutoff, 0.0, 1.0)
            else:
                s = self.sd * math.sqrt(3.0) / math.pi
                w = 1.0 / (1.0 + np.exp((t - self.cutoff) / s))
        return np.where(np.isnan(t), 0.0, w)


@dataclass(frozen=True)
class _Table:
    """The table's rows aligned with the opportunities: origin codes, counts, times."""

    origins: pd.Index
    code: np.ndarray
    """int64[r]: origin of each row (position in ``origins``)."""
    counts: np.ndarray
    """float64[r, k]: each row's destination counts (0 where the destination has none)."""
    columns: list[str]
    times: list[np.ndarray]
    """float64[r] per time column: minutes, NaN when not reached."""

    def per_origin(self, weights: np.ndarray) -> np.ndarray:
        """float64[o, k]: sum over each origin's rows of weights x counts."""
        out = np.empty((len(self.origins), len(self.columns)))
        for j in range(len(self.columns)):
            out[:, j] = np.bincount(
                self.code, weights=weights * self.counts[:, j], minlength=len(self.origins)
            )
        return out

    def frame(self, values: np.ndarray) -> pd.DataFrame:
        import pandas as pd

        out = pd.DataFrame(values, columns=self.columns)
        out.insert(0, "id", self.origins.to_numpy())
        return out


def _table(
    matrix: pd.DataFrame,
    opportunities: pd.DataFrame,
    columns: Sequence[str] | None,
    time_columns: Sequence[str] | None,
) -> _Table:
    """Check the inputs and align them (see the module docstring)."""
    import pandas as pd

    for name in ("from_id", "to_id"):
        if name not in matrix.columns:
            raise InputError(f"the travel-time table has no {name} column")
    if time_columns is None:
        if "travel_time" in matrix.columns:
            time_columns = ["travel_time"]
        else:
            time_columns = sorted(c for c in matrix.columns if str(c).startswith("travel_time_p"))
    time_columns = list(time_columns)
    if not time_columns:
        raise InputError("the travel-time table has no travel_time or travel_time_pNN column")
    missing = [c for c in time_columns if c not in matrix.columns]
    if missing:
        raise InputError(f"the travel-time table has no column {missing[0]!r}")
    if "id" not in opportunities.columns:
        raise InputError("the opportunities have no id column")
    if opportunities["id"].duplicated().any():
        dup = opportunities.loc[opportunities["id"].duplicated(), "id"].iloc[0]
        raise InputError(f"the opportunities' id {dup!r} appears more than once")
    if columns is None:
        columns = [
            c
            for c in opportunities.columns
            if c != "id" and pd.api.types.is_numeric_dtype(opportunities[c])
        ]
    columns = list(columns)
    for c in columns:
        if c not in opportunities.columns or not pd.api.types.is_numeric_dtype(opportunities[c]):
            raise InputError(f"the opportunities have no numeric column {c!r}")
    if not columns:
        raise InputError("the opportunities have no count column")
    codes, origins = pd.factorize(matrix["from_id"], sort=False)
    if (codes < 0).any():
        raise InputError("the travel-time table has a missing from_id")
    row = pd.Index(opportunities["id"]).get_indexer(matrix["to_id"])
    values = opportunities[columns].to_numpy(np.float64)
    if np.isnan(values).any():
        raise InputError("the opportunities hold a missing count")
    counts = np.where((row >= 0)[:, None], values[np.maximum(row, 0)], 0.0)
    times = [matrix[c].to_numpy(np.float64, na_value=np.nan) for c in time_columns]
    return _Table(pd.Index(origins), codes.astype(np.int64), counts, columns, times)


def compute_cumulative(
    matrix: pd.DataFrame,
    opportunities: pd.DataFrame,
    *,
    cutoff: float | Sequence[float],
    columns: Sequence[str] | None = None,
    time_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Opportunities reachable within a cutoff, per origin.

    Parameters
    ----------
    matrix
        Long travel-time table (module docstring).
    opportunities
        ``id`` and count columns.
    cutoff
        Minutes; several: the mean of the counts within each.
    columns
        Count columns to use (default: every numeric column but ``id``).
    time_columns
        Time columns (default ``travel_time``, else every ``travel_time_pNN``), averaged.

    Returns
    -------
    pandas.DataFrame
        ``id`` and one column per count column.
    """
    table = _table(matrix, opportunities, columns, time_columns)
    many = not isinstance(cutoff, Real)
    cuts = [float(c) for c in cutoff] if many else [float(cutoff)]  # type: ignore[union-attr, arg-type]
    if not cuts:
        raise InputError("cutoff must be minutes or a non-empty sequence of minutes")
    total = np.zeros((len(table.origins), len(table.columns)))
    for c in cuts:
        decay = Decay("step", cutoff=c)
        for t in table.times:
            total += table.per_origin(decay.weights(t))
    return table.frame(total / (len(cuts) * len(table.times)))


def compute_gravity(
    matrix: pd.DataFrame,
    opportunities: pd.DataFrame,
    *,
    decay: Decay,
    columns: Sequence[str] | None = None,
    time_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Opportunities weighted by a decay of the travel time, per origin (Hansen's gravity).

    Parameters as :func:`compute_cumulative`, with ``decay`` the weight of a time.
    """
    table = _table(matrix, opportunities, columns, time_columns)
    total = sum(table.per_origin(decay.weights(t)) for t in table.times)
    return table.frame(np.asarray(total) / len(table.times))


def compute_nearest(
    matrix: pd.DataFrame,
    opportunities: pd.DataFrame,
    *,
    k: int = 1,
    columns: Sequence[str] | None = None,
    time_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Minutes from each origin to its k-th nearest opportunity (NaN: fewer than k reached).

    The k-th unit of a count: the least time t such that the destinations within t hold at
    least k of them (``k=1``: the nearest destination with any).
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a whole number >= 1, got {k!r}")
    table = _table(matrix, opportunities, columns, time_columns)
    n_o = len(table.origins)
    total = np.zeros((n_o, len(table.columns)))
    for t in table.times:
        reached = ~np.isnan(t)
        code, tt, counts = table.code[reached], t[reached], table.counts[reached]
        order = np.lexsort((tt, code))
        code, tt, counts = code[order], tt[order], counts[order]
        start = np.searchsorted(code, np.arange(n_o))  # first row of each origin
        for j in range(len(table.columns)):
            cum = np.cumsum(counts[:, j])
            before = np.concatenate([[0.0], cum])[start]  # the counts of earlier origins
            hit = np.flatnonzero(cum - before[code] >= k)
            out = np.full(n_o, np.nan)
            # rows are sorted by origin: the first hit of each origin is its k-th unit
            first = np.unique(code[hit], return_index=True)
            out[first[0]] = tt[hit[first[1]]]
            total[:, j] += out
    return table.frame(total / len(table.times))


def compute_2sfca(
    matrix: pd.DataFrame,
    demand: pd.DataFrame,
    supply: pd.DataFrame,
    *,
    cutoff: float,
    decay: Decay | None = None,
    demand_column: str,
    supply_columns: Sequence[str] | None = None,
    time_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Two-step floating catchment: supply per unit of demand within reach (GPs per inhabitant).

    Step 1, at each supply place j: R_j = S_j / sum_i D_i w(t_ij) over the demand places i
    within ``cutoff``; step 2, at each demand place i: A_i = sum_j R_j w(t_ij) over the supply
    places within ``cutoff``. w is 1 (Luo and Wang's 2SFCA) or ``decay`` (enhanced 2SFCA, as
    PySAL's ``access`` applies it at both steps). A supply place with no demand within reach
    serves nobody (R_j = 0).

    Parameters
    ----------
    matrix
        Travel times from the demand places (``from_id``) to the supply places (``to_id``).
    demand
        ``id`` and ``demand_column`` (e.g. population), one row per demand place.
    supply
        ``id`` and supply columns (e.g. GPs).
    cutoff
        Minutes.
    decay
        Weight of the time within the cutoff (None: 1).
    demand_column, supply_columns
        Which columns hold the demand and the supplies (default: every numeric one).
    time_columns
        As :func:`compute_cumulative` (each step averaged over them).

    Returns
    -------
    pandas.DataFrame
        ``id`` (every ``from_id``) and one ratio column per supply column.
    """
    import pandas as pd

    table = _table(matrix, supply, supply_columns, time_columns)
    if "id" not in demand.columns or demand_column not in demand.columns:
        raise InputError(f"the demand needs an id and a {demand_column!r} column")
    if demand["id"].duplicated().any():
        raise InputError("the demand's ids repeat")
    d_row = pd.Index(demand["id"]).get_indexer(table.origins)
    d_val = demand[demand_column].to_numpy(np.float64)
    origin_demand = np.where(d_row >= 0, d_val[np.maximum(d_row, 0)], 0.0)
    to_codes, supplies = pd.factorize(matrix["to_id"], sort=False)
    s_row = pd.Index(supply["id"]).get_indexer(supplies)
    s_val = supply[table.columns].to_numpy(np.float64)
    place_supply = np.where((s_row >= 0)[:, None], s_val[np.maximum(s_row, 0)], 0.0)
    total = np.zeros((len(table.origins), len(table.columns)))
    for t in table.times:
        w = Decay("step", cutoff=float(cutoff)).weights(t)
        if decay is not None:
            w = w * decay.weights(t)
        seen = np.bincount(to_codes, weights=w * origin_demand[table.code], minlength=len(supplies))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(seen[:, None] > 0, place_supply / seen[:, None], 0.0)
        for j in range(len(table.columns)):
            total[:, j] += np.bincount(
                table.code, weights=w * ratio[to_codes, j], minlength=len(table.origins)
            )
    return table.frame(total / len(table.times))


__all__ = [
    "DECAYS",
    "Decay",
    "compute_2sfca",
    "compute_cumulative",
    "compute_gravity",
    "compute_nearest",
]
