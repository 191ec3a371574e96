"""The timetable: stops, routes as stop-time blocks, service-day bitsets, id <-> index maps.

:func:`build_timetable` compiles one or more :class:`arverne.feeds.gtfs.GtfsFeed` into a
:class:`Timetable` of plain numpy arrays (no object arrays: strings are fixed-width unicode), so
the network store can save and memory-map it.

Layout, in RAPTOR terms
-----------------------
* A **pattern** (a RAPTOR *route*) is a set of trips with the same stop sequence and the same
  pickup/drop-off permissions, in which no trip overtakes another (FIFO): trips of a GTFS route
  are grouped by stop sequence, then split greedily until every stop-time column is sorted.
* Trips are numbered pattern by pattern, in departure order inside a pattern. The stop times of
  pattern ``p`` form one block of ``n_trips(p) x n_stops(p)`` int32 arrival and departure times:
  trip ``t`` at pattern position ``i`` is ``st_arr_s[trip_st_ptr[t] + i]``.
* Times are seconds after the start of the trip's service day in the timetable's time zone,
  where the service day starts at "noon minus 12 h" (GTFS), so they may exceed 86,400 for trips
  past midnight. :meth:`Timetable.day_start_utc_s` gives the absolute start of each day, so a
  router works in one frame whatever the daylight-saving changes.
* Services are ``service_active[service, day]`` booleans over ``n_days`` days from
  ``first_date`` (calendar and calendar_dates applied per feed).
* In-seat continuations (consecutive trips of one ``block_id`` meeting at the same stop or
  station, and ``transfer_type`` 4 rows) become extra **chained trips**: one trip that runs
  the longest runs of the chain that serve no station twice, so staying seated is one ride
  and never a loop back to where the rider was; the real trips stay as they are. ``trip_part_*``
  tell which real trip serves each stretch of a chained trip.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import GtfsError
from arverne.feeds._order import sort_rank, sort_trip_blocks

if TYPE_CHECKING:
    from arverne.feeds.gtfs import GtfsFeed

#: Sentinel for "never" in int32 time arrays.
NEVER_S = np.iinfo(np.int32).max // 2


@dataclass(frozen=True)
class Timetable:
    """Routing arrays compiled from one or more GTFS feeds (ids namespaced ``feed:id``).

    Times never decrease along a trip (arrival <= departure <= next arrival): the kernels
    rely on it.
    """

    timezone: str
    """IANA time zone of every time in the arrays (the first feed's agency time zone)."""
    first_date: str
    """ISO date of service day 0."""
    stop_id: np.ndarray
    """<U[s]: namespaced GTFS stop id of each stop index."""
    stop_name: np.ndarray
    """<U[s]: stop name."""
    stop_lon: np.ndarray
    """float64[s]: WGS84 longitude."""
    stop_lat: np.ndarray
    """float64[s]: WGS84 latitude."""
    transfer_from_stop: np.ndarray
    """int32[t]: transfers.txt rows (stop to stop), from stop index."""
    transfer_to_stop: np.ndarray
    """int32[t]: to stop index."""
    transfer_type: np.ndarray
    """int8[t]: GTFS transfer_type (0 recommended, 1 timed, 2 minimum time, 3 forbidden)."""
    transfer_min_s: np.ndarray
    """int32[t]: min_transfer_time in seconds, -1 when not given."""

    n_days: int = 0
    """Number of service days covered by ``service_active``."""
    feed_name: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[f]: name (id namespace) of each merged feed, in input order."""
    stop_code: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[s]: stop code ("" when none)."""
    stop_parent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[s]: stop index of the parent station, -1 when none."""
    stop_location_type: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    """int8[s]: GTFS location_type (0 stop, 1 station, 2 entrance, ...)."""
    stop_wheelchair: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    """int8[s]: wheelchair_boarding (0 unknown, 1 yes, 2 no), inherited from the parent when 0."""
    stop_feed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    """int16[s]: feed index of each stop."""

    route_id: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[r]: namespaced GTFS route id."""
    route_short_name: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[r]: route short name."""
    route_long_name: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[r]: route long name."""
    route_type: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    """int16[r]: GTFS route_type (0 tram, 1 metro, 2 rail, 3 bus, ...)."""
    route_color: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[r]: route colour (hex, "" when none)."""
    route_agency_name: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[r]: name of the agency running the route."""

    service_id: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[v]: namespaced service id (chained trips may add intersections ``a&b``)."""
    service_active: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    """bool[v, n_days]: service v runs on day d (day 0 is ``first_date``)."""

    trip_id: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[n]: namespaced trip id; a chained trip is ``<first trip id>+<parts - 1>``."""
    trip_route: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[n]: route index of each trip (of its first part for a chained trip)."""
    trip_pattern: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[n]: pattern index (trips are sorted by pattern, then by departure)."""
    trip_service: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[n]: service index."""
    trip_headsign: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[n]: trip headsign ("" when none)."""
    trip_direction: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    """int8[n]: direction_id, -1 when missing."""
    trip_wheelchair: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    """int8[n]: wheelchair_accessible (0 unknown, 1 yes, 2 no)."""
    trip_shape: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[n]: shape index, -1 when none."""
    trip_chained: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """bool[n]: True for a chained (in-seat) trip made of several real trips."""
    trip_st_ptr: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """int64[n]: stop times of trip t are st_*[trip_st_ptr[t] : trip_st_ptr[t] + n_stops(pattern)]."""
    trip_part_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    """int64[n + 1]: parts of trip t are part_*[trip_part_ptr[t]:trip_part_ptr[t + 1]]."""
    part_trip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[q]: real trip index of each part (the trip itself for a plain trip)."""
    part_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[q]: pattern position of the part's first stop (a chained trip repeats the stop
    where two parts meet: arrival with the first, departure with the next)."""

    st_arr_s: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[m]: arrival time, seconds after the trip's service-day start."""
    st_dep_s: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[m]: departure time, seconds after the trip's service-day start."""

    pattern_stop_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    """int64[p + 1]: stops of pattern p are pattern_stop[pattern_stop_ptr[p]:pattern_stop_ptr[p + 1]]."""
    pattern_stop: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[k]: stop index at each pattern position."""
    pattern_board: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """bool[k]: boarding allowed (pickup_type != 1) at each pattern position."""
    pattern_alight: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """bool[k]: alighting allowed (drop_off_type != 1) at each pattern position."""
    pattern_trip_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    """int64[p + 1]: trips of pattern p are trip indices pattern_trip_ptr[p]:pattern_trip_ptr[p + 1]."""
    pattern_route: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[p]: route index of the pattern."""

    stop_pattern_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    """int64[s + 1]: patterns through stop s are stop_pattern[stop_pattern_ptr[s]:stop_pattern_ptr[s + 1]]."""
    stop_pattern: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[j]: pattern index (a pattern visiting a stop twice appears twice)."""
    stop_pattern_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[j]: position of the stop in that pattern."""

    inseat_from_trip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[c]: real trip the vehicle continues from into ``inseat_to_trip`` (same day, as
    the feed says); a rider stays seated across it only inside a chained trip (a loop-free
    run, see the module docstring)."""
    inseat_to_trip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[c]: the continuing real trip."""

    shape_id: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U1"))
    """<U[h]: namespaced shape id."""
    shape_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    """int64[h + 1]: points of shape h are shape_lon/lat[shape_ptr[h]:shape_ptr[h + 1]]."""
    shape_lon: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    """float64[g]: shape point longitudes."""
    shape_lat: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    """float64[g]: shape point latitudes."""

    @property
    def n_stops(self) -> int:
        return int(self.stop_id.shape[0])

    @property
    def n_routes(self) -> int:
        return int(self.route_id.shape[0])

    @property
    def n_patterns(self) -> int:
        return int(self.pattern_route.shape[0])

    @property
    def n_trips(self) -> int:
        return int(self.trip_id.shape[0])

    @property
    def n_stop_times(self) -> int:
        return int(self.st_arr_s.shape[0])

    @property
    def first_day(self) -> dt.date:
        """Service day 0 as a date."""
        return dt.date.fromisoformat(self.first_date)

    def day_index(self, date: dt.date) -> int:
        """Index of ``date`` relative to ``first_date`` (may be outside ``[0, n_days)``)."""
        return (date - self.first_day).days

    def day_start_utc_s(self, day: int) -> int:
        """Absolute start of service day ``day`` ("noon minus 12 h" local), as Unix seconds."""
        date = self.first_day + dt.timedelta(days=int(day))
        noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ZoneInfo(self.timezone))
        return int(noon.timestamp()) - 12 * 3600

    def stop_index(self, stop_id: str) -> int:
        """Stop index of a namespaced stop id; a clear error when unknown."""
        hits = np.flatnonzero(self.stop_id == stop_id)
        if hits.size == 0:
            raise KeyError(f"stop {stop_id!r} is not in this timetable")
        return int(hits[0])


