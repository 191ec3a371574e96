"""GTFS-Realtime applied to a timetable: a new timetable version, alerts and vehicles matched.

:func:`apply_realtime` matches the records of :func:`arverne.feeds.realtime.read_gtfs_rt`
against a compiled timetable and returns a :class:`RealtimeTimetable`: a new version of the
timetable (built copy-on-write by :mod:`arverne.network._realtime_version`, sharing every
unchanged array with its base), the alerts with their informed entities as timetable indices,
the vehicle positions with their trips, and notices for what did not match.

Trip updates follow the GTFS-realtime spec:

* a run is a trip on one service day: ``start_date``, else the day whose run of the trip is
  nearest the update's timestamp;
* a stop-time update predicts a time (absolute) or a delay; a stop without one takes the delay
  of the last stop before it that had one (the trip's ``delay`` before the first), ``NO_DATA``
  stops propagation (the schedule holds until the next prediction), a ``SKIPPED`` stop can be
  neither boarded nor left and does not change the delay. Propagated times are clamped so that
  a trip never runs backwards (a train catching up); predicted times that do run backwards
  make the update unusable (``E022``) and the schedule holds;
* a stop-time update names its stop by ``stop_sequence`` (the visit of a loop) and, or else,
  by ``stop_id`` (the first visit after the previous update's stop); when both are given and
  disagree (``E045``) the stop id decides;
* ``CANCELED`` and ``DELETED`` runs are never boarded; ``ADDED`` (``NEW``) trips need a known
  stop and a time at every stop, and a route (``route_id``, else the route of a pattern that
  serves their stops in order);
* a ``DUPLICATED`` trip is a new trip (``trip_properties.trip_id``) copying a scheduled one
  moved to ``trip_properties.start_time`` and ``start_date``; an ``UNSCHEDULED`` run of a
  frequency-based trip is the run of the expansion it starts with, else a new run of the
  trip's stops moved to its ``start_time``; the stop-time updates apply to the copy;
* a rider stays seated from one run of a block into the next (in-seat continuation) only while
  the next run is not cancelled and still leaves after the updated arrival of the one before;
  no delay is carried from one run into the next.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.feeds.notices import Notice, Notices
from arverne.feeds.realtime import (
    Alert,
    InformedEntity,
    RealtimeFeed,
    VehiclePosition,
    add_notice,
    read_gtfs_rt,
)
from arverne.network._realtime_trips import TimetableIndex, Work, apply_trip_update
from arverne.network._realtime_version import build_version

if TYPE_CHECKING:
    from arverne.network.timetable import Timetable


@dataclass(frozen=True)
class AlertTargets:
    """One informed entity as timetable indices (-1 / None: not constrained)."""

    routes: frozenset[int] | None = None
    """Routes it concerns (a route, or an agency's routes); None: any."""
    route_type: int | None = None
    direction: int | None = None
    trip: int = -1
    stops: frozenset[int] | None = None
    """A stop and, for a station, its stops; None: any."""


@dataclass(frozen=True)
class ResolvedAlert:
    """An alert with its informed entities resolved against the timetable."""

    alert: Alert
    targets: tuple[AlertTargets, ...]

    def concerns_ride(
        self,
        *,
        route: int,
        route_type: int,
        direction: int,
        trip: int,
        stops: Sequence[int],
        start_s: float,
        end_s: float,
    ) -> bool:
        """Whether the alert concerns a ride on ``trip`` (a base trip index) boarding at
        ``stops[0]`` and leaving at ``stops[-1]`` between two POSIX times.
        """
        if not self.alert.active_during(start_s, end_s):
            return False
        ends = (stops[0], stops[-1]) if stops else ()
        for t in self.targets:
            if t.routes is not None and route not in t.routes:
                continue
            if t.route_type is not None and t.route_type != route_type:
                continue
            if t.direction is not None and t.direction != direction:
                continue
            if t.trip >= 0 and t.trip != trip:
                continue
            if t.stops is not None and not t.stops.intersection(ends):
                continue
            return True
        return False


@dataclass(frozen=True)
class RealtimeTimetable:
    """A timetable version with real time applied, and what the feeds said beside it."""

    timetable: Timetable
    """The new version (the base itself when no run changed)."""
    base: Timetable
    trip_replaces: np.ndarray
    """int32[timetable.n_trips - base.n_trips]: base trip that each new trip replaces on its
    day, -1 for an added trip."""
    tracked: frozenset[tuple[int, int]] = frozenset()
    """(base trip, day) runs with a real-time prediction (updated or confirmed on time)."""
    cancelled: frozenset[tuple[int, int]] = frozenset()
    """(base trip, day) runs cancelled."""
    alerts: tuple[ResolvedAlert, ...] = ()
    vehicles: tuple[VehiclePosition, ...] = ()
    vehicle_trip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[len(vehicles)]: trip index of each vehicle, -1 when unknown."""
    notices: tuple[Notice, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    """trip_updates, matched, updated, on_time, cancelled, added, duplicated, unscheduled,
    skipped_stops, unmatched, seated_rides (in-seat rides made again through changed runs),
    alerts, alerts_matched, vehicles, vehicles_matched."""
    timestamp: int | None = None
    """Latest header timestamp of the feeds applied."""

    def base_trip(self, trip: int) -> int:
        """Base trip of a trip of the version (itself for a base trip, -1 for an added one)."""
        n = self.base.n_trips
        return trip if trip < n else int(self.trip_replaces[trip - n])

    def is_realtime(self, trip: int, day: int) -> bool:
        """Whether the run of ``trip`` (version index) on ``day`` carries a prediction."""
        return trip >= self.base.n_trips or (trip, day) in self.tracked

    def delay_s(self, trip: int, pos: int) -> int:
        """Arrival delay of ``trip`` (version index) at pattern position ``pos``, seconds
        (0 for a base or an added trip).
        """
        if trip < self.base.n_trips:
            return 0
        b = int(self.trip_replaces[trip - self.base.n_trips])
        if b < 0:
            return 0
        tt = self.timetable
        return int(tt.st_arr_s[int(tt.trip_st_ptr[trip]) + pos]) - int(
            self.base.st_arr_s[int(self.base.trip_st_ptr[b]) + pos]
        )

    def stop_alerts(self, stop: int) -> tuple[Alert, ...]:
        """Alerts that name the stop (or its station), for a stop's page or the map."""
        return tuple(
            a.alert
            for a in self.alerts
            if any(t.stops is not None and stop in t.stops for t in a.targets)
        )

    def route_alerts(self, route: int) -> tuple[Alert, ...]:
        """Alerts about a line: its route, its agency, its route type or one of its trips."""
        tt = self.timetable
        kind = int(tt.route_type[route])
        out = []
        for a in self.alerts:
            for t in a.targets:
                if t.trip >= 0:
                    hit = int(tt.trip_route[t.trip]) == route
                else:
                    hit = (t.routes is not None and route in t.routes) or (
                        t.routes is None and t.route_type == kind
                    )
                if hit:
                    out.append(a.alert)
                    break
        return tuple(out)

    def vehicles_geojson(self) -> dict[str, Any]:
        """The vehicle positions as a GeoJSON FeatureCollection of points (for the map), each
        with its record's fields and, when known, its trip's route and headsign.
        """
        tt = self.timetable
        features = []
        for vp, trip in zip(self.vehicles, self.vehicle_trip.tolist(), strict=True):
            props = vp.to_dict()
            if trip >= 0:
                route = int(tt.trip_route[trip])
                props.update(
                    route=str(tt.route_short_name[route] or tt.route_long_name[route]),
                    headsign=str(tt.trip_headsign[trip]),
                )
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [vp.lon, vp.lat]},
                    "properties": props,
                }
            )
        return {"type": "FeatureCollection", "features": features}

    @cached_property
    def summary(self) -> dict[str, object]:
        """Counts and notice codes, for a report."""
        codes: dict[str, int] = {}
        for n in self.notices:
            codes[n.code] = codes.get(n.code, 0) + 1
        return {**self.counts, "notices": dict(sorted(codes.items()))}


