"""The ``arverne plan`` command on a small saved network."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arverne.cli import app, main
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


FAR_STOPS = """
stop_id,stop_name,stop_lat,stop_lon
P,Papa,45.700,3.080
Q,Quebec,45.800,3.080
"""
FAR_TIMES = """
trip_id,arrival_time,departure_time,stop_id,stop_sequence
p1,08:00:00,08:00:00,P,1
p1,08:20:00,08:20:00,Q,2
"""


def _far_network(tmp_path: Path, route_type: int = 3) -> Path:
    files = {
        "agency.txt": AGENCY,
        "stops.txt": FAR_STOPS,
        "routes.txt": f"route_id,agency_id,route_short_name,route_type\nR1,ag,1,{route_type}",
        "calendar.txt": WEEK,
        "trips.txt": "route_id,service_id,trip_id\nR1,WK,p1",
        "stop_times.txt": FAR_TIMES,
    }
    feed = read_gtfs(write_feed(tmp_path / "feed", files), name="f")
    return Network(timetable=build_timetable([feed])).save(tmp_path / "net")


def test_plan_next_day_shows_dates_and_options(tmp_path: Path) -> None:
    """Issue 10 defect 8 and the options: two stops 11 km apart with one bus at 08:00. Asked on
    Monday 22:00, the journey leaves on Tuesday: a note says so and every leg on Tuesday shows
    its date. --max-duration 300 (5 h) leaves nothing (exit 1); so do --exclude-route-type 3,
    --exclude-modes bus, --exclude-routes R1, and allowing only other route types, routes,
    modes or agencies; --min-change and --no-school are accepted."""
    net = _far_network(tmp_path)
    runner = CliRunner()
    args = ["plan", str(net), "--from", "45.700,3.080", "--to", "45.800,3.080"]
    late = [*args, "--at", "2024-03-04 22:00"]
    result = runner.invoke(app, late)
    assert result.exit_code == 0, result.output
    assert "note: the first journey leaves on Tue 2024-03-05" in result.output
    assert "Tue 2024-03-05 08:00-08:20  bus 1" in result.output
    data = json.loads(runner.invoke(app, [*late, "--json"]).output)
    assert data["other_day"] is True
    same_day = runner.invoke(app, [*args, "--at", "2024-03-04 07:30"])
    assert "note:" not in same_day.output and "Mon 2024-03-04" not in same_day.output
    assert "08:00-08:20  bus 1" in same_day.output
    for extra in (
        ["--max-duration", "300"],
        ["--exclude-route-type", "3"],
        ["--exclude-modes", "bus"],
        ["--exclude-routes", "R1"],
        ["--route-type", "0"],
        ["--routes", "R2"],
        ["--modes", "tram,rail"],
        ["--agencies", "Nobody"],
    ):
        result = runner.invoke(app, [*late, *extra])
        assert result.exit_code == 1, (extra, result.output)
    result = runner.invoke(app, [*late, "--min-change", "5", "--no-school"])
    assert result.exit_code == 0, result.output


def test_plan_school_bus_left_out_with_no_school(tmp_path: Path) -> None:
    """The only bus is a school bus (route type 712): planned by default, nothing with --no-school."""
    net = _far_network(tmp_path, route_type=712)
    runner = CliRunner()
    args = ["plan", str(net), "--from", "45.700,3.080", "--to", "45.800,3.080"]
    args += ["--at", "2024-03-04 07:30"]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, [*args, "--no-school"]).exit_code == 1


def test_plan_prints_warnings_as_one_line(
    tmp_path: Path, monkeypatch: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10 defect 8: a warning raised while planning (here a straight-line fallback) is
    printed as one readable line, without Python's file and line number."""
    import warnings

    from arverne.errors import FallbackWarning
    from arverne.routing.planner import Planner

    net = _far_network(tmp_path)
    real_plan = Planner.plan

    def plan_warning(self: Planner, *args: object, **kw: object) -> object:
        warnings.warn(
            "origin 45.70000,3.08000: no walk street within 500 m", FallbackWarning, stacklevel=2
        )
        return real_plan(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Planner, "plan", plan_warning)  # type: ignore[attr-defined]
    args = ["plan", str(net), "--from", "45.700,3.080", "--to", "45.800,3.080"]
    monkeypatch.setattr(sys, "argv", ["arverne", *args, "--at", "2024-03-04 07:30"])  # type: ignore[attr-defined]
    main()  # the entry point, which turns warnings into lines for every command (returns on 0)
    output = "".join(capsys.readouterr())
    lines = [line for line in output.splitlines() if "no walk street" in line]
    assert lines == ["warning: origin 45.70000,3.08000: no walk street within 500 m"]
    assert ".py:" not in output and "warnings.warn" not in output


