"""Outputs of a solved tour problem: GeoJSON following the streets, a Gantt chart and a map.

Plots use matplotlib's non-interactive Agg backend (no display needed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arverne.errors import NoRouteError

if TYPE_CHECKING:
    from arverne.fleet.solution import Tour, TourSolution
    from arverne.network.network import Network


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def _leg_coords(
    network: Network | None,
    profile: str,
    a: tuple[float, float],
    b: tuple[float, float],
    method: str,
) -> tuple[list[tuple[float, float]], bool]:
    """Coordinates of one leg and whether they follow the streets."""
    if a == b:
        return [a, b], True
    if network is not None and network.streets is not None and method == "streets":
        from arverne.routing.streets import street_path

        try:
            path = street_path(network.streets, profile, a, b)
        except (NoRouteError, ValueError):
            return [a, b], False
        coords = [(float(x), float(y)) for x, y in path.coords]
        return [a, *coords, b], True
    return [a, b], False


def tours_geojson(solution: TourSolution, network: Network | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one LineString per tour along the streets, one Point per stop.

    Legs follow the street network when the travel times came from it (``following_streets``
    is true on the tour's feature); otherwise, and for a leg with no street path, the leg is a
    straight segment and the feature says so.
    """
    problem = solution.problem
    lonlat = {p.place_id: (p.lon, p.lat) for p in problem.places}
    features: list[dict[str, Any]] = []
    for tour in solution.tours:
        line: list[tuple[float, float]] = []
        along = True
        for prev, stop in zip(tour.stops[:-1], tour.stops[1:], strict=True):
            coords, ok = _leg_coords(
                network,
                tour.profile,
                lonlat[prev.place_id],
                lonlat[stop.place_id],
                solution.matrix.method,
            )
            along &= ok
            line.extend(coords if not line else coords[1:])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [list(c) for c in line]},
                "properties": {
                    "vehicle_id": tour.vehicle_id,
                    "profile": tour.profile,
                    "distance_m": round(tour.distance_m, 1),
                    "duration_s": round(tour.duration_s, 1),
                    "cost": round(tour.cost, 2),
                    "stops": len(tour.stops),
                    "following_streets": along,
                    "travel_times": solution.matrix.method,
                },
            }
        )
        for order, stop in enumerate(tour.stops):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(lonlat[stop.place_id])},
                    "properties": {
                        "vehicle_id": tour.vehicle_id,
                        "order": order,
                        "kind": stop.kind,
                        "ref_id": stop.ref_id,
                        "place_id": stop.place_id,
                        "arrival": _clock(stop.arrival_s),
                        "start": _clock(stop.start_s),
                        "end": _clock(stop.end_s),
                        "load": list(stop.load),
                    },
                }
            )
    for item in solution.unassigned:
        visit = next((v for v in problem.visits if v.visit_id == item.ref_id), None)
        place = (
            visit.place_id
            if visit
            else next(s.pickup_place_id for s in problem.shipments if s.shipment_id == item.ref_id)
        )
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(lonlat[place])},
                "properties": {"unassigned": item.ref_id, "kind": item.kind, "reason": item.reason},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _colour(i: int) -> Any:
    import matplotlib

    return matplotlib.colormaps["tab10"](i % 10)


