"""The demo feed's GTFS-Flex part: two on-demand zones, their booking rules and the bus
station's location group.

The western zone (Le Mas-de-Ribes, Beaulieu-sur-Couze) is booked an hour ahead by phone; the
north-eastern one (Chambourg, Saint-Vidal-d'Auze) takes rides inside it and to and from the bus
station's platforms, booked up to the trip: the demo runs it with Arverne's live dispatcher.
"""

from __future__ import annotations

import json

from shapely.geometry import MultiPoint
from shapely.geometry.polygon import orient

from arverne.demo._layout import XY, StreetPlan, to_lonlat

FLEX_ZONE_ID = "zone-tad-ouest"
BOOKING_RULE_ID = "tad-1h"
ARVERNE_ZONE_ID = "zone-tad-nord-est"
"""The north-eastern on-demand zone, run by Arverne's live dispatcher in the demo."""
ARVERNE_RULE_ID = "tad-arverne"
GARE_GROUP_ID = "grp-gare"
"""Location group of the bus station's platforms, where the north-eastern zone's rides end."""

Row = dict[str, str]


def flex_rows(
    agency_id: str, route_rows: list[Row], trip_rows: list[Row], st_rows: list[Row]
) -> None:
    """Append the on-demand routes, trips and flex stop_times rows of both zones."""
    # on-demand (GTFS-Flex): anywhere to anywhere in the western zone, booked one hour ahead
    route_rows.append(
        {
            "route_id": "TAD",
            "agency_id": agency_id,
            "route_short_name": "TAD",
            "route_long_name": "Transport à la demande – secteur Ouest",
            "route_type": "3",
            "route_color": "16A085",
            "route_text_color": "FFFFFF",
        }
    )
    for service_id, start, end in (
        ("SEM", "08:00:00", "18:00:00"),
        ("SAM", "09:00:00", "12:30:00"),
    ):
        trip_id = f"TAD-{service_id}"
        trip_rows.append(
            {
                "route_id": "TAD",
                "service_id": service_id,
                "trip_id": trip_id,
                "trip_headsign": "Transport à la demande",
                "direction_id": "0",
                "wheelchair_accessible": "1",
            }
        )
        for sequence, pickup, drop_off in (("1", "2", "1"), ("2", "1", "2")):
            st_rows.append(
                {
                    "trip_id": trip_id,
                    "location_id": FLEX_ZONE_ID,
                    "stop_sequence": sequence,
                    "pickup_type": pickup,
                    "drop_off_type": drop_off,
                    "start_pickup_drop_off_window": start,
                    "end_pickup_drop_off_window": end,
                    "pickup_booking_rule_id": BOOKING_RULE_ID,
                    "drop_off_booking_rule_id": BOOKING_RULE_ID,
                }
            )
    _arverne_zone_rows(agency_id, route_rows, trip_rows, st_rows)


def _arverne_zone_rows(
    agency_id: str, route_rows: list[Row], trip_rows: list[Row], st_rows: list[Row]
) -> None:
    """The north-eastern zone (GTFS-Flex): door to door inside it, or to and from the bus
    station's platforms, on weekdays 06:30-19:30, booked up to the trip.
    """
    route_rows.append(
        {
            "route_id": "TADNE",
            "agency_id": agency_id,
            "route_short_name": "TAD NE",
            "route_long_name": "Transport à la demande – secteur Nord-Est",
            "route_type": "3",
            "route_color": "D35400",
            "route_text_color": "FFFFFF",
        }
    )
    # (trip, [(location_id or group, sequence, pickup_type, drop_off_type)])
    trips = {
        "TADNE-SEM-0": [(ARVERNE_ZONE_ID, "", "2", "1"), (ARVERNE_ZONE_ID, "", "1", "2"),
                        ("", GARE_GROUP_ID, "1", "2")],
        "TADNE-SEM-1": [("", GARE_GROUP_ID, "2", "1"), (ARVERNE_ZONE_ID, "", "1", "2")],
    }  # fmt: skip
    for trip_id, calls in trips.items():
        trip_rows.append(
            {
                "route_id": "TADNE",
                "service_id": "SEM",
                "trip_id": trip_id,
                "trip_headsign": "Transport à la demande Nord-Est",
                "direction_id": trip_id[-1],
                "wheelchair_accessible": "1",
            }
        )
        for k, (zone, group, pickup, drop_off) in enumerate(calls):
            st_rows.append(
                {
                    "trip_id": trip_id,
                    "location_id": zone,
                    "location_group_id": group,
                    "stop_sequence": str(k + 1),
                    "pickup_type": pickup,
                    "drop_off_type": drop_off,
                    "start_pickup_drop_off_window": "06:30:00",
                    "end_pickup_drop_off_window": "19:30:00",
                    "pickup_booking_rule_id": ARVERNE_RULE_ID,
                    "drop_off_booking_rule_id": ARVERNE_RULE_ID,
                }
            )


