"""One reading of one feed: files in, typed tables and notices out.

Each file goes through the same steps, driven by its :class:`~arverne.feeds._spec.FileSpec`:
header check, fields parsed and checked, foreign keys (then rows whose parent row was
quarantined), the file's cross-field rules (``_rules.py``), primary key, typed table. stop_times
and shapes, the big files, are sorted by their key instead (see ``_stop_times.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from arverne.errors import GtfsError
from arverne.feeds._checks import check_stops_near_shapes, check_travel_speeds
from arverne.feeds._csv import Notices, read_csv_table
from arverne.feeds._frames import empty_table, typed_frame
from arverne.feeds._order import id_categories, sort_rank, sort_trip_blocks
from arverne.feeds._rules import (
    Parsed,
    calendar_rules,
    frequency_rules,
    is_timezone,
    pathway_rules,
    route_rules,
    stop_rules,
    transfer_rules,
)
from arverne.feeds._source import Source
from arverne.feeds._spec import (
    FLEX_FILES,
    OTHER_SPEC_FILES,
    REQUIRED_FILES,
    SPEC,
    FileSpec,
)
from arverne.feeds._stop_times import StopTimesReader
from arverne.feeds._table import ERROR, INFO, WARNING, Tab
from arverne.feeds.feed import GtfsFeed


class FeedLoader(StopTimesReader):
    """One reading of one feed (see :func:`arverne.feeds.gtfs.load_feed`)."""

    def __init__(
        self, path: Path, source: Source, name: str | None, strict: bool, plausibility: bool
    ) -> None:
        self.path = path
        self.source = source
        stem = path.name
        for suffix in (".zip", ".gtfs"):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
        self.name = name or stem
        self.strict = strict
        self.plausibility = plausibility
        self.notices = Notices(source.limits.notices_per_code)
        self.raw_counts: dict[str, int] = {}
        self.flex: dict[str, bytes] = {}
        self.ids: dict[str, tuple[str, pa.Array, pa.Array]] = {}
        """Parent files of foreign keys: file -> (label, every id, ids of kept rows)."""

    # ----------------------------------------------------------------- files

    def tab(self, file: str) -> Tab | None:
        """Read one file, or None when it is absent or has no header."""
        if file not in self.source.names:
            return None
        csv = read_csv_table(
            file,
            self.source.read(file),
            self.notices,
            SPEC[file].scan_types() or None,
            reread=lambda: self.source.read(file),
            max_field_bytes=self.source.limits.max_field_bytes,
        )
        if csv is None:
            return None
        self.raw_counts[file] = len(csv.rows)
        return Tab(file, csv, self.notices)

    def required_tab(self, file: str) -> Tab:
        """A required file with rows; refused when it is absent, empty or unreadable."""
        tab = self.tab(file)
        if tab is None or tab.n == 0:
            if tab is not None:
                self.notices.add("empty_file", ERROR, file, None, None, f"{file} has no rows.")
            raise self.refuse(f"{file} is empty or unreadable, the feed cannot be used")
        return tab

    def refuse(self, message: str) -> GtfsError:
        """The error refusing this feed."""
        return GtfsError(f"{self.path}: {message}")

    def load(
        self, tab: Tab, spec: FileSpec, rules: Callable[[Tab, Parsed], None] | None = None
    ) -> tuple[pd.DataFrame, Parsed]:
        """Fields, foreign keys, ``rules``, primary key and typed table of a file whose header
        was checked; the file's ids join the parents of later foreign keys.
        """
        parsed = tab.parse_all(spec)
        self.foreign_keys(tab, spec)
        if rules is not None:
            rules(tab, parsed)
        if spec.primary_key:
            tab.duplicates(spec.primary_key)
        if len(spec.primary_key) == 1:
            key = spec.primary_key[0]
            self.ids[spec.file] = (spec.file, tab.s(key), tab.kept_strings(key))
        return typed_frame(tab, spec, parsed), parsed

    def foreign_keys(self, tab: Tab, spec: FileSpec) -> None:
        """``foreign_key_violation`` for unknown ids, then rows whose parent was quarantined."""
        for fk in spec.foreign_keys:
            if fk.parent == spec.file:  # within the file: every id of its key
                tab.foreign_key(fk.column, tab.s(spec.primary_key[0]), fk.parent, quarantine=False)
            elif fk.parent in self.ids:
                label, every, _ = self.ids[fk.parent]
                tab.foreign_key(fk.column, every, label, quarantine=fk.quarantine)
        for fk in spec.foreign_keys:
            if fk.quarantine and fk.parent in self.ids and tab.has(fk.column):
                label, every, kept = self.ids[fk.parent]
                self.dependency(tab, fk.column, kept, every, label)

    def dependency(
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

    def run(self) -> GtfsFeed:
        """Read every file; the feed, or GtfsError when it cannot be used."""
        self.check_files()
        self.source.prefetch(["shapes.txt", "stop_times.txt"])  # the big files, inflated aside
        agency, timezone = self.agency()
        calendar = self.optional("calendar.txt", calendar_rules)
        calendar_dates = self.optional("calendar_dates.txt")
        services = pc.unique(
            pa.chunked_array(
                [pa.array(t["service_id"], pa.string()) for t in (calendar, calendar_dates)],
                pa.string(),
            )
        )
        self.ids["service"] = ("calendar.txt or calendar_dates.txt", services, services)
        levels = self.optional("levels.txt")
        stops = self.stops()
        pathways = self.optional("pathways.txt", functools.partial(pathway_rules, stops=stops))
        routes = self.routes(agency)
        shapes = self.shapes()
        trips_tab = self.trips_tab()
        stop_times, flex_stop_times, bad_trips = self.stop_times(trips_tab, stops)
        if len(bad_trips):
            trips_tab.keep &= ~trips_tab.member("trip_id", pa.array(bad_trips, pa.string()))
        self.unusable_trips(trips_tab)
        self.routes_tab.flag(
            self.routes_tab.keep & ~self.routes_tab.member("route_id", trips_tab.s("route_id")),
            "route_without_trips",
            WARNING,
            "route_id",
            "route '{value}' has no trip in trips.txt.",
            values="route_id",
        )
        trips = typed_frame(trips_tab, SPEC["trips.txt"], self.trip_fields)
        self.ids["trips.txt"] = (
            "trips.txt",
            trips_tab.s("trip_id"),
            trips_tab.kept_strings("trip_id"),
        )
        frequencies = self.optional("frequencies.txt", frequency_rules, whole=True)
        self.frequencies_without_stop_times(frequencies, stop_times)
        transfers = self.optional("transfers.txt", transfer_rules)
        feed_info = self.optional("feed_info.txt")
        if self.plausibility:
            rows = self.stop_time_rows
            check_travel_speeds(stop_times, rows, trips, routes, stops, self.notices)
            check_stops_near_shapes(stop_times, rows, trips, routes, stops, shapes, self.notices)

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
            pathways=pathways,
            levels=levels,
            flex=self.flex,
            flex_stop_times=flex_stop_times,
            raw_counts=self.raw_counts,
            max_service_days=self.source.limits.max_service_days,
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
                raise self.refuse(f"{problem}, the feed has no usable service")
            self.notices.add(
                "no_usable_service",
                ERROR,
                None,
                None,
                None,
                f"{problem}: the feed has no usable service.",
            )
        return feed

    def check_files(self) -> None:
        """Notices for the files of the feed; refused when a required one is missing."""
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
            if file in SPEC or file in OTHER_SPEC_FILES:
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
            raise self.refuse(f"required file {missing[0]} is missing, the feed cannot be used")

    def optional(
        self,
        file: str,
        rules: Callable[[Tab, Parsed], None] | None = None,
        *,
        whole: bool = False,
    ) -> pd.DataFrame:
        """The typed table of an optional file: empty when the file is absent, or with
        ``whole`` when it lacks a required column (else its rows are checked one by one).
        """
        spec = SPEC[file]
        tab = self.tab(file)
        if tab is None:
            return empty_table(spec.table)
        absent = tab.check_columns(spec.columns, spec.required_columns)
        if absent and whole:
            return empty_table(spec.table)
        return self.load(tab, spec, rules)[0]

    # ---------------------------------------------------------------- tables

    def agency(self) -> tuple[pd.DataFrame, str]:
        """agency.txt and the feed's time zone."""
        file = "agency.txt"
        spec = SPEC[file]
        tab = self.tab(file)
        if tab is None or tab.n == 0:
            if tab is not None:
                self.notices.add("empty_file", ERROR, file, None, None, f"{file} has no rows.")
            raise self.refuse(f"{file} is empty, the feed has no agency and no time zone")
        tab.check_columns(spec.columns, spec.required_columns)
        parsed = tab.parse_all(spec)
        if tab.n > 1:  # agency_id is required when there are several agencies
            tab.required_id("agency_id", quarantine=False)
        tab.duplicates(spec.primary_key)
        zones = tab.s("agency_timezone")
        zone_list = zones.to_pylist()
        valid_zone = np.array([is_timezone(z) for z in zone_list], dtype=bool)
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
            raise self.refuse(f"{file} has no valid agency_timezone, times cannot be placed")
        else:
            timezone = "UTC"
        agency = typed_frame(tab, spec, parsed)
        if agency["agency_id"].str.len().gt(0).any():  # routes may name an agency
            ids = pa.array(agency["agency_id"].to_numpy(dtype=object).astype(str), pa.string())
            self.ids[file] = (file, ids, ids)
        return agency, timezone

    def stops(self) -> pd.DataFrame:
        """stops.txt."""
        file = "stops.txt"
        spec = SPEC[file]
        tab = self.required_tab(file)
        if "stop_id" in tab.check_columns(spec.columns, spec.required_columns):
            raise self.refuse(f"{file} has no stop_id column, the feed cannot be used")
        return self.load(tab, spec, stop_rules)[0]

    def routes(self, agency: pd.DataFrame) -> pd.DataFrame:
        """routes.txt."""
        file = "routes.txt"
        spec = SPEC[file]
        tab = self.required_tab(file)
        if "route_id" in tab.check_columns(spec.columns, spec.required_columns):
            raise self.refuse(f"{file} has no route_id column, the feed cannot be used")
        if len(agency) > 1:
            tab.required_id("agency_id", quarantine=False)
        self.routes_tab = tab
        return self.load(tab, spec, route_rules)[0]

    def shapes(self) -> pd.DataFrame:
        """shapes.txt, sorted by (shape_id, shape_pt_sequence); a repeated key keeps its first
        row.
        """
        file = "shapes.txt"
        spec = SPEC[file]
        tab = self.tab(file)
        if tab is None:
            return empty_table("shapes")
        absent = tab.check_columns(spec.columns, spec.required_columns)
        if tab.has("shape_id"):
            self.ids[file] = (file, tab.s("shape_id"), tab.s("shape_id"))
        if absent:
            return empty_table("shapes")
        parsed = tab.parse_all(spec)
        seq = parsed["shape_pt_sequence"]
        keep_idx = np.flatnonzero(tab.keep)
        codes, dictionary = tab.encoded("shape_id")
        kept_codes = codes[keep_idx]
        order = sort_trip_blocks(kept_codes, sort_rank(dictionary), seq[keep_idx])
        idx = keep_idx[order]
        sorted_codes = kept_codes[order]
        repeated = tab.sorted_duplicates(idx, sorted_codes, seq[idx], spec.primary_key)
        idx, sorted_codes = idx[~repeated], sorted_codes[~repeated]
        columns = {"shape_id": id_categories(sorted_codes, dictionary)}
        for column in spec.output or ():
            field = spec.output_field(column)
            if field.kind != "text":
                columns[column] = np.asarray(parsed[field.name])[idx].astype(
                    field.dtype, copy=False
                )
        return pd.DataFrame(columns)

    def trips_tab(self) -> Tab:
        """trips.txt checked, before stop_times drops trips (its typed table comes later)."""
        file = "trips.txt"
        spec = SPEC[file]
        tab = self.required_tab(file)
        absent = tab.check_columns(spec.columns, spec.required_columns)
        if absent:
            raise self.refuse(f"{file} has no {absent[0]} column, the feed cannot be used")
        self.trip_fields = tab.parse_all(spec)
        self.foreign_keys(tab, spec)
        tab.duplicates(spec.primary_key)
        return tab

    def frequencies_without_stop_times(
        self, frequencies: pd.DataFrame, stop_times: pd.DataFrame
    ) -> None:
        """``frequency_trip_without_stop_times`` for frequency-based trips with no stop times."""
        if frequencies.empty:
            return
        without = ~frequencies["trip_id"].isin(stop_times["trip_id"])
        for trip in frequencies.loc[without, "trip_id"].unique().tolist():
            self.notices.add(
                "frequency_trip_without_stop_times",
                WARNING,
                "frequencies.txt",
                None,
                "trip_id",
                f"frequencies.txt: trip '{trip}' has frequencies but no usable stop times; it "
                "gives no trips.",
            )
