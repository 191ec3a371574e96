"""GTFS-Flex: on-demand zones, location groups, booking rules and the windows that serve them.

:func:`read_gtfs` keeps the Flex files verbatim (``GtfsFeed.flex``) and the stop_times rows
that serve a zone or a location group (``GtfsFeed.flex_stop_times``); :func:`read_flex` turns
them into typed values:

- ``locations.geojson``: one :class:`FlexZone` per Polygon / MultiPolygon feature (shapely);
- ``location_groups.txt`` + ``location_group_stops.txt``: stop ids per group;
- ``booking_rules.txt``: one :class:`BookingRule` each (how, and how long ahead, to book);
- flex stop_times rows: one :class:`FlexWindow` each (a trip serving a zone, a group or a stop
  between ``start_pickup_drop_off_window`` and ``end_pickup_drop_off_window``).

A bad row or feature is left out with a notice (codes of the canonical validator where one
exists); only a feed without any usable Flex service gives an empty :class:`FlexFeed`.
Times are seconds after the service day's start, as in stop_times.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arverne.feeds.feed import GtfsFeed
from arverne.feeds.notices import Notice, Notices, Severity

BOOKING_TYPES = {0: "real_time", 1: "same_day", 2: "prior_days"}
"""booking_rules.txt ``booking_type``: 0 up to the trip, 1 up to a notice the same day, 2 up to
a time on a day before."""


@dataclass(frozen=True)
class BookingRule:
    """How a Flex trip is booked (a row of booking_rules.txt)."""

    rule_id: str
    booking_type: int
    """0 real time, 1 same day with ``prior_notice_duration_min``, 2 days before."""
    prior_notice_duration_min: int | None = None
    prior_notice_duration_max: int | None = None
    prior_notice_last_day: int | None = None
    prior_notice_last_time_s: int | None = None
    message: str = ""
    phone_number: str = ""
    info_url: str = ""
    booking_url: str = ""

    def latest_booking_s(self, trip_s: float) -> float:
        """Latest time (seconds of the trip's service day; negative: a day before) at which a
        trip at ``trip_s`` may still be booked.
        """
        if self.booking_type == 0:
            return trip_s
        if self.booking_type == 1:
            return trip_s - 60.0 * (self.prior_notice_duration_min or 0)
        days = self.prior_notice_last_day or 1
        return -86400.0 * days + float(self.prior_notice_last_time_s or 0)

    def earliest_trip_s(self, now_s: float, start_s: float) -> float:
        """Earliest trip time at or after ``start_s`` that can still be booked at ``now_s``
        (``inf`` when none can: a prior-days rule whose deadline has passed).
        """
        if self.booking_type == 0:
            return max(start_s, now_s)
        if self.booking_type == 1:
            return max(start_s, now_s + 60.0 * (self.prior_notice_duration_min or 0))
        return start_s if now_s <= self.latest_booking_s(start_s) else math.inf

    def describe(self) -> str:
        """How to book, in one line (phone, web, notice)."""
        if self.booking_type == 0:
            notice = "book up to the trip"
        elif self.booking_type == 1:
            notice = f"book at least {self.prior_notice_duration_min or 0} min ahead"
        else:
            notice = f"book by the day before ({self.prior_notice_last_day or 1} day(s) ahead)"
        how = [f"phone {self.phone_number}"] if self.phone_number else []
        how += [self.booking_url] if self.booking_url else []
        return notice + (": " + ", ".join(how) if how else "")


@dataclass(frozen=True)
class FlexZone:
    """A zone of locations.geojson: riders are picked up or dropped off anywhere inside it."""

    location_id: str
    name: str
    geometry: Any
    """shapely Polygon or MultiPolygon, WGS84 (lon, lat)."""

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Bool per point: inside the zone (or on its border)."""
        import shapely

        return np.asarray(shapely.intersects_xy(self.geometry, lon, lat), dtype=bool)


@dataclass(frozen=True)
class FlexWindow:
    """One flex stop_times row: a trip that serves a zone, a location group or a stop."""

    trip_id: str
    route_id: str
    service_id: str
    stop_sequence: int
    where: str
    """The zone id, location group id or stop id served."""
    kind: str
    """``zone``, ``group`` or ``stop``."""
    start_s: int
    end_s: int
    pickup_type: int
    """0 regular, 1 none, 2 phone the agency, 3 ask the driver."""
    drop_off_type: int
    pickup_booking_rule_id: str = ""
    drop_off_booking_rule_id: str = ""
    mean_duration_factor: float = 1.0
    mean_duration_offset_s: float = 0.0
    """Ride time = factor x driving time + offset. The offsets are read as seconds, as
    producers write them (C-TRAN: a factor of 1.3 with 1,200) and OpenTripPlanner reads them."""
    safe_duration_factor: float = 1.0
    safe_duration_offset_s: float = 0.0
    wheelchair_accessible: int = 0
    """Of the trip: 0 unknown, 1 yes, 2 no."""

    @property
    def picks_up(self) -> bool:
        """Whether riders may board here."""
        return self.pickup_type != 1

    @property
    def drops_off(self) -> bool:
        """Whether riders may alight here."""
        return self.drop_off_type != 1


@dataclass
class FlexFeed:
    """The GTFS-Flex part of a feed, typed; see the module docstring."""

    zones: dict[str, FlexZone]
    groups: dict[str, tuple[str, ...]]
    """Location group id -> stop ids."""
    group_names: dict[str, str]
    rules: dict[str, BookingRule]
    windows: list[FlexWindow]
    """Flex stop_times rows, by trip then stop_sequence."""
    stop_lonlat: dict[str, tuple[float, float]]
    """(lon, lat) of every stop a group or a window names."""
    timezone: str
    service_first_date: dt.date | None = None
    service_ids: tuple[str, ...] = ()
    service_active: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    """bool[n_services, n_days] of the Flex trips' services, from ``service_first_date``."""
    notices: list[Notice] = field(default_factory=list)

    def runs_on(self, service_id: str, day: dt.date) -> bool:
        """Whether a service runs on ``day``."""
        if self.service_first_date is None or service_id not in self.service_ids:
            return False
        d = (day - self.service_first_date).days
        if not 0 <= d < self.service_active.shape[1]:
            return False
        return bool(self.service_active[self.service_ids.index(service_id), d])

    def trips(self) -> dict[str, list[FlexWindow]]:
        """Windows grouped by trip, in stop_sequence order."""
        out: dict[str, list[FlexWindow]] = {}
        for w in self.windows:
            out.setdefault(w.trip_id, []).append(w)
        return out


def read_flex(feed: GtfsFeed | str | Path) -> FlexFeed:
    """Read the GTFS-Flex part of a feed.

    Parameters
    ----------
    feed
        A feed read by :func:`arverne.feeds.gtfs.read_gtfs`, or the path of one.

    Returns
    -------
    FlexFeed
        Zones, location groups, booking rules and flex windows; bad rows left out with notices
        (``FlexFeed.notices``). Empty when the feed has no Flex files.
    """
    if not isinstance(feed, GtfsFeed):
        from arverne.feeds.gtfs import read_gtfs

        feed = read_gtfs(feed)
    notices = Notices()
    zones = _zones(feed.flex.get("locations.geojson"), notices)
    group_names = {
        r["location_group_id"]: r.get("location_group_name", "")
        for _, r in _rows(feed, "location_groups.txt", ["location_group_id"], notices)
    }
    stops = feed.stops.set_index("stop_id") if len(feed.stops) else None
    members: dict[str, list[str]] = {g: [] for g in group_names}
    for row, r in _rows(
        feed, "location_group_stops.txt", ["location_group_id", "stop_id"], notices
    ):
        g, s = r["location_group_id"], r["stop_id"]
        if g not in members:
            _foreign(notices, "location_group_stops.txt", row, "location_group_id", g)
        elif stops is None or s not in stops.index:
            _foreign(notices, "location_group_stops.txt", row, "stop_id", s)
        else:
            members[g].append(s)
    groups = {g: tuple(m) for g, m in members.items()}
    rules = _rules(feed, notices)
    windows = _windows(feed, zones, groups, rules, stops, notices)
    used = {s for m in groups.values() for s in m} | {w.where for w in windows if w.kind == "stop"}
    stop_lonlat: dict[str, tuple[float, float]] = {}
    if stops is not None:
        where = stops.loc[sorted(used), ["stop_lon", "stop_lat"]].astype(float)
        stop_lonlat = {str(s): (lo, la) for s, lo, la in where.itertuples(name=None)}
    flex = FlexFeed(zones, groups, group_names, rules, windows, stop_lonlat, feed.timezone)
    services = sorted({w.service_id for w in windows})
    if services:
        days = feed.service_days()
        keep = np.isin(days.service_id.astype(str), services)
        flex.service_first_date = days.first_date
        flex.service_ids = tuple(str(s) for s in days.service_id[keep])
        flex.service_active = np.asarray(days.active[keep], dtype=bool)
    flex.notices = notices.items
    return flex


def _rows(
    feed: GtfsFeed, name: str, required: list[str], notices: Notices
) -> list[tuple[int, dict[str, str]]]:
    """(CSV row number, row) of a kept Flex CSV file, rows missing a required field left out."""
    raw = feed.flex.get(name)
    if raw is None:
        return []
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace")))
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        notices.add(
            "missing_required_column", Severity.ERROR, name, None, missing[0],
            f"{name}: required column {missing[0]} is missing; the file is ignored",
        )  # fmt: skip
        return []
    out = []
    for i, r in enumerate(reader):
        row = i + 2
        r = {k: (v or "").strip() for k, v in r.items() if k is not None}
        empty = [c for c in required if not r.get(c)]
        if empty:
            notices.add(
                "missing_required_field", Severity.ERROR, name, row, empty[0],
                f"{name} row {row}: {empty[0]} is empty; the row is ignored",
            )  # fmt: skip
            continue
        out.append((row, r))
    return out


def _foreign(notices: Notices, file: str, row: int, column: str, value: str) -> None:
    notices.add(
        "foreign_key_violation", Severity.ERROR, file, row, column,
        f"{file} row {row}: {column} {value[:60]!r} is not defined; the row is ignored",
    )  # fmt: skip


def _int(text: str, file: str, row: int, column: str, notices: Notices) -> int | None:
    """An optional non-negative integer field; a notice and None when it is not one."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    notices.add(
        "invalid_integer", Severity.ERROR, file, row, column,
        f"{file} row {row}: {column} {text[:60]!r} is not a whole number >= 0",
    )  # fmt: skip
    return None


def _time(text: str) -> int | None:
    """Seconds of ``H:MM:SS``, else None."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[1]) != 2:
        return None
    h, m, s = (int(p) for p in parts)
    return h * 3600 + m * 60 + s if m < 60 and s < 60 and len(parts[2]) == 2 else None


def _zones(raw: bytes | None, notices: Notices) -> dict[str, FlexZone]:
    if raw is None:
        return {}
    import shapely
    from shapely.geometry import shape

    name = "locations.geojson"
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
        features = doc["features"]
        if not isinstance(features, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        notices.add(
            "malformed_json", Severity.ERROR, name, None, None,
            f"{name} is not a GeoJSON FeatureCollection; no zone is read",
        )  # fmt: skip
        return {}
    zones: dict[str, FlexZone] = {}
    for k, f in enumerate(features):
        where = f"{name} feature {k}"
        fid = f.get("id") if isinstance(f, dict) else None
        if not isinstance(fid, str | int) or fid == "":
            notices.add(
                "missing_required_element", Severity.ERROR, name, None, "id",
                f"{where}: no id; the feature is ignored",
            )  # fmt: skip
            continue
        fid = str(fid)
        if fid in zones:
            notices.add(
                "duplicate_key", Severity.ERROR, name, None, "id",
                f"{where}: id {fid[:60]!r} is used by an earlier feature; ignored",
            )  # fmt: skip
            continue
        geom_json = f.get("geometry") or {}
        if geom_json.get("type") not in ("Polygon", "MultiPolygon"):
            notices.add(
                "unsupported_geo_json_type", Severity.ERROR, name, None, "geometry",
                f"{where} ({fid[:60]}): geometry type {geom_json.get('type')!r} is not "
                "Polygon or MultiPolygon; ignored",
            )  # fmt: skip
            continue
        try:
            geom = shape(geom_json)
        except (ValueError, TypeError, IndexError, AttributeError):
            geom = None
        if geom is None or geom.is_empty or not geom.is_valid:
            notices.add(
                "invalid_geometry", Severity.ERROR, name, None, "geometry",
                f"{where} ({fid[:60]}): the polygon is empty or invalid; ignored",
            )  # fmt: skip
            continue
        shapely.prepare(geom)
        props = f.get("properties") or {}
        zones[fid] = FlexZone(fid, str(props.get("stop_name", "") or fid), geom)
    return zones


def _rules(feed: GtfsFeed, notices: Notices) -> dict[str, BookingRule]:
    name = "booking_rules.txt"
    rules: dict[str, BookingRule] = {}
    for row, r in _rows(feed, name, ["booking_rule_id", "booking_type"], notices):
        rid = r["booking_rule_id"]
        if rid in rules:
            notices.add(
                "duplicate_key", Severity.ERROR, name, row, "booking_rule_id",
                f"{name} row {row}: booking_rule_id {rid[:60]!r} is already defined; ignored",
            )  # fmt: skip
            continue
        kind = _int(r["booking_type"], name, row, "booking_type", notices)
        if kind not in BOOKING_TYPES:
            if kind is not None:
                notices.add(
                    "unexpected_enum_value", Severity.ERROR, name, row, "booking_type",
                    f"{name} row {row}: booking_type {kind} is not 0, 1 or 2; ignored",
                )  # fmt: skip
            continue
        ints = {
            c: _int(r.get(c, ""), name, row, c, notices)
            for c in ("prior_notice_duration_min", "prior_notice_duration_max",
                      "prior_notice_last_day")
        }  # fmt: skip
        if kind == 1 and ints["prior_notice_duration_min"] is None:
            notices.add(
                "missing_prior_notice_duration_min", Severity.ERROR, name, row,
                "prior_notice_duration_min",
                f"{name} row {row}: a same-day rule needs prior_notice_duration_min; ignored",
            )  # fmt: skip
            continue
        last_time = _time(r.get("prior_notice_last_time", ""))
        if kind == 2 and (ints["prior_notice_last_day"] is None or last_time is None):
            notices.add(
                "missing_prior_notice_last_day", Severity.ERROR, name, row,
                "prior_notice_last_day",
                f"{name} row {row}: a prior-days rule needs prior_notice_last_day and "
                "prior_notice_last_time; ignored",
            )  # fmt: skip
            continue
        rules[rid] = BookingRule(
            rid, kind, ints["prior_notice_duration_min"], ints["prior_notice_duration_max"],
            ints["prior_notice_last_day"], last_time, r.get("message", ""),
            r.get("phone_number", ""), r.get("info_url", ""), r.get("booking_url", ""),
        )  # fmt: skip
    return rules


def _windows(
    feed: GtfsFeed,
    zones: dict[str, FlexZone],
    groups: dict[str, tuple[str, ...]],
    rules: dict[str, BookingRule],
    stops: Any,
    notices: Notices,
) -> list[FlexWindow]:
    """The flex stop_times rows as windows; rows naming unknown places or rules left out."""
    st = feed.flex_stop_times
    if not len(st) or "start_pickup_drop_off_window" not in st:
        return []
    name = "stop_times.txt"
    trips = feed.trips.set_index("trip_id")
    has_wc = "wheelchair_accessible" in trips
    out = []
    # the flex rows were split off without their CSV row numbers: notices name trip and sequence
    for r in st.fillna("").astype(str).to_dict("records"):
        where = f"{name} trip {r.get('trip_id', '')[:60]!r} stop_sequence {r.get('stop_sequence')}"
        trip_id = r.get("trip_id", "")
        if trip_id not in trips.index:
            _note(notices, "foreign_key_violation", "trip_id", f"{where}: unknown trip_id")
            continue
        if r.get("location_id"):
            kind, place, known = "zone", r["location_id"], r["location_id"] in zones
        elif r.get("location_group_id"):
            kind, place = "group", r["location_group_id"]
            known = place in groups and bool(groups[place])
        else:
            kind, place = "stop", r.get("stop_id", "")
            known = stops is not None and place in stops.index
        if not known:
            _note(
                notices, "foreign_key_violation", f"{kind}",
                f"{where}: {kind} {place[:60]!r} is not defined (or empty)",
            )  # fmt: skip
            continue
        start = _time(r.get("start_pickup_drop_off_window", ""))
        end = _time(r.get("end_pickup_drop_off_window", ""))
        if start is None or end is None:
            _note(notices, "invalid_time", "start_pickup_drop_off_window",
                  f"{where}: the pickup/drop-off window is missing or not a time")  # fmt: skip
            continue
        if end < start:
            _note(notices, "start_and_end_range_out_of_order", "end_pickup_drop_off_window",
                  f"{where}: the window ends before it starts")  # fmt: skip
            continue
        pu, do = r.get("pickup_booking_rule_id", ""), r.get("drop_off_booking_rule_id", "")
        bad = next((x for x in (pu, do) if x and x not in rules), None)
        if bad is not None:
            _note(notices, "foreign_key_violation", "pickup_booking_rule_id",
                  f"{where}: booking rule {bad[:60]!r} is not defined (or was ignored)")  # fmt: skip
            continue
        try:
            seq = int(r.get("stop_sequence", ""))
            pickup_type = int(r.get("pickup_type") or 0)
            drop_off_type = int(r.get("drop_off_type") or 0)
            mf, mo, sf, so = (
                float(r.get(c) or d)
                for c, d in (("mean_duration_factor", 1.0), ("mean_duration_offset", 0.0),
                             ("safe_duration_factor", 1.0), ("safe_duration_offset", 0.0))
            )  # fmt: skip
        except ValueError:
            _note(notices, "invalid_integer", "stop_sequence",
                  f"{where}: stop_sequence, a pickup/drop-off type or a duration is not a number")  # fmt: skip
            continue
        if not all(math.isfinite(x) and x >= 0 for x in (mf, mo, sf, so)) or not (
            0 <= pickup_type <= 3 and 0 <= drop_off_type <= 3
        ):
            _note(notices, "number_out_of_range", "pickup_type",
                  f"{where}: a pickup/drop-off type or a duration is out of range")  # fmt: skip
            continue
        trip = trips.loc[trip_id]
        wc = trip["wheelchair_accessible"] if has_wc else 0
        out.append(
            FlexWindow(
                trip_id, str(trip["route_id"]), str(trip["service_id"]), seq, place, kind,
                start, end, pickup_type, drop_off_type, pu, do, mf, mo, sf, so,
                int(wc) if wc == wc and str(wc).isdigit() else 0,
            )
        )  # fmt: skip
    out.sort(key=lambda w: (w.trip_id, w.stop_sequence))
    return out


def _note(notices: Notices, code: str, column: str, message: str) -> None:
    notices.add(code, Severity.ERROR, "stop_times.txt", None, column, message + "; ignored")
