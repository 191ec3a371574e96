"""What a network offers a traveller: stops found by area or name, lines with their drawn paths,
and the next departures at a stop, from the compiled timetable.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import InputError
from arverne.network.timetable import Timetable
from arverne.routing.journey import transit_mode

MAX_DEPARTURE_SPAN = dt.timedelta(days=2)
"""Longest span :func:`next_departures` looks over."""


def fold(text: str) -> str:
    """``text`` without accents and case, for name search (``Église`` matches ``eglise``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def find_stops(
    tt: Timetable,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    name: str | None = None,
    limit: int = 100,
) -> np.ndarray:
    """Indices of the stops inside ``bbox`` whose name contains ``name`` (accents and case
    ignored), at most ``limit``, by name then id.

    Parameters
    ----------
    tt
        The timetable.
    bbox
        (min lon, min lat, max lon, max lat), WGS84; None: everywhere.
    name
        Text the stop name must contain; None: any.
    limit
        Most stops returned.

    Returns
    -------
    numpy.ndarray
        int64 stop indices.
    """
    keep = np.ones(tt.n_stops, dtype=bool)
    if bbox is not None:
        lon0, lat0, lon1, lat1 = bbox
        if not (lon0 <= lon1 and lat0 <= lat1):
            raise InputError(f"bbox {bbox} is not (min lon, min lat, max lon, max lat)")
        lon, lat = np.asarray(tt.stop_lon), np.asarray(tt.stop_lat)
        keep &= (lon >= lon0) & (lon <= lon1) & (lat >= lat0) & (lat <= lat1)
    if name:
        wanted = fold(name)
        names = np.asarray(tt.stop_name).tolist()
        keep &= np.array([wanted in fold(n) for n in names], dtype=bool)
    found = np.flatnonzero(keep)
    order = np.lexsort((np.asarray(tt.stop_id)[found], np.asarray(tt.stop_name)[found]))
    return found[order][:limit]


@dataclass(frozen=True)
class Line:
    """A route of the timetable and the distinct paths its trips draw."""

    route_idx: int
    route_id: str
    short_name: str
    long_name: str
    route_type: int
    mode: str
    color: str
    agency: str
    paths: list[list[tuple[float, float]]]
    """(lon, lat) lines: each pattern's shape (its stop sequence when it has none), deduplicated."""


def lines(tt: Timetable) -> list[Line]:
    """Every route with the paths of its patterns, in route order."""
    paths: list[list[list[tuple[float, float]]]] = [[] for _ in range(tt.n_routes)]
    seen: list[set[tuple[tuple[float, float], ...]]] = [set() for _ in range(tt.n_routes)]
    trip_ptr = np.asarray(tt.pattern_trip_ptr)
    for p in range(tt.n_patterns):
        first_trip = int(trip_ptr[p])
        # a pattern of in-seat chains repeats its real trips' paths end to end: not drawn
        if first_trip >= int(trip_ptr[p + 1]) or tt.trip_chained[first_trip]:
            continue
        path = tuple(_trip_path(tt, p, first_trip))
        r = int(tt.pattern_route[p])
        if len(path) >= 2 and path not in seen[r]:
            seen[r].add(path)
            paths[r].append(list(path))
    return [
        Line(
            route_idx=r,
            route_id=str(tt.route_id[r]),
            short_name=str(tt.route_short_name[r]),
            long_name=str(tt.route_long_name[r]),
            route_type=int(tt.route_type[r]),
            mode=transit_mode(int(tt.route_type[r])),
            color=str(tt.route_color[r]),
            agency=str(tt.route_agency_name[r]),
            paths=paths[r],
        )
        for r in range(tt.n_routes)
    ]


def _trip_path(tt: Timetable, pattern: int, trip: int) -> list[tuple[float, float]]:
    """(lon, lat) of a trip's shape, or of its pattern's stops when it has none."""
    shape = int(tt.trip_shape[trip])
    if shape >= 0:
        lo, hi = int(tt.shape_ptr[shape]), int(tt.shape_ptr[shape + 1])
        lons, lats = np.asarray(tt.shape_lon[lo:hi]), np.asarray(tt.shape_lat[lo:hi])
    else:
        lo, hi = int(tt.pattern_stop_ptr[pattern]), int(tt.pattern_stop_ptr[pattern + 1])
        stops = np.asarray(tt.pattern_stop[lo:hi])
        lons, lats = np.asarray(tt.stop_lon)[stops], np.asarray(tt.stop_lat)[stops]
    return [(round(float(x), 6), round(float(y), 6)) for x, y in zip(lons, lats, strict=True)]


@dataclass(frozen=True)
class Departure:
    """A vehicle leaving a stop (boarding allowed), from the timetable."""

    stop_idx: int
    departure: dt.datetime
    """Local time, with its offset."""
    route_idx: int
    trip_idx: int
    headsign: str
    day: int = -1
    """Service day of the run (index in the timetable's calendar)."""
    pos: int = -1
    """Position of the stop in the trip's pattern."""


def next_departures(
    tt: Timetable,
    stop_idx: int,
    after: dt.datetime,
    *,
    span: dt.timedelta = dt.timedelta(hours=2),
    limit: int = 20,
) -> list[Departure]:
    """Departures from a stop (and, for a station, its platforms) in ``[after, after + span]``.

    A departure is a trip that lets riders board there and goes on to another stop; a trip the
    timetable chains for in-seat transfers is counted once, as its real trips.

    Parameters
    ----------
    tt
        The timetable.
    stop_idx
        Stop (or station) index.
    after
        Start of the span; naive means the timetable's zone.
    span
        Length of the span, at most :data:`MAX_DEPARTURE_SPAN`.
    limit
        Most departures returned, earliest first.
    """
    if not dt.timedelta(0) <= span <= MAX_DEPARTURE_SPAN:
        raise InputError(f"span must lie between 0 and {MAX_DEPARTURE_SPAN}, got {span}")
    if not 0 <= stop_idx < tt.n_stops:
        raise InputError(f"stop index {stop_idx} is not in the timetable")
    zone = ZoneInfo(tt.timezone)
    start = int((after if after.tzinfo else after.replace(tzinfo=zone)).timestamp())
    end = start + int(span.total_seconds())
    stops = tt.with_platforms(stop_idx)
    day0 = tt.day_index(dt.datetime.fromtimestamp(start, zone).date())
    # trips past midnight run on an earlier service day: look two days back
    days = [d for d in range(day0 - 2, day0 + span.days + 2) if 0 <= d < tt.n_days]
    day_start = {d: tt.day_start_utc_s(d) for d in days}
    found: list[tuple[int, int, int, int, int]] = []  # (unix s, trip, stop, day, pos)
    for s in stops:
        for j in range(int(tt.stop_pattern_ptr[s]), int(tt.stop_pattern_ptr[s + 1])):
            p, pos = int(tt.stop_pattern[j]), int(tt.stop_pattern_pos[j])
            first = int(tt.pattern_stop_ptr[p])
            if (
                pos == int(tt.pattern_stop_ptr[p + 1]) - first - 1
                or not tt.pattern_board[first + pos]
            ):
                continue
            trips = np.arange(int(tt.pattern_trip_ptr[p]), int(tt.pattern_trip_ptr[p + 1]))
            trips = trips[~np.asarray(tt.trip_chained)[trips]]
            dep = np.asarray(tt.st_dep_s)[np.asarray(tt.trip_st_ptr)[trips] + pos].astype(np.int64)
            service = np.asarray(tt.trip_service)[trips]
            for d in days:
                at = day_start[d] + dep
                hit = (at >= start) & (at <= end) & np.asarray(tt.service_active)[service, d]
                found += [
                    (int(a), int(t), s, d, pos) for a, t in zip(at[hit], trips[hit], strict=True)
                ]
    found.sort()
    return [
        Departure(
            stop_idx=s,
            departure=dt.datetime.fromtimestamp(at, zone),
            route_idx=int(tt.trip_route[t]),
            trip_idx=t,
            headsign=str(tt.trip_headsign[t]),
            day=d,
            pos=pos,
        )
        for at, t, s, d, pos in found[:limit]
    ]
