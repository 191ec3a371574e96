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
* GTFS ``stop_sequence`` values, which a GTFS-realtime update may name a stop by alone, are
  kept (``seq_*``) only for the real trips not numbered 1, 2, 3... (most feeds number so).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import GtfsError
from arverne.feeds._order import sort_rank, sort_trip_blocks
from arverne.network._trips import (
    Trips,
    arrow,
    chain_trips,
    feed_trips,
    index_in,
    inseat_pairs,
    prefix,
    ranges,
    shift,
    take_ranges,
    ustr,
)

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

    seq_trip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[x]: real trips, ascending, whose GTFS stop_sequence values are not simply their
    pattern position + 1 (every other trip's are: most feeds number 1, 2, 3...)."""
    seq_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    """int64[x + 1]: stop_sequence values of ``seq_trip[i]`` are seq_value[seq_ptr[i]:seq_ptr[i + 1]]."""
    seq_value: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[y]: stop_sequence at each position of those trips (GTFS-realtime updates may name
    a stop by it alone)."""

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
        """Number of stops."""
        return int(self.stop_id.shape[0])

    @property
    def n_routes(self) -> int:
        """Number of routes."""
        return int(self.route_id.shape[0])

    @property
    def n_patterns(self) -> int:
        """Number of patterns (RAPTOR routes)."""
        return int(self.pattern_route.shape[0])

    @property
    def n_trips(self) -> int:
        """Number of trips, chained trips included."""
        return int(self.trip_id.shape[0])

    @property
    def n_stop_times(self) -> int:
        """Number of stop times, those of chained trips included."""
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

    def stop_sequences(self, trip: int) -> np.ndarray:
        """GTFS stop_sequence at each pattern position of a real trip (int32)."""
        p = int(self.trip_pattern[trip])
        n = int(self.pattern_stop_ptr[p + 1] - self.pattern_stop_ptr[p])
        i = int(np.searchsorted(self.seq_trip, trip))
        if i < self.seq_trip.shape[0] and int(self.seq_trip[i]) == trip:
            return np.asarray(self.seq_value[int(self.seq_ptr[i]) : int(self.seq_ptr[i + 1])])
        return np.arange(1, n + 1, dtype=np.int32)

    def with_platforms(self, stop: int) -> list[int]:
        """The stop and the stops whose parent it is (a station's platforms)."""
        return [stop, *np.flatnonzero(np.asarray(self.stop_parent) == stop).tolist()]

    def stop_index(self, stop_id: str) -> int:
        """Stop index of a namespaced stop id; a clear error when unknown."""
        hits = np.flatnonzero(self.stop_id == stop_id)
        if hits.size == 0:
            raise KeyError(f"stop {stop_id!r} is not in this timetable")
        return int(hits[0])


def _utc_offset_s(zone: str, date: dt.date) -> int:
    noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ZoneInfo(zone))
    offset = noon.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _stop_sequences(trips: Trips, order: np.ndarray, chained: np.ndarray) -> dict[str, Any]:
    """``seq_trip``, ``seq_ptr``, ``seq_value``: the stop_sequence values of the real trips
    (output index ``t`` is ``order[t]`` of ``trips``) not numbered 1, 2, 3...
    """
    dtype = np.int32 if trips.seq.shape[0] < 2**31 else np.int64
    position = np.arange(trips.seq.shape[0], dtype=dtype) - np.repeat(
        trips.start.astype(dtype), trips.length
    )
    odd = (
        np.logical_or.reduceat(trips.seq != position + 1, trips.start)
        if trips.seq.shape[0]
        else np.zeros(0, bool)
    )
    del position
    exc = np.flatnonzero(odd[order] & ~chained)
    length = trips.length[order[exc]]
    (value,) = take_ranges([trips.seq], trips.start[order[exc]], length)
    return {
        "seq_trip": exc.astype(np.int32),
        "seq_ptr": np.concatenate([[0], np.cumsum(length)]).astype(np.int64),
        "seq_value": value.astype(np.int32),
    }


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
    trips_of_feeds: list[Trips] = []
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
        stop_ids = arrow(stops["stop_id"])
        n_stops = len(stop_ids)
        parent = index_in(stops["parent_station"], stop_ids)  # local index, -1 when none
        cols["stop_id"].append(ustr(prefix(ns, stop_ids)))
        cols["stop_name"].append(ustr(stops["stop_name"]))
        cols["stop_code"].append(ustr(stops["stop_code"]))
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
        cols["route_id"].append(ustr(prefix(ns, routes["route_id"])))
        cols["route_short_name"].append(ustr(routes["route_short_name"]))
        cols["route_long_name"].append(ustr(routes["route_long_name"]))
        cols["route_type"].append(routes["route_type"].to_numpy(np.int16))
        cols["route_color"].append(ustr(routes["route_color"]))
        cols["route_agency_name"].append(
            ustr([agency_names.get(a, default_agency) for a in routes["agency_id"]])
        )

        # services, re-based on the global first date
        offset = (sd.first_date - first_date).days
        active = np.zeros((len(sd.service_id), n_days), bool)
        active[:, offset : offset + sd.active.shape[1]] = sd.active
        cols["service_active"].append(active)
        service_of_row = shift(index_in(ef.trips["service_id"], sd.service_id), len(service_ids))
        service_ids.extend(ns + str(sid) for sid in sd.service_id)

        # shapes, sorted by (shape_id, shape_pt_sequence)
        shape_names = arrow([])
        shapes = ef.shapes
        if len(shapes):
            encoded = arrow(shapes["shape_id"]).dictionary_encode()
            names = encoded.dictionary
            codes = np.asarray(encoded.indices.to_numpy(), np.int64)
            seq = shapes["shape_pt_sequence"].to_numpy(np.int64)
            order = sort_trip_blocks(codes, sort_rank(names), seq)
            codes = codes[order]
            first = np.flatnonzero(np.diff(codes, prepend=-1))
            shape_names = names.take(codes[first])
            cols["shape_id"].append(ustr(prefix(ns, shape_names)))
            cols["shape_ptr"].append(n_shape_points + np.append(first[1:], len(codes)))
            cols["shape_lon"].append(shapes["shape_pt_lon"].to_numpy(np.float64)[order])
            cols["shape_lat"].append(shapes["shape_pt_lat"].to_numpy(np.float64)[order])
            n_shape_points += len(codes)
        shape_of_row = shift(index_in(ef.trips["shape_id"], shape_names), shape_base)

        # trips and stop times
        route_of_row = shift(index_in(ef.trips["route_id"], routes["route_id"]), route_base)
        trips, trip_of_row = feed_trips(
            ef, ns, stop_ids, stop_base, route_of_row, service_of_row, shape_of_row, shift_s
        )
        trips_of_feeds.append(trips)

        # transfers between stops
        tr = ef.transfers
        if len(tr):
            a = index_in(tr["from_stop_id"], stop_ids)
            b = index_in(tr["to_stop_id"], stop_ids)
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
        pair_from, pair_to = inseat_pairs(ef, trips, trip_of_row, station, stop_base)
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
    real = Trips.concat(trips_of_feeds)
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
        chain_trip = chain_trip[ranges(run_first, run_end - run_first)]
        chain_ptr = np.concatenate([[0], np.cumsum(run_end - run_first)]).astype(np.int64)
    else:  # no block_id nor in-seat transfer: no kernel to load
        chain_ptr, chain_trip = np.zeros(1, np.int64), np.zeros(0, np.int64)
    chained, chain_part_start, service_ids, service_active = chain_trips(
        real, chain_ptr, chain_trip, service_ids, np.concatenate(cols["service_active"])
    )
    trips = Trips.concat([real, chained])
    del real, chained, trips_of_feeds
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
    order = pattern_trip[ranges(pattern_ptr[by_route], pattern_size)]  # trips, output order
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
    part_rows = ranges((np.cumsum(part_count) - part_count)[order], trip_parts)
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
    pattern_stop, timetable["pattern_board"], timetable["pattern_alight"] = take_ranges(
        [trips.stop, trips.board, trips.alight], trips.start[head], pattern_len
    )
    timetable["st_arr_s"], timetable["st_dep_s"] = take_ranges(
        [trips.arr, trips.dep], trips.start[order], trip_len
    )
    timetable.update(_stop_sequences(trips, order, trip_parts > 1))
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
        feed_name=ustr([feed.name for feed in feeds]),
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
        service_id=ustr(service_ids),
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
