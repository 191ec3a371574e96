"""The demo's on-demand journey: Saint-Vidal-d'Auze to the health centre at 08:00."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from rich.console import Console

from arverne.demo.ondemand import RIDERS_BEFORE, show_on_demand_journey
from arverne.demo.run import DEMO_DAY
from arverne.demo.territory import write_territory
from arverne.network.build import build_network


def test_saint_vidal_gets_a_booked_shuttle_beside_the_bus(tmp_path: Path) -> None:
    """On the generated territory, the 08:00 journey from Saint-Vidal-d'Auze: buses alone
    leave at 12:03; with the north-eastern zone the shuttle picks her up before 08:30, the
    ride is booked (one more confirmed booking in the store than the morning's riders) and the
    table shows both answers."""
    territory = write_territory(tmp_path / "territory")
    network = build_network([territory.gtfs], territory.osm, tmp_path / "network")
    console = Console(record=True, width=240)
    show_on_demand_journey(network, territory, tmp_path / "od", console, day=DEMO_DAY)
    text = console.export_text()
    assert "12:03" in text and "on demand (Zone TAD Nord-Est)" in text and "booked " in text
    with sqlite3.connect(tmp_path / "od" / "ondemand.sqlite") as db:
        rows = db.execute(
            "SELECT rider, pickup_lo_s FROM bookings WHERE status = 'confirmed'"
        ).fetchall()
    ours = [lo for rider, lo in rows if rider.startswith("Saint-Vidal")]
    assert len(ours) == 1 and len(rows) <= RIDERS_BEFORE + 1
    assert dt.timedelta(seconds=ours[0]) < dt.timedelta(hours=8, minutes=30)
