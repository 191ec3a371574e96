"""The demo's on-demand journey: Saint-Vidal-d'Auze to the health centre at 08:00.

The north-eastern GTFS-Flex zone of the demo feed is run by Arverne's live dispatcher: its
meeting points are the places and stops inside the zone and the bus station's platforms (the
zone's location group), its driving times come from the demo streets, three shuttles (two with
a wheelchair place) start the day at the bus station, and a dozen riders booked before 08:00.
The western zone is run by someone else (booked an hour ahead by phone): its rides are shown
with their booking rules. The journey is planned twice, with buses only and with both zones,
and the on-demand leg of the second is booked in one call.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from arverne.demo._flex import ARVERNE_ZONE_ID, FLEX_ZONE_ID, GARE_GROUP_ID
from arverne.demo.territory import Territory
from arverne.errors import NoRouteError
from arverne.feeds.flex import FlexFeed, read_flex
from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_feeder import ServiceFeeder, book_journey
from arverne.fleet.ondemand_model import Offer, ServiceParams, Shuttle, TripRequest
from arverne.fleet.service_area import street_area
from arverne.network.network import Network
from arverne.routing.flex_feeder import FlexFeeder
from arverne.routing.planner import Planner

H = 3600.0
ORIGIN = "Saint-Vidal-d'Auze"
RIDERS_BEFORE = 12
"""Riders booked between 06:45 and 08:00, so the shuttles' plans are already live."""


def zone_service(
    network: Network,
    flex: FlexFeed,
    places: pd.DataFrame,
    store: Path,
    *,
    vehicles: int = 3,
    riders: int = RIDERS_BEFORE,
    until_s: float = 8 * H,
) -> OnDemandService:
    """Arverne's dispatcher for the north-eastern zone (a new store at ``store``), with
    ``riders`` booked from 06:45 to ``until_s`` on ``vehicles`` shuttles.
    """
    zone = flex.zones[ARVERNE_ZONE_ID]
    tt = network.timetable
    assert tt is not None and network.streets is not None
    ids = [str(p) for p in places["place_id"]]
    lon, lat = places["lon"].to_numpy(float), places["lat"].to_numpy(float)
    keep = zone.contains(lon, lat)
    stop_lon, stop_lat = np.asarray(tt.stop_lon, float), np.asarray(tt.stop_lat, float)
    names = [str(s).split(":", 1)[-1] for s in tt.stop_id]
    group = set(flex.groups[GARE_GROUP_ID])
    stops = zone.contains(stop_lon, stop_lat) | np.array([n in group for n in names])
    area = street_area(
        network.streets,
        [*(i for i, k in zip(ids, keep, strict=True) if k), *np.array(names)[stops]],
        np.r_[lon[keep], stop_lon[stops]],
        np.r_[lat[keep], stop_lat[stops]],
        mode="car",
        drop_unreachable=True,
    )
    store.unlink(missing_ok=True)
    fleet = [  # 6, 8 and 4 seats in turn; every other one with a wheelchair place
        Shuttle(f"TAD-{k + 1}", (6, 8, 4)[k % 3], 1 - k % 2, "GARE_A", 6.5 * H, 19.5 * H)
        for k in range(vehicles)
    ]
    params = ServiceParams(
        start_s=6.5 * H, end_s=19.5 * H, window_s=300.0, ride_factor=1.3, ride_constant_s=300.0
    )
    service = OnDemandService.open(area, store, fleet, params=params)
    rng = random.Random(3)
    for k in range(riders):
        a, b = rng.sample(area.point_id, 2)
        now = 6.75 * H + k * (until_s - 6.75 * H) / riders
        service.book(TripRequest(a, b, earliest_pickup_s=now + rng.uniform(600, 5400),
                                 rider=f"rider-{k}"), now_s=now)  # fmt: skip
    return service


def show_on_demand_journey(
    network: Network, territory: Territory, out_dir: Path, console: Console, *, day: dt.date
) -> None:
    """Plan Saint-Vidal-d'Auze -> health centre at 08:00 with buses only and with the zones'
    shuttles, book the on-demand leg, and print both answers side by side.
    """
    places = pd.read_csv(territory.places)
    flex = read_flex(territory.gtfs)
    out_dir.mkdir(parents=True, exist_ok=True)
    service = zone_service(network, flex, places, out_dir / "ondemand.sqlite")
    tt = network.timetable
    assert tt is not None
    names = dict(zip(places["place_id"].astype(str), places["name"].astype(str), strict=True))
    names.update(
        (str(s).split(":", 1)[-1], str(n)) for s, n in zip(tt.stop_id, tt.stop_name, strict=True)
    )
    zone = flex.zones[ARVERNE_ZONE_ID].name
    start = dt.datetime.combine(day, dt.time(8))
    # the demo's clock: she asks at 08:00 on the demo day
    arverne = ServiceFeeder(
        service, day=day, name="arverne", zone=zone, names=names, clock=lambda: start
    )
    west = FlexFeeder(flex, name="tad-ouest", zones=(FLEX_ZONE_ID,), clock=lambda: start)
    origin = places[places["name"] == ORIGIN].iloc[0]
    health = places[places["kind"] == "health_centre"].iloc[0]
    planner = Planner(network)
    ends = (
        (float(origin["lat"]), float(origin["lon"])),
        (float(health["lat"]), float(health["lon"])),
    )
    console.print(
        f"[bold]{ORIGIN} → {escape(str(health['name']))}[/bold], asked at {start:%a %d %b %H:%M}: "
        f"buses only, and with the on-demand zones ({len(service.bookings())} rides already booked "
        f"on {len(service.vehicles)} shuttles)"
    )
    try:
        bus = planner.plan(*ends, depart_at=start)[0].to_text()
    except NoRouteError as exc:
        bus = f"no journey: {exc}"
    journeys = planner.plan(*ends, depart_at=start, feeders=[arverne, west])
    shuttle = next((j for j in journeys if any(leg.on_demand for leg in j.legs)), None)
    if shuttle is None:
        why = arverne.last_refusal.message if arverne.last_refusal else "no offer"
        with_od = f"no on-demand leg ({why})"
    else:
        booked = book_journey(shuttle, [arverne], rider=f"{ORIGIN} 08:00")
        lines = [shuttle.to_text()]
        for _, offer in booked.bookings:
            lines.append(_booked(offer, names))
        with_od = "\n".join(lines)
    table = Table("buses only", "with the on-demand shuttle, booked", show_lines=True)
    table.add_row(escape(bus), escape(with_od))
    console.print(table)
    console.print(f"on-demand bookings in {escape(str(out_dir / 'ondemand.sqlite'))}\n")


def _booked(offer: Offer, names: dict[str, str]) -> str:
    """One line on a confirmed booking."""

    def hhmm(s: float) -> str:
        return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}"

    lo, hi = offer.pickup_window_s
    return (
        f"booked {offer.booking_id[:8]} on {offer.vehicle_id}: pickup {hhmm(lo)}-{hhmm(hi)} at "
        f"{names.get(offer.pickup_point, offer.pickup_point)}, at "
        f"{names.get(offer.dropoff_point, offer.dropoff_point)} by {hhmm(offer.latest_dropoff_s)} "
        f"(planned {hhmm(offer.planned_dropoff_s)})"
    )
