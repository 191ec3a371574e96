"""Service calendars and frequencies: which service runs on which day, timed trips from headways."""

from __future__ import annotations

import datetime as dt
from collections.abc import Set
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from arverne.errors import GtfsError
from arverne.feeds._order import id_categories
from arverne.feeds._parse import format_hms
from arverne.feeds._spec import DAYS


@dataclass(frozen=True)
class ServiceDays:
    """Which service runs on which day.

    Attributes
    ----------
    first_date
        Date of day 0.
    service_id
        Service ids (str), one per row of ``active``.
    active
        bool[n_services, n_days]: ``active[s, d]`` when service ``s`` runs on ``first_date + d``.
    """

    first_date: dt.date
    service_id: np.ndarray
    active: np.ndarray

    @property
    def n_days(self) -> int:
        """Number of days covered."""
        return int(self.active.shape[1])

    def dates(self) -> list[dt.date]:
        """The date of each day column."""
        return [self.first_date + dt.timedelta(days=d) for d in range(self.n_days)]


def service_days(
    calendar: pd.DataFrame,
    calendar_dates: pd.DataFrame,
    *,
    used: Set[str] | None = None,
    max_days: int,
) -> ServiceDays:
    """Service calendar as a bool matrix (calendar.txt, then calendar_dates.txt applied).

    Parameters
    ----------
    calendar, calendar_dates
        The feed's typed tables.
    used
        Service ids that trips use: only their dates set the span (None: every service's).
    max_days
        Longest span accepted.

    Returns
    -------
    ServiceDays
        One row per service id (sorted), one column per day from the earliest to the latest
        date that calendar or calendar_dates give the services used; days of other services
        outside that span are left out.

    Raises
    ------
    GtfsError
        When the span is longer than ``max_days``, naming the service that stretches it.
    """
    service_ids = np.unique(
        np.concatenate(
            [
                calendar["service_id"].to_numpy(dtype=object).astype(str),
                calendar_dates["service_id"].to_numpy(dtype=object).astype(str),
            ]
        )
    )
    # (file, service, first date, last date) of every calendar row and calendar date
    ranges = [
        ("calendar.txt", sid, a, b)
        for sid, a, b in zip(
            calendar["service_id"].tolist(),
            calendar["start_date"].tolist(),
            calendar["end_date"].tolist(),
            strict=True,
        )
    ] + [
        ("calendar_dates.txt", sid, d, d)
        for sid, d in zip(
            calendar_dates["service_id"].tolist(), calendar_dates["date"].tolist(), strict=True
        )
    ]
    ranges = [
        r
        for r in ranges
        if r[2] is not None and r[3] is not None and (used is None or r[1] in used)
    ]
    if not ranges:
        return ServiceDays(dt.date(1970, 1, 1), service_ids, np.zeros((len(service_ids), 0), bool))
    first = min(r[2] for r in ranges)
    last = max(r[3] for r in ranges)
    n_days = (last - first).days + 1
    if n_days > max_days:
        _refuse_span(ranges, first, last, n_days, max_days)
    active = np.zeros((len(service_ids), n_days), dtype=bool)
    position = {s: i for i, s in enumerate(service_ids.tolist())}
    day_weekday = (first.weekday() + np.arange(n_days)) % 7
    if len(calendar):
        week = calendar[list(DAYS)].to_numpy(dtype=bool)
        for row, (sid, a, b) in enumerate(
            zip(
                calendar["service_id"].tolist(),
                calendar["start_date"].tolist(),
                calendar["end_date"].tolist(),
                strict=True,
            )
        ):
            lo = min(max((a - first).days, 0), n_days)  # a service no trip uses may
            hi = min(max((b - first).days + 1, 0), n_days)  # reach beyond the span
            active[position[sid], lo:hi] = week[row][day_weekday[lo:hi]]
    if len(calendar_dates):
        rows = np.array(
            [position[s] for s in calendar_dates["service_id"].tolist()], dtype=np.int64
        )
        days = np.array([(d - first).days for d in calendar_dates["date"].tolist()], dtype=np.int64)
        kind = calendar_dates["exception_type"].to_numpy()
        inside = (days >= 0) & (days < n_days)
        add, remove = inside & (kind == 1), inside & (kind == 2)
        active[rows[add], days[add]] = True
        active[rows[remove], days[remove]] = False
    return ServiceDays(first, service_ids, active)


