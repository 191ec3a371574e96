"""Street profiles as data: maxspeed and duration parsing, way and barrier rules."""

from __future__ import annotations

import pytest

from arverne.feeds.profiles import (
    BIKE,
    CAR,
    CLOSED,
    TRACTOR,
    WALK,
    Profile,
    access_decision,
    barrier_blocks,
    evaluate_way,
    get_profiles,
    parse_duration_s,
    parse_maxspeed,
)


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        ("30 mph", 30 * 1.609344),
        ("FR:urban", 50.0),
        ("FR:rural", 80.0),
        ("DE:rural", 100.0),
        ("DE:zone30", 30.0),
        ("DE:zone:30", 30.0),
        ("FR:motorway", 130.0),
        ("walk", 7.0),
        ("50;30", 30.0),
        ("none", None),
        ("signals", None),
        ("", None),
        (None, None),
        ("0", None),
        ("12.5", 12.5),
        ("RU:living_street", 20.0),
        ("10 knots", 18.52),
    ],
)
def test_parse_maxspeed(value, kmh):
    """maxspeed numbers, units, country zones and non-limits parse as documented."""
    got = parse_maxspeed(value)
    if kmh is None:
        assert got is None
    else:
        assert got == pytest.approx(kmh)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("00:20", 1200.0),
        ("1:30:15", 5415.0),
        ("45", 2700.0),
        ("PT1H30M", 5400.0),
        ("PT90S", 90.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("00:00", None),
    ],
)
def test_parse_duration(value, seconds):
    """Ferry durations in HH:MM, HH:MM:SS, minutes and ISO 8601 parse to seconds."""
    assert parse_duration_s(value) == seconds


def test_access_hierarchy_most_specific_wins():
    """motorcar beats motor_vehicle beats vehicle beats access; unknown values are skipped."""
    tags = {"access": "no", "vehicle": "yes", "motor_vehicle": "no", "motorcar": "destination"}
    assert access_decision(CAR, tags) is True
    assert access_decision(TRACTOR, tags) is False
    assert access_decision(BIKE, tags) is True
    assert access_decision(WALK, tags) is False
    assert access_decision(CAR, {"access": "no", "motorcar": "sometimes"}) is False
    assert access_decision(CAR, {}) is None


def test_agricultural_access_opens_only_the_tractor():
    """access=agricultural tracks and roads: tractor yes, car no."""
    track = {"highway": "track", "access": "agricultural"}
    assert evaluate_way(TRACTOR, track).forward
    assert evaluate_way(CAR, track) == CLOSED
    road = {"highway": "unclassified", "motor_vehicle": "agricultural;forestry"}
    assert evaluate_way(TRACTOR, road).speed_kmh == 25.0
    assert evaluate_way(CAR, road) == CLOSED
    assert evaluate_way(WALK, road).forward


def test_bike_pushed_on_footways_and_dismount():
    """Bikes are pushed at 5 km/h on footways unless bicycle=yes, and where bicycle=dismount."""
    assert evaluate_way(BIKE, {"highway": "footway"}).speed_kmh == 5.0
    assert evaluate_way(BIKE, {"highway": "footway", "bicycle": "designated"}).speed_kmh == 15.0
    assert evaluate_way(BIKE, {"highway": "residential", "bicycle": "dismount"}).speed_kmh == 5.0
    assert evaluate_way(BIKE, {"highway": "steps"}) == CLOSED
    assert evaluate_way(BIKE, {"highway": "cycleway", "bicycle": "use_sidepath"}) == CLOSED


def test_walk_ignores_oneway_and_slows_on_steps():
    """Walking goes both ways of a oneway and at 2.5 km/h on steps."""
    rule = evaluate_way(WALK, {"highway": "residential", "oneway": "yes"})
    assert rule.forward and rule.backward
    assert evaluate_way(WALK, {"highway": "steps"}).speed_kmh == 2.5
    assert evaluate_way(WALK, {"highway": "motorway"}) == CLOSED


def test_oneway_cycleway_opposite_and_reverse():
    """cycleway=opposite lets bikes ride both ways; oneway=-1 reverses for cars."""
    tags = {"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"}
    assert evaluate_way(BIKE, tags).backward
    assert not evaluate_way(CAR, tags).backward
    rule = evaluate_way(CAR, {"highway": "residential", "oneway": "-1"})
    assert (rule.forward, rule.backward) == (False, True)


def test_motorroad_closed_to_slow_modes():
    """motorroad=yes primary: cars only."""
    tags = {"highway": "primary", "motorroad": "yes"}
    assert evaluate_way(CAR, tags).forward
    for profile in (WALK, BIKE, TRACTOR):
        assert evaluate_way(profile, tags) == CLOSED


def test_areas_walk_only_and_construction_closed():
    """area=yes highways are for walking only; unknown highway values close the way."""
    square = {"highway": "pedestrian", "area": "yes"}
    assert evaluate_way(WALK, square).forward
    assert evaluate_way(BIKE, square) == CLOSED
    for profile in (WALK, BIKE, CAR, TRACTOR):
        assert evaluate_way(profile, {"highway": "construction"}) == CLOSED
        assert evaluate_way(profile, {"building": "yes"}) == CLOSED


@pytest.mark.parametrize(
    ("tags", "blocked"),
    [
        ({"barrier": "bollard"}, {"car", "tractor"}),
        ({"barrier": "gate"}, set()),
        ({"barrier": "gate", "access": "private"}, {"walk", "bike", "car", "tractor"}),
        ({"barrier": "bollard", "motor_vehicle": "yes"}, set()),
        ({"barrier": "stile"}, {"bike", "car", "tractor"}),
        ({"barrier": "cycle_barrier"}, {"car", "tractor"}),
        ({"barrier": "wall"}, {"walk", "bike", "car", "tractor"}),
        ({"highway": "crossing"}, set()),
    ],
)
def test_barriers_per_mode(tags, blocked):
    """Barrier types block modes per profile; node access tags override."""
    got = {p.name for p in (WALK, BIKE, CAR, TRACTOR) if barrier_blocks(p, tags)}
    assert got == blocked


def test_profiles_validated():
    """Profiles check their data; unknown modes are refused."""
    with pytest.raises(ValueError, match="positive"):
        Profile("x", {"residential": 0.0}, ("access",), 10.0)
    with pytest.raises(ValueError, match="access"):
        Profile("x", {"residential": 10.0}, ("foot",), 10.0)
    with pytest.raises(ValueError, match="boat"):
        get_profiles(("walk", "boat"))