# ----------------------------------------------------------------------------------------------
# build
#
# The compile works on flat columns, never on one Python object per trip: a set of trips is a
# _Trips (the stop times of trip k are rows start[k]:start[k] + length[k] of its stop-time
# columns), the loops over trips and stop times are numba kernels (arverne.network._compile),
# and every output array is a gather through index arrays.


@dataclass
class _Trips:
    """Trips (real or chained) as flat columns; the n trips own m stop-time rows."""

    start: np.ndarray
    """int64[n]: first stop-time row of each trip."""
    length: np.ndarray
    """int64[n]: number of stop times of each trip."""
    stop: np.ndarray
    """int32[m]: stop index."""
    arr: np.ndarray
    """int32[m]: arrival time, seconds in the timetable's frame."""
    dep: np.ndarray
    """int32[m]: departure time."""
    board: np.ndarray
    """bool[m]: boarding allowed."""
    alight: np.ndarray
    """bool[m]: alighting allowed."""
    trip_id: np.ndarray
    """<U[n]: namespaced trip id."""
    headsign: np.ndarray
    """<U[n]: headsign."""
    route: np.ndarray
    """int32[n]: route index."""
    service: np.ndarray
    """int32[n]: service index."""
    direction: np.ndarray
    """int8[n]: direction_id."""
    wheelchair: np.ndarray
    """int8[n]: wheelchair_accessible."""
    shape: np.ndarray
    """int32[n]: shape index, -1 when none."""

    @staticmethod
    def concat(parts: Sequence[_Trips]) -> _Trips:
        """The trips of ``parts``, one part after the other; the parts are emptied.

        Each column of the parts is dropped as soon as it is copied, so the copy costs one
        column more than the parts, not twice their size. String columns come out as wide as
        the widest part: still exactly as wide as their longest string. When only one part has
        trips, that part is the result, not a copy.
        """
        with_trips = [p for p in parts if p.start.shape[0]]
        if len(with_trips) == 1:
            return with_trips[0]
        first_row = np.cumsum([0] + [p.stop.shape[0] for p in parts[:-1]])
        n_trips = [p.start.shape[0] for p in parts]
        columns = {}
        for f in fields(_Trips):
            columns[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
            for p in parts:
                setattr(p, f.name, np.empty(0, columns[f.name].dtype))
        columns["start"] += np.repeat(first_row, n_trips)
        return _Trips(**columns)


def _utc_offset_s(zone: str, date: dt.date) -> int:
    noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ZoneInfo(zone))
    offset = noon.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _ustr(values: Any) -> np.ndarray:
    """Fixed-width unicode array (never object) exactly as wide as its longest string (>= 1).

    ``values``: a list of str, or a column (pandas Series, Arrow array) of strings.
    """
    import pyarrow.compute as pc

    if isinstance(values, list):
        return np.asarray(values, dtype=str)
    # the width is set, not left to numpy: from objects it makes "" two characters wide
    arr = _arrow(values)
    width = max(1, pc.max(pc.utf8_length(arr)).as_py() or 0)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=f"<U{width}")


