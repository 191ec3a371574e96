"""Rules across the fields of one GTFS file, the part of its checks a spec cannot declare.

Each rule takes the file's table under validation and its parsed fields (see
``_load.FeedLoader.load``), flags rows and may quarantine them.
"""

from __future__ import annotations

import zoneinfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from arverne.feeds._parse import missing_mask
from arverne.feeds._table import ERROR, WARNING, Tab

Parsed = dict[str, "np.ndarray | pa.Array"]


def calendar_rules(tab: Tab, parsed: Parsed) -> None:
    """calendar.txt: a date range must not run backwards."""
    start, end = parsed["start_date"], parsed["end_date"]
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


def stop_rules(tab: Tab, parsed: Parsed) -> None:
    """stops.txt: placeholder positions, names, and the station hierarchy."""
    lat, lon = parsed["stop_lat"], parsed["stop_lon"]
    location_type = parsed["location_type"]
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
        tab.flag(
            missing_mask(tab.s("stop_name")) & (location_type <= 2),
            "missing_required_field",
            ERROR,
            "stop_name",
            "stop_name is empty (required for stops, stations and entrances).",
        )
    parent = tab.s("parent_station")
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


def pathway_rules(tab: Tab, parsed: Parsed, *, stops: pd.DataFrame) -> None:
    """pathways.txt: ends must be stops, entrances, nodes or boarding areas; loops are
    noticed.
    """
    stations = stops.loc[stops["location_type"] == 1, "stop_id"]
    station_ids = pa.array(stations.to_numpy(dtype=object), pa.string())
    for name in ("from_stop_id", "to_stop_id"):
        tab.flag(
            tab.member(name, station_ids),
            "pathway_to_wrong_location_type",
            ERROR,
            name,
            f"{name} '{{value}}' is a station (location_type 1); a pathway links platforms, "
            "entrances, nodes or boarding areas.",
            values=name,
            quarantine=True,
        )
    same = pc.equal(tab.s("from_stop_id"), tab.s("to_stop_id"))
    tab.flag(
        np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool),
        "pathway_loop",
        WARNING,
        "to_stop_id",
        "the pathway starts and ends at stop '{value}'.",
        values="to_stop_id",
    )


def route_rules(tab: Tab, parsed: Parsed) -> None:
    """routes.txt: route types, names and colours."""
    route_type = parsed["route_type"]
    if not tab.has("route_type"):
        tab.keep[:] = False
    known = (route_type >= 0) & ((route_type <= 12) | ((route_type >= 100) & (route_type <= 1702)))
    tab.flag(
        ~known & tab.keep,
        "unexpected_enum_value",
        WARNING,
        "route_type",
        "route_type '{value}' is not a GTFS or extended route type.",
        values=tab.s("route_type"),
    )
    both_missing = missing_mask(tab.s("route_short_name")) & missing_mask(tab.s("route_long_name"))
    tab.flag(
        both_missing,
        "route_both_short_and_long_name_missing",
        ERROR,
        "route_short_name",
        "route_short_name and route_long_name are both empty.",
    )
    if tab.has("route_color"):
        color = tab.s("route_color")
        ok = np.asarray(
            pc.match_substring_regex(color, r"^\s*[0-9A-Fa-f]{6}\s*$").to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        tab.flag(
            ~missing_mask(color) & ~ok,
            "invalid_color",
            ERROR,
            "route_color",
            "route_color '{value}' is not a six-digit hexadecimal colour.",
            values=color,
        )


def frequency_rules(tab: Tab, parsed: Parsed) -> None:
    """frequencies.txt: a window must end after it starts."""
    start, end = parsed["start_time"], parsed["end_time"]
    tab.flag(
        (start >= 0) & (end >= 0) & (end <= start),
        "start_and_end_range_out_of_order",
        ERROR,
        "end_time",
        "end_time is not after start_time.",
        quarantine=True,
    )


def transfer_rules(tab: Tab, parsed: Parsed) -> None:
    """transfers.txt: the ids each transfer type needs."""
    transfer_type = parsed["transfer_type"]
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


def is_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone."""
    name = name.strip()
    if not name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
