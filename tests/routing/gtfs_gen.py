"""Small GTFS feeds for the planner tests: inline text written to a folder, and random feeds.

A random feed is drawn as plain Python data (:class:`GenFeed`), written as real GTFS text (so it
goes through :func:`arverne.feeds.gtfs.read_gtfs` and the compile), and turned into a
:class:`tests.routing.reference.RefNetwork` for the reference router straight from that data.
"""

from __future__ import annotations

import datetime as dt
import itertools
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from tests.routing.reference import RefNetwork, RefTrip

D0 = dt.date(2024, 3, 4)
"""First calendar day of generated feeds (a Monday)."""
N_DAYS = 4


def write_feed(folder: Path, files: dict[str, str]) -> Path:
    """Write GTFS text files (dedented, stripped) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


def hms(seconds: int) -> str:
    """GTFS time text (hours may exceed 24)."""
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass
class GenTrip:
    route: int
    service: int
    stops: list[int]
    arr: list[int]
    dep: list[int]
    pickup: list[int]
    dropoff: list[int]
    wheelchair: int
    block: str
    seq: list[int] | None = None
    """stop_sequence values (None: 1, 2, 3...)."""


@dataclass
class GenFeed:
    n_stops: int
    stop_wheelchair: list[int]
    route_types: list[int]
    trips: list[GenTrip]
    active: list[list[bool]]
    """active[service][day] over N_DAYS days from D0."""
    transfers: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(from, to, type, min seconds or -1)."""

    def files(self) -> dict[str, str]:
        """The feed as GTFS text files."""
        stops = ["stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding"]
        stops += [f"s{i},Stop {i},45.0,3.0,{w}" for i, w in enumerate(self.stop_wheelchair)]
        routes = ["route_id,agency_id,route_short_name,route_type"]
        routes += [f"r{i},a,R{i},{t}" for i, t in enumerate(self.route_types)]
        trips = ["route_id,service_id,trip_id,block_id,wheelchair_accessible"]
        times = [
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type"
        ]
        for k, t in enumerate(self.trips):
            trips.append(f"r{t.route},v{t.service},t{k},{t.block},{t.wheelchair}")
            for j, s in enumerate(t.stops):
                seq = t.seq[j] if t.seq else j + 1
                times.append(
                    f"t{k},{hms(t.arr[j])},{hms(t.dep[j])},s{s},{seq},{t.pickup[j]},{t.dropoff[j]}"
                )
        end = D0 + dt.timedelta(days=N_DAYS - 1)
        calendar = [
            "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date"
        ]
        dates = ["service_id,date,exception_type"]
        for v, row in enumerate(self.active):
            calendar.append(f"v{v},1,1,1,1,1,1,1,{D0:%Y%m%d},{end:%Y%m%d}")
            for d, on in enumerate(row):
                if not on:
                    dates.append(f"v{v},{D0 + dt.timedelta(days=d):%Y%m%d},2")
        transfers = ["from_stop_id,to_stop_id,transfer_type,min_transfer_time"]
        for a, b, kind, m in self.transfers:
            transfers.append(f"s{a},s{b},{kind},{'' if m < 0 else m}")
        return {
            "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,UTC",
            "stops.txt": "\n".join(stops),
            "routes.txt": "\n".join(routes),
            "trips.txt": "\n".join(trips),
            "stop_times.txt": "\n".join(times),
            "calendar.txt": "\n".join(calendar),
            "calendar_dates.txt": "\n".join(dates),
            "transfers.txt": "\n".join(transfers),
        }

    def reference(
        self, *, wheelchair: bool = False, route_types: tuple[int, ...] | None = None
    ) -> RefNetwork:
        """The same network for the reference router (stop ``i`` is stop index ``i``)."""
        trips = []
        for t in self.trips:
            dates = {D0 + dt.timedelta(days=d) for d in range(N_DAYS) if self.active[t.service][d]}
            ok = (not wheelchair or t.wheelchair == 1) and (
                route_types is None or self.route_types[t.route] in route_types
            )
            trips.append(
                RefTrip(
                    stops=list(t.stops),
                    arr=list(t.arr),
                    dep=list(t.dep),
                    board=[p != 1 for p in t.pickup],
                    alight=[p != 1 for p in t.dropoff],
                    dates=dates,
                    ok=ok,
                )
            )
        footpaths: dict[int, list[tuple[int, int]]] = {}
        change: dict[int, int] = {}
        for a, b, kind, m in self.transfers:
            if a == b:
                if kind == 3:
                    change[a] = -1
                elif m > 0 or (kind == 2 and m == 0):
                    change[a] = m  # a row's time, even 0, overrides the query's minimum
            elif kind != 3:
                footpaths.setdefault(a, []).append((b, max(m, 0)))
        inseat: dict[int, int] = {}
        blocks: dict[tuple[str, int], list[int]] = {}
        for k, t in enumerate(self.trips):
            if t.block:
                blocks.setdefault((t.block, t.service), []).append(k)
        for members in blocks.values():
            members.sort(key=lambda k: self.trips[k].dep[0])
            for a, b in itertools.pairwise(members):
                ta, tb = self.trips[a], self.trips[b]
                if tb.dep[0] >= ta.arr[-1] and ta.stops[-1] == tb.stops[0]:
                    inseat[a] = b
        stop_ok = None
        if wheelchair:
            stop_ok = {i for i, w in enumerate(self.stop_wheelchair) if w == 1}
        return RefNetwork("UTC", trips, footpaths, change, inseat, stop_ok)