def apply_realtime(
    timetable: Timetable,
    feeds: RealtimeFeed | Sequence[RealtimeFeed],
    *,
    index: TimetableIndex | None = None,
    namespace: str | None = None,
    now: float | None = None,
) -> RealtimeTimetable:
    """Apply GTFS-realtime feeds to a timetable: a new version, never a mutated one.

    Parameters
    ----------
    timetable
        The static timetable (the base of the version).
    feeds
        One feed or several (trip updates, alerts, vehicle positions, mixed or not).
    index
        The timetable's :class:`TimetableIndex` (built here when None; a live service keeps
        one across updates).
    namespace
        Feed name (id namespace) in the timetable the feeds belong to; by default, for each
        feed, the one its ids match most.
    now
        POSIX seconds that date an update without a timestamp (default: the feed's header,
        else the clock).

    Returns
    -------
    RealtimeTimetable
        The version and what matched; a feed matching nothing in the timetable (another
        agency's) gives a ``foreign_realtime_feed`` notice and changes nothing.
    """
    feeds = [feeds] if isinstance(feeds, RealtimeFeed) else list(feeds)
    index = index if index is not None and index.tt is timetable else TimetableIndex(timetable)
    notices = Notices()
    work = Work(index, notices)
    alerts: list[ResolvedAlert] = []
    vehicles: list[VehiclePosition] = []
    vehicle_trip: list[int] = []
    stamps = [f.timestamp for f in feeds if f.timestamp is not None]
    for feed in feeds:
        notices.extend(feed.notices)
        if not feed.ok:
            continue
        ns = namespace or index.namespace(feed)
        if ns is None:
            add_notice(
                notices,
                "foreign_realtime_feed",
                feed.source,
                None,
                f"{feed.source}: no trip, route or stop id of the feed is in the timetable "
                f"(feeds {', '.join(index.feed_names)}): another agency's feed?",
            )
            continue
        if feed.incremental:
            add_notice(
                notices,
                "differential_feed",
                feed.source,
                "header.incrementality",
                f"{feed.source}: a DIFFERENTIAL feed is applied as a full dataset (entities it "
                "leaves out fall back to the schedule)",
            )
        ref = feed.timestamp if feed.timestamp is not None else now
        for tu in feed.trip_updates:
            apply_trip_update(work, feed.source, ns, tu, tu.timestamp or ref or time.time())
        for alert in feed.alerts:
            resolved = _resolve_alert(index, notices, feed.source, ns, alert)
            work.count("alerts")
            if resolved.targets:
                work.count("alerts_matched")
                alerts.append(resolved)
        for vp in feed.vehicles:
            work.count("vehicles")
            t = index.trip_of.get(f"{ns}:{vp.trip_id}", -1) if vp.trip_id else -1
            if t >= 0 or (vp.route_id and f"{ns}:{vp.route_id}" in index.route_of):
                work.count("vehicles_matched")
            vehicles.append(vp)
            vehicle_trip.append(t)
    version, replaces = build_version(timetable, work.removed, work.new_trips)
    seated = int(np.asarray(version.trip_chained[timetable.n_trips :]).sum())
    if seated:
        work.count("seated_rides", seated)
    return RealtimeTimetable(
        timetable=version,
        base=timetable,
        trip_replaces=replaces,
        tracked=frozenset(work.tracked),
        cancelled=frozenset(work.cancelled),
        alerts=tuple(alerts),
        vehicles=tuple(vehicles),
        vehicle_trip=np.array(vehicle_trip, np.int32),
        notices=tuple(notices.items),
        counts=dict(sorted(work.counts.items())),
        timestamp=max(stamps) if stamps else None,
    )


