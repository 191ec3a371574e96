"""stop_times.txt, the biggest file: read, sorted by trip, time order checked, gaps interpolated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from arverne.feeds._interpolate import interpolate_times
from arverne.feeds._order import id_categories, sort_rank, sort_trip_blocks
from arverne.feeds._parse import missing_mask
from arverne.feeds._spec import SPEC
from arverne.feeds._table import ERROR, INFO, WARNING, Tab

if TYPE_CHECKING:
    from arverne.errors import GtfsError
    from arverne.feeds._csv import Notices
    from arverne.feeds._spec import FileSpec


@dataclass
class _StopTimes:
    """Kept stop_times rows in (trip, stop_sequence) order, as arrays."""

    rows: np.ndarray
    trip: np.ndarray
    trip_ids: pa.Array
    arr: np.ndarray
    dep: np.ndarray
    dist: np.ndarray
    keep: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    timed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


class StopTimesReader:
    """The stop_times part of the feed loader (mixed into ``_load.FeedLoader``)."""

    notices: Notices
    ids: dict[str, tuple[str, pa.Array, pa.Array]]
    _trip_rows: tuple[pa.Array, np.ndarray] = (pa.array([], pa.string()), np.zeros(0))
    _flex_trip_ids: pa.Array | None = None
    stop_time_rows: np.ndarray = np.zeros(0, np.int32)
    """CSV row of each row of the typed stop_times table."""

    if TYPE_CHECKING:

        def required_tab(self, file: str) -> Tab: ...
        def refuse(self, message: str) -> GtfsError: ...
        def foreign_keys(self, tab: Tab, spec: FileSpec) -> None: ...

    def stop_times(
        self, trips_tab: Tab, stops: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """stop_times.txt: the typed table, the GTFS-Flex rows, and the ids of trips dropped."""
        file = "stop_times.txt"
        spec = SPEC[file]
        tab = self.required_tab(file)
        absent = tab.check_columns(spec.columns, spec.required_columns)
        if absent:
            raise self.refuse(f"{file} has no {absent[0]} column, the feed cannot be used")
        if not (tab.has("stop_id") or tab.has("location_group_id") or tab.has("location_id")):
            tab.check_columns((), ("stop_id",))
            raise self.refuse(f"{file} has no stop_id column, the feed cannot be used")

        # GTFS-Flex rows: a location group or zone instead of a stop
        stop_missing = missing_mask(tab.s("stop_id"))
        flex_rows = np.zeros(tab.n, dtype=bool)
        for name in ("location_group_id", "location_id"):
            if tab.has(name):
                flex_rows |= ~missing_mask(tab.s(name))
        flex_rows &= stop_missing
        flex_stop_times = pd.DataFrame()
        if flex_rows.any():
            flex_stop_times = tab.text_table().filter(pa.array(flex_rows)).to_pandas()
            self.notices.add(
                "flex_stop_times_kept",
                INFO,
                file,
                None,
                None,
                f"{file}: {int(flex_rows.sum())} rows serve a GTFS-Flex location group or zone; "
                "they are kept in flex_stop_times for the on-demand layer.",
            )
            tab.keep &= ~flex_rows

        tab.parse(spec.field("trip_id"), {})
        tab.flag_empty(stop_missing & ~flex_rows, "stop_id", quarantine=True)
        # parsed columns shrink to their final dtypes at once and their text is released: on a
        # big feed these full-length arrays, not the few rows kept, set the reader's peak memory
        typed: dict[str, np.ndarray] = {}
        for f in spec.fields:
            if f.kind != "text":
                values = np.asarray(tab.parse(f, typed))
                if f.table_name in (spec.output or ()):  # columns only checked are not kept
                    typed[f.name] = values.astype(np.int8) if f.dtype == "int8" else values
        tab.release(*spec.scan_types())
        seq, arr, dep, dist = (
            typed[c]
            for c in ("stop_sequence", "arrival_time", "departure_time", "shape_dist_traveled")
        )
        pickup, drop_off = typed["pickup_type"], typed["drop_off_type"]
        del typed  # the columns only checked leave memory now
        self.ids["trips.txt"] = (
            "trips.txt",
            trips_tab.s("trip_id"),
            trips_tab.kept_strings("trip_id"),
        )
        self.foreign_keys(tab, spec)
        not_stops = stops.loc[stops["location_type"] != 0, "stop_id"]
        if len(not_stops):
            tab.flag(
                tab.member("stop_id", pa.array(not_stops.to_numpy(dtype=object), pa.string())),
                "wrong_stop_time_stop_location_type",
                ERROR,
                "stop_id",
                "stop_id '{value}' is a station, entrance, node or boarding area, not a stop "
                "(location_type 0).",
                values=tab.s("stop_id"),
            )
        only_one = (arr < 0) != (dep < 0)
        tab.flag(
            only_one & tab.keep,
            "stop_time_with_only_arrival_or_departure_time",
            ERROR,
            "arrival_time",
            "only one of arrival_time and departure_time is given; it is used for both.",
        )
        np.copyto(arr, dep, where=arr < 0)
        np.copyto(dep, arr, where=dep < 0)

        # keep and sort by (trip_id, stop_sequence)
        keep_idx = np.flatnonzero(tab.keep).astype(np.int32)  # rows fit: int32 halves the peak
        all_codes, dictionary = tab.encoded("trip_id")
        codes = all_codes[keep_idx]
        rank = sort_rank(dictionary)
        order = sort_trip_blocks(codes, rank, seq[keep_idx])
        idx = keep_idx[order]
        sorted_codes = codes[order]
        del keep_idx, codes, order
        seq = seq[idx].astype(np.int32, copy=False)  # kept rows are within [0, INT32_MAX]
        # (trip_id, stop_sequence) repeated: the later row in the file goes (lexsort is stable)
        same = tab.sorted_duplicates(idx, sorted_codes, seq, spec.primary_key)
        if same.any():
            idx, sorted_codes, seq = idx[~same], sorted_codes[~same], seq[~same]
        st = _StopTimes(
            rows=tab.rows[idx],
            trip=sorted_codes,
            trip_ids=dictionary,
            arr=arr[idx],
            dep=dep[idx],
            dist=dist[idx],
        )
        pickup, drop_off = pickup[idx], drop_off[idx]
        del arr, dep, dist

        bad_trips = self._check_and_interpolate(st, tab, stops, idx)
        keep_rows = st.keep
        self._trip_rows = (
            dictionary,
            np.bincount(st.trip[keep_rows], minlength=len(dictionary)),
        )
        if len(flex_stop_times) and "trip_id" in flex_stop_times:
            self._flex_trip_ids = pa.array(
                flex_stop_times["trip_id"].to_numpy(dtype=object).astype(str), pa.string()
            )
        kept = slice(None) if keep_rows.all() else keep_rows  # all kept: views, no copies
        self.stop_time_rows = st.rows[kept]
        stop_codes, stop_dictionary = tab.encoded("stop_id")
        stop_times = pd.DataFrame(
            {
                "trip_id": id_categories(st.trip[kept], dictionary),
                "stop_id": id_categories(stop_codes[idx[kept]], stop_dictionary),
                "stop_sequence": seq[kept],
                "arrival_s": st.arr[kept].astype(np.int32, copy=False),
                "departure_s": st.dep[kept].astype(np.int32, copy=False),
                "pickup_type": pickup[kept],
                "drop_off_type": drop_off[kept],
                "timepoint": st.timed[kept].view(np.int8),
                "shape_dist_traveled": st.dist[kept],
            },
            copy=False,  # the columns are arrays of this read: no second copy at the peak
        )
        return stop_times, flex_stop_times, bad_trips

    def _check_and_interpolate(
        self,
        st: _StopTimes,
        tab: Tab,
        stops: pd.DataFrame,
        idx: np.ndarray,
    ) -> np.ndarray:
        """Check time order, interpolate missing times; returns ids of trips dropped."""
        file = tab.file
        n = len(st.trip)
        if n == 0:
            return np.array([], dtype=object)
        start = np.ones(n, dtype=bool)
        start[1:] = st.trip[1:] != st.trip[:-1]
        end = np.ones(n, dtype=bool)
        end[:-1] = start[1:]
        trip_of_row = np.cumsum(start, dtype=np.int32) - np.int32(1)
        n_trips = int(trip_of_row[-1]) + 1
        bad_trip = np.zeros(n_trips, dtype=bool)
        timed = st.arr >= 0

        def trip_name(rows: np.ndarray) -> list[str]:
            return [str(st.trip_ids[int(st.trip[r])]) for r in rows]

        # first and last stop of a trip must carry times
        edge = (start | end) & ~timed
        if edge.any():
            rows: np.ndarray = np.flatnonzero(edge)
            for r, tid in zip(rows.tolist(), trip_name(rows), strict=True):
                self.notices.add(
                    "missing_trip_edge",
                    ERROR,
                    file,
                    int(st.rows[r]),
                    "arrival_time",
                    f"{file} row {int(st.rows[r])}: trip '{tid}' has no time at its "
                    f"{'first' if start[r] else 'last'} stop; the trip was left out.",
                )
            bad_trip[trip_of_row[rows]] = True

        # departure before arrival at one stop
        backwards = timed & (st.dep < st.arr)
        if backwards.any():
            rows = np.flatnonzero(backwards)
            for r, tid in zip(rows.tolist(), trip_name(rows), strict=True):
                self.notices.add(
                    "stop_time_with_departure_before_arrival_time",
                    ERROR,
                    file,
                    int(st.rows[r]),
                    "departure_time",
                    f"{file} row {int(st.rows[r])}: trip '{tid}' departs before it arrives; "
                    "the trip was left out.",
                )
            bad_trip[trip_of_row[rows]] = True

        # arrival before the previous timed stop's departure
        t_idx = None if timed.all() else np.flatnonzero(timed).astype(np.int32)
        if (n if t_idx is None else len(t_idx)) > 1:
            if t_idx is None:  # every row timed: compare neighbours without gathering
                early = ~start[1:] & (st.arr[1:] < st.dep[:-1])
            else:
                same = trip_of_row[t_idx[1:]] == trip_of_row[t_idx[:-1]]
                early = same & (st.arr[t_idx[1:]] < st.dep[t_idx[:-1]])
            if early.any():
                rows = t_idx[1:][early] if t_idx is not None else np.flatnonzero(early) + 1
                for r, tid in zip(rows.tolist(), trip_name(rows), strict=True):
                    self.notices.add(
                        "stop_time_with_arrival_before_previous_departure_time",
                        ERROR,
                        file,
                        int(st.rows[r]),
                        "arrival_time",
                        f"{file} row {int(st.rows[r])}: trip '{tid}' arrives before it left the "
                        "previous stop; the trip was left out.",
                    )
                bad_trip[trip_of_row[rows]] = True

        # shape_dist_traveled must increase along a trip
        has_dist = ~np.isnan(st.dist)
        dist_ok_trip = np.zeros(n_trips, dtype=bool)
        if has_dist.any():
            dist_ok_trip = np.bincount(
                trip_of_row, weights=has_dist, minlength=n_trips
            ) == np.bincount(trip_of_row, minlength=n_trips)
            d_idx = np.flatnonzero(has_dist).astype(np.int32)
            same = trip_of_row[d_idx[1:]] == trip_of_row[d_idx[:-1]]
            d_sorted = st.dist[d_idx]
            down = same & (d_sorted[1:] <= d_sorted[:-1])
            if down.any():
                rows = d_idx[1:][down]
                for r, tid in zip(rows.tolist(), trip_name(rows), strict=True):
                    self.notices.add(
                        "decreasing_or_equal_stop_time_distance",
                        ERROR,
                        file,
                        int(st.rows[r]),
                        "shape_dist_traveled",
                        f"{file} row {int(st.rows[r])}: trip '{tid}' has a shape_dist_traveled "
                        "not above the previous stop's.",
                    )
                dist_ok_trip[trip_of_row[rows]] = False

        row_bad = bad_trip[trip_of_row]
        st.keep = ~row_bad
        bad_ids = np.array(sorted({str(st.trip_ids[int(t)]) for t in st.trip[start & row_bad]}))

        # interpolation of missing intermediate times, on the trips kept
        st.timed = timed.copy()
        gaps = ~timed & ~row_bad
        if gaps.any():
            # distance along the trip: shape_dist_traveled when complete, else straight lines
            codes, dictionary = tab.encoded("stop_id")
            where = pc.index_in(dictionary, value_set=pa.array(stops["stop_id"].to_numpy()))
            stop_of_code = np.asarray(pc.fill_null(where, -1).to_numpy(zero_copy_only=False))
            interpolate_times(
                st.arr,
                st.dep,
                timed | row_bad,
                trip_of_row,
                dist_ok_trip,
                st.dist,
                stop_of_code[codes[idx]],
                stops["stop_lat"].to_numpy(dtype=np.float64),
                stops["stop_lon"].to_numpy(dtype=np.float64),
            )
            first = int(np.argmax(gaps))
            tid = str(st.trip_ids[int(st.trip[first])])
            n_gap_trips = 1 + np.count_nonzero(np.diff(trip_of_row[gaps]))  # rows in trip order
            self.notices.add(
                "stop_time_interpolated",
                INFO,
                file,
                int(st.rows[first]),
                "arrival_time",
                f"{file}: {int(gaps.sum()):,} stop times in {n_gap_trips:,} trips have no time; "
                "they were interpolated by distance along each trip (first: row "
                f"{int(st.rows[first])}, trip '{tid}').",
            )
        return bad_ids

    def unusable_trips(self, tab: Tab) -> None:
        """``unusable_trip`` (WARNING) for kept trips served at fewer than two stops."""
        dictionary, counts = self._trip_rows
        codes, trip_dict = tab.encoded("trip_id")
        where = np.asarray(
            pc.fill_null(pc.index_in(trip_dict, value_set=dictionary), -1).to_numpy(
                zero_copy_only=False
            ),
            dtype=np.int64,
        )
        per_dict = np.where(where >= 0, np.r_[counts, 0][where], 0)
        if self._flex_trip_ids is not None:
            flex_dict = pc.dictionary_encode(self._flex_trip_ids)
            flex_counts = np.bincount(
                np.asarray(flex_dict.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
                minlength=len(flex_dict.dictionary),
            )
            fwhere = np.asarray(
                pc.fill_null(pc.index_in(trip_dict, value_set=flex_dict.dictionary), -1).to_numpy(
                    zero_copy_only=False
                ),
                dtype=np.int64,
            )
            per_dict = per_dict + np.where(fwhere >= 0, np.r_[flex_counts, 0][fwhere], 0)
        rows = per_dict[codes] if len(codes) else np.zeros(0, np.int64)
        tab.flag(
            tab.keep & (rows < 2),
            "unusable_trip",
            WARNING,
            "trip_id",
            "trip '{value}' serves fewer than two stops; it cannot be used.",
            values=tab.s("trip_id"),
        )
