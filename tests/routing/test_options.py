"""Query options people expect: minimum change time, exclusions, school services."""

from __future__ import annotations

from pathlib import Path

import pytest

from arverne.errors import InputError
from arverne.routing.planner import PlanOptions
from tests.routing.test_scenarios import MON, TWO_LINES, TWO_LINES_TIMES, at, hhmm, plan, planner

FOOTPATH_ROUTES = """
route_id,agency_id,route_short_name,route_long_name,route_type
R1,ag,1,Line one,3
R2,ag,2,Line two,3
R3,ag,3,Line three,0
R4,ag,4,Line four,3
"""
FOOTPATH_TRIPS = TWO_LINES + "R4,WK,t5\nR4,WK,t5b\n"
FOOTPATH_TIMES = (
    TWO_LINES_TIMES.rstrip()
    + """
t5,08:40:00,08:40:00,D,1
t5,08:50:00,08:50:00,C,2
t5b,09:00:00,09:00:00,D,1
t5b,09:10:00,09:10:00,C,2
"""
)


def test_min_change_is_added_to_every_change(tmp_path: Path) -> None:
    """Line 1 reaches B at 08:10, line 2 leaves B at 08:15 and 08:30: with a 6-minute minimum
    change the 08:15 connection is missed (arrival 08:40 instead of 08:25); a transfers.txt
    B->B row (type 2, 60 s) overrides the minimum at B."""
    pl = planner(tmp_path / "a", trips=TWO_LINES, stop_times=TWO_LINES_TIMES)
    assert hhmm(plan(pl, "A", "C", at(MON, "07:50"))[0].arrival) == "Mon 08:25"
    six = PlanOptions(min_change_s=360)
    assert hhmm(plan(pl, "A", "C", at(MON, "07:50"), options=six)[0].arrival) == "Mon 08:40"
    transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,B,2,60"
    pl = planner(tmp_path / "b", trips=TWO_LINES, stop_times=TWO_LINES_TIMES, transfers=transfers)
    assert hhmm(plan(pl, "A", "C", at(MON, "07:50"), options=six)[0].arrival) == "Mon 08:25"


def test_min_change_applies_to_changes_on_foot(tmp_path: Path) -> None:
    """Buses only, line 2 left out: line 1 reaches B at 08:10, a footpath B->D (transfers.txt,
    2,224 m straight line at 1.3 m/s: 1,711 s) reaches D at 08:38:31, in time for line 4 at
    08:40 (C at 08:50); two minutes of minimum change make it the 09:00 trip (09:10). Boarding
    line 4 at D without a change needs no buffer."""
    transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,D,2,0"
    pl = planner(
        tmp_path,
        routes=FOOTPATH_ROUTES,
        trips=FOOTPATH_TRIPS,
        stop_times=FOOTPATH_TIMES,
        transfers=transfers,
    )

    def first(origin: str, hhmm_at: str, min_change_s: int) -> str:
        options = PlanOptions(
            route_types=(3,),
            exclude_routes=("R2",),
            max_walk_transfer_s=1800,
            max_walk_egress_s=0,
            min_change_s=min_change_s,
        )
        return hhmm(plan(pl, origin, "C", at(MON, hhmm_at), options=options)[0].arrival)

    assert first("A", "07:50", 0) == "Mon 08:50"
    assert first("A", "07:50", 120) == "Mon 09:10"
    assert first("D", "08:39", 120) == "Mon 08:50"


def test_exclusions_by_route_type_route_agency_and_mode(tmp_path: Path) -> None:
    """A->C: bus 1 then bus 2 (08:25) or tram 3 (09:30). Leaving out route R2, the bus mode or
    route type 3 leaves the tram; leaving out the tram keeps the buses; leaving out the agency
    leaves nothing. Allowing only route R3 or the tram mode leaves the tram, only R1 and R2
    (named with or without the feed's prefix) the buses, only another agency nothing."""
    pl = planner(tmp_path, trips=TWO_LINES, stop_times=TWO_LINES_TIMES)

    def first(**kw: object) -> str | None:
        got = plan(pl, "A", "C", at(MON, "07:50"), options=PlanOptions(**kw))  # type: ignore[arg-type]
        return hhmm(got[0].arrival) if got else None

    assert first() == "Mon 08:25"
    assert first(exclude_routes=("R2",)) == "Mon 09:30"
    assert first(exclude_routes=("f:R2",)) == "Mon 09:30"
    assert first(exclude_modes=("bus",)) == "Mon 09:30"
    assert first(exclude_route_types=(3,)) == "Mon 09:30"
    assert first(exclude_modes=("tram",)) == "Mon 08:25"
    assert first(exclude_agencies=("Agency",)) is None
    assert first(routes=("R3",)) == "Mon 09:30"
    assert first(routes=("f:R1", "R2")) == "Mon 08:25"
    assert first(modes=("tram",)) == "Mon 09:30"
    assert first(agencies=("Agency",)) == "Mon 08:25"
    assert first(agencies=("Other",)) is None
    with pytest.raises(InputError):
        PlanOptions(exclude_routes="R2")  # type: ignore[arg-type]


def test_school_services_can_be_left_out(tmp_path: Path) -> None:
    """Line 1 is a school bus (extended route type 712) and line 2 a 'Ligne scolaire' by name:
    a traveller who is not a pupil (school=False) gets the tram at 09:30 instead of 08:25."""
    routes = """
    route_id,agency_id,route_short_name,route_long_name,route_type
    R1,ag,1,Ramassage,712
    R2,ag,2,Ligne scolaire Bravo,3
    R3,ag,3,Line three,0
    """
    pl = planner(tmp_path, trips=TWO_LINES, stop_times=TWO_LINES_TIMES, routes=routes)
    assert hhmm(plan(pl, "A", "C", at(MON, "07:50"))[0].arrival) == "Mon 08:25"
    no_school = PlanOptions(school=False)
    got = plan(pl, "A", "C", at(MON, "07:50"), options=no_school)
    assert [(hhmm(j.arrival), j.legs[0].mode) for j in got] == [("Mon 09:30", "tram")]
