"""Scenarios from a JSON file: ``arverne scenario`` saves one as a network, ``arverne diagnose
--scenario`` diagnoses it beside the base and writes the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from arverne.access.scenario_json import edits_from_json
from arverne.access.scenarios import AddLine, OnDemandZone, RemoveLine
from arverne.cli import app
from arverne.errors import InputError
from arverne.network.network import Network
from tests.access.test_cli_diagnose import _inputs

LINE_C_TO_TOWN = {
    "kind": "add_line",
    "line_id": "N",
    "stops": ["t:C", "t:B"],
    "headway_s": 600,
    "start_s": 7 * 3600,
    "end_s": 10 * 3600,
    "run_s": [900],
    "both_directions": False,
}
"""Village X's stop C to the town every 10 minutes, 15 minutes on board."""


def test_json_edits_equal_the_python_ones() -> None:
    """Each kind of edit read from JSON equals the edit built in Python: lists become tuples,
    a new stop [lat, lon, name] a tuple, a GeoJSON polygon a shapely polygon."""
    box = shapely.box(3.0, 45.0, 3.1, 45.1)
    edits = edits_from_json(
        {
            "edits": [
                {**LINE_C_TO_TOWN, "stops": ["t:C", [45.05, 3.05, "Mid"], "t:B"], "run_s": [1, 2]},
                {"kind": "remove_line", "route_id": "t:R2"},
                {"kind": "on_demand_zone", "zone_id": "Z", "polygon": box.__geo_interface__,
                 "hubs": ["t:A"], "days": ["mon"]},
            ]
        }
    )  # fmt: skip
    assert edits[0] == AddLine(
        "N",
        ("t:C", (45.05, 3.05, "Mid"), "t:B"),
        headway_s=600,
        start_s=7 * 3600,
        end_s=10 * 3600,
        run_s=(1, 2),
        both_directions=False,
    )
    assert edits[1] == RemoveLine("t:R2")
    zone = edits[2]
    assert isinstance(zone, OnDemandZone) and zone.polygon.equals(box)
    assert (zone.hubs, zone.days) == (("t:A",), ("mon",))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"edits": []}, "at least one edit"),
        ([{"kind": "teleport"}], "kind 'teleport' is not one of"),
        ([{**LINE_C_TO_TOWN, "colour": "red"}], "unknown field(s) colour"),
        ([{**LINE_C_TO_TOWN, "headway_s": "600"}], "headway_s must be int"),
        ([{**LINE_C_TO_TOWN, "headway_s": True}], "headway_s must be int"),
        ([{"kind": "remove_line"}], "route_id"),
        ([{**LINE_C_TO_TOWN, "headway_s": 0}], "headway_s must be > 0"),
        ([{"kind": "on_demand_zone", "zone_id": "Z", "polygon": {"type": "Nope"}, "hubs": ["A"]}],
         "polygon is not a GeoJSON geometry"),
    ],
)  # fmt: skip
def test_bad_json_edits_are_refused_with_the_reason(data, needle) -> None:
    """Empty, unknown kinds, unknown fields, wrong types (a string or a boolean for a number),
    a missing field, an impossible value and a bad polygon: an InputError naming the edit."""
    with pytest.raises(InputError) as refused:
        edits_from_json(data)
    assert needle in str(refused.value)


def test_scenario_is_saved_and_diagnosed_against_the_base(tmp_path: Path) -> None:
    """A new line from village X (500 people, only an afternoon bus) to the town: `arverne
    scenario` saves a network that loads with its edits recorded; `arverne diagnose --scenario`
    writes the base, the scenario and the comparison: X's 500 people come within 30 minutes;
    an unknown stop in the file is refused before any diagnosis is written."""
    net, zones, services = _inputs(tmp_path)
    edits = tmp_path / "new_line.json"
    edits.write_text(json.dumps({"name": "line N", "edits": [LINE_C_TO_TOWN]}), encoding="utf-8")
    runner = CliRunner()
    saved = runner.invoke(app, ["scenario", str(net), str(edits), "-o", str(tmp_path / "scen")])
    assert saved.exit_code == 0, saved.output
    loaded = Network.load(tmp_path / "scen")
    assert loaded.manifest["scenario"]["name"] == "line N"
    assert loaded.manifest["scenario"]["trips_added"] == 18

    out = tmp_path / "out"
    args = ["diagnose", str(net), str(zones), str(services), "--at", "2024-03-04 08:00"]
    result = runner.invoke(app, [*args, "--window", "20", "--scenario", str(edits), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "- health (line N): 500 people come within 30 min, 0 fall beyond" in result.output
    for name in (
        "map.png",
        "scenario/map.png",
        "scenario/delta_map.png",
        "scenario/comparison.csv",
    ):
        assert (out / name).stat().st_size > 0

    edits.write_text(json.dumps([{**LINE_C_TO_TOWN, "stops": ["t:C", "t:NOPE"]}]), "utf-8")
    refused = runner.invoke(app, [*args, "--scenario", str(edits), "-o", str(tmp_path / "o2")])
    assert isinstance(refused.exception, InputError) and "t:NOPE" in str(refused.exception)
    assert not (tmp_path / "o2" / "map.png").exists()
