"""Read a GTFS feed (zip or folder) into typed, validated tables.

>>> feed = read_gtfs("poa_eptc.zip")          # doctest: +SKIP
>>> feed.stop_times.head()                     # doctest: +SKIP

Every file is read with pyarrow as strings, then parsed and checked with vectorised code.
A bad row gets a :class:`~arverne.feeds.notices.Notice` and is quarantined (left out); the rest
loads. Only a feed that cannot give any service is refused with :class:`~arverne.errors.GtfsError`.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from arverne.errors import GtfsError
from arverne.feeds._csv import Notices, read_csv_table
from arverne.feeds._interpolate import interpolate_times
from arverne.feeds._order import id_categories, sort_rank, sort_trip_blocks
from arverne.feeds._parse import format_hms, missing_mask
from arverne.feeds._source import Source
from arverne.feeds._spec import (
    FLEX_FILES,
    KNOWN_COLUMNS,
    OTHER_SPEC_FILES,
    REQUIRED_FILES,
)
from arverne.feeds._table import ERROR, INFO, WARNING, Tab, frame
from arverne.feeds.limits import ReadLimits
from arverne.feeds.notices import Notice
from arverne.memory import lean_memory

__all__ = ["GtfsFeed", "ServiceDays", "read_gtfs"]

INT32_MAX = 2**31 - 1

_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_id", "agency_name", "agency_timezone"),
    "stops": (
        "stop_id",
        "stop_name",
        "stop_code",
        "parent_station",
        "zone_id",
        "stop_lat",
        "stop_lon",
        "location_type",
        "wheelchair_boarding",
    ),
    "routes": (
        "route_id",
        "agency_id",
        "route_short_name",
        "route_long_name",
        "route_color",
        "route_type",
    ),
    "trips": (
        "trip_id",
        "route_id",
        "service_id",
        "trip_headsign",
        "block_id",
        "shape_id",
        "direction_id",
        "wheelchair_accessible",
    ),
    "stop_times": (
        "trip_id",
        "stop_id",
        "stop_sequence",
        "arrival_s",
        "departure_s",
        "pickup_type",
        "drop_off_type",
        "timepoint",
        "shape_dist_traveled",
    ),
    "calendar": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_s", "end_s", "headway_s", "exact_times"),
    "transfers": (
        "from_stop_id",
        "to_stop_id",
        "from_route_id",
        "to_route_id",
        "from_trip_id",
        "to_trip_id",
        "transfer_type",
        "min_transfer_time",
    ),
    "shapes": (
        "shape_id",
        "shape_pt_lat",
        "shape_pt_lon",
        "shape_pt_sequence",
        "shape_dist_traveled",
    ),
}
"""Columns of each typed table, in order (see the contract in the module docs)."""

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


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


@dataclass
class GtfsFeed:
    """A GTFS feed as typed, cleaned tables (bad rows quarantined); see the module contract.

    Attributes
    ----------
    name
        Feed key used to namespace ids (file stem unless given).
    timezone
        IANA time zone of the (first) agency.
    notices
        Everything found while reading, up to ``ReadLimits.notices_per_code`` per code.
    notices_omitted
        Notices found but not kept, per code (past ``ReadLimits.notices_per_code``).
    agency, stops, routes, trips, stop_times, calendar, calendar_dates, frequencies, transfers,
    feed_info, shapes
        Typed DataFrames; an absent optional file gives an empty frame with the same columns.
        The ids of the big tables (stop_times trip_id and stop_id, shapes shape_id) are
        pandas categoricals of the ids used.
    flex
        Raw GTFS-Flex files kept verbatim (file name -> bytes).
    flex_stop_times
        stop_times rows that serve a location group or zone instead of a stop (raw strings).
    raw_counts
        Rows read from each file before any quarantine (file name -> rows).
    """

    name: str
    timezone: str
    notices: list[Notice]
    agency: pd.DataFrame
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    frequencies: pd.DataFrame
    transfers: pd.DataFrame
    feed_info: pd.DataFrame
    shapes: pd.DataFrame
    flex: dict[str, bytes] = field(default_factory=dict)
    flex_stop_times: pd.DataFrame = field(default_factory=pd.DataFrame)
    raw_counts: dict[str, int] = field(default_factory=dict)
    notices_omitted: dict[str, int] = field(default_factory=dict)

    def expanded(self) -> GtfsFeed:
        """A copy with frequencies.txt expanded into ordinary trips.

        Each frequency row gives departures ``start_s, start_s + headway_s, ...`` strictly
        before ``end_s`` (for both exact_times 0 and 1); each departure becomes a trip
        ``"<trip_id>@<HH:MM:SS>"`` whose stop times are the template trip's, shifted so that
        its first departure is the start time. Template trips are replaced by their copies.

        Returns
        -------
        GtfsFeed
            The new feed (``frequencies`` emptied); the original is unchanged.
        """
        if self.frequencies.empty:
            return replace(self)
        trips, stop_times = _expand_frequencies(self.trips, self.stop_times, self.frequencies)
        return replace(
            self,
            trips=trips,
            stop_times=stop_times,
            frequencies=_empty("frequencies"),
            notices=list(self.notices),
        )

    def service_days(self) -> ServiceDays:
        """Service calendar as a bool matrix (calendar.txt, then calendar_dates.txt applied).

        Returns
        -------
        ServiceDays
            One row per service id (sorted), one column per day from the earliest to the latest
            date mentioned by calendar or calendar_dates.
        """
        return _service_days(self.calendar, self.calendar_dates)


def read_gtfs(
    path: str | Path, *, name: str | None = None, limits: ReadLimits | None = None
) -> GtfsFeed:
    """Read and validate a GTFS feed.

    Parameters
    ----------
    path
        A GTFS ``.zip`` or a folder of ``.txt`` files.
    name
        Feed key (default: the file or folder stem, e.g. ``poa_eptc``).
    limits
        Bounds on file sizes, zip ratios, field lengths and notices kept (default
        ``ReadLimits()``).

    Returns
    -------
    GtfsFeed
        Typed tables, bad rows quarantined, notices attached.

    Raises
    ------
    GtfsError
        When the feed cannot be used: unreadable or corrupt archive, a required file missing or
        empty, no valid agency time zone, nothing left to run after quarantine, or a file past
        ``limits``.
    """
    return load_feed(Path(path), name=name, strict=True, limits=limits)


def load_feed(
    path: Path,
    *,
    name: str | None = None,
    strict: bool = True,
    limits: ReadLimits | None = None,
) -> GtfsFeed:
    """Read a feed; with ``strict=False`` a feed emptied by quarantine is still returned.

    The non-strict mode is what validation uses: a feed whose every trip is broken (such as
    the GTFS reference's example with deliberate integrity errors) gives a report of its
    notices plus ``no_usable_service`` rather than a refusal. Missing required files and
    unreadable archives are refused in both modes.

    Parameters
    ----------
    path
        Zip or folder.
    name
        Feed key.
    strict
        Refuse (GtfsError) a feed left without service or without a valid time zone.
    limits
        As in :func:`read_gtfs`.

    Returns
    -------
    GtfsFeed
        The feed.
    """
    path = Path(path)
    with lean_memory():
        source = Source(path, limits)
        try:
            return _Loader(path, source, name, strict).run()
        finally:
            source.close()


_TYPED: dict[str, dict[str, str]] = {
    "stop_times.txt": {
        "arrival_time": "time",
        "departure_time": "time",
        "stop_sequence": "int",
        "pickup_type": "int",
        "drop_off_type": "int",
        "continuous_pickup": "int",
        "continuous_drop_off": "int",
        "timepoint": "int",
        "shape_dist_traveled": "real",
    },
    "shapes.txt": {
        "shape_pt_lat": "real",
        "shape_pt_lon": "real",
        "shape_pt_sequence": "int",
        "shape_dist_traveled": "real",
    },
}
"""Columns of the big files that the reader may parse as it reads (see ``_csv.read_csv_table``)."""


def _empty(table: str) -> pd.DataFrame:
    """Empty typed frame for one table (a copy of a cached template)."""
    return _empty_template(table).copy()


@functools.cache
def _empty_template(table: str) -> pd.DataFrame:
    """Empty typed frame for one table."""
    dtypes: dict[str, str] = {
        "stop_lat": "float64",
        "stop_lon": "float64",
        "location_type": "int8",
        "wheelchair_boarding": "int8",
        "route_type": "int16",
        "direction_id": "int8",
        "wheelchair_accessible": "int8",
        "stop_sequence": "int32",
        "arrival_s": "int32",
        "departure_s": "int32",
        "pickup_type": "int8",
        "drop_off_type": "int8",
        "timepoint": "int8",
        "shape_dist_traveled": "float64",
        "exception_type": "int8",
        "start_s": "int32",
        "end_s": "int32",
        "headway_s": "int32",
        "exact_times": "int8",
        "transfer_type": "int8",
        "min_transfer_time": "int32",
        "shape_pt_lat": "float64",
        "shape_pt_lon": "float64",
        "shape_pt_sequence": "int32",
        **dict.fromkeys(_DAYS, "int8"),
    }
    data: dict[str, pd.Series] = {}
    columns = KNOWN_COLUMNS["feed_info.txt"][:3] if table == "feed_info" else _COLUMNS[table]
    for column in columns:
        if column in ("start_date", "end_date", "date"):
            data[column] = pd.Series([], dtype=object)
        else:
            data[column] = pd.Series([], dtype=dtypes.get(column, "str"))
    return pd.DataFrame(data)


class _Loader:
    """One reading of one feed: files in, typed tables and notices out."""

    def __init__(self, path: Path, source: Source, name: str | None, strict: bool) -> None:
        self.path = path
        self.source = source
        stem = path.name
        for suffix in (".zip", ".gtfs"):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
        self.name = name or stem
        self.strict = strict
        self.notices = Notices(source.limits.notices_per_code)
        self.raw_counts: dict[str, int] = {}
        self.flex: dict[str, bytes] = {}
        self._trip_rows: tuple[pa.Array, np.ndarray] = (pa.array([], pa.string()), np.zeros(0))
        self._flex_trip_ids: pa.Array | None = None
        self._stop_id_all: pa.Array = pa.array([], pa.string())
        self._route_id_all: pa.Array = pa.array([], pa.string())
        self._direction = np.zeros(0, np.int64)
        self._wheelchair = np.zeros(0, np.int64)

    # ----------------------------------------------------------------- files

    def _tab(self, file: str) -> Tab | None:
        """Read one file, or None when it is absent or has no header."""
        if file not in self.source.names:
            return None
        csv = read_csv_table(
            file,
            self.source.read(file),
            self.notices,
            _TYPED.get(file),
            reread=lambda: self.source.read(file),
            max_field_bytes=self.source.limits.max_field_bytes,
        )
        if csv is None:
            return None
        self.raw_counts[file] = len(csv.rows)
        return Tab(file, csv, self.notices)

    def _refuse(self, message: str) -> GtfsError:
        return GtfsError(f"{self.path}: {message}")

    def run(self) -> GtfsFeed:
        names = self.source.names
        if self.source.subfolder:
            self.notices.add(
                "invalid_input_files_in_subfolder",
                ERROR,
                None,
                None,
                None,
                f"the feed's files are inside the sub-folder {self.source.subfolder!r} of the "
                "archive; they were read from there.",
            )
        for file in names:
            if file in KNOWN_COLUMNS or file in OTHER_SPEC_FILES:
                continue
            if file in FLEX_FILES:
                self.flex[file] = self.source.read(file)
                self.notices.add(
                    "flex_file_kept",
                    INFO,
                    file,
                    None,
                    None,
                    f"{file} is a GTFS-Flex file; it is kept verbatim for the on-demand layer.",
                )
                continue
            self.notices.add(
                "unknown_file",
                INFO,
                file,
                None,
                None,
                f"{file} is not a GTFS file; it was ignored.",
            )
        missing = [f for f in REQUIRED_FILES if f not in names]
        if "calendar.txt" not in names and "calendar_dates.txt" not in names:
            missing.append("calendar.txt or calendar_dates.txt")
        for file in missing:
            self.notices.add(
                "missing_required_file",
                ERROR,
                file,
                None,
                None,
                f"required file {file} is missing.",
            )
        if missing:
            raise self._refuse(f"required file {missing[0]} is missing, the feed cannot be used")

        self.source.prefetch(["shapes.txt", "stop_times.txt"])  # the big files, inflated aside
        agency, timezone = self._agency()
        calendar, calendar_dates, service_ids = self._calendars()
        stops, stop_ids = self._stops()
        routes, route_ids = self._routes(agency)
        shape_ids, shapes = self._shapes()
        trips_tab = self._trips_tab(route_ids, service_ids, shape_ids)
        stop_times, flex_stop_times, bad_trips = self._stop_times(trips_tab, stops, stop_ids)
        if len(bad_trips):
            kept_ids = trips_tab.s("trip_id")
            dropped = np.asarray(
                pc.is_in(kept_ids, value_set=pa.array(bad_trips, pa.string())).to_numpy(
                    zero_copy_only=False
                ),
                dtype=bool,
            )
            trips_tab.keep &= ~dropped
        self._unusable_trips(trips_tab)
        trips = self._trips_frame(trips_tab)
        frequencies = self._frequencies(trips_tab, stop_times)
        transfers = self._transfers(stop_ids, route_ids, trips_tab)
        feed_info = self._feed_info()

        feed = GtfsFeed(
            name=self.name,
            timezone=timezone,
            notices=self.notices.items,
            notices_omitted=self.notices.omitted,
            agency=agency,
            stops=stops,
            routes=routes,
            trips=trips,
            stop_times=stop_times,
            calendar=calendar,
            calendar_dates=calendar_dates,
            frequencies=frequencies,
            transfers=transfers,
            feed_info=feed_info,
            shapes=shapes,
            flex=self.flex,
            flex_stop_times=flex_stop_times,
            raw_counts=self.raw_counts,
        )
        problem = None
        if trips.empty:
            problem = "no trip is left after quarantine"
        elif stop_times.empty and flex_stop_times.empty:
            problem = "no stop time is left after quarantine"
        elif calendar.empty and calendar_dates.empty:
            problem = "no service calendar is left after quarantine"
        if problem is not None:
            if self.strict:
                raise self._refuse(f"{problem}, the feed has no usable service")
            self.notices.add(
                "no_usable_service",
                ERROR,
                None,
                None,
                None,
                f"{problem}: the feed has no usable service.",
            )
        return feed

    # ---------------------------------------------------------------- tables

    def _agency(self) -> tuple[pd.DataFrame, str]:
        file = "agency.txt"
        tab = self._tab(file)
        if tab is None or tab.n == 0:
            if tab is not None:
                self.notices.add("empty_file", ERROR, file, None, None, f"{file} has no rows.")
            raise self._refuse(f"{file} is empty, the feed has no agency and no time zone")
        tab.check_columns(KNOWN_COLUMNS[file], ("agency_name", "agency_url", "agency_timezone"))
        tab.required_id("agency_name", quarantine=False)
        tab.required_id("agency_url", quarantine=False)
        zones = tab.required_id("agency_timezone", quarantine=False)
        if tab.n > 1:
            tab.required_id("agency_id", quarantine=False)
        tab.duplicates(["agency_id"])
        zone_list = zones.to_pylist()
        valid_zone = np.array([_is_timezone(z) for z in zone_list], dtype=bool)
        tab.flag(
            ~valid_zone & (np.array([bool(z.strip()) for z in zone_list], dtype=bool)),
            "invalid_timezone",
            ERROR,
            "agency_timezone",
            "agency_timezone '{value}' is not an IANA time zone.",
            values=zones,
        )
        good = [z for z, ok in zip(zone_list, valid_zone, strict=True) if ok]
        if len(set(good)) > 1:
            self.notices.add(
                "inconsistent_agency_timezone",
                ERROR,
                file,
                None,
                "agency_timezone",
                f"{file}: agencies use different time zones {sorted(set(good))}; "
                f"{good[0]!r} is used.",
            )
        if good:
            timezone = good[0]
        elif self.strict:
            raise self._refuse(f"{file} has no valid agency_timezone, times cannot be placed")
        else:
            timezone = "UTC"
        return frame(tab, {c: c for c in _COLUMNS["agency"]}), timezone

    def _calendars(self) -> tuple[pd.DataFrame, pd.DataFrame, pa.Array]:
        calendar, ids = self._calendar()
        calendar_dates, date_ids = self._calendar_dates()
        return calendar, calendar_dates, pc.unique(pa.chunked_array(ids + date_ids, pa.string()))

    def _calendar(self) -> tuple[pd.DataFrame, list[pa.Array]]:
        """calendar.txt and its service ids (none when the file is absent)."""
        file = "calendar.txt"
        tab = self._tab(file)
        if tab is None:
            return _empty("calendar"), []
        tab.check_columns(KNOWN_COLUMNS[file], KNOWN_COLUMNS[file])
        tab.required_id("service_id")
        days = {
            d: tab.integer(d, default=0, required=True, allowed=(0, 1), quarantine=True)
            for d in _DAYS
        }
        start = tab.date("start_date")
        end = tab.date("end_date")
        with np.errstate(invalid="ignore"):
            reversed_range = ~np.isnat(start) & ~np.isnat(end) & (start > end)
        tab.flag(
            reversed_range,
            "start_and_end_range_out_of_order",
            ERROR,
            "end_date",
            "end_date is before start_date.",
            quarantine=True,
        )
        tab.duplicates(["service_id"])
        calendar = frame(
            tab,
            {
                "service_id": "service_id",
                **{d: days[d].astype(np.int8) for d in _DAYS},
                "start_date": _to_dates(start),
                "end_date": _to_dates(end),
            },
        )
        return calendar, [tab.kept_strings("service_id")]

    def _calendar_dates(self) -> tuple[pd.DataFrame, list[pa.Array]]:
        """calendar_dates.txt and its service ids (none when the file is absent)."""
        file = "calendar_dates.txt"
        tab = self._tab(file)
        if tab is None:
            return _empty("calendar_dates"), []
        tab.check_columns(KNOWN_COLUMNS[file], KNOWN_COLUMNS[file])
        tab.required_id("service_id")
        date = tab.date("date")
        exception = tab.integer(
            "exception_type", default=0, required=True, quarantine=True, bad_as_default=False
        )
        tab.flag(
            ~np.isin(exception, (1, 2)) & tab.keep,
            "unexpected_enum_value",
            ERROR,
            "exception_type",
            "exception_type '{value}' is not 1 nor 2.",
            values=tab.s("exception_type"),
            quarantine=True,
        )
        tab.duplicates(["service_id", "date"])
        calendar_dates = frame(
            tab,
            {
                "service_id": "service_id",
                "date": _to_dates(date),
                "exception_type": exception.astype(np.int8),
            },
        )
        return calendar_dates, [tab.kept_strings("service_id")]

    def _stops(self) -> tuple[pd.DataFrame, pa.Array]:
        file = "stops.txt"
        tab = self._tab(file)
        if tab is None or tab.n == 0:
            if tab is not None:
                self.notices.add("empty_file", ERROR, file, None, None, f"{file} has no rows.")
            raise self._refuse(f"{file} is empty or unreadable, the feed cannot be used")
        absent = tab.check_columns(KNOWN_COLUMNS[file], ("stop_id",))
        if absent:
            raise self._refuse(f"{file} has no stop_id column, the feed cannot be used")
        stop_id = tab.required_id("stop_id")
        location_type = tab.integer("location_type", default=0, allowed=(0, 1, 2, 3, 4))
        located = location_type <= 2
        for name in ("stop_lat", "stop_lon"):
            if not tab.has(name):
                self.notices.add(
                    "missing_required_column",
                    ERROR,
                    file,
                    1,
                    name,
                    f"{file} header: required column {name!r} is missing.",
                )
        lat = tab.real("stop_lat", required_mask=located, lo=-90, hi=90, quarantine=True)
        lon = tab.real("stop_lon", required_mask=located, lo=-180, hi=180, quarantine=True)
        with np.errstate(invalid="ignore"):
            near_origin = (np.abs(lat) <= 1.0) & (np.abs(lon) <= 1.0)
            near_pole = np.abs(lat) >= 89.0
        tab.flag(
            near_origin,
            "point_near_origin",
            ERROR,
            "stop_lat",
            "the stop lies near (0, 0), a placeholder position; the stop was ignored.",
            quarantine=True,
        )
        tab.flag(
            near_pole & ~near_origin,
            "point_near_pole",
            ERROR,
            "stop_lat",
            "the stop lies near a pole; the stop was ignored.",
            quarantine=True,
        )
        if tab.has("stop_name"):
            name_missing = missing_mask(tab.s("stop_name")) & located
            tab.flag(
                name_missing,
                "missing_required_field",
                ERROR,
                "stop_name",
                "stop_name is empty (required for stops, stations and entrances).",
            )
        wheelchair = tab.integer("wheelchair_boarding", default=0, allowed=(0, 1, 2))
        tab.duplicates(["stop_id"])
        parent = tab.s("parent_station")
        all_ids = stop_id
        tab.foreign_key("parent_station", all_ids, file, quarantine=False)
        has_parent = ~missing_mask(parent)
        tab.flag(
            (location_type >= 2) & ~has_parent,
            "location_without_parent_station",
            ERROR,
            "parent_station",
            "a location of type 2, 3 or 4 has no parent_station.",
        )
        tab.flag(
            (location_type == 1) & has_parent,
            "station_with_parent_station",
            ERROR,
            "parent_station",
            "a station (location_type 1) has a parent_station '{value}'.",
            values=parent,
        )
        stops = frame(
            tab,
            {
                "stop_id": "stop_id",
                "stop_name": "stop_name",
                "stop_code": "stop_code",
                "parent_station": "parent_station",
                "zone_id": "zone_id",
                "stop_lat": lat,
                "stop_lon": lon,
                "location_type": location_type.astype(np.int8),
                "wheelchair_boarding": wheelchair.astype(np.int8),
            },
        )
        self._stop_id_all = stop_id
        return stops, tab.kept_strings("stop_id")

    def _routes(self, agency: pd.DataFrame) -> tuple[pd.DataFrame, pa.Array]:
        file = "routes.txt"
        tab = self._tab(file)
        if tab is None or tab.n == 0:
            if tab is not None:
                self.notices.add("empty_file", ERROR, file, None, None, f"{file} has no rows.")
            raise self._refuse(f"{file} is empty or unreadable, the feed cannot be used")
        absent = tab.check_columns(KNOWN_COLUMNS[file], ("route_id", "route_type"))
        if "route_id" in absent:
            raise self._refuse(f"{file} has no route_id column, the feed cannot be used")
        tab.required_id("route_id")
        route_type = tab.integer(
            "route_type",
            default=-1,
            required=True,
            hi=32767,
            quarantine=True,
            bad_as_default=False,
        )
        if not tab.has("route_type"):
            tab.keep[:] = False
        known = (route_type >= 0) & (
            (route_type <= 12) | ((route_type >= 100) & (route_type <= 1702))
        )
        tab.flag(
            ~known & tab.keep,
            "unexpected_enum_value",
            WARNING,
            "route_type",
            "route_type '{value}' is not a GTFS or extended route type.",
            values=tab.s("route_type"),
        )
        agency_ids = pa.array(agency["agency_id"].to_numpy(dtype=object).astype(str), pa.string())
        if len(agency) > 1:
            tab.required_id("agency_id", quarantine=False)
        if agency["agency_id"].str.len().gt(0).any():
            tab.foreign_key("agency_id", agency_ids, "agency.txt", quarantine=False)
        both_missing = missing_mask(tab.s("route_short_name")) & missing_mask(
            tab.s("route_long_name")
        )
        tab.flag(
            both_missing,
            "route_both_short_and_long_name_missing",
            ERROR,
            "route_short_name",
            "route_short_name and route_long_name are both empty.",
        )
        if tab.has("route_color"):
            color = tab.s("route_color")
            present = ~missing_mask(color)
            ok = np.asarray(
                pc.match_substring_regex(color, r"^\s*[0-9A-Fa-f]{6}\s*$").to_numpy(
                    zero_copy_only=False
                ),
                dtype=bool,
            )
            tab.flag(
                present & ~ok,
                "invalid_color",
                ERROR,
                "route_color",
                "route_color '{value}' is not a six-digit hexadecimal colour.",
                values=color,
            )
        tab.duplicates(["route_id"])
        routes = frame(
            tab,
            {
                "route_id": "route_id",
                "agency_id": "agency_id",
                "route_short_name": "route_short_name",
                "route_long_name": "route_long_name",
                "route_color": "route_color",
                "route_type": route_type.astype(np.int16),
            },
        )
        self._route_id_all = tab.s("route_id")
        return routes, tab.kept_strings("route_id")

    def _shapes(self) -> tuple[pa.Array | None, pd.DataFrame]:
        file = "shapes.txt"
        tab = self._tab(file)
        if tab is None:
            return None, _empty("shapes")
        absent = tab.check_columns(
            KNOWN_COLUMNS[file], ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence")
        )
        if absent:
            return tab.s("shape_id") if tab.has("shape_id") else None, _empty("shapes")
        tab.required_id("shape_id")
        everywhere = np.ones(tab.n, dtype=bool)
        lat = tab.real("shape_pt_lat", required_mask=everywhere, lo=-90, hi=90, quarantine=True)
        lon = tab.real("shape_pt_lon", required_mask=everywhere, lo=-180, hi=180, quarantine=True)
        seq = tab.integer(
            "shape_pt_sequence", default=-1, required=True, lo=0, hi=INT32_MAX, quarantine=True
        )
        dist = tab.real("shape_dist_traveled", lo=0, quarantine=False)
        # sort by (shape_id, shape_pt_sequence); a repeated key keeps its first row
        keep_idx = np.flatnonzero(tab.keep)
        codes, dictionary = tab.encoded("shape_id")
        rank = sort_rank(dictionary)
        kept_codes = codes[keep_idx]
        order = sort_trip_blocks(kept_codes, rank, seq[keep_idx])
        idx = keep_idx[order]
        sorted_codes = kept_codes[order]
        repeated = np.zeros(len(idx), dtype=bool)
        if len(idx) > 1:
            repeated[1:] = (sorted_codes[1:] == sorted_codes[:-1]) & (seq[idx[1:]] == seq[idx[:-1]])
        if repeated.any():
            mask = np.zeros(tab.n, dtype=bool)
            mask[idx[repeated]] = True
            tab.flag(
                mask,
                "duplicate_key",
                ERROR,
                "shape_id, shape_pt_sequence",
                "(shape_id, shape_pt_sequence) repeats an earlier row's key.",
                quarantine=True,
            )
            idx, sorted_codes = idx[~repeated], sorted_codes[~repeated]
        shapes = pd.DataFrame(
            {
                "shape_id": id_categories(sorted_codes, dictionary),
                "shape_pt_lat": lat[idx],
                "shape_pt_lon": lon[idx],
                "shape_pt_sequence": seq[idx].astype(np.int32, copy=False),
                "shape_dist_traveled": dist[idx],
            }
        )
        return tab.s("shape_id"), shapes

    def _trips_tab(
        self, route_ids: pa.Array, service_ids: pa.Array, shape_ids: pa.Array | None
    ) -> Tab:
        file = "trips.txt"
        tab = self._tab(file)
        if tab is None or tab.n == 0:
            if tab is not None:
                self.notices.add("empty_file", ERROR, file, None, None, f"{file} has no rows.")
            raise self._refuse(f"{file} is empty or unreadable, the feed cannot be used")
        absent = tab.check_columns(KNOWN_COLUMNS[file], ("route_id", "service_id", "trip_id"))
        if absent:
            raise self._refuse(f"{file} has no {absent[0]} column, the feed cannot be used")
        tab.required_id("trip_id")
        tab.required_id("route_id")
        tab.required_id("service_id")
        # notices against every id in the parent file; rows whose parent was quarantined for
        # another reason are dropped below without a second notice
        tab.foreign_key("route_id", self._route_id_all, "routes.txt")
        tab.foreign_key("service_id", service_ids, "calendar.txt or calendar_dates.txt")
        if shape_ids is not None:
            tab.foreign_key("shape_id", shape_ids, "shapes.txt", quarantine=False)
        self._dependency(tab, "route_id", route_ids, self._route_id_all, "routes.txt")
        self._direction = tab.integer("direction_id", default=-1, allowed=(0, 1))
        self._wheelchair = tab.integer("wheelchair_accessible", default=0, allowed=(0, 1, 2))
        tab.duplicates(["trip_id"])
        return tab

    def _dependency(
        self, tab: Tab, name: str, kept: pa.Array, parent_all: pa.Array, parent: str
    ) -> None:
        """Drop rows whose (existing) parent row was quarantined, with one summary notice."""
        if len(kept) == len(parent_all):
            return  # nothing was quarantined in the parent file
        array = tab.s(name)
        present = pc.binary_length(array).to_numpy(zero_copy_only=False) > 0
        found = tab.member(name, kept)
        orphan = tab.keep & present & ~found
        if orphan.any():
            tab.keep &= ~orphan
            self.notices.add(
                "quarantined_by_dependency",
                INFO,
                tab.file,
                int(tab.rows[np.flatnonzero(orphan)[0]]),
                name,
                f"{tab.file}: {int(orphan.sum())} rows were left out because the {parent} row "
                f"their {name} refers to was quarantined.",
            )

    def _unusable_trips(self, tab: Tab) -> None:
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

    def _trips_frame(self, tab: Tab) -> pd.DataFrame:
        return frame(
            tab,
            {
                "trip_id": "trip_id",
                "route_id": "route_id",
                "service_id": "service_id",
                "trip_headsign": "trip_headsign",
                "block_id": "block_id",
                "shape_id": "shape_id",
                "direction_id": self._direction.astype(np.int8),
                "wheelchair_accessible": self._wheelchair.astype(np.int8),
            },
        )

    def _stop_times(
        self, trips_tab: Tab, stops: pd.DataFrame, stop_ids: pa.Array
    ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        file = "stop_times.txt"
        tab = self._tab(file)
        if tab is None or tab.n == 0:
            if tab is not None:
                self.notices.add("empty_file", ERROR, file, None, None, f"{file} has no rows.")
            raise self._refuse(f"{file} is empty or unreadable, the feed cannot be used")
        absent = tab.check_columns(KNOWN_COLUMNS[file], ("trip_id", "stop_sequence"))
        if absent:
            raise self._refuse(f"{file} has no {absent[0]} column, the feed cannot be used")
        if not (tab.has("stop_id") or tab.has("location_group_id") or tab.has("location_id")):
            tab.check_columns((), ("stop_id",))
            raise self._refuse(f"{file} has no stop_id column, the feed cannot be used")

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

        trip_id = tab.required_id("trip_id")
        tab.flag_empty(stop_missing & ~flex_rows, "stop_id", quarantine=True)
        seq = tab.integer(
            "stop_sequence",
            default=-1,
            required=True,
            lo=0,
            hi=INT32_MAX,
            quarantine=True,
            bad_as_default=False,
        )
        # parsed columns shrink to their final dtypes at once and their text is released: on a
        # big feed these full-length arrays, not the few rows kept, set the reader's peak memory
        arr = tab.time("arrival_time", required=False, quarantine=True)
        dep = tab.time("departure_time", required=False, quarantine=True)
        pickup = tab.integer("pickup_type", default=0, allowed=(0, 1, 2, 3)).astype(np.int8)
        drop_off = tab.integer("drop_off_type", default=0, allowed=(0, 1, 2, 3)).astype(np.int8)
        dist = tab.real("shape_dist_traveled", lo=0)
        tab.release(
            "stop_sequence",
            "arrival_time",
            "departure_time",
            "pickup_type",
            "drop_off_type",
            "shape_dist_traveled",
            "timepoint",
            "continuous_pickup",
            "continuous_drop_off",
        )
        tab.foreign_key("trip_id", trips_tab.s("trip_id"), "trips.txt", array=trip_id)
        tab.foreign_key("stop_id", self._stop_id_all, "stops.txt")
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
        self._dependency(
            tab, "trip_id", trips_tab.kept_strings("trip_id"), trips_tab.s("trip_id"), "trips.txt"
        )
        self._dependency(tab, "stop_id", stop_ids, self._stop_id_all, "stops.txt")
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
        same = np.zeros(len(idx), dtype=bool)
        if len(idx) > 1:
            same[1:] = (sorted_codes[1:] == sorted_codes[:-1]) & (seq[1:] == seq[:-1])
        if same.any():
            mask = np.zeros(tab.n, dtype=bool)
            mask[idx[same]] = True
            tab.flag(
                mask,
                "duplicate_key",
                ERROR,
                "trip_id, stop_sequence",
                "(trip_id, stop_sequence) repeats an earlier row's key.",
                quarantine=True,
            )
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

        bad_trips = self._check_and_interpolate(st, tab, stops, stop_ids, idx)
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
        stop_ids: pa.Array,
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

    def _frequencies(self, trips_tab: Tab, stop_times: pd.DataFrame) -> pd.DataFrame:
        file = "frequencies.txt"
        tab = self._tab(file)
        if tab is None:
            return _empty("frequencies")
        absent = tab.check_columns(KNOWN_COLUMNS[file], KNOWN_COLUMNS[file][:4])
        if absent:
            return _empty("frequencies")
        tab.required_id("trip_id")
        tab.foreign_key("trip_id", trips_tab.s("trip_id"), "trips.txt")
        self._dependency(
            tab, "trip_id", trips_tab.kept_strings("trip_id"), trips_tab.s("trip_id"), "trips.txt"
        )
        start = tab.time("start_time", required=True, quarantine=True)
        end = tab.time("end_time", required=True, quarantine=True)
        headway = tab.integer(
            "headway_secs",
            default=0,
            required=True,
            lo=1,
            hi=86_400 * 7,
            quarantine=True,
            bad_as_default=False,
        )
        exact = tab.integer("exact_times", default=0, allowed=(0, 1))
        tab.flag(
            (start >= 0) & (end >= 0) & (end <= start),
            "start_and_end_range_out_of_order",
            ERROR,
            "end_time",
            "end_time is not after start_time.",
            quarantine=True,
        )
        tab.duplicates(["trip_id", "start_time"])
        freq = frame(
            tab,
            {
                "trip_id": "trip_id",
                "start_s": start.astype(np.int32),
                "end_s": end.astype(np.int32),
                "headway_s": headway.astype(np.int32),
                "exact_times": exact.astype(np.int8),
            },
        )
        without = ~freq["trip_id"].isin(stop_times["trip_id"])
        for trip in freq.loc[without, "trip_id"].unique().tolist():
            self.notices.add(
                "frequency_trip_without_stop_times",
                WARNING,
                file,
                None,
                "trip_id",
                f"{file}: trip '{trip}' has frequencies but no usable stop times; it gives no "
                "trips.",
            )
        return freq

    def _transfers(self, stop_ids: pa.Array, route_ids: pa.Array, trips_tab: Tab) -> pd.DataFrame:
        file = "transfers.txt"
        tab = self._tab(file)
        if tab is None:
            return _empty("transfers")
        tab.check_columns(KNOWN_COLUMNS[file], ("transfer_type",))
        transfer_type = tab.integer(
            "transfer_type", default=0, lo=0, hi=5, quarantine=True, bad_as_default=False
        )
        min_time = tab.integer(
            "min_transfer_time", default=-1, lo=0, hi=INT32_MAX, quarantine=False
        )
        stop_all = self._stop_id_all
        for name in ("from_stop_id", "to_stop_id"):
            tab.foreign_key(name, stop_all, "stops.txt")
            if tab.has(name):
                self._dependency(tab, name, stop_ids, self._stop_id_all, "stops.txt")
        for name in ("from_route_id", "to_route_id"):
            tab.foreign_key(name, self._route_id_all, "routes.txt")
            if tab.has(name):
                self._dependency(tab, name, route_ids, self._route_id_all, "routes.txt")
        for name in ("from_trip_id", "to_trip_id"):
            tab.foreign_key(name, trips_tab.s("trip_id"), "trips.txt")
            if tab.has(name):
                kept_trips = trips_tab.kept_strings("trip_id")
                self._dependency(tab, name, kept_trips, trips_tab.s("trip_id"), "trips.txt")
        in_seat = transfer_type >= 4
        for name in ("from_trip_id", "to_trip_id"):
            tab.flag(
                in_seat & missing_mask(tab.s(name)),
                "missing_required_field",
                ERROR,
                name,
                f"{name} is required for in-seat transfers (transfer_type 4 or 5).",
                quarantine=True,
            )
        for name in ("from_stop_id", "to_stop_id"):
            tab.flag(
                ~in_seat & (transfer_type >= 1) & missing_mask(tab.s(name)),
                "missing_required_field",
                ERROR,
                name,
                f"{name} is required for transfer_type 1, 2 and 3.",
                quarantine=True,
            )
        return frame(
            tab,
            {
                "from_stop_id": "from_stop_id",
                "to_stop_id": "to_stop_id",
                "from_route_id": "from_route_id",
                "to_route_id": "to_route_id",
                "from_trip_id": "from_trip_id",
                "to_trip_id": "to_trip_id",
                "transfer_type": transfer_type.astype(np.int8),
                "min_transfer_time": min_time.astype(np.int32),
            },
        )

    def _feed_info(self) -> pd.DataFrame:
        file = "feed_info.txt"
        tab = self._tab(file)
        if tab is None:
            return _empty("feed_info")
        tab.check_columns(
            KNOWN_COLUMNS[file], ("feed_publisher_name", "feed_publisher_url", "feed_lang")
        )
        return frame(tab, {c: c for c in tab.column_names if not c.startswith("__")})


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


def _is_timezone(name: str) -> bool:
    name = name.strip()
    if not name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _to_dates(values: np.ndarray) -> np.ndarray:
    """datetime64[D] array -> object array of datetime.date (None for NaT)."""
    out = np.empty(len(values), dtype=object)
    ok = ~np.isnat(values)
    out[ok] = values[ok].astype("datetime64[D]").astype(object)
    out[~ok] = None
    return out


def _service_days(calendar: pd.DataFrame, calendar_dates: pd.DataFrame) -> ServiceDays:
    starts = [d for d in calendar["start_date"].tolist() if d is not None]
    ends = [d for d in calendar["end_date"].tolist() if d is not None]
    dates = [d for d in calendar_dates["date"].tolist() if d is not None]
    everything = starts + ends + dates
    service_ids = np.unique(
        np.concatenate(
            [
                calendar["service_id"].to_numpy(dtype=object).astype(str),
                calendar_dates["service_id"].to_numpy(dtype=object).astype(str),
            ]
        )
    )
    if not everything:
        return ServiceDays(dt.date(1970, 1, 1), service_ids, np.zeros((len(service_ids), 0), bool))
    first = min(everything)
    last = max(everything)
    n_days = (last - first).days + 1
    active = np.zeros((len(service_ids), n_days), dtype=bool)
    position = {s: i for i, s in enumerate(service_ids.tolist())}
    day_weekday = (first.weekday() + np.arange(n_days)) % 7
    if len(calendar):
        week = calendar[list(_DAYS)].to_numpy(dtype=bool)
        for row, (sid, a, b) in enumerate(
            zip(
                calendar["service_id"].tolist(),
                calendar["start_date"].tolist(),
                calendar["end_date"].tolist(),
                strict=True,
            )
        ):
            lo = (a - first).days
            hi = (b - first).days + 1
            active[position[sid], lo:hi] = week[row][day_weekday[lo:hi]]
    if len(calendar_dates):
        rows = np.array(
            [position[s] for s in calendar_dates["service_id"].tolist()], dtype=np.int64
        )
        days = np.array([(d - first).days for d in calendar_dates["date"].tolist()], dtype=np.int64)
        kind = calendar_dates["exception_type"].to_numpy()
        active[rows[kind == 1], days[kind == 1]] = True
        active[rows[kind == 2], days[kind == 2]] = False
    return ServiceDays(first, service_ids, active)


def _expand_frequencies(
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
