"""A diagnosis written out: choropleth PNGs, a GeoPackage for QGIS, CSV tables, a French and
English summary (:func:`write_diagnosis`), and the same for a base-versus-scenario comparison.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.access.diagnosis import REASONS, Diagnosis

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arverne.access.compare import Comparison
    from arverne.access.scenarios import Edit

CATEGORY_WORDS = {
    "health": ("un service de santé", "a health service"),
    "hospital": ("un hôpital", "a hospital"),
    "school": ("une école", "a school"),
    "shops": ("des commerces", "shops"),
    "jobs": ("un pôle d'emploi", "a job centre"),
    "town_centre": ("le centre-bourg", "the town centre"),
}
REASON_WORDS = {
    "no_stop_within_walk": ("aucun arrêt à distance de marche", "no stop within walking distance"),
    "no_service_at_that_hour": ("aucun départ à cette heure", "no departure at that hour"),
    "too_many_changes": ("trop de correspondances", "too many changes"),
    "no_connection": (
        "pas de liaison dans le temps cherché",
        "no connection within the time searched",
    ),
    "too_long": ("trajet trop long", "journey too long"),
}


def _words(category: str) -> tuple[str, str]:
    return CATEGORY_WORDS.get(category, (category, category))


def _n(value: float, lang: str) -> str:
    text = f"{round(value):,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def summary_text(diag: Diagnosis, lang: str = "en") -> str:
    """A few sentences per category: who is beyond the threshold, where, and why."""
    p = diag.params
    total = float(diag.zones["population"].sum())
    lines = []
    when = p.at.strftime("%Y-%m-%d %H:%M")
    if lang == "fr":
        lines.append(
            f"Diagnostic de {len(diag.zones)} zones ({_n(total, lang)} habitants), départ le {when} "
            f"(médiane des départs sur {p.window_min} min), seuil {p.threshold_min:g} min, "
            f"au plus {p.max_changes} correspondances ; habitants placés en {_fr_method(diag.point_method)}."
        )
        if diag.straight_line_walk:
            lines.append("Sans réseau de rues : toute marche est estimée à vol d'oiseau.")
    else:
        lines.append(
            f"Diagnosis of {len(diag.zones)} zones ({_n(total, lang)} people), leaving {when} "
            f"(median over {p.window_min} min of departures), threshold {p.threshold_min:g} min, "
            f"at most {p.max_changes} changes; people placed at {diag.point_method}."
        )
        if diag.straight_line_walk:
            lines.append("No street network: every walk is a straight-line estimate.")
    for c in diag.categories:
        counts = diag.counts(c)
        table = diag.beyond(c)
        fr, en = _words(c)
        share = counts["beyond"] / counts["population"] * 100 if counts["population"] else 0.0
        reasons = [(r, counts[r]) for r in REASONS if counts[r] > 0]
        reasons.sort(key=lambda x: -x[1])
        worst = ", ".join(table["name"].head(3).astype(str))
        idx = 0 if lang == "fr" else 1
        why = "; ".join(f"{REASON_WORDS[r][idx]} {_n(v, lang)}" for r, v in reasons)
        if lang == "fr":
            share_fr = f"{share:.1f}".replace(".", ",")
            lines.append(
                f"- {fr} : {_n(counts['beyond'], lang)} habitants ({share_fr} %) dans "
                f"{len(table)} zones sont à plus de {p.threshold_min:g} min"
                + (f" (d'abord {worst})" if worst else "")
                + (f". Raisons : {why}." if why else ".")
            )
        else:
            lines.append(
                f"- {en}: {_n(counts['beyond'], lang)} people ({share:.1f}%) in {len(table)} zones "
                f"are beyond {p.threshold_min:g} min"
                + (f" (worst: {worst})" if worst else "")
                + (f". Reasons: {why}." if why else ".")
            )
    return "\n".join(lines) + "\n"


def _fr_method(method: str) -> str:
    return {
        "one point on each zone's surface": "un point à l'intérieur de chaque zone",
        "population-weighted points": "points pondérés par la population",
    }.get(method, method)


def _paths(geoms: Any) -> list[Any]:
    """One matplotlib Path per zone (every part and hole of its polygons, even-odd filled)."""
    from matplotlib.path import Path as MplPath

    out = []
    for geom in geoms:
        rings = []
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                poly = poly.buffer(0.0005)  # a point or line zone: a small disc around it
            rings += [np.asarray(poly.exterior.coords)] + [
                np.asarray(r.coords) for r in poly.interiors
            ]
        out.append(MplPath.make_compound_path(*[MplPath(r, closed=True) for r in rings]))
    return out


def plot_choropleth(
    zones: Any,
    panels: list[tuple[str, str, Any]],
    path: Path,
    *,
    title: str,
    threshold: float | None = None,
    diverging: bool = False,
    label: str = "minutes",
) -> Path:
    """One PNG with a choropleth panel per (column, subtitle, service points or None).

    Zones whose value is NaN are grey (not reached); with ``threshold``, zones over it are
    outlined in red. Drawn with matplotlib collections directly, one figure for all panels
    (geopandas' plot redraws the whole figure at each call: seconds per map).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection
    from matplotlib.colors import Normalize

    paths = _paths(zones.geometry)
    x0, y0, x1, y1 = zones.total_bounds
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(max(5.2 * n, 7.0), 5.6), dpi=90, squeeze=False)
    for ax, (column, subtitle, services) in zip(axes[0], panels, strict=True):
        values = zones[column].to_numpy(np.float64)
        known = ~np.isnan(values)
        if diverging:
            top = max(float(np.nanmax(np.abs(values))) if known.any() else 1.0, 1.0)
            cmap, norm = "RdBu", Normalize(-top, top)
        else:
            top = float(np.nanmax(values)) if known.any() else 1.0
            cmap, norm = "viridis_r", Normalize(0, max(top, threshold or 1.0))
        shown = PathCollection(
            [p for p, k in zip(paths, known, strict=True) if k],
            cmap=cmap,
            norm=norm,
            edgecolor="white",
            linewidth=0.3,
        )
        shown.set_array(values[known])
        ax.add_collection(shown)
        fig.colorbar(shown, ax=ax, shrink=0.6, label=label)
        ax.add_collection(
            PathCollection(
                [p for p, k in zip(paths, known, strict=True) if not k],
                facecolor="#cccccc",
                edgecolor="#888888",
                linewidth=0.3,
            )
        )
        if threshold is not None:
            over = known & (np.nan_to_num(values) > threshold)
            ax.add_collection(
                PathCollection(
                    [p for p, k in zip(paths, over, strict=True) if k],
                    facecolor="none",
                    edgecolor="red",
                    linewidth=0.8,
                )
            )
        if services is not None and len(services):
            ax.scatter(services.geometry.x, services.geometry.y, c="black", s=14, marker="P")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))
        ax.set_title(subtitle, fontsize=9)
        ax.set_axis_off()
    note = "grey: not reached" + (
        f"; red outline: over {threshold:g} min" if threshold is not None else ""
    )
    fig.suptitle(f"{title}\n{note}", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_diagnosis(diag: Diagnosis, out_dir: str | Path) -> dict[str, Path]:
    """Write maps, GeoPackage, tables and summaries of a diagnosis into ``out_dir``.

    Returns
    -------
    dict
        Name -> path of every file written: ``map_<category>.png``, ``diagnosis.gpkg`` (layers
        ``zones``, ``points``, ``services``), ``beyond_<category>.csv``, ``zones.csv``,
        ``summary_fr.txt``, ``summary_en.txt``, ``counts.json``.
    """
    import geopandas as gpd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    p = diag.params
    files["map"] = plot_choropleth(
        diag.zones,
        [(f"time_{c}", c, diag.services[diag.services["category"] == c]) for c in diag.categories],
        out / "map.png",
        title=f"Minutes to the nearest service, leaving {p.at:%Y-%m-%d %H:%M}"
        + ("\nwalking on straight lines (no street network)" if diag.straight_line_walk else ""),
        threshold=p.threshold_min,
    )
    for c in diag.categories:
        files[f"beyond_{c}"] = out / f"beyond_{c}.csv"
        diag.beyond(c).to_csv(files[f"beyond_{c}"], index=False)
    gpkg = out / "diagnosis.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    diag.zones.to_file(gpkg, layer="zones", driver="GPKG")
    pts = gpd.GeoDataFrame(
        diag.points, geometry=gpd.points_from_xy(diag.points["lon"], diag.points["lat"]), crs=4326
    )
    pts.to_file(gpkg, layer="points", driver="GPKG")
    diag.services.to_file(gpkg, layer="services", driver="GPKG")
    files["gpkg"] = gpkg
    files["zones"] = out / "zones.csv"
    diag.zones.drop(columns="geometry").to_csv(files["zones"], index=False)
    for lang in ("fr", "en"):
        files[f"summary_{lang}"] = out / f"summary_{lang}.txt"
        files[f"summary_{lang}"].write_text(summary_text(diag, lang), encoding="utf-8")
    files["counts"] = out / "counts.json"
    counts = {c: diag.counts(c) for c in diag.categories}
    files["counts"].write_text(json.dumps(counts, indent=2), encoding="utf-8")
    return files


def write_comparison(cmp: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Write a comparison: delta maps, the per-zone table, and a French/English summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["delta_map"] = plot_choropleth(
        cmp.zones,
        [(f"gained_{c}", c, None) for c in cmp.categories],
        out / "delta_map.png",
        title=f"Minutes gained to the nearest service: {cmp.name} vs base",
        diverging=True,
        label="minutes gained",
    )
    files["zones"] = out / "comparison.csv"
    cmp.zones.drop(columns="geometry").to_csv(files["zones"], index=False)
    for lang in ("fr", "en"):
        files[f"summary_{lang}"] = out / f"comparison_{lang}.txt"
        files[f"summary_{lang}"].write_text(cmp.text(lang), encoding="utf-8")
    return files


def diagnose_files(
    network_dir: str | Path,
    zones_path: str | Path,
    services_path: str | Path,
    out_dir: str | Path,
    *,
    params: Any,
    scenario: tuple[str, Sequence[Edit]] | None = None,
) -> tuple[Diagnosis, Comparison | None]:
    """``arverne diagnose``: read the network, zones and services, diagnose, write everything.

    Parameters
    ----------
    network_dir
        Compiled network directory.
    zones_path
        Zones (GeoJSON, GeoPackage): ``id``, ``population``, geometry.
    services_path
        Services (CSV ``id,category,lat,lon[,name]``, or a vector file of points).
    out_dir
        Folder to write (see :func:`write_diagnosis`).
    params
        :class:`~arverne.access.diagnosis.DiagnosisParams`.
    scenario
        (name, edits): the scenario is diagnosed too, from the same points, into
        ``out_dir/scenario/``, with the comparison (:func:`write_comparison`) beside it.

    Returns
    -------
    tuple
        The base diagnosis, and the comparison with the scenario (None without one).
    """
    from arverne.access.compare import compare_diagnoses
    from arverne.access.diagnosis import compute_diagnosis, read_services, read_zones
    from arverne.access.scenarios import build_scenario
    from arverne.network.network import Network

    network = Network.load(network_dir)
    zones, services = read_zones(zones_path), read_services(services_path)
    # a scenario's edits are checked against the network before any diagnosis runs
    name, edits = scenario if scenario is not None else ("", ())
    other_net = build_scenario(network, edits, name=name) if scenario is not None else None
    diag = compute_diagnosis(network, zones, services, params=params)
    write_diagnosis(diag, out_dir)
    if other_net is None:
        return diag, None
    points = diag.points[["zone_id", "population", "lon", "lat"]]
    other = compute_diagnosis(other_net, zones, services, params=params, points=points)
    folder = Path(out_dir) / "scenario"
    write_diagnosis(other, folder)
    comparison = compare_diagnoses(diag, other, name=name)
    write_comparison(comparison, folder)
    return diag, comparison