def flex_tables() -> dict[str, tuple[list[str], list[list[str]]]]:
    """booking_rules.txt and the location group files (header, rows)."""
    t: dict[str, tuple[list[str], list[list[str]]]] = {}
    # GTFS-Flex booking rules: outside the reader's spec, kept verbatim by it
    t["booking_rules.txt"] = (
        [
            "booking_rule_id",
            "booking_type",
            "prior_notice_duration_min",
            "message",
            "phone_number",
            "booking_url",
        ],
        [
            [
                BOOKING_RULE_ID,
                "1",
                "60",
                "Réservez au moins une heure avant votre trajet, par téléphone ou en ligne.",
                "04 73 00 00 01",
                "https://transports.vernac.example.org/tad",
            ],
            [
                ARVERNE_RULE_ID,
                "0",
                "",
                "Réservation immédiate avec le trajet (Arverne) ou par téléphone.",
                "04 73 00 00 02",
                "https://transports.vernac.example.org/tad-nord-est",
            ],
        ],
    )
    t["location_groups.txt"] = (
        ["location_group_id", "location_group_name"],
        [[GARE_GROUP_ID, "Vernac Gare routière"]],
    )
    t["location_group_stops.txt"] = (
        ["location_group_id", "stop_id"],
        [[GARE_GROUP_ID, f"GARE_{q}"] for q in "ABC"],
    )
    return t


def _zone_feature(zone_id: str, name: str, desc: str, points: list[XY]) -> dict[str, object]:
    """A locations.geojson feature: the points' convex hull, 900 m around, counter-clockwise."""
    zone = orient(MultiPoint(points).convex_hull.buffer(900.0, quad_segs=4).simplify(50.0), 1.0)
    ring = [[round(v, 6) for v in to_lonlat(x, y)] for x, y in zone.exterior.coords]
    return {
        "id": zone_id,
        "type": "Feature",
        "properties": {"stop_name": name, "stop_desc": desc},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def flex_zones(plan: StreetPlan) -> str:
    """locations.geojson: the western zone (villages W and S, booked an hour ahead) and the
    north-eastern one (villages N and NE, run by Arverne), each around its villages, hamlets
    and farms.
    """

    def points(keys: tuple[str, ...]) -> list[XY]:
        out = [plan.villages[k].centre for k in keys]
        out += [c for _, key, c, _ in plan.hamlets if key in keys]
        return out + [c for _, key, c in plan.farms if key in keys]

    features = [
        _zone_feature(FLEX_ZONE_ID, "Zone TAD Ouest",
                      "Le Mas-de-Ribes, Beaulieu-sur-Couze et leurs hameaux", points(("W", "S"))),
        _zone_feature(ARVERNE_ZONE_ID, "Zone TAD Nord-Est",
                      "Chambourg, Saint-Vidal-d'Auze et leurs hameaux", points(("N", "NE"))),
    ]  # fmt: skip
    return (
        json.dumps(
            {"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=2
        )
        + "\n"
    )