def _resolve_alert(
    index: TimetableIndex, notices: Notices, source: str, ns: str, alert: Alert
) -> ResolvedAlert:
    """The alert's informed entities as timetable indices; unknown ids give notices."""
    targets = []
    for e in alert.informed:
        t = _resolve_entity(index, notices, source, ns, alert.alert_id, e)
        if t is not None:
            targets.append(t)
    return ResolvedAlert(alert, tuple(targets))


def _resolve_entity(
    index: TimetableIndex,
    notices: Notices,
    source: str,
    ns: str,
    alert_id: str,
    e: InformedEntity,
) -> AlertTargets | None:
    tt = index.tt

    def miss(code: str, what: str) -> None:
        add_notice(
            notices, code, source, "informed_entity", f"{source}: alert {alert_id!r}: {what}"
        )

    routes: frozenset[int] | None = None
    if e.agency_id is not None:
        # the timetable keeps agency names, not ids: a namespace with one agency is that
        # agency; else the id must be one of its agencies' names
        mine = [r for r, rid in enumerate(tt.route_id.tolist()) if rid.startswith(f"{ns}:")]
        names = {str(tt.route_agency_name[r]) for r in mine}
        if len(names) != 1:
            mine = [
                r for r in mine if str(tt.route_agency_name[r]).casefold() == e.agency_id.casefold()
            ]
        if not mine:
            miss("alert_entity_unmatched", f"agency_id {e.agency_id!r} runs no route here")
            return None
        routes = frozenset(mine)
    if e.route_id is not None:
        r = index.route_of.get(f"{ns}:{e.route_id}", -1)
        if r < 0:
            miss("E004", f"route_id {e.route_id!r} is not in the GTFS data")
            return None
        routes = frozenset({r}) if routes is None or r in routes else frozenset()
    trip = -1
    if e.trip_id is not None:
        trip = index.trip_of.get(f"{ns}:{e.trip_id}", -1)
        if trip < 0:
            miss("E003", f"trip_id {e.trip_id!r} is not in the GTFS data")
            return None
    stops: frozenset[int] | None = None
    if e.stop_id is not None:
        stop = index.stop_of.get(f"{ns}:{e.stop_id}", -1)
        if stop < 0:
            miss("E011", f"stop_id {e.stop_id!r} is not in the GTFS data")
            return None
        stops = frozenset(tt.with_platforms(stop))
    return AlertTargets(
        routes=routes, route_type=e.route_type, direction=e.direction_id, trip=trip, stops=stops
    )


def apply_realtime_sources(
    timetable: Timetable,
    sources: Sequence[str | Path],
    *,
    namespace: str | None = None,
    now: float | None = None,
) -> RealtimeTimetable:
    """Read GTFS-realtime files or URLs (:func:`arverne.feeds.realtime.read_gtfs_rt`) and
    apply them (:func:`apply_realtime`).

    Parameters
    ----------
    timetable
        The static timetable.
    sources
        Paths or http(s) URLs.
    namespace
        Feed name the sources belong to (default: inferred per source).
    now
        POSIX seconds the headers are judged against (default: the clock).

    Returns
    -------
    RealtimeTimetable
        As :func:`apply_realtime`.
    """
    feeds = [read_gtfs_rt(s, now=now) for s in sources]
    return apply_realtime(timetable, feeds, namespace=namespace, now=now)
