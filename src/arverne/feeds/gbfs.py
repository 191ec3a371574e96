"""Reading GBFS (shared bikes, scooters, mopeds), versions 2.x and 3.0.

:func:`read_gbfs` takes a folder of GBFS files, a ``gbfs.json`` (file or URL) or its folder,
and returns a :class:`BikeShare`: stations with what can be rented and returned there now,
free-floating vehicles, vehicle types with their riding speeds, and geofencing zones saying
where a ride may end.

The two versions differ in names, not in meaning, and both are read into one shape:

============================  ===============================  ==============================
fact                          2.x                              3.0
============================  ===============================  ==============================
free-floating vehicles        ``free_bike_status.bikes``       ``vehicle_status.vehicles``
vehicles at a station         ``num_bikes_available``          ``num_vehicles_available``
station name                  text                             localised texts (first one)
may a ride end in a zone      ``ride_allowed``                 ``ride_end_allowed``
outside every zone            allowed                          ``global_rules`` (else allowed)
``last_updated``              POSIX seconds                    RFC 3339 time
============================  ===============================  ==============================

A vehicle that is reserved or disabled, or parked at a station, is not free-floating; a
station not installed, not renting (returning) has nothing to rent (no free dock).
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arverne.errors import InputError
from arverne.feeds.notices import Notice, Severity

FEEDS = (
    "system_information",
    "station_information",
    "station_status",
    "free_bike_status",
    "vehicle_status",
    "vehicle_types",
    "geofencing_zones",
)
"""The GBFS files read (others, such as system_pricing_plans, are left alone)."""

MAX_BYTES = 64 * 2**20
"""Largest GBFS file read (a city's free-floating fleet is a few MB)."""

SPEED_MPS = {
    "bicycle": 4.5,
    "cargo_bicycle": 3.5,
    "scooter": 4.5,
    "scooter_standing": 4.5,
    "scooter_seated": 5.0,
    "moped": 6.5,
    "car": 8.0,
    "other": 4.0,
}
"""Riding speed by GBFS form factor, metres per second (an electric bicycle rides 5.5),
capped by the type's ``max_permitted_speed`` when it gives one."""
ELECTRIC_BICYCLE_MPS = 5.5


@dataclass(frozen=True)
class VehicleType:
    """A GBFS vehicle type and the speed it is ridden at."""

    vehicle_type_id: str
    form_factor: str
    propulsion_type: str
    speed_mps: float


@dataclass(frozen=True)
class Zone:
    """A geofencing zone: its (multi)polygon and whether a ride may end inside it."""

    polygons: tuple[tuple[np.ndarray, ...], ...]
    """Per polygon, its rings (float64[n, 2] lon, lat; the first is the outer ring)."""
    ride_end_allowed: bool
    vehicle_type_ids: tuple[str, ...] | None
    """Types the rule is for (None: every type)."""


@dataclass(frozen=True)
class BikeShare:
    """One bike-share system now: stations, free-floating vehicles, types and zones.

    Station and vehicle arrays are parallel, one row per station (vehicle).
    """

    system_id: str
    version: str
    last_updated: dt.datetime | None
    station_id: np.ndarray
    """str[s]"""
    station_name: np.ndarray
    """str[s]"""
    station_lon: np.ndarray
    """float64[s]"""
    station_lat: np.ndarray
    """float64[s]"""
    station_vehicles: np.ndarray
    """int32[s]: vehicles that can be rented now (0 when the station is not renting)."""
    station_docks: np.ndarray
    """int32[s]: free docks a ride can end at now (0 when the station is not returning)."""
    vehicle_id: np.ndarray
    """str[v]: free-floating vehicles that can be rented now."""
    vehicle_lon: np.ndarray
    """float64[v]"""
    vehicle_lat: np.ndarray
    """float64[v]"""
    vehicle_type: np.ndarray
    """int32[v]: index in ``types`` (-1: the system's default bicycle)."""
    types: tuple[VehicleType, ...]
    zones: tuple[Zone, ...]
    ride_end_allowed_outside: bool
    """Whether a free-floating ride may end outside every zone."""
    notices: tuple[Notice, ...] = ()
    """Rows left out (a station or vehicle without an id or a place)."""

    @property
    def n_stations(self) -> int:
        """Number of stations."""
        return int(self.station_id.shape[0])

    def speed_mps(self, type_idx: int) -> float:
        """Riding speed of a vehicle type (-1: a bicycle)."""
        return self.types[type_idx].speed_mps if type_idx >= 0 else SPEED_MPS["bicycle"]

    def ride_may_end(self, lon: np.ndarray, lat: np.ndarray, type_idx: int) -> np.ndarray:
        """bool[n]: whether a free-floating ride of that type may end at each point.

        The first zone (in file order) whose rule names the type decides, as GBFS says for
        overlapping zones; outside them, ``ride_end_allowed_outside``.
        """
        from shapely import Polygon, contains_xy

        lon = np.atleast_1d(np.asarray(lon, np.float64))
        lat = np.atleast_1d(np.asarray(lat, np.float64))
        type_id = self.types[type_idx].vehicle_type_id if type_idx >= 0 else None
        out = np.full(lon.shape, self.ride_end_allowed_outside)
        decided = np.zeros(lon.shape, bool)
        for zone in self.zones:
            if zone.vehicle_type_ids is not None and type_id not in zone.vehicle_type_ids:
                continue
            inside = np.zeros(lon.shape, bool)
            for rings in zone.polygons:
                inside |= contains_xy(Polygon(rings[0], rings[1:]), lon, lat)
            new = inside & ~decided
            out[new] = zone.ride_end_allowed
            decided |= inside
        return out


def read_gbfs(source: str | Path, *, timeout_s: float = 10.0) -> BikeShare:
    """Read a GBFS system (2.x or 3.0) now.

    Parameters
    ----------
    source
        A folder holding the GBFS files (with or without ``gbfs.json``), a ``gbfs.json`` file,
        or its ``http(s)://`` URL. Feeds listed in ``gbfs.json`` are fetched from their URL;
        a ``file:`` URL that does not exist is looked for beside ``gbfs.json``.
    timeout_s
        Time allowed to fetch each URL.

    Returns
    -------
    BikeShare
        Stations, free-floating vehicles, vehicle types and geofencing zones.

    Raises
    ------
    InputError
        A source that is not GBFS, a file that is not JSON or lacks a required field.
    """
    files = _locate(str(source), timeout_s)
    docs = {name: _load(where, name, timeout_s) for name, where in files.items()}
    if "station_information" not in docs and not (
        {"free_bike_status", "vehicle_status"} & set(docs)
    ):
        raise InputError(
            f"{source}: no GBFS station_information, free_bike_status or vehicle_status"
        )
    version = str(next(iter(docs.values())).get("version", "2.x"))
    v3 = version.startswith("3")
    system = docs.get("system_information", {}).get("data", {})
    types = _types(docs.get("vehicle_types"))
    type_idx = {t.vehicle_type_id: i for i, t in enumerate(types)}
    notices: list[Notice] = []
    stations = _stations(docs.get("station_information"), docs.get("station_status"), v3, notices)
    vehicles = _vehicles(docs.get("vehicle_status") or docs.get("free_bike_status"), type_idx)
    zones, outside = _zones(docs.get("geofencing_zones"), v3)
    stamp = max((d.get("last_updated") for d in docs.values()), key=_when, default=None)
    return BikeShare(
        system_id=str(system.get("system_id", "")),
        version=version,
        last_updated=_when(stamp) if stamp is not None else None,
        station_id=stations[0],
        station_name=stations[1],
        station_lon=stations[2],
        station_lat=stations[3],
        station_vehicles=stations[4],
        station_docks=stations[5],
        vehicle_id=vehicles[0],
        vehicle_lon=vehicles[1],
        vehicle_lat=vehicles[2],
        vehicle_type=vehicles[3],
        types=types,
        zones=zones,
        ride_end_allowed_outside=outside,
        notices=tuple(notices),
    )


def _locate(source: str, timeout_s: float) -> dict[str, str]:
    """Where each GBFS file is: a path or a URL, by feed name."""
    if source.startswith(("http://", "https://")):
        return _listed(_fetch(source, timeout_s), None, source)
    path = Path(source)
    if path.is_file():
        return _listed(_read(path), path.parent, source)
    if not path.is_dir():
        raise InputError(f"{source}: no such GBFS folder, file or URL")
    if (path / "gbfs.json").is_file():
        return _listed(_read(path / "gbfs.json"), path, source)
    return {name: str(path / f"{name}.json") for name in FEEDS if (path / f"{name}.json").is_file()}


def _listed(doc: dict[str, Any], folder: Path | None, source: str) -> dict[str, str]:
    """The feeds a ``gbfs.json`` lists (2.x: per language, the first; 3.0: one list)."""
    data = doc.get("data")
    if not isinstance(data, dict):
        raise InputError(f"{source}: not a GBFS discovery file (no data object)")
    feeds = data.get("feeds")
    if feeds is None and data:
        feeds = next(iter(data.values())).get("feeds")
    if not isinstance(feeds, list):
        raise InputError(f"{source}: gbfs.json lists no feeds")
    out = {}
    for feed in feeds:
        name, url = str(feed.get("name", "")), str(feed.get("url", ""))
        if name not in FEEDS:
            continue
        if url.startswith("file:"):
            local = Path(urllib.parse.urlparse(url).path)
            if not local.is_file() and folder is not None:
                local = folder / f"{name}.json"
            url = str(local)
        out[name] = url
    return out


def _load(where: str, name: str, timeout_s: float) -> dict[str, Any]:
    doc = (
        _fetch(where, timeout_s)
        if where.startswith(("http://", "https://"))
        else _read(Path(where))
    )
    if not isinstance(doc.get("data"), dict):
        raise InputError(f"{where}: GBFS {name} has no data object")
    return doc


def _read(path: Path) -> dict[str, Any]:
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES} bytes, not read")
    return _parse(path.read_bytes(), str(path))