def test_multi_line_warning_prints_as_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A library's warning written over several indented lines (PyVRP's penalty warning is)
    reaches the terminal as one line with its words in order."""
    import warnings

    from arverne.routing.planner import Planner

    net = _far_network(tmp_path)
    real_plan = Planner.plan

    def plan_warning(self: Planner, *args: object, **kw: object) -> object:
        warnings.warn("\n    A penalty parameter\n    has reached its maximum.\n    ", stacklevel=2)
        return real_plan(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Planner, "plan", plan_warning)
    args = ["plan", str(net), "--from", "45.700,3.080", "--to", "45.800,3.080"]
    monkeypatch.setattr(sys, "argv", ["arverne", *args, "--at", "2024-03-04 07:30"])
    main()
    output = "".join(capsys.readouterr())
    lines = [line for line in output.splitlines() if "penalty" in line]
    assert lines == ["warning: A penalty parameter has reached its maximum."]


def test_plan_with_bike_share_and_carpool(tmp_path: Path) -> None:
    """Near Alpha to near Charlie at 06:00 (no bus yet): with --gbfs (a bike by the origin, a
    free dock by the destination) the answer rides a shared bike; with --carpool (a driver
    leaving at 06:05 the same way) it rides with her; a carpool file without its columns is
    refused with the reason."""
    net = _network(tmp_path)
    gbfs = tmp_path / "gbfs"
    gbfs.mkdir()
    stations = [("o", 45.7706, 3.0805, 3, 0), ("d", 45.7894, 3.0805, 0, 3)]
    docs = {
        "station_information": {
            "stations": [
                {"station_id": s, "name": s, "lat": lat, "lon": lon, "capacity": 3}
                for s, lat, lon, _, _ in stations
            ]
        },
        "station_status": {
            "stations": [
                {"station_id": s, "num_bikes_available": b, "num_docks_available": d,
                 "is_installed": True, "is_renting": True, "is_returning": True,
                 "last_reported": 1_709_530_000}
                for s, _, _, b, d in stations
            ]
        },
        "system_information": {"system_id": "v", "name": "V", "language": "fr"},
    }  # fmt: skip
    for name, data in docs.items():
        doc = {"last_updated": 1_709_530_000, "ttl": 60, "version": "2.3", "data": data}
        (gbfs / f"{name}.json").write_text(json.dumps(doc))
    offers = tmp_path / "offers.csv"
    head = (
        "driver_id,origin_lat,origin_lon,destination_lat,destination_lon,"
        "depart_earliest,depart_latest,seats,max_detour_min\n"
    )
    offers.write_text(head + "anne,45.7700,3.0805,45.7900,3.0805,2024-03-04T06:05,"
                      "2024-03-04T06:10,2,10\n")  # fmt: skip
    args = ["plan", str(net), "--from", "45.7705,3.0805", "--to", "45.7895,3.0805"]
    args += ["--at", "2024-03-04 06:00", "--json"]
    for option, path, mode in (("--gbfs", gbfs, "bikeshare"), ("--carpool", offers, "carpool")):
        result = CliRunner().invoke(app, [*args, option, str(path)])
        assert result.exit_code == 0, result.output
        (journey,) = json.loads(result.output)["journeys"]
        assert mode in {f["properties"]["mode"] for f in journey["features"]}
    offers.write_text("driver_id\nanne\n")
    result = CliRunner().invoke(app, [*args, "--carpool", str(offers)])
    assert "missing column" in str(result.exception)