def _arrow(values: Any) -> Any:
    """A column (pandas Series, list, numpy array) as one Arrow array."""
    import pyarrow as pa

    arr = pa.array(values)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _prefix(ns: str, values: Any) -> Any:
    """Arrow strings ``ns + value`` (namespaced ids) for a column of strings."""
    import pyarrow.compute as pc

    return pc.utf8_replace_slice(_arrow(values), 0, 0, ns)


def _index_in(values: Any, ids: Any) -> np.ndarray:
    """int32 position of each of ``values`` in ``ids`` (the first one if repeated), -1 if absent.

    Both are columns of strings; Arrow hashes them, with no Python object per value. A pandas
    categorical column (the reader's stop_times ids) is mapped through its categories.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if getattr(getattr(values, "dtype", None), "name", None) == "category":
        where = np.append(_index_in(values.cat.categories, ids), np.int32(-1))  # code -1: NaN
        return where[values.cat.codes.to_numpy()]
    values, ids = _arrow(values), _arrow(ids)
    if pa.types.is_null(values.type):  # an empty column without a type
        return np.full(len(values), -1, np.int32)
    if ids.type != values.type:
        ids = ids.cast(values.type)
    found = pc.index_in(values, value_set=ids).fill_null(-1)
    return np.asarray(found.to_numpy(zero_copy_only=False), np.int32)


_GATHER_ROWS = 1 << 16
"""Rows gathered per step of :func:`_take_ranges`."""


def _ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """int64 rows ``start[0] .. start[0] + length[0] - 1``, then those of range 1, and so on.

    Built in one array (steps of 1, a jump at each range start, then a cumulative sum): the
    rows of every stop time can be millions, so no second array of that size (and int64: numpy
    would turn a narrower index into a temporary int64 copy at each use).
    """
    some = length > 0
    start, length = start[some], length[some]
    rows = np.ones(int(length.sum()), np.int64)
    if rows.shape[0]:
        rows[0] = start[0]
        rows[np.cumsum(length[:-1])] = start[1:] - (start[:-1] + length[:-1] - 1)
        np.cumsum(rows, out=rows)
    return rows


def _take_ranges(
    columns: Sequence[np.ndarray], start: np.ndarray, length: np.ndarray
) -> list[np.ndarray]:
    """``[c[_ranges(start, length)] for c in columns]``, built a slice of ranges at a time.

    The row index of every stop time would weigh more than the int32 columns it gathers, at
    the build's peak: only :data:`_GATHER_ROWS` rows of it exist at once.
    """
    ends = np.cumsum(length)
    out = [np.empty(int(ends[-1]) if len(ends) else 0, c.dtype) for c in columns]
    lo = at = 0
    while lo < len(length):
        # the ranges starting before the next _GATHER_ROWS rows (at least one)
        hi = max(lo + 1, int(np.searchsorted(ends, at + _GATHER_ROWS, side="left")))
        rows = _ranges(start[lo:hi], length[lo:hi])
        for target, column in zip(out, columns, strict=True):
            target[at : at + len(rows)] = column[rows]
        at += len(rows)
        lo = hi
    return out


def build_timetable(feeds: Sequence[GtfsFeed]) -> Timetable:
    """Compile GTFS feeds into one :class:`Timetable` (ids namespaced ``feed:id``).

    Parameters
    ----------
    feeds
        Feeds as read by :func:`arverne.feeds.gtfs.read_gtfs`; frequency-based trips are
        expanded here. The first feed's time zone is the timetable's; a feed in another zone has
        its times shifted by the difference of UTC offsets on its first service day (so a feed in
        a zone with different daylight-saving dates is off by an hour for a few weeks a year: the
        price of one shared time frame, which every trip of such a merged network needs).

    Returns
    -------
    Timetable
        The compiled arrays.
    """
    # only the build needs these: loading a network stays light
    from arverne.network._compile import inseat_chains, loop_free_windows, trip_patterns

    if not feeds:
        raise GtfsError("build_timetable needs at least one feed")
    timezone = feeds[0].timezone or "UTC"
    try:
        ZoneInfo(timezone)
    except Exception:
        raise GtfsError(
            f"agency.txt: agency_timezone {timezone!r} is not an IANA time zone"
        ) from None

    days = [feed.service_days() for feed in feeds]
    starts = [d.first_date for d in days if d.active.shape[1] > 0]
    if not starts:
        raise GtfsError(f"{feeds[0].name}: no service day in calendar.txt or calendar_dates.txt")
    first_date = min(starts)
    n_days = max((d.first_date - first_date).days + d.active.shape[1] for d in days)

    # per-feed pieces of the output columns, concatenated at the end
    cols: defaultdict[str, list[np.ndarray]] = defaultdict(list)
    service_ids: list[str] = []
    feed_trips: list[_Trips] = []
    stop_base = route_base = shape_base = trip_base = n_shape_points = 0

    for feed_idx, (feed, sd) in enumerate(zip(feeds, days, strict=True)):
        ns = f"{feed.name}:"
        shift_s = 0
        if feed.timezone and feed.timezone != timezone:
            # Times of a feed in another zone are moved into the first feed's frame (see above).
            ref = sd.first_date
            shift_s = _utc_offset_s(timezone, ref) - _utc_offset_s(feed.timezone, ref)
        ef = feed.expanded()

        # stops
        stops = ef.stops
        stop_ids = _arrow(stops["stop_id"])
        n_stops = len(stop_ids)
        parent = _index_in(stops["parent_station"], stop_ids)  # local index, -1 when none
        cols["stop_id"].append(_ustr(_prefix(ns, stop_ids)))
        cols["stop_name"].append(_ustr(stops["stop_name"]))
        cols["stop_code"].append(_ustr(stops["stop_code"]))
        cols["stop_lon"].append(stops["stop_lon"].to_numpy(np.float64))
        cols["stop_lat"].append(stops["stop_lat"].to_numpy(np.float64))
        cols["stop_parent"].append(np.where(parent >= 0, parent + stop_base, -1))
        cols["stop_location_type"].append(stops["location_type"].to_numpy(np.int8))
        cols["stop_wheelchair"].append(stops["wheelchair_boarding"].to_numpy(np.int8))
        cols["stop_feed"].append(np.full(n_stops, feed_idx, np.int16))

        # routes
        routes = ef.routes
        agency_names = dict(zip(ef.agency["agency_id"], ef.agency["agency_name"], strict=False))
        default_agency = str(ef.agency["agency_name"].iloc[0]) if len(ef.agency) else ""
        cols["route_id"].append(_ustr(_prefix(ns, routes["route_id"])))
        cols["route_short_name"].append(_ustr(routes["route_short_name"]))
        cols["route_long_name"].append(_ustr(routes["route_long_name"]))
        cols["route_type"].append(routes["route_type"].to_numpy(np.int16))
        cols["route_color"].append(_ustr(routes["route_color"]))
        cols["route_agency_name"].append(
            _ustr([agency_names.get(a, default_agency) for a in routes["agency_id"]])
        )

        # services, re-based on the global first date
        offset = (sd.first_date - first_date).days
        active = np.zeros((len(sd.service_id), n_days), bool)
        active[:, offset : offset + sd.active.shape[1]] = sd.active
        cols["service_active"].append(active)
        service_of_row = _shift(_index_in(ef.trips["service_id"], sd.service_id), len(service_ids))
        service_ids.extend(ns + str(sid) for sid in sd.service_id)

        # shapes, sorted by (shape_id, shape_pt_sequence)
        shape_names = _arrow([])
        shapes = ef.shapes
        if len(shapes):
            encoded = _arrow(shapes["shape_id"]).dictionary_encode()
            names = encoded.dictionary
            codes = np.asarray(encoded.indices.to_numpy(), np.int64)
            seq = shapes["shape_pt_sequence"].to_numpy(np.int64)
            order = sort_trip_blocks(codes, sort_rank(names), seq)
            codes = codes[order]
            first = np.flatnonzero(np.diff(codes, prepend=-1))
            shape_names = names.take(codes[first])
            cols["shape_id"].append(_ustr(_prefix(ns, shape_names)))
            cols["shape_ptr"].append(n_shape_points + np.append(first[1:], len(codes)))
            cols["shape_lon"].append(shapes["shape_pt_lon"].to_numpy(np.float64)[order])
            cols["shape_lat"].append(shapes["shape_pt_lat"].to_numpy(np.float64)[order])
            n_shape_points += len(codes)
        shape_of_row = _shift(_index_in(ef.trips["shape_id"], shape_names), shape_base)

        # trips and stop times
        route_of_row = _shift(_index_in(ef.trips["route_id"], routes["route_id"]), route_base)
        trips, trip_of_row = _feed_trips(
            ef, ns, stop_ids, stop_base, route_of_row, service_of_row, shape_of_row, shift_s
        )
        feed_trips.append(trips)

        # transfers between stops
        tr = ef.transfers
        if len(tr):
            a = _index_in(tr["from_stop_id"], stop_ids)
            b = _index_in(tr["to_stop_id"], stop_ids)
            plain = (
                (
                    (tr["from_trip_id"] == "")
                    & (tr["to_trip_id"] == "")
                    & (tr["from_route_id"] == "")
                    & (tr["to_route_id"] == "")
                    & (tr["transfer_type"] <= 3)
                ).to_numpy(bool)
                & (a >= 0)
                & (b >= 0)
            )
            cols["transfer_from_stop"].append(a[plain] + stop_base)
            cols["transfer_to_stop"].append(b[plain] + stop_base)
            cols["transfer_type"].append(tr["transfer_type"].to_numpy(np.int64)[plain])
            cols["transfer_min_s"].append(tr["min_transfer_time"].to_numpy(np.int64)[plain])

        # in-seat continuations: block_id chains and transfer_type 4 (type 5 forbids)
        station = np.where(parent >= 0, parent, np.arange(n_stops))
        pair_from, pair_to = _inseat_pairs(ef, trips, trip_of_row, station, stop_base)
        cols["pair_from"].append(pair_from + trip_base)
        cols["pair_to"].append(pair_to + trip_base)

        stop_base += n_stops
        route_base += len(routes)
        shape_base += len(shape_names)
        trip_base += trips.start.shape[0]

    def cat(name: str, dtype: Any) -> np.ndarray:
        parts = cols[name]
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

    def cat_str(name: str) -> np.ndarray:
        # pieces exactly as wide as their longest string: so is their concatenation
        parts = cols[name]
        return np.concatenate(parts) if parts else np.zeros(0, "<U1")

    parent = cat("stop_parent", np.int64)
    wheelchair = cat("stop_wheelchair", np.int8)
    inherit = (wheelchair == 0) & (parent >= 0)
    wheelchair[inherit] = wheelchair[parent[inherit]]
    n_stops = parent.shape[0]

    # chained (in-seat) trips after the real ones; a real trip is its own single part
    real = _Trips.concat(feed_trips)
    n_real = real.start.shape[0]
    pair_from, pair_to = cat("pair_from", np.int64), cat("pair_to", np.int64)
    if pair_from.shape[0]:
        chain_ptr, chain_trip = inseat_chains(pair_from, pair_to, n_real)
        # a chained trip never serves a station twice: a rider who would pass the same place
        # again boards there later (and a block shuttling all day would double the stop times)
        station = np.where(parent >= 0, parent, np.arange(n_stops)).astype(np.int32)
        run_first, run_end = loop_free_windows(
            chain_ptr, chain_trip, real.start, real.length, station[real.stop], n_stops
        )
        chain_trip = chain_trip[_ranges(run_first, run_end - run_first)]
        chain_ptr = np.concatenate([[0], np.cumsum(run_end - run_first)]).astype(np.int64)
    else:  # no block_id nor in-seat transfer: no kernel to load
        chain_ptr, chain_trip = np.zeros(1, np.int64), np.zeros(0, np.int64)
    chained, chain_part_start, service_ids, service_active = _chain_trips(
        real, chain_ptr, chain_trip, service_ids, np.concatenate(cols["service_active"])
    )
    trips = _Trips.concat([real, chained])
    del real, chained, feed_trips
    n_trips = trips.start.shape[0]
    part_count = np.concatenate([np.ones(n_real, np.int64), np.diff(chain_ptr)])
    part_trip = np.concatenate([np.arange(n_real, dtype=np.int64), chain_trip])
    part_start = np.concatenate([np.zeros(n_real, np.int64), chain_part_start])

    # patterns: trips with the same (stops, board, alight) in order of first appearance of the
    # key, each key's trips split so that no trip overtakes another
    pattern_ptr, pattern_trip = trip_patterns(
        trips.start, trips.length, trips.stop, trips.board, trips.alight, trips.arr, trips.dep
    )
    # patterns sorted by (route, first departure) of their first trip, ties in creation order
    head = pattern_trip[pattern_ptr[:-1]]
    by_route = np.lexsort((trips.dep[trips.start[head]], trips.route[head]))
    head = head[by_route]
    pattern_size = np.diff(pattern_ptr)[by_route]
    order = pattern_trip[_ranges(pattern_ptr[by_route], pattern_size)]  # trips, output order
    n_patterns = head.shape[0]
    new_index = np.empty(n_trips, np.int64)
    new_index[order] = np.arange(n_trips)
    pattern_trip_ptr = np.zeros(n_patterns + 1, np.int64)
    np.cumsum(pattern_size, out=pattern_trip_ptr[1:])
    pattern_len = trips.length[head]
    pattern_stop_ptr = np.zeros(n_patterns + 1, np.int64)
    np.cumsum(pattern_len, out=pattern_stop_ptr[1:])
    trip_parts = part_count[order]
    trip_part_ptr = np.zeros(n_trips + 1, np.int64)
    np.cumsum(trip_parts, out=trip_part_ptr[1:])
    part_rows = _ranges((np.cumsum(part_count) - part_count)[order], trip_parts)
    trip_len = trips.length[order]

    # the big gathers last, each index array dropped once used, then the trips themselves: the
    # build's peak memory is here
    timetable: dict[str, Any] = {
        "trip_id": trips.trip_id[order],
        "trip_route": trips.route[order],
        "trip_service": trips.service[order],
        "trip_headsign": trips.headsign[order],
        "trip_direction": trips.direction[order],
        "trip_wheelchair": trips.wheelchair[order],
        "trip_shape": trips.shape[order],
        "pattern_route": trips.route[head],
    }
    pattern_stop, timetable["pattern_board"], timetable["pattern_alight"] = _take_ranges(
        [trips.stop, trips.board, trips.alight], trips.start[head], pattern_len
    )
    timetable["st_arr_s"], timetable["st_dep_s"] = _take_ranges(
        [trips.arr, trips.dep], trips.start[order], trip_len
    )
    del trips

    # stop -> (pattern, position)
    stop_pattern_ptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(pattern_stop, minlength=n_stops), out=stop_pattern_ptr[1:])
    # numpy sorts 16-bit keys by radix: a few times faster than its stable sort of int32
    by_stop = np.argsort(
        pattern_stop.astype(np.uint16) if n_stops <= 1 << 16 else pattern_stop, kind="stable"
    )
    pattern_of = np.repeat(np.arange(n_patterns, dtype=np.int32), pattern_len)
    timetable["stop_pattern"] = pattern_of[by_stop]
    del pattern_of
    position = np.arange(pattern_stop.shape[0], dtype=np.int64) - np.repeat(
        pattern_stop_ptr[:-1], pattern_len
    )
    timetable["stop_pattern_pos"] = position[by_stop].astype(np.int32)
    del position, by_stop

    return Timetable(
        timezone=timezone,
        first_date=first_date.isoformat(),
        stop_id=cat_str("stop_id"),
        stop_name=cat_str("stop_name"),
        stop_lon=cat("stop_lon", np.float64),
        stop_lat=cat("stop_lat", np.float64),
        transfer_from_stop=cat("transfer_from_stop", np.int32),
        transfer_to_stop=cat("transfer_to_stop", np.int32),
        transfer_type=cat("transfer_type", np.int8),
        transfer_min_s=cat("transfer_min_s", np.int32),
        n_days=int(n_days),
        feed_name=_ustr([feed.name for feed in feeds]),
        stop_code=cat_str("stop_code"),
        stop_parent=parent.astype(np.int32),
        stop_location_type=cat("stop_location_type", np.int8),
        stop_wheelchair=wheelchair,
        stop_feed=cat("stop_feed", np.int16),
        route_id=cat_str("route_id"),
        route_short_name=cat_str("route_short_name"),
        route_long_name=cat_str("route_long_name"),
        route_type=cat("route_type", np.int16),
        route_color=cat_str("route_color"),
        route_agency_name=cat_str("route_agency_name"),
        service_id=_ustr(service_ids),
        service_active=service_active,
        trip_pattern=np.repeat(np.arange(n_patterns, dtype=np.int32), pattern_size),
        trip_chained=trip_parts > 1,
        trip_st_ptr=np.cumsum(trip_len) - trip_len,
        trip_part_ptr=trip_part_ptr,
        part_trip=new_index[part_trip[part_rows]].astype(np.int32),
        part_start=part_start[part_rows].astype(np.int32),
        pattern_stop_ptr=pattern_stop_ptr,
        pattern_stop=pattern_stop,
        pattern_trip_ptr=pattern_trip_ptr,
        stop_pattern_ptr=stop_pattern_ptr,
        inseat_from_trip=new_index[cat("pair_from", np.int64)].astype(np.int32),
        inseat_to_trip=new_index[cat("pair_to", np.int64)].astype(np.int32),
        shape_id=cat_str("shape_id"),
        shape_ptr=np.concatenate([[0], *cols["shape_ptr"]]).astype(np.int64),
        shape_lon=cat("shape_lon", np.float64),
        shape_lat=cat("shape_lat", np.float64),
        **timetable,
    )


def _shift(index: np.ndarray, base: int) -> np.ndarray:
    """Local indices made global (``+ base``), -1 (none) kept."""
    return np.where(index >= 0, index + base, -1)


def _feed_trips(
    feed: GtfsFeed,
    ns: str,
    stop_ids: Any,
    stop_base: int,
    route: np.ndarray,
    service: np.ndarray,
    shape: np.ndarray,
    shift_s: int,
) -> tuple[_Trips, np.ndarray]:
    """The real trips of one feed in trip_id order, and the trip of each trips.txt row.

    A stop time whose trip or stop is unknown is left out; then a trip is left out when it has
    fewer than two stop times, times running backwards (the reader already leaves those out:
    the kernels rely on times never decreasing along a trip), or an unknown route or service.

    Parameters
    ----------
    feed
        The feed (frequencies expanded).
    ns
        Id namespace (``"name:"``).
    stop_ids
        Arrow strings: stop id of each local stop index (stops.txt order).
    stop_base
        Global index of the feed's first stop.
    route, service, shape
        int32: global route, service and shape index of each trips.txt row, -1 when unknown.
    shift_s
        Seconds added to every time (time zone of the timetable).

    Returns
    -------
    trips
        The trips (feed-local rows and trip indices).
    trip_of_row
        int64: trip index of each trips.txt row, -1 when left out.
    """
    import pyarrow as pa

    table, st = feed.trips, feed.stop_times
    trip_ids = _arrow(table["trip_id"])
    # trips.txt row of each stop time: trip ids are unique (the reader quarantines repeats)
    row = _index_in(st["trip_id"], trip_ids)
    stop = _index_in(st["stop_id"], stop_ids)
    keep = np.flatnonzero((row >= 0) & (stop >= 0))
    # sorted by (trip_id, stop_sequence), ties in file order; trips in trip_id order
    seq = st["stop_sequence"].to_numpy()[keep]
    keep = keep[sort_trip_blocks(row[keep], sort_rank(trip_ids), seq)]
    # the kept stop times in that order, as int32 and bool columns (low peak memory)
    row, stop = row[keep], stop[keep]
    arr = st["arrival_s"].to_numpy(np.int32)[keep] + shift_s
    dep = st["departure_s"].to_numpy(np.int32)[keep] + shift_s
    board = st["pickup_type"].to_numpy()[keep] != 1
    alight = st["drop_off_type"].to_numpy()[keep] != 1
    del keep, seq
    first = np.flatnonzero(np.diff(row, prepend=-1))
    length = np.diff(np.append(first, row.shape[0]))
    r = row[first]
    ok = (length >= 2) & _monotone_trips(arr, dep, first) & (route[r] >= 0) & (service[r] >= 0)
    r, first, length = r[ok], first[ok], length[ok]
    stop, arr, dep, board, alight = _take_ranges([stop, arr, dep, board, alight], first, length)
    stop += np.int32(stop_base)
    trip_of_row = np.full(len(table), -1, np.int64)
    trip_of_row[r] = np.arange(r.shape[0])
    trips = _Trips(
        start=np.cumsum(length) - length,
        length=length,
        stop=stop,
        arr=arr,
        dep=dep,
        board=board,
        alight=alight,
        trip_id=_ustr(_prefix(ns, trip_ids.take(pa.array(r)))),
        headsign=_ustr(_arrow(table["trip_headsign"]).take(pa.array(r))),
        route=route[r].astype(np.int32),
        service=service[r].astype(np.int32),
        direction=table["direction_id"].to_numpy(np.int8)[r],
        wheelchair=table["wheelchair_accessible"].to_numpy(np.int8)[r],
        shape=shape[r].astype(np.int32),
    )
    return trips, trip_of_row


def _inseat_pairs(
    feed: GtfsFeed, trips: _Trips, trip_of_row: np.ndarray, station: np.ndarray, stop_base: int
) -> tuple[np.ndarray, np.ndarray]:
    """(trip, next trip) pairs a rider may stay seated on, for one feed (its trip indices).

    First the transfer_type 4 rows (file order; the first one of a trip wins), then the
    consecutive trips of each (block_id, service_id) group that meet at one station (the same
    stop, or stops of one parent station) without going back in time: groups in order of first
    appearance in trips.txt, trips by first departure (ties: file order), and no block pair
    for a trip that has a transfer_type 4 one. Pairs of a transfer_type 5 row are left out.

    Parameters
    ----------
    feed
        The feed.
    trips
        Its real trips (feed-local rows and trip indices, global stop indices).
    trip_of_row
        int64: trip index of each trips.txt row, -1 when left out.
    station
        int64: local stop index of the parent station of each local stop, itself when none.
    stop_base
        Global index of the feed's first stop.

    Returns
    -------
    pair_from, pair_to
        int64 trip indices.
    """
    table = feed.trips
    trip_ids = _arrow(table["trip_id"])
    trip_of = np.append(trip_of_row, -1)  # trip_of[-1]: a trip id not in trips.txt
    type4: dict[int, int] = {}
    forbidden: set[tuple[int, int]] = set()
    tr = feed.transfers
    if len(tr):
        rows = tr[(tr["from_trip_id"] != "") & (tr["to_trip_id"] != "")]
        from_trip = trip_of[_index_in(rows["from_trip_id"], trip_ids)].tolist()
        to_trip = trip_of[_index_in(rows["to_trip_id"], trip_ids)].tolist()
        kinds = rows["transfer_type"].tolist()
        for a, b, kind in zip(from_trip, to_trip, kinds, strict=True):
            if a < 0 or b < 0 or a == b:
                continue
            if kind == 4:
                type4.setdefault(a, b)
            elif kind == 5:
                forbidden.add((a, b))
    first = [(a, b) for a, b in type4.items() if (a, b) not in forbidden]
    pair_from = np.array([a for a, _ in first], np.int64)
    pair_to = np.array([b for _, b in first], np.int64)

    in_block = np.flatnonzero((table["block_id"] != "").to_numpy(bool))
    if not in_block.size:
        return pair_from, pair_to
    # group of each block row: the position of its group's first row (so groups sort in order
    # of first appearance), over every block row, even of trips left out
    block = _arrow(table["block_id"]).take(in_block)
    service = _arrow(table["service_id"]).take(in_block)
    key = _index_in(block, block).astype(np.int64) * in_block.shape[0] + _index_in(service, service)
    _, group_first, group_of = np.unique(key, return_index=True, return_inverse=True)
    group = group_first[group_of]
    trip = trip_of_row[in_block]
    trip, group = trip[trip >= 0], group[trip >= 0]
    order = np.lexsort((trips.dep[trips.start[trip]], group))  # stable: ties in file order
    trip, group = trip[order], group[order]
    same = np.flatnonzero(group[1:] == group[:-1])
    a, b = trip[same], trip[same + 1]
    a_last = trips.start[a] + trips.length[a] - 1
    b_first = trips.start[b]
    ok = (trips.dep[b_first] >= trips.arr[a_last]) & (
        station[trips.stop[a_last] - stop_base] == station[trips.stop[b_first] - stop_base]
    )
    if type4 or forbidden:
        # trip ids are unique, so a trip follows at most one other in its block: only the
        # transfer rows can have given it a pair already
        ok &= np.array(
            [
                x not in type4 and (x, y) not in forbidden
                for x, y in zip(a.tolist(), b.tolist(), strict=True)
            ],
            bool,
        )
    return np.concatenate([pair_from, a[ok]]), np.concatenate([pair_to, b[ok]])


def _chain_trips(
    real: _Trips,
    chain_ptr: np.ndarray,
    chain_trip: np.ndarray,
    service_ids: list[str],
    service_active: np.ndarray,
) -> tuple[_Trips, np.ndarray, list[str], np.ndarray]:
    """One chained trip per loop-free run of a chain: the stop times of its real trips one after the other.

    The meeting stop stays twice (arrival with one trip, departure with the next), so each
    trip keeps its own pickup/drop-off permission there. A chain of trips of several services
    runs on the days all of them run: a new service ``a&b`` (services sorted), added once.

    Parameters
    ----------
    real
        The real trips.
    chain_ptr, chain_trip
        The runs, as chains (see :func:`arverne.network._compile.loop_free_windows`).
    service_ids, service_active
        The services so far.

    Returns
    -------
    chained
        The chained trips (rows of their own).
    part_start
        int64, per entry of ``chain_trip``: position of the part's first stop in its chain.
    service_ids, service_active
        The services with the new intersections added.
    """
    n_chains = chain_ptr.shape[0] - 1
    size = np.diff(chain_ptr)
    head, tail = chain_trip[chain_ptr[:-1]], chain_trip[chain_ptr[1:] - 1]
    chain_of = np.repeat(np.arange(n_chains), size)
    length = real.length[chain_trip]
    offset = np.cumsum(length) - length  # of each part in the chained trips' rows
    chain_start = offset[chain_ptr[:-1]]
    part_start = offset - chain_start[chain_of]

    service = real.service[chain_trip]
    chain_service = service[chain_ptr[:-1]].astype(np.int32)
    mixed = np.unique(chain_of[service != chain_service[chain_of]])
    service_ids = list(service_ids)
    extra: dict[tuple[int, ...], int] = {}
    rows: list[np.ndarray] = []
    for c in mixed.tolist():
        services = tuple(sorted(set(service[chain_ptr[c] : chain_ptr[c + 1]].tolist())))
        if services not in extra:
            extra[services] = len(service_ids)
            service_ids.append("&".join(service_ids[s] for s in services))
            rows.append(np.logical_and.reduce(service_active[list(services)]))
        chain_service[c] = extra[services]
    if rows:
        service_active = np.concatenate([service_active, np.array(rows, bool)])

    # accessible (1) only when every part is; refused (2) when one part is; else unknown (0)
    wheelchair = real.wheelchair[chain_trip]
    all_yes = np.bincount(chain_of[wheelchair != 1], minlength=n_chains) == 0
    any_no = np.bincount(chain_of[wheelchair == 2], minlength=n_chains) > 0
    stop, arr, dep, board, alight = _take_ranges(
        [real.stop, real.arr, real.dep, real.board, real.alight], real.start[chain_trip], length
    )
    chained = _Trips(
        start=chain_start,
        length=np.diff(np.append(chain_start, int(length.sum()))),
        stop=stop,
        arr=arr,
        dep=dep,
        board=board,
        alight=alight,
        trip_id=_ustr(
            [
                f"{real.trip_id[h]}+{s - 1}"
                for h, s in zip(head.tolist(), size.tolist(), strict=True)
            ]
        ),
        headsign=real.headsign[tail],
        route=real.route[head],
        service=chain_service,
        direction=real.direction[head],
        wheelchair=np.where(all_yes, 1, np.where(any_no, 2, 0)).astype(np.int8),
        shape=np.full(n_chains, -1, np.int32),
    )
    return chained, part_start, service_ids, service_active


def _monotone_trips(arr: np.ndarray, dep: np.ndarray, start: np.ndarray) -> np.ndarray:
    """bool per trip: arrival <= departure at each stop and departure <= next arrival.

    Trip k has the rows ``start[k]`` up to the next trip's start (or the end).
    """
    n = arr.shape[0]
    bad = np.zeros(n, bool)
    bad |= dep < arr
    if n > 1:
        same = np.ones(n - 1, bool)
        same[(start[1:] - 1)[start[1:] - 1 < n - 1]] = False
        bad[1:] |= same & (arr[1:] < dep[:-1])
    if not start.size:
        return np.zeros(0, bool)
    return ~np.logical_or.reduceat(bad, start) if n else np.ones(start.size, bool)
