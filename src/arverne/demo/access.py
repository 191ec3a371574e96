"""The demo territory's diagnosis: its villages' access to health care, schools and the market
town before and after an on-demand zone for the worst-served (``demo-out/access/``).

Zones are the Voronoi cells of the territory's population points (each cell's people live at
its point, so the points are the population-weighted representative points); services come
from ``places.csv``: health centres and the hospital (``health``), schools (``school``) and the
market hall of Vernac-le-Marché (``town_centre``). The on-demand zone picks up at the homes of
the hamlets beyond the threshold from the health centre and takes them to the town's stops.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.access.compare import compare_diagnoses
from arverne.access.diagnosis import Diagnosis, DiagnosisParams, compute_diagnosis
from arverne.access.diagnosis_report import write_comparison, write_diagnosis
from arverne.access.scenarios import OnDemandZone, build_scenario

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from rich.console import Console

    from arverne.network.network import Network

CATEGORY_OF_KIND = {
    "health_centre": "health",
    "hospital": "health",
    "school": "school",
}
MARKET_HALL = "Halle du marché"


def territory_inputs(places_csv: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """(zones, services, points) of the demo territory from its ``places.csv``."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    places = pd.read_csv(places_csv)
    people = places[places["kind"] == "population"].reset_index(drop=True)
    pts = gpd.GeoSeries(gpd.points_from_xy(people["lon"], people["lat"]), crs=4326).to_crs(2154)
    hull = shapely.MultiPoint(list(pts)).convex_hull.buffer(1500)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(pts)), extend_to=hull)
    # voronoi_polygons returns cells in no particular order: match each to the point inside
    geoms = list(cells.geoms)
    owner = [next(g for g in geoms if g.contains(p)) for p in pts]
    zones = gpd.GeoDataFrame(
        {
            "id": people["place_id"],
            "name": people["name"],
            "population": people["population"].astype(float),
        },
        geometry=[g.intersection(hull) for g in owner],
        crs=2154,
    ).to_crs(4326)
    kinds = places["kind"].map(CATEGORY_OF_KIND)
    kinds[places["name"] == MARKET_HALL] = "town_centre"
    chosen = places[kinds.notna()]
    services = gpd.GeoDataFrame(
        {"id": chosen["place_id"], "category": kinds[kinds.notna()], "name": chosen["name"]},
        geometry=gpd.points_from_xy(chosen["lon"], chosen["lat"]),
        crs=4326,
    )
    points = pd.DataFrame(
        {
            "zone_id": people["place_id"],
            "population": people["population"].astype(float),
            "lon": people["lon"],
            "lat": people["lat"],
        }
    )
    return zones, services, points


def on_demand_for(
    diag: Diagnosis, network: Network, category: str = "health", zone_ids: list[str] | None = None
) -> OnDemandZone | None:
    """An on-demand zone picking up the people beyond the threshold at their points (of
    ``zone_ids`` only, when given) and taking them to the three stops nearest the service of
    the category most of them are nearest to (None: nobody beyond).
    """
    import shapely

    from arverne.geo import haversine_m

    pts = diag.points[diag.points[f"reason_{category}"] != ""]
    if zone_ids is not None:
        pts = pts[pts["zone_id"].isin(zone_ids)]
    if not len(pts):
        return None
    tt = network.timetable
    assert tt is not None
    svc = diag.services[diag.services["category"] == category]
    # the service most of them are nearest to (straight line), and its stops
    d = haversine_m(
        pts["lon"].to_numpy()[:, None],
        pts["lat"].to_numpy()[:, None],
        svc.geometry.x.to_numpy()[None],
        svc.geometry.y.to_numpy()[None],
    )
    target = svc.iloc[int(np.bincount(d.argmin(axis=1)).argmax())]
    ds = haversine_m(
        target.geometry.x, target.geometry.y, np.asarray(tt.stop_lon), np.asarray(tt.stop_lat)
    )
    hubs = tuple(str(tt.stop_id[i]) for i in np.argsort(ds)[:3])
    polygon = shapely.MultiPoint(list(zip(pts["lon"], pts["lat"], strict=True))).convex_hull.buffer(
        0.005
    )
    return OnDemandZone(
        "TAD" if zone_ids is None else f"TAD-{'-'.join(zone_ids)}",
        polygon,
        hubs=hubs,
        points=tuple(zip(pts["lat"], pts["lon"], strict=True)),
        response_s=600,
        start_s=7 * 3600,
        end_s=19 * 3600,
        step_s=120,
        speed_kmh=50.0,
    )


