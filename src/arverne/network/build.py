"""The only place where feed tables become routing arrays: ``build_network``."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arverne.errors import GtfsError, InputError, NetworkStoreError
from arverne.feeds.limits import ReadLimits
from arverne.network.links import STRAIGHT_LINE_DETOUR
from arverne.network.network import Network
from arverne.network.store import SCHEMA_VERSION, check_target, read_manifest
from arverne.paths import check_input, check_outside_inputs
from arverne.progress import steps

STREET_MODES = ("walk", "bike", "car", "tractor")


@dataclass(frozen=True)
class BuildParams:
    """Parameters of a network build; part of the reuse key, so a change rebuilds."""

    footpath_radius_m: float = 500.0
    max_snap_m: float = 300.0
    walk_speed_mps: float = 1.3
    modes: tuple[str, ...] = STREET_MODES
    straight_line_detour: float = STRAIGHT_LINE_DETOUR
    """Walks estimated without streets (footpaths; the planner's legs off the streets):
    walking distance / great-circle distance."""
    limits: ReadLimits = field(default_factory=ReadLimits)
    """Read limits of every feed (a larger feed needs them raised)."""

    def __post_init__(self) -> None:
        if not self.footpath_radius_m >= 0:
            raise InputError(f"footpath_radius_m must be >= 0, got {self.footpath_radius_m}")
        if not self.max_snap_m > 0:
            raise InputError(f"max_snap_m must be > 0, got {self.max_snap_m}")
        if not 0.1 <= self.walk_speed_mps <= 5:
            raise InputError(f"walk_speed_mps must lie in [0.1, 5] m/s, got {self.walk_speed_mps}")
        if not 1 <= self.straight_line_detour <= 3:
            raise InputError(
                f"straight_line_detour must lie in [1, 3], got {self.straight_line_detour}"
            )
        unknown = set(self.modes) - set(STREET_MODES)
        if unknown or "walk" not in self.modes:
            raise InputError(
                f"modes must include walk and come from {STREET_MODES}, got {self.modes}"
            )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's regular files in name order (a GTFS feed may be a
    folder: its files lie at the top, so sub-folders, links that loop and pipes are not read).
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def build_network(
    gtfs: Sequence[Path],
    osm: Path | None,
    out: Path,
    *,
    params: BuildParams = BuildParams(),
    force: bool = False,
) -> Network:
    """Compile GTFS feeds (and OSM streets) into a network directory and open it.

    Building again from inputs with the same content and the same parameters reuses the
    directory already there, unless ``force``. The directory is replaced atomically.

    Parameters
    ----------
    gtfs
        GTFS zips or folders; ids are namespaced ``feed:id`` with each feed's file stem.
    osm
        ``.osm.pbf``, ``.osm`` or ``.osm.gz`` extract, or None for a timetable-only network.
    out
        Directory to write.
    params
        Build parameters.
    force
        Rebuild even when an identical build exists.
    """
    from arverne.memory import lean_memory  # imports pyarrow: only a build needs it

    if not gtfs:
        raise InputError("build needs at least one GTFS feed")
    inputs = [Path(p) for p in gtfs] + ([Path(osm)] if osm is not None else [])
    out = Path(out)
    check_paths(inputs, out)
    with steps(len(inputs) + 4) as progress:
        progress.step("hashing inputs")
        sources = [
            {"path": str(p), "role": "osm" if p == osm else "gtfs", "sha256": file_sha256(p)}
            for p in inputs
        ]
        key = _build_key(sources, params)
        if not force and _reusable(out, key):
            return Network.load(out)
        progress.done()

        with lean_memory():  # trimmed once at the end: each step reuses the last one's pages
            timetable, streets, links, notices = _build_parts(gtfs, osm, params, progress)

        manifest = {
            "build_key": key,
            "inputs": sources,
            "params": asdict(params),
            "counts": _counts(timetable, streets, links),
            "notices": notices,
        }
        if streets is not None:
            from arverne.network.links import unlinked_stops

            manifest["unlinked_stops"] = unlinked_stops(links, streets, timetable)
        progress.step("writing network")
        Network(streets=streets, timetable=timetable, links=links, manifest=manifest).save(out)
        progress.done()
    return Network.load(out)


def check_paths(inputs: Sequence[Path], out: Path) -> None:
    """Refuse inputs that are not regular files or folders, and an output that would harm one.

    A named pipe or a device would block the build (or read forever); an output that is an
    input, lies inside one, or holds one would overwrite what the build reads. The output
    itself must be new, empty, or a network (:func:`arverne.network.store.check_target`).
    """
    for path in inputs:
        check_input(path)
    check_outside_inputs(out, inputs, holds=True)
    check_target(out)


def _build_parts(
    gtfs: Sequence[Path], osm: Path | None, params: BuildParams, progress: Any
) -> tuple[Any, Any, Any, dict[str, dict[str, int]]]:
    """Timetable, streets (None without OSM), links and the notice summaries.

    Without OSM every footpath is estimated from the straight line; with OSM the streets are
    used between linked stops (see :mod:`arverne.network.links`).
    """
    from arverne.feeds.gtfs import read_gtfs
    from arverne.network.timetable import build_timetable

    feeds = []
    for path, name in zip(gtfs, _feed_names(gtfs), strict=True):
        progress.step(f"reading {Path(path).name}")
        feeds.append(read_gtfs(Path(path), name=name, limits=params.limits))
        progress.done()
    progress.step("compiling timetable")
    timetable = build_timetable(feeds)
    if not timetable.stop_id.shape[0]:
        raise GtfsError("no stop left after validation: nothing to route on")
    notices = {feed.name: _notice_summary(feed.notices) for feed in feeds}
    pathways = _pathway_table(feeds)
    del feeds  # the feed tables leave memory before the streets come in
    progress.done()

    from arverne.network.links import build_links

    streets = None
    if osm is not None:
        from arverne.feeds.osm import read_osm
        from arverne.network.streets import build_streets

        progress.step(f"building streets from {Path(osm).name}")
        tables = read_osm(Path(osm), list(params.modes))
        notices["osm"] = _notice_summary(tables.notices)
        streets = build_streets(tables, modes=params.modes)
        del tables
        progress.done()
    progress.step("linking stops to streets" if streets is not None else "estimating footpaths")
    station_walks = None
    if pathways is not None:
        from arverne.network.pathways import pathway_footpaths

        station_walks = pathway_footpaths(
            pathways,
            timetable.stop_id,
            timetable.stop_lon,
            timetable.stop_lat,
            walk_speed_mps=params.walk_speed_mps,
            straight_line_detour=params.straight_line_detour,
        )
    links, link_notices = build_links(
        streets,
        timetable,
        max_snap_m=params.max_snap_m,
        footpath_radius_m=params.footpath_radius_m,
        walk_speed_mps=params.walk_speed_mps,
        straight_line_detour=params.straight_line_detour,
        pathways=station_walks,
    )
    progress.done()
    notices["links"] = _notice_summary(link_notices)
    return timetable, streets, links, notices


def _pathway_table(feeds: Sequence[Any]) -> Any:
    """The feeds' pathways.txt rows in one table, stop ids namespaced ``feed:id`` as in the
    timetable, or None when no feed has any (or the reader gives none).
    """
    import pandas as pd

    tables = []
    for feed in feeds:
        table = getattr(feed, "pathways", None)
        if table is not None and len(table):
            ns = f"{feed.name}:"
            tables.append(
                table.assign(
                    from_stop_id=ns + table["from_stop_id"].astype(str),
                    to_stop_id=ns + table["to_stop_id"].astype(str),
                )
            )
    return pd.concat(tables, ignore_index=True) if tables else None


def _feed_names(gtfs: Sequence[Path]) -> list[str]:
    """One namespace per feed: the file stem, made unique with a counter when stems repeat."""
    names: list[str] = []
    for path in gtfs:
        stem = Path(path).name.removesuffix(".zip").removesuffix(".gtfs")
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem) or "feed"
        name, k = stem, 2
        while name in names:
            name, k = f"{stem}_{k}", k + 1
        names.append(name)
    return names


def _build_key(sources: list[dict[str, str]], params: BuildParams) -> str:
    content = {"schema": SCHEMA_VERSION, "inputs": sources, "params": asdict(params)}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _reusable(out: Path, key: str) -> bool:
    try:
        return bool(read_manifest(out).get("build_key") == key)
    except NetworkStoreError:
        return False


def _notice_summary(notices: Sequence[Any]) -> dict[str, int]:
    counts = Counter(f"{n.severity.name}:{n.code}" for n in notices)
    return dict(sorted(counts.items()))


def _counts(timetable: Any, streets: Any, links: Any) -> dict[str, int]:
    counts: dict[str, int] = {
        "feeds": int(timetable.feed_name.shape[0]),
        "stops": int(timetable.stop_id.shape[0]),
    }
    for name in ("n_routes", "n_patterns", "n_trips", "n_stop_times", "n_days"):
        value = getattr(timetable, name, None)
        if value is not None:
            counts[name.removeprefix("n_")] = int(value)
    if streets is not None:
        counts["street_nodes"] = streets.n_nodes
        counts["street_arcs"] = streets.n_arcs
    if links is not None:
        counts["stops_linked"] = int((links.stop_arc >= 0).sum())
        counts["footpaths"] = int(links.footpath_to.shape[0])
        counts["footpaths_estimated"] = int(links.footpath_straight_line.sum())
    return counts


def build_warnings(manifest: dict[str, Any]) -> list[str]:
    """One line per thing a builder must see at the end of a build (from its manifest).

    Today: the stops left off the streets (how many, the farthest, the snap limit).
    """
    lines = []
    unlinked = manifest.get("unlinked_stops") or {}
    if unlinked.get("count"):
        stops = manifest.get("counts", {}).get("stops", "?")
        far_m = unlinked.get("farthest_m")
        far = f"{far_m:,.0f} m" if far_m is not None else "no walkable street in the extract"
        lines.append(
            f"{unlinked['count']} of {stops} stops lie farther than "
            f"{unlinked['max_snap_m']:g} m from a walkable street and are not linked "
            f"(farthest: {unlinked['farthest_stop_id']}, {far}); "
            "they walk by estimated straight-line footpaths (raise --max-snap-m to link them)"
        )
    return lines