def plot_gantt(solution: TourSolution, path: str | Path) -> Path:
    """Write a Gantt chart (one row per vehicle: driving, waiting, service) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    path = Path(path)
    tours: list[Tour] = list(solution.tours)
    fig, ax = plt.subplots(figsize=(11, 1.0 + 0.6 * max(1, len(tours))))
    for row, tour in enumerate(tours):
        prev_end = tour.stops[0].start_s
        for stop in tour.stops[1:]:
            travel_end = stop.arrival_s
            ax.barh(row, travel_end - prev_end, left=prev_end / 1, height=0.35, color="0.75")
            if stop.start_s > stop.arrival_s:
                ax.barh(
                    row,
                    stop.start_s - stop.arrival_s,
                    left=stop.arrival_s,
                    height=0.35,
                    color="0.92",
                    edgecolor="0.6",
                    hatch="//",
                )
            if stop.end_s > stop.start_s:
                ax.barh(
                    row,
                    stop.end_s - stop.start_s,
                    left=stop.start_s,
                    height=0.6,
                    color=_colour(row),
                )
                if stop.end_s - stop.start_s >= 1200:
                    ax.text(
                        (stop.start_s + stop.end_s) / 2,
                        row,
                        stop.ref_id,
                        ha="center",
                        va="center",
                        fontsize=6,
                    )
            prev_end = stop.end_s if stop.kind != "end" else stop.arrival_s
    ax.set_yticks(range(len(tours)), [t.vehicle_id for t in tours])
    ax.invert_yaxis()
    lo = min((t.stops[0].start_s for t in tours), default=0.0)
    hi = max((t.stops[-1].arrival_s for t in tours), default=3600.0)
    ticks = range(int(lo // 3600) * 3600, int(hi // 3600 + 2) * 3600, 3600)
    ax.set_xticks(list(ticks), [_clock(t) for t in ticks])
    ax.set_xlim(lo - 600, hi + 600)
    ax.grid(axis="x", color="0.9")
    ax.set_title(
        f"{solution.problem.name or 'tours'}: {len(tours)} tours, "
        f"{len(solution.unassigned)} unassigned, {solution.distance_m / 1000:.1f} km"
    )
    ax.legend(
        handles=[
            Patch(color="0.75", label="driving"),
            Patch(facecolor="0.92", hatch="//", label="waiting"),
            Patch(color=_colour(0), label="service"),
        ],
        loc="upper right",
        fontsize=7,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_map(
    solution: TourSolution,
    path: str | Path,
    network: Network | None = None,
    geojson: dict[str, Any] | None = None,
) -> Path:
    """Write a map of the tours (along the streets when known) over the street network, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = Path(path)
    geojson = geojson or tours_geojson(solution, network)
    fig, ax = plt.subplots(figsize=(9, 9))
    if network is not None and network.streets is not None:
        streets = network.streets
        ptr = np.asarray(streets.geom_ptr)
        lon, lat = np.asarray(streets.geom_lon), np.asarray(streets.geom_lat)
        twin = np.asarray(streets.arc_twin)
        segs = []
        for a in range(streets.n_arcs):
            if twin[a] < 0 or a < twin[a]:
                segs.append(np.column_stack([lon[ptr[a] : ptr[a + 1]], lat[ptr[a] : ptr[a + 1]]]))
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(segs, colors="0.85", linewidths=0.6))
    row = {t.vehicle_id: i for i, t in enumerate(solution.tours)}
    for feature in geojson["features"]:
        geom, props = feature["geometry"], feature["properties"]
        if geom["type"] == "LineString":
            xy = np.asarray(geom["coordinates"])
            ax.plot(
                xy[:, 0],
                xy[:, 1],
                color=_colour(row[props["vehicle_id"]]),
                linewidth=2,
                label=f"{props['vehicle_id']} ({props['distance_m'] / 1000:.1f} km)",
            )
        elif "unassigned" in props:
            ax.plot(*geom["coordinates"], marker="x", color="red", markersize=8)
        elif props["kind"] in ("start", "end"):
            ax.plot(*geom["coordinates"], marker="s", color="black", markersize=8)
        else:
            ax.plot(
                *geom["coordinates"],
                marker="o",
                color=_colour(row[props["vehicle_id"]]),
                markersize=5,
            )
    ax.set_aspect(_aspect(solution))
    ax.autoscale_view()
    ax.legend(fontsize=7, loc="best")
    method = solution.matrix.method + (
        " - straight-line fallback" if solution.matrix.fallback else ""
    )
    ax.set_title(f"{solution.problem.name or 'tours'} (travel times: {method}); red x = unassigned")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _aspect(solution: TourSolution) -> float:
    """Height over width of one map unit: 1 / cos(latitude) for WGS84 places, 1 on a plane.

    Coordinates are WGS84 when the travel times came from them (streets or straight lines) and
    every latitude is one; given and Euclidean matrices may sit on any plane.
    """
    import numpy as np

    lat = np.array([p.lat for p in solution.problem.places], dtype=np.float64)
    if solution.matrix.method not in ("streets", "straight_line") or np.abs(lat).max() > 90:
        return 1.0
    # near a pole a degree of longitude shrinks to nothing: cap the stretch at 85 degrees
    return float(1 / np.cos(np.radians(min(85.0, abs(float(lat.mean()))))))


def write_outputs(
    solution: TourSolution, out_dir: str | Path, network: Network | None = None
) -> dict[str, Path]:
    """Write ``solution.json``, ``tours.geojson``, ``gantt.png`` and ``map.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    geojson = tours_geojson(solution, network)
    paths = {
        "solution": out / "solution.json",
        "geojson": out / "tours.geojson",
        "gantt": out / "gantt.png",
        "map": out / "map.png",
    }
    paths["solution"].write_text(
        json.dumps(solution.to_json(), indent=1, ensure_ascii=False), encoding="utf-8"
    )
    paths["geojson"].write_text(json.dumps(geojson, ensure_ascii=False), encoding="utf-8")
    plot_gantt(solution, paths["gantt"])
    plot_map(solution, paths["map"], network, geojson)
    return paths