@st.composite
def gen_feeds(
    draw: st.DrawFn, max_trips: int = 4, first_s: int = 0, span_s: int = 30 * 3600
) -> GenFeed:
    """A random small feed: a few routes, trips past midnight, exceptions, transfers, blocks.

    Each route has 1 to ``max_trips`` trips, leaving between ``first_s`` and
    ``first_s + span_s`` after the service day's start (many trips in a short span: a dense
    feed, where changes matter)."""
    n_stops = draw(st.integers(3, 7))
    n_routes = draw(st.integers(1, 4))
    n_services = 2
    active = [[draw(st.booleans()) or d == 1 for d in range(N_DAYS)] for _ in range(n_services)]
    trips: list[GenTrip] = []
    route_types = []
    for r in range(n_routes):
        length = draw(st.integers(2, 5))
        stops = [draw(st.integers(0, n_stops - 1))]
        while len(stops) < length:
            s = draw(st.integers(0, n_stops - 1))
            if s != stops[-1]:
                stops.append(s)
        route_types.append(draw(st.sampled_from([0, 3])))
        for _ in range(draw(st.integers(1, max_trips))):
            t = draw(st.integers(first_s, first_s + span_s))
            arr, dep = [], []
            for j in range(length):
                if j:
                    t += draw(st.integers(0, 1200))
                arr.append(t)
                t += draw(st.sampled_from([0, 0, 30, 120]))
                dep.append(t)
            pickup = [draw(st.sampled_from([0, 0, 0, 1])) for _ in range(length)]
            dropoff = [draw(st.sampled_from([0, 0, 0, 1])) for _ in range(length)]
            trips.append(
                GenTrip(
                    route=r,
                    service=draw(st.integers(0, n_services - 1)),
                    stops=stops,
                    arr=arr,
                    dep=dep,
                    pickup=pickup,
                    dropoff=dropoff,
                    wheelchair=draw(st.sampled_from([0, 1, 1, 2])),
                    block=draw(st.sampled_from(["", "", "b1", "b2"])),
                )
            )
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_stops - 1), st.integers(0, n_stops - 1)),
            max_size=6,
            unique=True,
        )
    )
    transfers = [
        (a, b, draw(st.sampled_from([0, 2, 2, 3])), draw(st.sampled_from([-1, 0, 60, 300, 600])))
        for a, b in pairs
    ]
    wheelchair = [draw(st.sampled_from([0, 1, 1, 2])) for _ in range(n_stops)]
    return GenFeed(n_stops, wheelchair, route_types, trips, active, transfers)
