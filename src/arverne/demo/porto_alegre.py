"""Porto Alegre's hexgrid: who is more than 30 minutes from health care by public transport.

The Access to Opportunities hexgrid (``bundles/porto-alegre/poa_hexgrid.csv``: H3 cells of
resolution 9 with population and health facilities) on the EPTC bus and Trensurb metro network
with the city centre's streets, on a weekday at noon (the EPTC sample runs 11:20-17:50). Zones
are the Voronoi cells of the hexagons' centres (a hexagonal lattice's Voronoi cells are its
hexagons; the outer ones are cut at 300 m), each cell's people at its centre; the health
services are the cells holding at least one facility. Cells outside the street extract walk
on straight lines (the planner's rule for a point with no street near it).

``python -m arverne.demo.porto_alegre DATA OUT`` (DATA: ``../shared/data``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arverne.access.diagnosis import DiagnosisParams, compute_diagnosis
from arverne.access.diagnosis_report import write_diagnosis

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from rich.console import Console

BUNDLE = "bundles/porto-alegre"
NOON = dt.datetime(2019, 5, 13, 12, 0)
"""A Monday inside the EPTC sample's service."""


def hexgrid_inputs(data: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """(zones, health services, points) of the hexgrid."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    grid = pd.read_csv(data / BUNDLE / "poa_hexgrid.csv")
    centres = gpd.GeoSeries(gpd.points_from_xy(grid["lon"], grid["lat"]), crs=4326).to_crs(31982)
    area = shapely.union_all(list(centres.buffer(300)))
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(centres)), extend_to=area)
    # match cells to centres through a spatial index (voronoi_polygons keeps no order)
    tree = shapely.STRtree(list(cells.geoms))
    owner = tree.query(list(centres), predicate="within")
    cell_of = dict(zip(owner[0].tolist(), owner[1].tolist(), strict=True))
    geoms = [cells.geoms[cell_of[i]].intersection(area) for i in range(len(grid))]
    zones = gpd.GeoDataFrame(
        {"id": grid["id"], "name": grid["id"], "population": grid["population"].astype(float)},
        geometry=geoms,
        crs=31982,
    ).to_crs(4326)
    health = grid[grid["healthcare"] > 0]
    services = gpd.GeoDataFrame(
        {
            "id": health["id"],
            "category": "health",
            "name": [f"{n} health facilities" for n in health["healthcare"]],
        },
        geometry=gpd.points_from_xy(health["lon"], health["lat"]),
        crs=4326,
    )
    points = pd.DataFrame(
        {
            "zone_id": grid["id"],
            "population": grid["population"].astype(float),
            "lon": grid["lon"],
            "lat": grid["lat"],
        }
    )
    return zones, services, points


def run_porto_alegre(data: Path, out_dir: Path, console: Console) -> dict[str, Any]:
    """Build (or reuse) the network, diagnose access to health care at noon, write it all."""
    from arverne.network.build import build_network

    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = data / BUNDLE
    network = build_network(
        [bundle / "poa_eptc.zip", bundle / "poa_trensurb.zip"],
        bundle / "poa_osm.pbf",
        out_dir / "network",
    )
    built = time.perf_counter() - t0
    zones, services, points = hexgrid_inputs(data)
    params = DiagnosisParams(at=NOON, threshold_min=30, window_min=60)
    t1 = time.perf_counter()
    diag = compute_diagnosis(network, zones, services, params=params, points=points)
    diagnosed = time.perf_counter() - t1
    write_diagnosis(diag, out_dir)
    counts = diag.counts("health")
    figures = {
        "cells": len(zones),
        "people": counts["population"],
        "health_cells": len(services),
        "at": NOON.isoformat(),
        "beyond_30_min": counts["beyond"],
        "by_reason": {
            k: v for k, v in counts.items() if k not in ("population", "within", "beyond")
        },
        "seconds": {"build": round(built, 1), "diagnosis": round(diagnosed, 1)},
    }
    (out_dir / "figures.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    console.print(
        f"Porto Alegre: {counts['beyond']:,.0f} of {counts['population']:,.0f} people "
        f"({len(zones)} cells) are beyond 30 min of health care at noon; outputs in {out_dir}"
    )
    return figures


def main(argv: list[str] | None = None) -> None:
    """``python -m arverne.demo.porto_alegre DATA OUT``."""
    from rich.console import Console

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m arverne.demo.porto_alegre ../shared/data OUT")
    run_porto_alegre(Path(args[0]), Path(args[1]), Console())


if __name__ == "__main__":
    main()
