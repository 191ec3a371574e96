"""The journey planner: ``Planner(network).plan(origin, destination, ...)``.

The work is split along its seams: :mod:`arverne.routing.query` builds a query (time frame,
access, egress, the direct street journey), :mod:`arverne.routing.search` runs the RAPTOR
search over it, :mod:`arverne.routing.assemble` turns the traces into journeys and keeps the
ones no other beats. Kernel-level answers without journeys (for tests, benchmarks and
comparisons with other routers) are in :mod:`arverne.routing.probes`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from arverne.errors import InputError, NoRouteError
from arverne.network.network import Network
from arverne.network.timetable import Timetable
from arverne.routing.assemble import journey, pareto_journeys
from arverne.routing.extra_legs import RESEARCH, Ends, ExtraLegs, ExtraMode
from arverne.routing.journey import Journey
from arverne.routing.ondemand import Feeder, Feeders
from arverne.routing.options import INF, PlanOptions
from arverne.routing.query import (
    direct_journey,
    frame_seconds,
    local_time,
    point_query,
    stop_query,
)
from arverne.routing.search import Query, Search

if TYPE_CHECKING:
    from arverne.feeds.carpool import CarpoolOffers
    from arverne.feeds.gbfs import BikeShare
    from arverne.network.realtime import RealtimeTimetable

__all__ = ["INF", "PlanOptions", "Planner", "parse_lat_lon"]

DEFAULT_OPTIONS = PlanOptions()


MAX_WINDOW = dt.timedelta(hours=24)
"""Longest range query: a range search's work grows with its departures (README, Limits)."""


