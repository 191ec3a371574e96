"""The ``arverne diagnose`` command on the six-village territory, saved to disk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arverne.cli import app, main
from arverne.feeds.gtfs import read_gtfs
from arverne.network.links import build_links
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from tests.access import territory


def _inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    tt = build_timetable([read_gtfs(territory.write_territory(tmp_path / "feed"), name="t")])
    links, _ = build_links(None, tt)
    net = Network(timetable=tt, links=links).save(tmp_path / "net")
    zones = tmp_path / "zones.geojson"
    territory.zones().to_file(zones, driver="GeoJSON")
    services = tmp_path / "services.csv"
    s = territory.services()
    s.assign(lat=s.geometry.y, lon=s.geometry.x).drop(columns="geometry").to_csv(
        services, index=False
    )
    return net, zones, services


def test_diagnose_writes_outputs_and_refuses_bad_input(tmp_path: Path, monkeypatch, capsys) -> None:
    """Diagnose at 08:00 with a 30-min threshold: exit 0, the English summary printed (1,500
    people beyond from the doctor with --max-changes 1), map, GeoPackage and tables written;
    services without a category exit 3 with the reason; a bad --at exits 3."""
    net, zones, services = _inputs(tmp_path)
    out = tmp_path / "out"
    args = ["diagnose", str(net), str(zones), str(services), "--at", "2024-03-04 08:00"]
    result = CliRunner().invoke(
        app, [*args, "--max-changes", "1", "--window", "20", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1,500 people" in result.output
    for name in ("map.png", "diagnosis.gpkg", "beyond_health.csv", "summary_fr.txt"):
        assert (out / name).stat().st_size > 0
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lat,lon\na,45,3\n", encoding="utf-8")
    for argv, needle in (
        (
            [
                "diagnose",
                str(net),
                str(zones),
                str(bad),
                "--at",
                "2024-03-04 08:00",
                "-o",
                str(out),
            ],
            "category",
        ),
        ([*args[:-1], "2024-03-04 25:00", "-o", str(out)], "--at"),
    ):
        monkeypatch.setattr(sys, "argv", ["arverne", *argv])
        with pytest.raises(SystemExit) as stop:
            main()
        assert stop.value.code == 3
        assert needle in capsys.readouterr().err
