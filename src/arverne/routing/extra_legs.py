"""Extra access and egress modes of a door-to-door query: the one seam that on-demand feeders
(:mod:`arverne.routing.ondemand`), bike share (:mod:`arverne.routing.bikeshare`) and carpool
(:mod:`arverne.routing.carpool`) use to put first and last miles into journeys.

A mode (:class:`ExtraMode`) answers for one query's ends (:class:`Ends`) with first-mile
entries (origin to a stop), last-mile entries (a stop to the destination) and door-to-door
journeys. An :class:`Entry` is an access or egress entry of the search (stop, seconds, walking
seconds) with the description of its placeholder leg and a ``settle`` function turning that
placeholder, as timed in a journey, into the mode's real legs (None: the mode cannot serve it
then, and the journey is dropped).

The search takes an entry's seconds as fixed. A time-dependent last mile (a shuttle or a driver
that may make the rider wait) gives the search an estimate that counts no wait; after the
search, :meth:`ExtraLegs.settle` offers it for real at the actual arrival at the stop. When the
real legs arrive later than estimated, the entry's seconds are raised to what it took (a
refused one is taken out) and the search runs again, up to ``RESEARCH`` times: a journey with
another egress that the too-early estimate had beaten is then found. The journeys of every run
are pooled before the planner keeps the ones no other beats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from arverne.routing.journey import Journey, Leg
from arverne.routing.options import PlanOptions
from arverne.routing.search import Query, Search
from arverne.routing.tracing import Trace

LonLat = tuple[float, float]

RESEARCH = 3
"""Most extra searches after last-mile estimates proved too early."""
NEVER_S = 2**30
"""Seconds of an egress entry taken out (no arrival within a search's horizon uses it)."""


@dataclass(frozen=True)
class Ends:
    """What a mode needs to know of one query."""

    search: Search
    o: LonLat
    """Origin (lon, lat)."""
    d: LonLat
    """Destination (lon, lat)."""
    t0: dt.datetime
    """The query's time in the network's zone (departure, or arrival with ``arrive_by``)."""
    arrive_by: bool
    single: bool
    """A departure at ``t0`` without a window: legs whose times depend on their start (a
    driver's window, a shuttle's offer) may be given; otherwise only legs whose duration holds
    at any time (bike share)."""
    options: PlanOptions
    usable: np.ndarray
    """Indices of the stops the query may use."""


Settle = Callable[[Leg], "list[Leg] | None"]


@dataclass
class Entry:
    """An access (first mile) or egress (last mile) entry and how to settle its leg."""

    stop: int
    seconds: int
    """Door to stop (stop to door) as the search counts it."""
    walk_s: int
    """Walking seconds in it (the search prefers less walking among equal arrivals)."""
    info: dict[str, Any]
    """The placeholder leg's description (see :func:`arverne.routing.assemble.street_leg`)."""
    settle: Settle | None = None
    """Real legs replacing the placeholder as timed in a journey (None: keep the placeholder)."""


@dataclass
class ModeLegs:
    """A mode's answer for one query."""

    first: list[Entry] = field(default_factory=list)
    last: list[Entry] = field(default_factory=list)
    direct: list[Journey] = field(default_factory=list)


class ExtraMode(Protocol):
    """A mode beside walking at the ends of a journey (see the module docstring)."""

    def legs(self, ends: Ends) -> ModeLegs:
        """First-mile and last-mile entries and door-to-door journeys for one query."""
        ...


def placeholder(
    mode: str, a: tuple[str, LonLat, int], b: tuple[str, LonLat, int], **extra: Any
) -> dict[str, Any]:
    """A placeholder leg's description from (name, (lon, lat), stop or -1) of its two ends."""
    return {
        "mode": mode,
        "from_name": a[0],
        "to_name": b[0],
        "from": a[1],
        "to": b[1],
        "from_stop": a[2],
        "to_stop": b[2],
        "same_stop": False,
        "estimated": True,
        **extra,
    }


class ExtraLegs:
    """The extra modes of one query: entries added to ``q``, journeys settled after a search.

    Parameters
    ----------
    q
        The door-to-door query (its access and egress entries are extended).
    ends
        The query's ends.
    modes
        The modes to ask.
    """

    def __init__(self, q: Query, ends: Ends, modes: Sequence[ExtraMode]) -> None:
        self.q = q
        self.ends = ends
        self.direct: list[Journey] = []
        self._first: dict[int, Entry] = {}
        """Access index in ``q`` -> its entry."""
        self._last: dict[int, Entry] = {}
        for mode in modes:
            got = mode.legs(ends)
            self._first.update(_extend(q, "access", got.first))
            self._last.update(_extend(q, "egress", got.last))
            self.direct.extend(got.direct)

    def settle(
        self, traces: Sequence[Trace], journeys: Sequence[Journey]
    ) -> tuple[list[Journey], bool]:
        """The journeys with their placeholder legs settled, and whether to search again.

        ``journeys[i]`` is the journey of ``traces[i]``. A journey whose last mile is refused is
        dropped; one that arrives later than its estimate raises the estimate (a refused one
        takes the entry out) and asks for another search (see the module docstring).
        """
        out = []
        again = False
        q = self.q
        for trace, j in zip(traces, journeys, strict=True):
            legs = list(j.legs)
            first = self._first.get(trace.steps[0].a) if trace.steps[0].kind == "access" else None
            last = self._last.get(trace.steps[-1].a) if trace.steps[-1].kind == "egress" else None
            if first is not None and first.settle is not None:
                real = first.settle(legs[0])
                if real is None:
                    continue
                legs[:1] = real
            if last is not None and last.settle is not None:
                e = trace.steps[-1].a
                placeholder_leg = legs[-1]
                real = last.settle(placeholder_leg)
                took = (
                    None
                    if real is None
                    else int((real[-1].end - placeholder_leg.start).total_seconds())
                )
                if took is None or took > int(q.egress_s[e]):
                    q.egress_s[e] = NEVER_S if took is None else took
                    again = True
                if real is None:
                    continue
                legs[-1:] = real
            out.append(Journey(legs))
        return out, again


def _extend(q: Query, side: str, entries: list[Entry]) -> dict[int, Entry]:
    """Append entries to the query's access or egress; their indices there."""
    if not entries:
        return {}
    start = len(getattr(q, f"{side}_stop"))
    rows = np.array([(e.stop, e.seconds, e.walk_s) for e in entries], np.int64).reshape(-1, 3)
    for k, name in enumerate(("stop", "s", "walk")):
        attr = f"{side}_{name}"
        setattr(q, attr, np.concatenate([getattr(q, attr), rows[:, k]]).astype(np.int32))
    getattr(q, f"{side}_info").extend(e.info for e in entries)
    return {start + k: e for k, e in enumerate(entries)}