def _fetch(url: str, timeout_s: float) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = response.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{url}: cannot be fetched ({exc})") from None
    if len(body) > MAX_BYTES:
        raise InputError(f"{url}: larger than {MAX_BYTES} bytes, not read")
    return _parse(body, url)


def _parse(body: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{where}: not a GBFS document (a JSON object)")
    return doc


def _when(stamp: Any) -> dt.datetime:
    """A ``last_updated`` (POSIX seconds in 2.x, RFC 3339 in 3.0) as an aware time."""
    if isinstance(stamp, int | float):
        return dt.datetime.fromtimestamp(float(stamp), tz=dt.UTC)
    try:
        return dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        raise InputError(f"last_updated {stamp!r} is neither POSIX seconds nor a time") from None


def _text(value: Any) -> str:
    """A 2.x string or the first of 3.0's localised texts."""
    if isinstance(value, list):
        return str(value[0].get("text", "")) if value else ""
    return "" if value is None else str(value)


def _types(doc: dict[str, Any] | None) -> tuple[VehicleType, ...]:
    out = []
    for row in (doc or {}).get("data", {}).get("vehicle_types", []):
        form = str(row.get("form_factor", "other"))
        propulsion = str(row.get("propulsion_type", "human"))
        speed = SPEED_MPS.get(form, SPEED_MPS["other"])
        if form == "bicycle" and propulsion.startswith("electric"):
            speed = ELECTRIC_BICYCLE_MPS
        cap = row.get("max_permitted_speed")
        if isinstance(cap, int | float) and cap > 0:
            speed = min(speed, float(cap) / 3.6)
        out.append(VehicleType(str(row["vehicle_type_id"]), form, propulsion, speed))
    return tuple(out)


def _stations(
    info: dict[str, Any] | None, status: dict[str, Any] | None, v3: bool, notices: list[Notice]
) -> tuple[np.ndarray, ...]:
    rows = (info or {}).get("data", {}).get("stations", [])
    now = {str(r.get("station_id")): r for r in (status or {}).get("data", {}).get("stations", [])}
    ids, names, lon, lat, vehicles, docks = [], [], [], [], [], []
    for k, row in enumerate(rows):
        sid, x, y = row.get("station_id"), row.get("lon"), row.get("lat")
        if not sid or not isinstance(x, int | float) or not isinstance(y, int | float):
            notices.append(
                Notice(
                    "missing_required_field",
                    Severity.ERROR,
                    "station_information.json",
                    k,
                    "station_id" if not sid else "lon",
                    f"station_information.json station {k}: no station_id, lon or lat; left out",
                )
            )
            continue
        sid, x, y = str(sid), float(x), float(y)
        state = now.get(sid, {})
        installed = bool(state.get("is_installed", True))
        available = state.get("num_vehicles_available" if v3 else "num_bikes_available", 0)
        free = state.get("num_docks_available", 0)
        ids.append(sid)
        names.append(_text(row.get("name")))
        lon.append(x)
        lat.append(y)
        vehicles.append(int(available or 0) if installed and state.get("is_renting", False) else 0)
        docks.append(int(free or 0) if installed and state.get("is_returning", False) else 0)
    return (
        np.array(ids, dtype=object),
        np.array(names, dtype=object),
        np.array(lon, np.float64),
        np.array(lat, np.float64),
        np.array(vehicles, np.int32),
        np.array(docks, np.int32),
    )


def _vehicles(doc: dict[str, Any] | None, type_idx: dict[str, int]) -> tuple[np.ndarray, ...]:
    data = (doc or {}).get("data", {})
    rows = data.get("vehicles", data.get("bikes", []))
    ids, lon, lat, kind = [], [], [], []
    for row in rows:
        if row.get("is_reserved") or row.get("is_disabled") or row.get("station_id"):
            continue
        if row.get("lon") is None or row.get("lat") is None:
            continue
        ids.append(str(row.get("vehicle_id", row.get("bike_id", ""))))
        lon.append(float(row["lon"]))
        lat.append(float(row["lat"]))
        kind.append(type_idx.get(str(row.get("vehicle_type_id", "")), -1))
    return (
        np.array(ids, dtype=object),
        np.array(lon, np.float64),
        np.array(lat, np.float64),
        np.array(kind, np.int32),
    )


def _zones(doc: dict[str, Any] | None, v3: bool) -> tuple[tuple[Zone, ...], bool]:
    data = (doc or {}).get("data", {})
    collection = data.get("geofencing_zones") or {}
    zones = []
    for feature in collection.get("features", []):
        geometry = feature.get("geometry") or {}
        coords = geometry.get("coordinates") or []
        parts = [coords] if geometry.get("type") == "Polygon" else coords
        polygons = tuple(
            tuple(np.asarray(ring, np.float64)[:, :2] for ring in part) for part in parts if part
        )
        for rule in (feature.get("properties") or {}).get("rules", []):
            ends = rule.get("ride_end_allowed") if v3 else rule.get("ride_allowed")
            ids = rule.get("vehicle_type_ids") or rule.get("vehicle_type_id")
            zones.append(
                Zone(
                    polygons=polygons,
                    ride_end_allowed=True if ends is None else bool(ends),
                    vehicle_type_ids=None if not ids else tuple(str(i) for i in ids),
                )
            )
    outside = True
    for rule in data.get("global_rules", []):
        if rule.get("ride_end_allowed") is not None:
            outside = bool(rule["ride_end_allowed"])
            break
    return tuple(zones), outside