def run_access_demo(
    network: Network, places_csv: Path, out_dir: Path, day: dt.date, console: Console
) -> dict[str, Any]:
    """Diagnose the demo territory at 08:00 on ``day``, add an on-demand zone, compare; write
    everything into ``out_dir`` and print the headline figures.
    """
    from rich.table import Table

    zones, services, points = territory_inputs(places_csv)
    params = DiagnosisParams(
        at=dt.datetime.combine(day, dt.time(8)), threshold_min=30, window_min=60
    )
    base = compute_diagnosis(network, zones, services, params=params, points=points)
    write_diagnosis(base, out_dir / "base")
    result: dict[str, Any] = {"base": {c: base.counts(c) for c in base.categories}}
    odz = on_demand_for(base, network)
    table = Table(
        "service",
        "people",
        "beyond 30 min",
        "after on-demand",
        title="Demo territory: access at 08:00",
    )
    after = None
    if odz is not None:
        scenario = build_scenario(network, [odz], name="on-demand zone")
        after = compute_diagnosis(scenario, zones, services, params=params, points=points)
        write_diagnosis(after, out_dir / "on-demand")
        cmp = compare_diagnoses(base, after, name="on-demand zone")
        write_comparison(cmp, out_dir / "comparison")
        result["on_demand"] = {c: after.counts(c) for c in after.categories}
        result["gaining"] = {c: cmp.totals(c) for c in cmp.categories}
        result["suggest"] = _suggest(
            network, base, zones, services, points, params, out_dir, console
        )
    for c in base.categories:
        b = base.counts(c)
        a = after.counts(c)["beyond"] if after is not None else b["beyond"]
        table.add_row(c, f"{b['population']:,.0f}", f"{b['beyond']:,.0f}", f"{a:,.0f}")
    console.print(table)
    console.print(f"diagnosis maps, GeoPackage and summaries in {out_dir}")
    return result


def _suggest(
    network: Network,
    base: Diagnosis,
    zones: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    points: pd.DataFrame,
    params: DiagnosisParams,
    out_dir: Path,
    console: Console,
) -> list[dict[str, Any]]:
    """Rank one small on-demand zone per village among the five with most people beyond the
    threshold from health care (greedy maximal covering), as ``suggest.csv``.
    """
    from rich.table import Table

    from arverne.access.compare import suggest

    worst = base.beyond("health")["zone_id"].head(5).tolist()
    candidates = []
    for zid in worst:
        odz = on_demand_for(base, network, "health", [zid])
        if odz is not None:
            name = str(base.zones.set_index("zone_id").loc[zid, "name"])
            candidates.append((f"on-demand {name}", [odz]))
    if not candidates:
        return []
    ranked = suggest(
        network, zones, services, candidates, category="health", params=params, k=3, points=points
    )
    ranked.to_csv(out_dir / "suggest.csv", index=False)
    table = Table(
        "rank", "candidate", "people newly within 30 min", "cumulative", title="suggest: health"
    )
    for row in ranked.itertuples():
        table.add_row(
            str(row.rank),
            str(row.candidate),
            f"{row.people_newly_covered:,.0f}",
            f"{row.cumulative:,.0f}",
        )
    console.print(table)
    return [{str(k): v for k, v in rec.items()} for rec in ranked.to_dict("records")]
