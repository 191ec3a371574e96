"""``arverne isochrones``: polygons and surface written, bad requests refused."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pytest
import rasterio
from typer.testing import CliRunner

from arverne.cli import app, main
from tests.access.town import build_town


def test_isochrones_command_writes_polygons_and_surface(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The random town at 07:35 from two origins: a GeoPackage of three cutoffs and a GeoTIFF
    in Lambert-93; walking isochrones as GeoJSON; a .shp output and a transit request without
    --at are refused with exit 3."""
    net = build_town(tmp_path, 1).path
    runner = CliRunner()
    args = ["isochrones", str(net), "--from", "45.7772,3.0842", "--from", "45.7830,3.0905"]
    result = runner.invoke(
        app,
        [
            *args,
            "--at",
            "2024-03-05 07:35",
            "--cutoffs",
            "10,20,30",
            "-o",
            str(tmp_path / "iso.gpkg"),
            "--raster",
            str(tmp_path / "iso.tif"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "30 min" in result.output
    frame = gpd.read_file(tmp_path / "iso.gpkg")
    assert list(frame["cutoff"]) == [10, 20, 30] and frame.crs.to_epsg() == 2154
    with rasterio.open(tmp_path / "iso.tif") as src:
        assert src.crs.to_epsg() == 2154
    result = runner.invoke(
        app, [*args, "--mode", "walk", "--cutoffs", "5,10", "-o", str(tmp_path / "w.geojson")]
    )
    assert result.exit_code == 0, result.output
    assert gpd.read_file(tmp_path / "w.geojson").crs.to_epsg() == 4326
    for bad in (["-o", str(tmp_path / "iso.shp")], ["-o", str(tmp_path / "x.gpkg")]):
        extra = ["--at", "2024-03-05 07:35"] if bad[1].endswith(".shp") else []
        monkeypatch.setattr(sys, "argv", ["arverne", *args, *extra, *bad])
        with pytest.raises(SystemExit) as exc:
            main()
        assert exc.value.code == 3
