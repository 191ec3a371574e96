"""GTFS-Flex reading: zones, location groups, booking rules and windows, bad rows as notices."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from arverne.feeds.flex import BookingRule, read_flex
from tests.conftest import shared_path
from tests.routing.gtfs_gen import write_feed

RING = [[3.0, 45.0], [3.1, 45.0], [3.1, 45.1], [3.0, 45.1], [3.0, 45.0]]


def _feed(tmp_path: Path, *, stop_times: str, rules: str, features: list[dict]) -> Path:
    return write_feed(
        tmp_path / "feed",
        {
            "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
            "ag,A,https://a.example,Europe/Paris",
            "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,One,45.05,3.05\nS2,Two,45.2,3.2",
            "routes.txt": "route_id,agency_id,route_short_name,route_type\nR,ag,R,3",
            "trips.txt": "route_id,service_id,trip_id,wheelchair_accessible\nR,WK,T1,1\nR,WK,T2,2\n"
            "R,WK,T3,0",
            "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,"
            "sunday,start_date,end_date\nWK,1,1,1,1,1,0,0,20240304,20240315",
            "stop_times.txt": stop_times,
            "booking_rules.txt": rules,
            "location_groups.txt": "location_group_id,location_group_name\nG1,Group one\nG2,Empty",
            "location_group_stops.txt": "location_group_id,stop_id\nG1,S1\nG1,S2\nG1,NOPE\nGX,S1",
            "locations.geojson": json.dumps({"type": "FeatureCollection", "features": features}),
        },
    )


HEADER = (
    "trip_id,stop_id,location_id,location_group_id,stop_sequence,pickup_type,drop_off_type,"
    "start_pickup_drop_off_window,end_pickup_drop_off_window,pickup_booking_rule_id,"
    "mean_duration_factor,mean_duration_offset"
)


def _zone(fid: object, geometry: dict) -> dict:
    return {"id": fid, "type": "Feature", "properties": {"stop_name": f"Z{fid}"},
            "geometry": geometry}  # fmt: skip


def test_inline_flex_feed_with_bad_rows(tmp_path: Path) -> None:
    """A feed with one good zone, a zone-to-group trip and a group-to-zone trip, plus one bad
    thing of each kind: a point feature, a self-crossing polygon, a duplicate id, a rule with
    an unknown booking_type, a same-day rule without its notice, a group member that is not a
    stop, a group row of an unknown group, windows ending before they start, a window naming
    an unknown zone or rule. Good values load; each bad one is left out with its notice."""
    bowtie = [[3.0, 45.0], [3.1, 45.1], [3.1, 45.0], [3.0, 45.1], [3.0, 45.0]]
    features = [
        _zone("Z1", {"type": "Polygon", "coordinates": [RING]}),
        _zone("P", {"type": "Point", "coordinates": [3.0, 45.0]}),
        _zone("BAD", {"type": "Polygon", "coordinates": [bowtie]}),
        _zone("Z1", {"type": "Polygon", "coordinates": [RING]}),
    ]
    rules = (
        "booking_rule_id,booking_type,prior_notice_duration_min,prior_notice_last_day,"
        "prior_notice_last_time,phone_number,booking_url\n"
        "now,0,,,,,https://book.example\n"
        "hour,1,60,,,04 73 00 00 01,\n"
        "eve,2,,1,18:00:00,04 73 00 00 02,\n"
        "weird,7,,,,,\n"
        "nonotice,1,,,,,"
    )
    stop_times = "\n".join([
        HEADER,
        "T1,,Z1,,1,0,1,08:00:00,18:00:00,hour,1.2,5",
        "T1,,,G1,2,1,0,08:00:00,18:30:00,,,",
        "T2,,,G1,1,0,1,07:00:00,09:00:00,now,,",
        "T2,,Z1,,2,1,0,07:00:00,09:00:00,now,,",
        "T3,,Z1,,1,0,1,10:00:00,09:00:00,eve,,",
        "T3,,ZZ,,2,1,0,08:00:00,18:00:00,eve,,",
        "T3,,,G2,3,1,0,08:00:00,18:00:00,,,",
        "T3,,Z1,,4,1,0,08:00:00,18:00:00,weird,,",
    ])  # fmt: skip
    flex = read_flex(_feed(tmp_path, stop_times=stop_times, rules=rules, features=features))
    assert set(flex.zones) == {"Z1"}
    assert flex.groups == {"G1": ("S1", "S2"), "G2": ()}
    assert set(flex.rules) == {"now", "hour", "eve"}
    assert flex.rules["eve"].prior_notice_last_time_s == 18 * 3600
    assert [(w.trip_id, w.stop_sequence, w.kind) for w in flex.windows] == [
        ("T1", 1, "zone"), ("T1", 2, "group"), ("T2", 1, "group"), ("T2", 2, "zone"),
    ]  # fmt: skip
    w = flex.windows[0]
    assert (w.start_s, w.end_s, w.mean_duration_factor, w.mean_duration_offset_s) == (
        8 * 3600, 18 * 3600, 1.2, 5.0,
    )  # fmt: skip
    assert w.picks_up and not w.drops_off and w.wheelchair_accessible == 1
    assert flex.windows[2].wheelchair_accessible == 2
    codes = sorted(n.code for n in flex.notices)
    assert codes == sorted([
        "unsupported_geo_json_type", "invalid_geometry", "duplicate_key",
        "unexpected_enum_value", "missing_prior_notice_duration_min",
        "foreign_key_violation", "foreign_key_violation",  # NOPE, GX
        "start_and_end_range_out_of_order", "foreign_key_violation", "foreign_key_violation",
        "foreign_key_violation",  # ZZ, empty G2, rule weird
    ])  # fmt: skip
    assert all(n.message for n in flex.notices)
    assert flex.runs_on("WK", dt.date(2024, 3, 4)) and not flex.runs_on("WK", dt.date(2024, 3, 9))
    inside = flex.zones["Z1"].contains(np.array([3.05, 3.2]), np.array([45.05, 45.2]))
    assert inside.tolist() == [True, False]


def test_booking_rules_deadlines() -> None:
    """Real time: bookable up to the trip; same day, 60 min: a trip at 09:00 is the earliest
    when asking at 08:00; prior days (the day before, 18:00): a trip tomorrow may be booked
    until 18:00 today, not after."""
    now = BookingRule("a", 0)
    assert now.earliest_trip_s(8 * 3600, 7 * 3600) == 8 * 3600
    hour = BookingRule("b", 1, prior_notice_duration_min=60, phone_number="04")
    assert hour.earliest_trip_s(8 * 3600, 8 * 3600) == 9 * 3600
    assert "60 min" in hour.describe() and "phone 04" in hour.describe()
    eve = BookingRule("c", 2, prior_notice_last_day=1, prior_notice_last_time_s=18 * 3600)
    assert eve.latest_booking_s(10 * 3600) == -6 * 3600
    assert eve.earliest_trip_s(-7 * 3600, 10 * 3600) == 10 * 3600
    assert eve.earliest_trip_s(-5 * 3600, 10 * 3600) == float("inf")


def test_unusable_locations_file_is_a_notice(tmp_path: Path) -> None:
    """locations.geojson that is not JSON: no zone, a malformed_json notice, the rest loads."""
    stop_times = HEADER + "\nT1,,,G1,1,0,1,08:00:00,18:00:00,r,,"
    path = _feed(tmp_path, stop_times=stop_times, rules="booking_rule_id,booking_type\nr,0",
                 features=[])  # fmt: skip
    (path / "locations.geojson").write_text("{not json", encoding="utf-8")
    flex = read_flex(path)
    assert flex.zones == {} and set(flex.rules) == {"r"} and len(flex.windows) == 1
    # (the two foreign keys: location_group_stops' NOPE stop and GX group)
    codes = [n.code for n in flex.notices]
    assert codes == ["malformed_json", "foreign_key_violation", "foreign_key_violation"]


@pytest.mark.slow
def test_ctran_flex_real_feed() -> None:
    """C-TRAN's real GTFS-Flex feed (The Current): 8 zones, 10 location groups, 128 booking
    rules (same day), 2,778 windows (1,598 on groups, 1,180 on zones), every reference
    resolved, no notice; every zone a valid polygon in the Vancouver (WA) area."""
    flex = read_flex(shared_path("gtfs/transitland/ctran-flex.zip"))
    assert (len(flex.zones), len(flex.groups), len(flex.rules), len(flex.windows)) == (
        8, 10, 128, 2778,
    )  # fmt: skip
    assert sum(w.kind == "group" for w in flex.windows) == 1598
    assert {r.booking_type for r in flex.rules.values()} == {1}
    assert flex.notices == []
    for zone in flex.zones.values():
        minx, miny, maxx, maxy = zone.geometry.bounds
        assert -123.0 < minx < maxx < -122.0 and 45.5 < miny < maxy < 46.0
    assert all(w.where in flex.zones or w.where in flex.groups for w in flex.windows)
    assert all(s in flex.stop_lonlat for g in flex.groups.values() for s in g)
