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
  station, and ``transfer_type`` 4 rows) become extra **chained trips**: one trip that runs the
  whole chain, so staying seated is one ride; the real trips stay as they are. ``trip_part_*``
  tell which real trip serves each stretch of a chained trip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import GtfsError

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
    """int32[c]: real trip a rider may stay seated on into ``inseat_to_trip`` (same day)."""
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


@dataclass
class _RawTrip:
    """One trip before grouping (real or chained); arrays are per stop of the trip."""

    trip_id: str
    route: int
    service: int
    headsign: str
    direction: int
    wheelchair: int
    shape: int
    stops: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    board: np.ndarray
    alight: np.ndarray
    parts: list[tuple[int, int]]  # (raw index of the real trip, start position)


def _utc_offset_s(zone: str, date: dt.date) -> int:
    noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ZoneInfo(zone))
    offset = noon.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _ustr(values: Any) -> np.ndarray:
    """Fixed-width unicode array (never object), at least one character wide."""
    arr = np.asarray(list(values), dtype=str)
    if arr.size == 0:
        return np.zeros(0, "<U1")
    return arr.astype(f"<U{max(1, arr.dtype.itemsize // 4)}")


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
    import pandas as pd  # only the build needs it: loading a network stays light

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

    stop_frames, route_frames, shape_parts = [], [], []
    service_ids: list[str] = []
    service_rows: list[np.ndarray] = []
    raw: list[_RawTrip] = []
    transfers: list[tuple[int, int, int, int]] = []
    inseat_pairs: list[tuple[int, int]] = []
    stop_base = route_base = shape_base = 0
    n_shape_points = 0
    shape_ptr: list[int] = [0]
    shape_ids: list[str] = []

    for feed_idx, (feed, sd) in enumerate(zip(feeds, days, strict=True)):
        name = feed.name
        ns = f"{name}:"
        shift_s = 0
        if feed.timezone and feed.timezone != timezone:
            # Times of a feed in another zone are moved into the first feed's frame (see above).
            ref = sd.first_date
            shift_s = _utc_offset_s(timezone, ref) - _utc_offset_s(feed.timezone, ref)
        ef = feed.expanded()

        # stops
        stops = ef.stops.reset_index(drop=True)
        local_stop = pd.Series(
            np.arange(len(stops), dtype=np.int64), index=stops["stop_id"].to_numpy()
        )
        local_stop = local_stop[~local_stop.index.duplicated()]
        parent = stops["parent_station"].map(local_stop).fillna(-1).to_numpy(np.int64)
        parent = np.where(parent >= 0, parent + stop_base, -1)
        stop_frames.append(
            pd.DataFrame(
                {
                    "stop_id": ns + stops["stop_id"].astype(str),
                    "stop_name": stops["stop_name"].astype(str),
                    "stop_code": stops["stop_code"].astype(str),
                    "stop_lon": stops["stop_lon"].to_numpy(np.float64),
                    "stop_lat": stops["stop_lat"].to_numpy(np.float64),
                    "parent": parent,
                    "location_type": stops["location_type"].to_numpy(np.int8),
                    "wheelchair": stops["wheelchair_boarding"].to_numpy(np.int8),
                    "feed": feed_idx,
                }
            )
        )

        # routes
        routes = ef.routes.reset_index(drop=True)
        agency_names = dict(zip(ef.agency["agency_id"], ef.agency["agency_name"], strict=False))
        default_agency = str(ef.agency["agency_name"].iloc[0]) if len(ef.agency) else ""
        route_frames.append(
            pd.DataFrame(
                {
                    "route_id": ns + routes["route_id"].astype(str),
                    "short": routes["route_short_name"].astype(str),
                    "long": routes["route_long_name"].astype(str),
                    "type": routes["route_type"].to_numpy(np.int16),
                    "color": routes["route_color"].astype(str),
                    "agency": [agency_names.get(a, default_agency) for a in routes["agency_id"]],
                }
            )
        )
        local_route = dict(zip(routes["route_id"], range(len(routes)), strict=False))

        # services, re-based on the global first date
        local_service: dict[str, int] = {}
        offset = (sd.first_date - first_date).days
        for k, sid in enumerate(sd.service_id):
            row = np.zeros(n_days, bool)
            row[offset : offset + sd.active.shape[1]] = sd.active[k]
            local_service[str(sid)] = len(service_ids)
            service_ids.append(ns + str(sid))
            service_rows.append(row)

        # shapes
        local_shape: dict[str, int] = {}
        shapes = ef.shapes
        if len(shapes):
            shapes = shapes.sort_values(["shape_id", "shape_pt_sequence"], kind="stable")
            sid_arr = shapes["shape_id"].to_numpy()
            bounds = np.flatnonzero(sid_arr[1:] != sid_arr[:-1]) + 1
            starts_sh = np.concatenate([[0], bounds])
            ends_sh = np.concatenate([bounds, [len(sid_arr)]])
            for a, b in zip(starts_sh, ends_sh, strict=True):
                local_shape[str(sid_arr[a])] = shape_base + len(local_shape)
                shape_ids.append(ns + str(sid_arr[a]))
                n_shape_points += int(b - a)
                shape_ptr.append(n_shape_points)
            shape_parts.append(shapes[["shape_pt_lon", "shape_pt_lat"]].to_numpy(np.float64))

        # trips and stop times
        trips = ef.trips.reset_index(drop=True)
        st = ef.stop_times
        st = st[_isin(st["trip_id"], trips["trip_id"]) & _isin(st["stop_id"], stops["stop_id"])]
        st = st.sort_values(["trip_id", "stop_sequence"], kind="stable")
        # factorize (hashing in Arrow) instead of turning ~10^5 strings into Python objects:
        # rows are sorted by trip id, so a code change is a trip id change
        trip_codes, trip_uniques = pd.factorize(st["trip_id"])
        trip_names = [str(t) for t in trip_uniques.tolist()]
        stop_codes, stop_uniques = pd.factorize(st["stop_id"])
        stop_local = local_stop.reindex(np.asarray(stop_uniques, dtype=object)).to_numpy(np.int64)
        stop_idx = (stop_local[stop_codes] + stop_base).astype(np.int32)  # one cast, not per trip
        arr_s = st["arrival_s"].to_numpy(np.int64) + shift_s
        dep_s = st["departure_s"].to_numpy(np.int64) + shift_s
        board = st["pickup_type"].to_numpy() != 1
        alight = st["drop_off_type"].to_numpy() != 1
        if len(trip_codes):
            bounds = np.flatnonzero(trip_codes[1:] != trip_codes[:-1]) + 1
            t_start = np.concatenate([[0], bounds])
            t_end = np.concatenate([bounds, [len(trip_codes)]])
        else:
            t_start = t_end = np.zeros(0, np.int64)
        trip_row = dict(zip(trips["trip_id"].tolist(), range(len(trips)), strict=False))
        raw_of_trip: dict[str, int] = {}
        # plain Python lists: the loop below indexes them once per trip, which is much
        # cheaper on lists than on numpy arrays
        tr_route = trips["route_id"].tolist()
        tr_service = trips["service_id"].tolist()
        tr_head = trips["trip_headsign"].tolist()
        tr_dir = trips["direction_id"].tolist()
        tr_wc = trips["wheelchair_accessible"].tolist()
        tr_shape = trips["shape_id"].tolist()
        first_code = trip_codes[t_start].tolist()
        order_ok = _monotone_trips(arr_s, dep_s, t_start, t_end).tolist()
        for a, b, ok, code in zip(
            t_start.tolist(), t_end.tolist(), order_ok, first_code, strict=True
        ):
            if b - a < 2 or not ok:
                # the reader already leaves out trips running backwards in time: the kernels
                # rely on times never decreasing along a trip
                continue
            tid = trip_names[code]
            row = trip_row[tid]
            route = local_route.get(tr_route[row])
            service = local_service.get(str(tr_service[row]))
            if route is None or service is None:
                continue
            raw_of_trip[tid] = len(raw)
            raw.append(
                _RawTrip(
                    trip_id=ns + str(tid),
                    route=route + route_base,
                    service=service,
                    headsign=str(tr_head[row]),
                    direction=int(tr_dir[row]),
                    wheelchair=int(tr_wc[row]),
                    shape=local_shape.get(str(tr_shape[row]), -1),
                    stops=stop_idx[a:b],
                    arr=arr_s[a:b],
                    dep=dep_s[a:b],
                    board=board[a:b],
                    alight=alight[a:b],
                    parts=[(len(raw), 0)],
                )
            )

        # transfers
        tr = ef.transfers
        if len(tr):
            plain = (
                (tr["from_trip_id"] == "")
                & (tr["to_trip_id"] == "")
                & (tr["from_route_id"] == "")
                & (tr["to_route_id"] == "")
                & tr["from_stop_id"].isin(local_stop.index)
                & tr["to_stop_id"].isin(local_stop.index)
                & (tr["transfer_type"] <= 3)
            )
            rows = tr[plain]
            for a_id, b_id, kind, min_s in zip(
                rows["from_stop_id"],
                rows["to_stop_id"],
                rows["transfer_type"],
                rows["min_transfer_time"],
                strict=True,
            ):
                transfers.append(
                    (
                        int(local_stop[a_id]) + stop_base,
                        int(local_stop[b_id]) + stop_base,
                        int(kind),
                        int(min_s),
                    )
                )
        # in-seat continuations: block_id chains and transfer_type 4 (type 5 forbids)
        stop_parent_all = parent
        pairs = _inseat_pairs(ef, raw, raw_of_trip, stop_parent_all, stop_base)
        inseat_pairs.extend(pairs)

        stop_base += len(stops)
        route_base += len(routes)
        shape_base += len(local_shape)

    stops_df = pd.concat(stop_frames, ignore_index=True)
    routes_df = pd.concat(route_frames, ignore_index=True)
    parent = stops_df["parent"].to_numpy(np.int64)
    wheelchair = stops_df["wheelchair"].to_numpy(np.int8).copy()
    inherit = (wheelchair == 0) & (parent >= 0)
    wheelchair[inherit] = wheelchair[parent[inherit]]

    # chained (in-seat) trips
    service_active = np.array(service_rows, bool).reshape(len(service_rows), n_days)
    chained, service_ids, service_active = _chain_trips(
        raw, inseat_pairs, service_ids, service_active
    )
    all_trips = raw + chained

    # patterns: same stops and permissions, split so that no trip overtakes another
    groups: dict[bytes, list[int]] = {}
    for k, trip in enumerate(all_trips):
        key = trip.stops.tobytes() + trip.board.tobytes() + trip.alight.tobytes()
        groups.setdefault(key, []).append(k)
    patterns: list[list[int]] = []
    for members in groups.values():
        patterns.extend(_fifo_split(all_trips, members))
    patterns.sort(key=lambda m: (all_trips[m[0]].route, int(all_trips[m[0]].dep[0])))

    order = [k for members in patterns for k in members]
    new_index = np.empty(len(all_trips), np.int64)
    new_index[np.array(order, np.int64)] = np.arange(len(order))

    n_trips = len(order)
    pattern_stop_ptr = np.zeros(len(patterns) + 1, np.int64)
    pattern_trip_ptr = np.zeros(len(patterns) + 1, np.int64)
    trip_st_ptr = np.zeros(n_trips, np.int64)
    trip_pattern = np.zeros(n_trips, np.int32)
    p_stops, p_board, p_alight, st_arr, st_dep = [], [], [], [], []
    pos = 0
    for p, members in enumerate(patterns):
        first = all_trips[members[0]]
        n = len(first.stops)
        pattern_stop_ptr[p + 1] = pattern_stop_ptr[p] + n
        pattern_trip_ptr[p + 1] = pattern_trip_ptr[p] + len(members)
        p_stops.append(first.stops)
        p_board.append(first.board)
        p_alight.append(first.alight)
        for k in members:
            t = int(new_index[k])
            trip_st_ptr[t] = pos
            trip_pattern[t] = p
            st_arr.append(all_trips[k].arr)
            st_dep.append(all_trips[k].dep)
            pos += n

    def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    pattern_stop = cat(p_stops, np.int32)
    n_stops = len(stops_df)
    # stop -> (pattern, position)
    pos_pattern = np.repeat(np.arange(len(patterns), dtype=np.int32), np.diff(pattern_stop_ptr))
    pos_in = np.arange(pattern_stop.shape[0], dtype=np.int64) - np.repeat(
        pattern_stop_ptr[:-1], np.diff(pattern_stop_ptr)
    )
    by_stop = np.argsort(pattern_stop, kind="stable")
    stop_pattern_ptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(pattern_stop, minlength=n_stops), out=stop_pattern_ptr[1:])

    ordered = [all_trips[k] for k in order]
    part_ptr = np.zeros(n_trips + 1, np.int64)
    part_trip: list[int] = []
    part_start: list[int] = []
    for t, trip in enumerate(ordered):
        for raw_k, start in trip.parts:
            part_trip.append(int(new_index[raw_k]))
            part_start.append(start)
        part_ptr[t + 1] = len(part_trip)

    shape_xy = np.concatenate(shape_parts) if shape_parts else np.zeros((0, 2))
    tr_arr = np.array(transfers, np.int64).reshape(-1, 4)

    return Timetable(
        timezone=timezone,
        first_date=first_date.isoformat(),
        stop_id=_ustr(stops_df["stop_id"]),
        stop_name=_ustr(stops_df["stop_name"]),
        stop_lon=stops_df["stop_lon"].to_numpy(np.float64),
        stop_lat=stops_df["stop_lat"].to_numpy(np.float64),
        transfer_from_stop=tr_arr[:, 0].astype(np.int32),
        transfer_to_stop=tr_arr[:, 1].astype(np.int32),
        transfer_type=tr_arr[:, 2].astype(np.int8),
        transfer_min_s=tr_arr[:, 3].astype(np.int32),
        n_days=int(n_days),
        feed_name=_ustr(feed.name for feed in feeds),
        stop_code=_ustr(stops_df["stop_code"]),
        stop_parent=parent.astype(np.int32),
        stop_location_type=stops_df["location_type"].to_numpy(np.int8),
        stop_wheelchair=wheelchair,
        stop_feed=stops_df["feed"].to_numpy(np.int16),
        route_id=_ustr(routes_df["route_id"]),
        route_short_name=_ustr(routes_df["short"]),
        route_long_name=_ustr(routes_df["long"]),
        route_type=routes_df["type"].to_numpy(np.int16),
        route_color=_ustr(routes_df["color"]),
        route_agency_name=_ustr(routes_df["agency"]),
        service_id=_ustr(service_ids),
        service_active=service_active,
        trip_id=_ustr(t.trip_id for t in ordered),
        trip_route=np.array([t.route for t in ordered], np.int32),
        trip_pattern=trip_pattern,
        trip_service=np.array([t.service for t in ordered], np.int32),
        trip_headsign=_ustr(t.headsign for t in ordered),
        trip_direction=np.array([t.direction for t in ordered], np.int8),
        trip_wheelchair=np.array([t.wheelchair for t in ordered], np.int8),
        trip_shape=np.array([t.shape for t in ordered], np.int32),
        trip_chained=np.array([len(t.parts) > 1 for t in ordered], bool),
        trip_st_ptr=trip_st_ptr,
        trip_part_ptr=part_ptr,
        part_trip=np.array(part_trip, np.int32),
        part_start=np.array(part_start, np.int32),
        st_arr_s=cat(st_arr, np.int32),
        st_dep_s=cat(st_dep, np.int32),
        pattern_stop_ptr=pattern_stop_ptr,
        pattern_stop=pattern_stop,
        pattern_board=cat(p_board, bool),
        pattern_alight=cat(p_alight, bool),
        pattern_trip_ptr=pattern_trip_ptr,
        pattern_route=np.array([all_trips[m[0]].route for m in patterns], np.int32),
        stop_pattern_ptr=stop_pattern_ptr,
        stop_pattern=pos_pattern[by_stop].astype(np.int32),
        stop_pattern_pos=pos_in[by_stop].astype(np.int32),
        inseat_from_trip=np.array([new_index[a] for a, _ in inseat_pairs], np.int32),
        inseat_to_trip=np.array([new_index[b] for _, b in inseat_pairs], np.int32),
        shape_id=_ustr(shape_ids),
        shape_ptr=np.array(shape_ptr, np.int64),
        shape_lon=np.ascontiguousarray(shape_xy[:, 0]),
        shape_lat=np.ascontiguousarray(shape_xy[:, 1]),
    )


