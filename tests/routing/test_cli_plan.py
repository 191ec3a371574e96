"""The ``arverne plan`` command on a small saved network."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from arverne.cli import app
from arverne.feeds.gtfs import read_gtfs
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from tests.routing.gtfs_gen import write_feed
from tests.routing.test_scenarios import AGENCY, ROUTES, STOPS, TWO_LINES, TWO_LINES_TIMES, WEEK


def _network(tmp_path: Path) -> Path:
    files = {
        "agency.txt": AGENCY,
        "stops.txt": STOPS,
        "routes.txt": ROUTES,
        "calendar.txt": WEEK,
        "trips.txt": TWO_LINES,
        "stop_times.txt": TWO_LINES_TIMES,
    }
    feed = read_gtfs(write_feed(tmp_path / "feed", files), name="f")
    return Network(timetable=build_timetable([feed])).save(tmp_path / "net")


def test_plan_text_json_and_no_route(tmp_path: Path) -> None:
    """Plan from near Alpha to near Charlie on Monday 07:50: text names the lines, --json gives
    GeoJSON feature collections, a date outside the calendar exits 1 with its reason, a bad
    --from is refused (exit 3 through main, a usage error through the runner)."""
    net = _network(tmp_path)
    runner = CliRunner()
    args = [
        "plan",
        str(net),
        "--from",
        "45.7705,3.0805",
        "--to",
        "45.7895,3.0805",
        "--at",
        "2024-03-04 07:50",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "walk" in result.output
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["journeys"][0]["type"] == "FeatureCollection"
    late = [*args[:-1], "2031-01-01 08:00"]
    result = runner.invoke(app, late)
    assert result.exit_code == 1
    assert "outside_calendar" in result.output
    result = runner.invoke(
        app, ["plan", str(net), "--from", "45.7", "--to", "45.7,3.0", "--at", "2024-03-04 07:50"]
    )
    assert result.exit_code != 0