def _refuse_span(
    ranges: list[tuple[str, str, dt.date, dt.date]],
    first: dt.date,
    last: dt.date,
    n_days: int,
    max_days: int,
) -> None:
    """GtfsError naming the service whose dates stretch the calendar most."""
    middle = first + (last - first) / 2
    file, service, _, _ = max(
        ranges, key=lambda r: max(abs((r[2] - middle).days), abs((r[3] - middle).days))
    )
    field = "date" if file == "calendar_dates.txt" else "start_date, end_date"
    raise GtfsError(
        f"{file}: service '{service}' ({field}) stretches the calendar from {first} to {last}, "
        f"{n_days:,} days, over the limit of {max_days:,} days (ReadLimits.max_service_days; "
        "raise it to build such a calendar)."
    )


def expand_frequencies(
    trips: pd.DataFrame, stop_times: pd.DataFrame, frequencies: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trips and stop_times with every frequency-based trip replaced by its timed copies.

    Works on blocks (one block = one trip's contiguous stop_times): the output is a
    permutation/repetition of input blocks, so no row-level sort is needed.
    """
    n_rows = len(stop_times)
    st_trip = stop_times["trip_id"].astype("category")  # as the reader gives it
    codes = st_trip.cat.codes.to_numpy()
    block_start = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if n_rows else codes
    block_len = np.diff(np.r_[block_start, n_rows])
    block_trip = st_trip.cat.categories.to_numpy(dtype=object)[codes[block_start]]
    block_of = dict(zip(block_trip.tolist(), range(len(block_trip)), strict=True))

    known = set(trips["trip_id"].tolist())
    freq = frequencies[
        frequencies["trip_id"].isin(list(block_of)) & frequencies["trip_id"].isin(list(known))
    ]
    templates = set(freq["trip_id"].tolist())

    start = freq["start_s"].to_numpy(np.int64)
    end = freq["end_s"].to_numpy(np.int64)
    headway = freq["headway_s"].to_numpy(np.int64)
    count = np.maximum((end - start + headway - 1) // headway, 0)
    dep_start = np.repeat(start, count) + (
        np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    ) * np.repeat(headway, count)
    dep_trip = np.repeat(freq["trip_id"].to_numpy(dtype=object), count)
    new = pd.DataFrame({"template": dep_trip.astype(str), "start_s": dep_start})
    new = new.drop_duplicates(["template", "start_s"]).sort_values(
        ["template", "start_s"], kind="stable", ignore_index=True
    )
    new_ids = (new["template"] + "@" + format_hms(new["start_s"].to_numpy())).to_numpy(dtype=object)
    new_block = np.array([block_of[t] for t in new["template"].tolist()], dtype=np.int64)
    first_dep = stop_times["departure_s"].to_numpy(np.int64)
    new_shift = new["start_s"].to_numpy(np.int64) - first_dep[block_start[new_block]]

    base = np.array([t not in templates for t in block_trip.tolist()], dtype=bool)
    out_block = np.r_[np.flatnonzero(base), new_block].astype(np.int64)
    out_shift = np.r_[np.zeros(int(base.sum()), np.int64), new_shift]
    out_ids = np.r_[block_trip[base], new_ids].astype(object)
    order = np.asarray(pc.sort_indices(pa.array(out_ids, pa.string())).to_numpy(), dtype=np.int64)
    out_block, out_shift, out_ids = out_block[order], out_shift[order], out_ids[order]

    lengths = block_len[out_block]
    total = int(lengths.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    gather = np.repeat(block_start[out_block], lengths) + offsets
    row_shift = np.repeat(out_shift, lengths)
    row_block = np.repeat(np.arange(len(out_ids)), lengths)
    columns: dict[str, object] = {}
    for name in stop_times.columns:
        if name == "trip_id":
            encoded = pc.dictionary_encode(pa.array(out_ids, pa.string()))
            block_code = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
            columns[name] = id_categories(block_code[row_block], encoded.dictionary)
        elif name == "stop_id":
            stop = stop_times[name].astype("category")
            stops = pa.array(stop.cat.categories.to_numpy(dtype=object), pa.string())
            columns[name] = id_categories(stop.cat.codes.to_numpy()[gather], stops)
        elif name in ("arrival_s", "departure_s"):
            values = stop_times[name].to_numpy(np.int64)[gather] + row_shift
            columns[name] = values.astype(np.int32)
        else:
            columns[name] = stop_times[name].to_numpy()[gather]
    out_st = pd.DataFrame(columns)

    base_trips = trips.loc[~trips["trip_id"].isin(list(templates))]
    if new.empty:
        return base_trips.reset_index(drop=True), out_st
    trip_rows = trips.drop_duplicates("trip_id").set_index("trip_id").loc[new["template"].tolist()]
    trip_rows = trip_rows.reset_index()
    trip_rows["trip_id"] = pd.array(new_ids.astype(str), dtype="str")
    out_trips = pd.concat([base_trips, trip_rows[trips.columns]], ignore_index=True)
    return out_trips, out_st