class Planner:
    """Plans journeys on a compiled :class:`~arverne.network.network.Network`.

    Parameters
    ----------
    network
        A network with a timetable (streets and links optional: without them access and
        transfers use straight lines and transfers.txt only).

    Each query reads :attr:`search` once: :meth:`use_realtime` builds a real-time version's
    search in full, then swaps that one reference, so a query in flight never mixes versions.
    """

    def __init__(self, network: Network) -> None:
        self.search = Search(network)
        self.static = network
        """The network as built (the base of every real-time version)."""

    @property
    def network(self) -> Network:
        """The network in use (with the real-time timetable when one is applied)."""
        return self.search.network

    @property
    def tt(self) -> Timetable:
        """The timetable in use."""
        return self.search.tt

    @property
    def realtime(self) -> RealtimeTimetable | None:
        """The real-time version in use, None when static."""
        return self.search.realtime

    def use_realtime(self, update: RealtimeTimetable | None) -> None:
        """Plan on a real-time version of the static timetable from now on (None: static).

        Parameters
        ----------
        update
            From :func:`arverne.network.realtime.apply_realtime` on this planner's static
            timetable.
        """
        if update is not None and update.base is not self.static.timetable:
            raise InputError("the real-time version was not applied to this planner's timetable")
        network = (
            self.static
            if update is None
            else dataclasses.replace(self.static, timetable=update.timetable)
        )
        self.search = Search(network, realtime=update, base=self.search)

    def plan_stops(
        self,
        from_stop_idx: int,
        to_stop_idx: int,
        *,
        depart_at: dt.datetime,
        arrive_by: bool = False,
        window: dt.timedelta = dt.timedelta(0),
        options: PlanOptions = DEFAULT_OPTIONS,
    ) -> list[Journey]:
        """Journeys from one stop to another (footpaths to nearby stops allowed at both ends).

        Parameters
        ----------
        from_stop_idx, to_stop_idx
            Stop indices in the timetable.
        depart_at
            Departure (or, with ``arrive_by``, arrival) time; naive means the network's zone.
        arrive_by
            Latest departure arriving by ``depart_at``.
        window
            Range query: every Pareto-optimal journey departing in ``[t, t + window]``
            (arriving in ``[t - window, t]`` with ``arrive_by``).
        options
            Query options.

        Returns
        -------
        list[Journey]
            The journeys no other beats on (arrival, transfers) (arrive-by: departure,
            transfers; a window: departure, arrival, transfers), earliest first; may be empty.
        """
        search = self.search
        q = stop_query(search, from_stop_idx, to_stop_idx, depart_at, options)
        return self._finish(search, q, depart_at, arrive_by, window, options, street=[])

    def _finish(
        self,
        search: Search,
        q: Query,
        when: dt.datetime,
        arrive_by: bool,
        window: dt.timedelta,
        options: PlanOptions,
        *,
        street: list[Journey],
        extra: ExtraLegs | None = None,
    ) -> list[Journey]:
        t = frame_seconds(search, q, when)
        window_s = int(window.total_seconds())
        if not dt.timedelta(0) <= window <= MAX_WINDOW:
            raise InputError(f"window must lie between 0 and {MAX_WINDOW}, got {window}")
        journeys: list[Journey] = []
        for _ in range(1 + RESEARCH):
            traces = search.traces(q, t, window_s, options, arrive_by=arrive_by)
            found = [journey(search, q, tr) for tr in traces]
            if extra is None:
                journeys = found
                break
            # a last mile that took longer than estimated: search again with the real time
            settled, again = extra.settle(traces, found)
            seen = {_legs(k) for k in journeys}
            journeys += [j for j in settled if _legs(j) not in seen]
            if not again:
                break
        journeys.extend(street)
        # the search is Pareto-optimal per run; journeys are judged on their actual times
        journeys = pareto_journeys(journeys, arrive_by=arrive_by, ranged=window_s > 0)
        journeys.sort(
            key=lambda j: (
                (j.arrival, j.transfers)
                if not arrive_by
                else (-j.departure.timestamp(), j.transfers)
            )
        )
        return journeys

    def plan(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        *,
        depart_at: dt.datetime,
        arrive_by: bool = False,
        window: dt.timedelta = dt.timedelta(0),
        options: PlanOptions = DEFAULT_OPTIONS,
        feeders: Sequence[Feeder] = (),
        bikeshare: BikeShare | None = None,
        carpool: CarpoolOffers | None = None,
    ) -> list[Journey]:
        """Door-to-door journeys between two (lat, lon) points.

        Parameters
        ----------
        origin, destination
            WGS84 (lat, lon).
        depart_at
            Departure time (arrival time with ``arrive_by``); naive means the network's zone.
        arrive_by
            Search the latest departures arriving by ``depart_at``.
        window
            Range query over ``[t, t + window]`` (``[t - window, t]`` with ``arrive_by``).
        options
            Query options.
        feeders
            On-demand services offering first/last-mile and door-to-door legs
            (:mod:`arverne.routing.ondemand`); departure queries without a window only.
        bikeshare
            A bike-share system now (:func:`arverne.feeds.gbfs.read_gbfs`): bike-share rides
            to and from the stops (first and last mile) and its fastest door-to-door ride
            (:mod:`arverne.routing.bikeshare`).
        carpool
            Drivers' offers (:func:`arverne.feeds.carpool.read_carpool_offers`): the best
            matching door-to-door ride and, on departure queries without a window, rides to
            and from the stops (:mod:`arverne.routing.carpool`).

        Returns
        -------
        list[Journey]
            The journeys no other beats on (arrival, transfers) (arrive-by: departure,
            transfers; a window: departure, arrival, transfers), the direct street journey
            (and the bike-share and carpool ones) among them when not beaten.

        Raises
        ------
        NoRouteError
            ``reason``: ``outside_calendar``, ``too_far_from_network`` (origin or destination),
            ``no_service`` (nothing runs in the window and no direct journey).
        """
        search = self.search
        q = point_query(search, origin, destination, depart_at, options)
        single = not arrive_by and not window
        if feeders and not single:
            raise InputError("on-demand feeders answer departure queries without a window")
        modes: list[ExtraMode] = [Feeders(feeders)] if feeders else []
        if bikeshare is not None:
            from arverne.routing.bikeshare import BikeShareLegs

            modes.append(BikeShareLegs(bikeshare))
        if carpool is not None:
            from arverne.routing.carpool import CarpoolLegs

            modes.append(CarpoolLegs(carpool))
        extra = None
        if modes:
            _trip_ok, stop_ok = search.allowed(options)
            o = (float(origin[1]), float(origin[0]))
            d = (float(destination[1]), float(destination[0]))
            usable = np.flatnonzero(search.routable_stop & stop_ok)
            t0 = local_time(search, depart_at)
            ends = Ends(search, o, d, t0, arrive_by, single, options, usable)
            extra = ExtraLegs(q, ends, modes)
        direct = direct_journey(search, origin, destination, depart_at, arrive_by, options)
        street = ([] if direct is None else [direct]) + ([] if extra is None else extra.direct)
        kind = "wheelchair-accessible stop" if options.wheelchair else "stop"
        if not len(q.access_stop) and not street:
            raise NoRouteError(
                f"the origin {origin[0]:.5f},{origin[1]:.5f} is farther than the access limit "
                f"({options.max_walk_access_s} s) from every {kind}",
                reason="too_far_from_network",
            )
        if not len(q.egress_stop) and not street:
            raise NoRouteError(
                f"the destination {destination[0]:.5f},{destination[1]:.5f} is farther than the "
                f"egress limit ({options.max_walk_egress_s} s) from every {kind}",
                reason="too_far_from_network",
            )
        journeys = self._finish(
            search, q, depart_at, arrive_by, window, options, street=street, extra=extra
        )
        if not journeys:
            raise NoRouteError(
                f"no journey found {'arriving by' if arrive_by else 'departing from'} "
                f"{local_time(search, depart_at):%Y-%m-%d %H:%M}"
                + (f" within {window}" if window else ""),
                reason="no_service",
            )
        return journeys

    def plan_many(
        self,
        pairs: Sequence[tuple[tuple[float, float], tuple[float, float]]],
        *,
        depart_at: dt.datetime | Sequence[dt.datetime],
        arrive_by: bool = False,
        window: dt.timedelta = dt.timedelta(0),
        options: PlanOptions = DEFAULT_OPTIONS,
    ) -> list[list[Journey] | NoRouteError]:
        """Plan a batch of (origin, destination) pairs with one reused search state.

        Returns one entry per pair: its journeys, or the :class:`NoRouteError` explaining why
        there is none.
        """
        times = [depart_at] * len(pairs) if isinstance(depart_at, dt.datetime) else list(depart_at)
        if len(times) != len(pairs):
            raise InputError(f"{len(pairs)} pairs but {len(times)} departure times")
        out: list[list[Journey] | NoRouteError] = []
        for (o, d), when in zip(pairs, times, strict=True):
            try:
                out.append(
                    self.plan(
                        o, d, depart_at=when, arrive_by=arrive_by, window=window, options=options
                    )
                )
            except NoRouteError as exc:
                out.append(exc)
        return out


def _legs(j: Journey) -> tuple[tuple[object, ...], ...]:
    """What tells a journey from another found again by a later search."""
    return tuple((leg.mode, leg.start, leg.end, leg.from_name, leg.to_name) for leg in j.legs)


def parse_lat_lon(text: str, label: str = "point") -> tuple[float, float]:
    """``"LAT,LON"`` as floats; an InputError naming ``label`` when it is not one."""
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise InputError(f"{label} {text!r} is not LAT,LON (e.g. 45.7772,3.0870)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"{label} {text!r} is outside [-90, 90] x [-180, 180]")
    return lat, lon