def _isin(values: Any, allowed: Any) -> np.ndarray:
    """bool per value of the Series ``values``: it is one of ``allowed`` (like ``Series.isin``).

    pandas' ``isin`` on Arrow-backed strings loops in Python; pyarrow's hash lookup gives the
    same answer far faster. Nulls or non-string columns take the pandas path.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(values)
        ref = pa.array(allowed)
    except (pa.ArrowException, TypeError, ValueError):
        return np.asarray(values.isin(allowed), bool)

    def textual(a: Any) -> bool:
        return bool(pa.types.is_string(a.type) or pa.types.is_large_string(a.type))

    if arr.null_count or ref.null_count or not textual(arr) or not textual(ref):
        return np.asarray(values.isin(allowed), bool)
    if ref.type != arr.type:
        ref = ref.cast(arr.type)
    return np.asarray(pc.is_in(arr, value_set=ref).to_numpy(zero_copy_only=False), bool)


def _fifo_split(trips: list[_RawTrip], members: list[int]) -> list[list[int]]:
    """Sort trips by departure and split them into groups where no trip overtakes another."""
    n = trips[members[0]].stops.shape[0]
    # one row per trip: departures then arrivals (np.stack is much cheaper than a concatenate
    # per trip, which dominated the build on large feeds)
    times = np.empty((len(members), 2 * n), np.int64)
    times[:, :n] = np.stack([trips[k].dep for k in members])
    times[:, n:] = np.stack([trips[k].arr for k in members])
    # sort by first departure, then by every other time (lexsort: last key is primary), i.e.
    # rows in lexicographic order, ties in member order (lexsort is stable). When the first
    # departures are all distinct they alone decide, and one stable argsort gives the same
    # order as the lexsort over all 2n columns, which is costly for long patterns.
    order = np.argsort(times[:, 0], kind="stable")
    first_dep = times[order, 0]
    if np.any(first_dep[1:] == first_dep[:-1]):
        order = np.lexsort(np.vstack([times[:, ::-1].T, times[:, :1].T]))
    ordered = times[order]
    if len(members) == 1 or bool((ordered[1:] >= ordered[:-1]).all()):
        # the usual case: sorted rows never overtake, so the greedy split below would put
        # every trip in the first group; skip its per-trip loop
        return [[members[o] for o in order.tolist()]]
    groups: list[list[int]] = []
    last = np.empty_like(ordered)  # last row of each group, groups in creation order
    for o, row in zip(order.tolist(), ordered, strict=True):
        # first group whose last trip this one does not overtake (same greedy rule as before)
        fits = np.flatnonzero((row >= last[: len(groups)]).all(axis=1))
        if fits.size:
            g = int(fits[0])
            groups[g].append(members[o])
            last[g] = row
        else:
            last[len(groups)] = row
            groups.append([members[o]])
    return groups


def _inseat_pairs(
    feed: Any,
    raw: list[_RawTrip],
    raw_of_trip: dict[str, int],
    parent: np.ndarray,
    stop_base: int,
) -> list[tuple[int, int]]:
    """(raw trip, next raw trip) pairs a rider may stay seated on, for one feed."""

    def station(stop: int) -> int:
        p = int(parent[stop - stop_base])
        return p if p >= 0 else stop - stop_base

    pairs: dict[int, int] = {}
    forbidden: set[tuple[int, int]] = set()
    tr = feed.transfers
    if len(tr):
        rows = tr[(tr["from_trip_id"] != "") & (tr["to_trip_id"] != "")]
        for row in rows.itertuples(index=False):
            a = raw_of_trip.get(row.from_trip_id)
            b = raw_of_trip.get(row.to_trip_id)
            if a is None or b is None or a == b:
                continue
            if int(row.transfer_type) == 4:
                pairs.setdefault(a, b)
            elif int(row.transfer_type) == 5:
                forbidden.add((a, b))
    trips = feed.trips
    blocks = trips[trips["block_id"] != ""]
    if len(blocks):
        # consecutive trips of each (block, service) group, groups in order of first appearance
        # and trips by first departure (ties: file order), as a plain per-group loop would; the
        # grouping is vectorised because a groupby loop cost more than the whole compile
        group = blocks.groupby(["block_id", "service_id"], sort=False).ngroup()
        group = group.fillna(-1).to_numpy(np.int64)
        raw_k = np.array([raw_of_trip.get(t, -1) for t in blocks["trip_id"].tolist()], np.int64)
        keep = (raw_k >= 0) & (group >= 0)
        raw_k, group = raw_k[keep], group[keep]
        dep0 = np.array([int(raw[k].dep[0]) for k in raw_k.tolist()], np.int64)
        order = np.lexsort((np.arange(raw_k.size), dep0, group))
        raw_k, group = raw_k[order], group[order]
        same = np.flatnonzero(group[1:] == group[:-1])
        for a, b in zip(raw_k[same].tolist(), raw_k[same + 1].tolist(), strict=True):
            ta, tb = raw[a], raw[b]
            if tb.dep[0] < ta.arr[-1] or (a, b) in forbidden or a in pairs:
                continue
            if station(int(ta.stops[-1])) == station(int(tb.stops[0])):
                pairs[a] = b
    return [(a, b) for a, b in pairs.items() if (a, b) not in forbidden]


def _chain_trips(
    raw: list[_RawTrip],
    pairs: list[tuple[int, int]],
    service_ids: list[str],
    service_active: np.ndarray,
) -> tuple[list[_RawTrip], list[str], np.ndarray]:
    """One chained trip per maximal in-seat chain (two real trips or more)."""
    nxt: dict[int, int] = {}
    has_prev: set[int] = set()
    for a, b in pairs:
        if a not in nxt and b not in has_prev:
            nxt[a] = b
            has_prev.add(b)
    chained: list[_RawTrip] = []
    extra_ids: dict[tuple[int, ...], int] = {}
    rows = list(service_active)
    ids = list(service_ids)
    for start in nxt:
        if start in has_prev:
            continue
        chain = [start]
        seen = {start}  # a set, as the membership test on the list was quadratic in length
        while chain[-1] in nxt and nxt[chain[-1]] not in seen:
            chain.append(nxt[chain[-1]])
            seen.add(chain[-1])
        services = tuple(sorted({raw[k].service for k in chain}))
        if len(services) == 1:
            service = services[0]
        else:
            if services not in extra_ids:
                active = np.logical_and.reduce([service_active[s] for s in services])
                extra_ids[services] = len(ids)
                ids.append("&".join(service_ids[s] for s in services))
                rows.append(active)
            service = extra_ids[services]
        first = raw[chain[0]]
        stops, arr, dep, board, alight = (
            [first.stops],
            [first.arr],
            [first.dep],
            [first.board],
            [first.alight],
        )
        parts = [(chain[0], 0)]
        length = len(first.stops)
        for k in chain[1:]:
            trip = raw[k]
            # the meeting stop stays twice (arrival with one trip, departure with the next), so
            # each trip keeps its own pickup/drop-off permission there
            parts.append((k, length))
            stops.append(trip.stops)
            arr.append(trip.arr)
            dep.append(trip.dep)
            board.append(trip.board)
            alight.append(trip.alight)
            length += len(trip.stops)
        chained.append(
            _RawTrip(
                trip_id=f"{first.trip_id}+{len(chain) - 1}",
                route=first.route,
                service=service,
                headsign=raw[chain[-1]].headsign,
                direction=first.direction,
                wheelchair=_chain_wheelchair([raw[k].wheelchair for k in chain]),
                shape=-1,
                stops=np.concatenate(stops),
                arr=np.concatenate(arr),
                dep=np.concatenate(dep),
                board=np.concatenate(board),
                alight=np.concatenate(alight),
                parts=parts,
            )
        )
    active = np.array(rows, bool).reshape(len(rows), service_active.shape[1])
    return chained, ids, active


def _chain_wheelchair(values: list[int]) -> int:
    """Accessible (1) only when every part is; refused (2) when one part is; else unknown."""
    if all(v == 1 for v in values):
        return 1
    return 2 if any(v == 2 for v in values) else 0


def _monotone_trips(
    arr: np.ndarray, dep: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """bool per trip: arrival <= departure at each stop and departure <= next arrival."""
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
