"""Real time in journeys: a transit leg's prediction and the alerts that concern it.

:func:`ride_realtime` gives a transit leg its real-time fields (:class:`~arverne.routing.journey.Leg`
``realtime``, ``delay_s``, ``alerts``) when the planner searches a real-time version
(:meth:`~arverne.routing.planner.Planner.use_realtime`; :mod:`arverne.routing.live` follows live
feeds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arverne.network.realtime import RealtimeTimetable
    from arverne.routing.journey import StopCall


def ride_realtime(
    rt: RealtimeTimetable,
    trip: int,
    day: int,
    alight_pos: int,
    calls: Sequence[StopCall],
) -> dict[str, Any]:
    """The real-time fields of a ride on ``trip`` (version index) run on ``day``.

    Parameters
    ----------
    rt
        The real-time version searched.
    trip
        Trip ridden (a real trip of the version).
    day
        Service day of the run.
    alight_pos
        Pattern position where the ride ends.
    calls
        The stops of the ride, board first.

    Returns
    -------
    dict
        ``realtime``, ``delay_s`` and ``alerts`` for :class:`~arverne.routing.journey.Leg`.
    """
    out: dict[str, Any] = {
        "realtime": rt.is_realtime(trip, day),
        "delay_s": rt.delay_s(trip, alight_pos),
    }
    if not rt.alerts:  # the common case: a planner's hot path pays nothing more
        return out
    tt = rt.timetable
    route = int(tt.trip_route[trip])
    route_type, direction = int(tt.route_type[route]), int(tt.trip_direction[trip])
    base, ends = rt.base_trip(trip), (calls[0].stop_idx, calls[-1].stop_idx)
    start_s, end_s = calls[0].departure.timestamp(), calls[-1].arrival.timestamp()
    out["alerts"] = tuple(
        a.alert
        for a in rt.alerts
        if a.concerns_ride(
            route=route,
            route_type=route_type,
            direction=direction,
            trip=base,
            stops=ends,
            start_s=start_s,
            end_s=end_s,
        )
    )
    return out
