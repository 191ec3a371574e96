"""Real feeds for the planner's tests and benchmark: the reference network from the raw tables.

The reference trips come straight from :func:`arverne.feeds.gtfs.read_gtfs` tables (frequencies
expanded), not from the compiled timetable, so the compile is checked too. Footpaths and
same-stop change times are data the planner derives from transfers.txt and the street links;
the reference takes them as given.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from arverne.routing.planner import Planner, PlanOptions
from tests.routing.reference import RefNetwork, RefTrip


def reference_network(
    feeds: Sequence[Any], planner: Planner, options: PlanOptions | None = None
) -> RefNetwork:
    """The feeds as a :class:`RefNetwork` whose stop numbers are the timetable's stop indices."""
    options = options or PlanOptions()
    tt = planner.tt
    stop_of = {str(s): i for i, s in enumerate(tt.stop_id)}
    parent = np.asarray(tt.stop_parent)
    trips: list[RefTrip] = []
    inseat: dict[int, int] = {}
    for feed in feeds:
        ef = feed.expanded()
        sd = feed.service_days()
        dates_of = {
            str(sid): {
                sd.first_date + dt.timedelta(days=int(d)) for d in np.flatnonzero(sd.active[k])
            }
            for k, sid in enumerate(sd.service_id)
        }
        route_type = dict(zip(ef.routes["route_id"], ef.routes["route_type"], strict=True))
        info = ef.trips.set_index("trip_id")
        st = ef.stop_times.sort_values(["trip_id", "stop_sequence"], kind="stable")
        index_of: dict[str, int] = {}
        first_dep: dict[int, int] = {}
        for trip_id, rows in st.groupby("trip_id", sort=False):
            if len(rows) < 2 or trip_id not in info.index:
                continue
            row = info.loc[trip_id]
            stops = [stop_of[f"{feed.name}:{s}"] for s in rows["stop_id"]]
            index_of[str(trip_id)] = len(trips)
            trip = RefTrip(
                stops=stops,
                arr=rows["arrival_s"].astype(int).tolist(),
                dep=rows["departure_s"].astype(int).tolist(),
                board=(rows["pickup_type"] != 1).tolist(),
                alight=(rows["drop_off_type"] != 1).tolist(),
                dates=dates_of.get(str(row["service_id"]), set()),
            )
            trip.route_type = int(route_type[row["route_id"]])  # type: ignore[attr-defined]
            trip.wheelchair = int(row["wheelchair_accessible"])  # type: ignore[attr-defined]
            first_dep[len(trips)] = trip.dep[0]
            trips.append(trip)
        # in-seat: consecutive trips of a block (same service) meeting at one stop or station
        blocks = ef.trips[ef.trips["block_id"] != ""]
        for _key, group in blocks.groupby(["block_id", "service_id"], sort=False):
            members = [index_of[t] for t in group["trip_id"] if t in index_of]
            members.sort(key=lambda k: first_dep[k])
            for a, b in itertools.pairwise(members):
                ta, tb = trips[a], trips[b]

                def station(s: int) -> int:
                    return int(parent[s]) if parent[s] >= 0 else s

                if tb.dep[0] >= ta.arr[-1] and station(ta.stops[-1]) == station(tb.stops[0]):
                    inseat[a] = b
        tr = ef.transfers
        for row in tr[(tr["transfer_type"] == 4) & (tr["from_trip_id"] != "")].itertuples():
            a, b = index_of.get(row.from_trip_id), index_of.get(row.to_trip_id)
            if a is not None and b is not None:
                inseat.setdefault(a, b)
    fptr, fto, ftime = planner.search.footpaths(options.walk_speed_mps)
    footpaths = {
        s: list(
            zip(
                fto[fptr[s] : fptr[s + 1]].tolist(),
                ftime[fptr[s] : fptr[s + 1]].tolist(),
                strict=True,
            )
        )
        for s in range(tt.n_stops)
        if fptr[s + 1] > fptr[s]
    }
    change = {s: int(c) for s, c in enumerate(planner.search.stop_change_s.tolist()) if c != 0}
    station = {s: int(p) for s, p in enumerate(parent.tolist()) if p >= 0}
    return RefNetwork(tt.timezone, trips, footpaths, change, inseat, station=station)


def restrict(net: RefNetwork, t_lo: int, t_hi: int) -> RefNetwork:
    """A copy keeping only trips with a run inside [t_lo, t_hi] (a faster reference, same answers
    for queries inside that span whose journeys end inside it)."""
    keep = []
    remap: dict[int, int] = {}
    for k, trip in enumerate(net.trips):
        for date in trip.dates:
            base = net.day_start(date)
            if trip.arr[-1] + base >= t_lo and trip.dep[0] + base <= t_hi:
                remap[k] = len(keep)
                keep.append(trip)
                break
    inseat = {remap[a]: remap[b] for a, b in net.inseat.items() if a in remap and b in remap}
    return RefNetwork(
        net.timezone, keep, net.footpaths, net.change_s, inseat, net.stop_ok, net.station
    )
