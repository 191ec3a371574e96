"""Read tour problems (write them with :mod:`._write`): a JSON file, or a folder of CSV files.

JSON (``problem.json``)::

    {"name": "home care", "dimensions": ["kits"],
     "places":   [{"id": "centre", "lon": 3.08, "lat": 45.77}, ...],
     "depots":   [{"id": "base", "place": "centre", "open": "07:00", "close": "20:00"}],
     "vehicles": [{"id": "nurse-1", "start_depot": "base", "capacity": [10],
                   "shift": ["08:00", "16:00"], "skills": ["insulin"], "profile": "car",
                   "cost_per_km": 0.35, "cost_per_hour": 30, "max_duration": "7:30",
                   "breaks": [{"earliest": "12:00", "latest": "13:30", "duration": "0:30"}]}],
     "visits":   [{"id": "p1", "place": "h1", "service": "0:20",
                   "windows": [["08:00", "09:00"], ["17:00", "18:00"]], "demand": [1],
                   "skills": ["insulin"], "priority": 1, "optional": false, "penalty": 0}],
     "shipments":[{"id": "s1", "pickup_place": "farm", "delivery_place": "shop",
                   "amount": [4], "pickup_window": ["08:00", "11:00"], "delivery_window": ["09:00", "12:00"],
                   "pickup_service": 300, "delivery_service": 300}]}

A visit may give ``lon``/``lat`` instead of ``place`` (a place named after the visit is made).

CSV folder: ``places.csv`` (id, lon, lat[, name]), ``depots.csv`` (id, place, open, close),
``vehicles.csv`` (id, start_depot[, end_depot, shift_start, shift_end, skills, profile,
cost_per_km, cost_per_hour, fixed_cost, max_duration, breaks, capacity_<dimension>...]),
``visits.csv`` (id, place or lon+lat[, service, windows, skills, priority, optional, penalty,
demand_<dimension>..., pickup_<dimension>...]) and optionally ``shipments.csv`` (id,
pickup_place, delivery_place[, pickup_window, delivery_window, pickup_service,
delivery_service, skills, priority, optional, penalty, max_ride, amount_<dimension>...]).
The load dimensions are the ``capacity_*`` columns of ``vehicles.csv``, in order. Lists in a
cell are separated by ``|`` or ``;`` (``08:00-10:00|14:00-16:00``); a break is
``earliest-latest/duration`` (``12:00-13:30/0:30``). Comma or semicolon delimiters both work.

Times are seconds (a number) or ``H:MM[:SS]``; durations also accept ``90s``, ``20min``, ``2h``.
Every error names the file, the row (the line number, header = 1) and the field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arverne.errors import ProblemError
from arverne.fleet._fields import (
    Where,
    build_at,
    json_list,
    json_objects,
    parse_bool,
    parse_duration,
    parse_float,
    parse_int,
    parse_names,
    parse_quantity,
    parse_time,
    parse_window,
    read_text,
    shown,
)
from arverne.fleet._write import problem_to_dict, write_problem_csv, write_problem_json
from arverne.fleet.limits import MAX_PROBLEM_BYTES
from arverne.fleet.model import Break, Depot, Place, Problem, Shipment, Vehicle, Visit

__all__ = [
    "parse_duration",
    "parse_time",
    "problem_from_dict",
    "problem_to_dict",
    "read_problem",
    "read_problem_csv",
    "read_problem_json",
    "write_problem_csv",
    "write_problem_json",
]

# ----------------------------------------------------------------------------------------------
# JSON


def _get(obj: dict[str, Any], key: str, where: Where, default: Any = ...) -> Any:
    if key in obj and obj[key] is not None and obj[key] != "":
        return obj[key]
    if default is ...:
        raise where.error(key, "is missing")
    return default


def problem_from_dict(data: dict[str, Any], *, source: str = "problem.json") -> Problem:
    """Build a :class:`Problem` from the JSON structure described in this module."""
    if not isinstance(data, dict):
        raise ProblemError(
            f"{source}: the top level must be an object with places, depots, vehicles"
        )
    places: dict[str, Place] = {}
    origin: dict[str, Where] = {}

    def items(key: str) -> Iterator[tuple[Where, dict[str, Any]]]:
        values = data.get(key) or []
        if not isinstance(values, list):
            raise ProblemError(f"{source}: '{key}' must be a list")
        for i, obj in enumerate(values):
            where = Where(source, item=f"{key}[{i}]")
            if not isinstance(obj, dict):
                raise ProblemError(f"{where}: must be an object")
            yield where, obj

    for where, obj in items("places"):
        pid = str(_get(obj, "id", where))
        if pid in places:
            raise where.error("id", f"{shown(pid)} is used by two places")
        places[pid] = build_at(
            where,
            Place,
            pid,
            parse_float(_get(obj, "lon", where), where, "lon"),
            parse_float(_get(obj, "lat", where), where, "lat"),
            str(obj.get("name", "")),
        )
        origin[pid] = where

    def need_place(where: Where, field: str, pid: str) -> str:
        if pid not in places:
            raise where.error(field, f"names unknown place {shown(pid)}")
        return pid

    depots = []
    for where, obj in items("depots"):
        did = str(_get(obj, "id", where))
        pid = need_place(where, "place", str(_get(obj, "place", where)))
        depots.append(
            build_at(
                where,
                Depot,
                did,
                pid,
                parse_time(_get(obj, "open", where, 0), where, "open"),
                parse_time(_get(obj, "close", where, 172_800), where, "close"),
            )
        )
    depot_ids = {d.depot_id for d in depots}
    dimensions = tuple(
        str(d) for d in json_list(data.get("dimensions"), Where(source), "dimensions")
    )

    vehicles = []
    for where, obj in items("vehicles"):
        vid = str(_get(obj, "id", where))
        start = str(_get(obj, "start_depot", where))
        end = obj.get("end_depot")
        for field, ref in (("start_depot", start), ("end_depot", end)):
            if ref is not None and ref not in depot_ids:
                raise where.error(field, f"names unknown depot {shown(ref)}")
        shift = parse_window(_get(obj, "shift", where, [0, 86_400]), where, "shift")
        breaks = tuple(
            build_at(
                where,
                Break,
                parse_time(_get(b, "earliest", where), where, "breaks.earliest"),
                parse_time(_get(b, "latest", where), where, "breaks.latest"),
                parse_duration(_get(b, "duration", where), where, "breaks.duration"),
            )
            for b in json_objects(obj.get("breaks"), where, "breaks")
        )
        max_duration = obj.get("max_duration")
        vehicles.append(
            build_at(
                where,
                Vehicle,
                vid,
                start,
                str(end) if end is not None else None,
                capacity=parse_quantity(obj.get("capacity"), where, "capacity"),
                shift_start_s=shift[0],
                shift_end_s=shift[1],
                skills=frozenset(parse_names(obj.get("skills"))),
                profile=str(obj.get("profile", "car")),
                cost_per_km=parse_float(obj.get("cost_per_km", 1.0), where, "cost_per_km"),
                cost_per_hour=parse_float(obj.get("cost_per_hour", 0.0), where, "cost_per_hour"),
                fixed_cost=parse_float(obj.get("fixed_cost", 0.0), where, "fixed_cost"),
                max_duration_s=parse_duration(max_duration, where, "max_duration")
                if max_duration not in (None, "")
                else None,
                breaks=breaks,
                name=str(obj.get("name", "")),
            )
        )

    visits = []
    for where, obj in items("visits"):
        xid = str(_get(obj, "id", where))
        pid = _visit_place(obj, xid, where, places, origin)
        visits.append(
            build_at(
                where,
                Visit,
                xid,
                pid,
                parse_duration(obj.get("service", 0), where, "service"),
                tuple(
                    parse_window(w, where, "windows")
                    for w in json_list(obj.get("windows"), where, "windows")
                ),
                demand=parse_quantity(obj.get("demand"), where, "demand"),
                pickup=parse_quantity(obj.get("pickup"), where, "pickup"),
                skills=frozenset(parse_names(obj.get("skills"))),
                priority=parse_int(obj.get("priority", 0), where, "priority"),
                optional=parse_bool(obj.get("optional", False), where, "optional"),
                penalty=parse_float(obj.get("penalty", 0.0), where, "penalty"),
                name=str(obj.get("name", "")),
            )
        )

    shipments = []
    for where, obj in items("shipments"):
        sid = str(_get(obj, "id", where))
        pp = need_place(where, "pickup_place", str(_get(obj, "pickup_place", where)))
        dp = need_place(where, "delivery_place", str(_get(obj, "delivery_place", where)))
        pw, dw, mr = obj.get("pickup_window"), obj.get("delivery_window"), obj.get("max_ride")
        shipments.append(
            build_at(
                where,
                Shipment,
                sid,
                pp,
                dp,
                parse_quantity(obj.get("amount"), where, "amount"),
                parse_window(pw, where, "pickup_window") if pw else None,
                parse_window(dw, where, "delivery_window") if dw else None,
                parse_duration(obj.get("pickup_service", 0), where, "pickup_service"),
                parse_duration(obj.get("delivery_service", 0), where, "delivery_service"),
                skills=frozenset(parse_names(obj.get("skills"))),
                priority=parse_int(obj.get("priority", 0), where, "priority"),
                optional=parse_bool(obj.get("optional", False), where, "optional"),
                penalty=parse_float(obj.get("penalty", 0.0), where, "penalty"),
                max_ride_s=parse_duration(mr, where, "max_ride") if mr not in (None, "") else None,
                name=str(obj.get("name", "")),
            )
        )
    return build_at(
        Where(source),
        Problem,
        tuple(places.values()),
        tuple(depots),
        tuple(vehicles),
        tuple(visits),
        tuple(shipments),
        dimensions,
        str(data.get("name", "")),
    )


def _visit_place(
    obj: dict[str, Any],
    xid: str,
    where: Where,
    places: dict[str, Place],
    origin: dict[str, Where],
) -> str:
    ref = obj.get("place")
    if ref not in (None, ""):
        if str(ref) not in places:
            raise where.error("place", f"names unknown place {shown(ref)}")
        return str(ref)
    if obj.get("lon") in (None, "") or obj.get("lat") in (None, ""):
        raise where.error("place", "is missing (give a place id, or lon and lat)")
    pid = xid
    if pid in places:
        raise where.error(
            "id", f"{shown(pid)} is also a place id; give the visit a 'place' instead of lon/lat"
        )
    places[pid] = build_at(
        where,
        Place,
        pid,
        parse_float(obj["lon"], where, "lon"),
        parse_float(obj["lat"], where, "lat"),
    )
    origin[pid] = where
    return pid


def _json_int(text: str) -> int | float:
    """A JSON integer; one too long for an exact int becomes a float (maybe inf) that the field's
    own check then refuses, naming the field (Python refuses to parse over 4,300 digits).
    """
    return int(text) if len(text) <= 30 else float(text)


def read_problem_json(path: str | Path, *, max_bytes: int = MAX_PROBLEM_BYTES) -> Problem:
    """Read a problem from a JSON file (see the module docstring for the layout)."""
    path = Path(path)
    text = read_text(path, max_bytes)
    try:
        data = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise ProblemError(f"{path.name} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ProblemError(f"{path.name}: the JSON is nested too deeply") from None
    return problem_from_dict(data, source=path.name)


# ----------------------------------------------------------------------------------------------
# CSV folder


def _rows(path: Path, max_bytes: int) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    text = read_text(path, max_bytes)
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    rows = []
    line = 1  # the row being read, for the message of a row the csv module cannot read
    try:
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        line = 2
        for line, row in enumerate(reader, start=2):
            clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if any(clean.values()):
                rows.append((line, clean))
            line += 1
    except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit
        raise ProblemError(f"{path.name} row {line}: not readable CSV ({exc})") from None
    return header, rows


def _csv_windows(value: str, where: Where, field: str) -> tuple[tuple[float, float], ...]:
    return tuple(parse_window(part, where, field) for part in parse_names(value))


def _csv_breaks(value: str, where: Where) -> tuple[Break, ...]:
    out = []
    for part in parse_names(value):
        if "/" not in part:
            raise where.error("breaks", f"{shown(part)} is not 'earliest-latest/duration'")
        span, duration = part.split("/", 1)
        a, b = parse_window(span, where, "breaks")
        out.append(
            build_at(
                where,
                Break,
                a,
                b,
                parse_duration(duration, where, "breaks"),
            )
        )
    return tuple(out)


def read_problem_csv(folder: str | Path, *, max_bytes: int = MAX_PROBLEM_BYTES) -> Problem:
    """Read a problem from a folder of CSV files (see the module docstring for the columns)."""
    folder = Path(folder)
    for required in ("places.csv", "depots.csv", "vehicles.csv"):
        if not (folder / required).exists():
            raise ProblemError(f"{folder}: {required} is missing")
    # rows are checked here with file/row in every message, then assembled
    header, rows = _rows(folder / "places.csv", max_bytes)
    places: dict[str, Place] = {}
    for line, row in rows:
        where = Where("places.csv", line)
        pid = row.get("id") or ""
        if not pid:
            raise where.error("id", "is empty")
        if pid in places:
            raise where.error("id", f"{shown(pid)} is used by two places")
        places[pid] = build_at(
            where,
            Place,
            pid,
            parse_float(row.get("lon", ""), where, "lon"),
            parse_float(row.get("lat", ""), where, "lat"),
            row.get("name", ""),
        )
    header, rows = _rows(folder / "depots.csv", max_bytes)
    depots = []
    for line, row in rows:
        where = Where("depots.csv", line)
        pid = row.get("place", "")
        if pid not in places:
            raise where.error("place", f"names unknown place {shown(pid)}")
        depots.append(
            build_at(
                where,
                Depot,
                row.get("id", ""),
                pid,
                parse_time(row.get("open") or 0, where, "open"),
                parse_time(row.get("close") or 172_800, where, "close"),
            )
        )
    depot_ids = {d.depot_id for d in depots}
    header, rows = _rows(folder / "vehicles.csv", max_bytes)
    dims = [h[len("capacity_") :] for h in header if h.startswith("capacity_")]
    vehicles = []
    for line, row in rows:
        where = Where("vehicles.csv", line)
        for field in ("start_depot", "end_depot"):
            ref = row.get(field, "")
            if (ref or field == "start_depot") and ref not in depot_ids:
                raise where.error(field, f"names unknown depot {shown(ref)}")
        capacity: tuple[int, ...] = ()
        if dims and any(row.get(f"capacity_{d}") for d in dims):
            capacity = tuple(
                parse_int(row.get(f"capacity_{d}") or "", where, f"capacity_{d}") for d in dims
            )
            for d, q in zip(dims, capacity, strict=True):
                if q < 0:
                    raise where.error(f"capacity_{d}", f"is negative ({q})")
        md = row.get("max_duration", "")
        vehicles.append(
            build_at(
                where,
                Vehicle,
                row.get("id", ""),
                row.get("start_depot", ""),
                row.get("end_depot") or None,
                capacity=capacity,
                shift_start_s=parse_time(row.get("shift_start") or 0, where, "shift_start"),
                shift_end_s=parse_time(row.get("shift_end") or 86_400, where, "shift_end"),
                skills=frozenset(parse_names(row.get("skills"))),
                profile=row.get("profile") or "car",
                cost_per_km=parse_float(row.get("cost_per_km") or 1.0, where, "cost_per_km"),
                cost_per_hour=parse_float(row.get("cost_per_hour") or 0.0, where, "cost_per_hour"),
                fixed_cost=parse_float(row.get("fixed_cost") or 0.0, where, "fixed_cost"),
                max_duration_s=parse_duration(md, where, "max_duration") if md else None,
                breaks=_csv_breaks(row.get("breaks", ""), where),
                name=row.get("name", ""),
            )
        )

    def qty(row: dict[str, str], prefix: str, where: Where) -> tuple[int, ...]:
        if not any(row.get(f"{prefix}_{d}") for d in dims):
            return ()
        out = tuple(parse_int(row.get(f"{prefix}_{d}") or 0, where, f"{prefix}_{d}") for d in dims)
        for d, q in zip(dims, out, strict=True):
            if q < 0:
                raise where.error(f"{prefix}_{d}", f"is negative ({q}); quantities are >= 0")
        return out

    visits = []
    if (folder / "visits.csv").exists():
        header, rows = _rows(folder / "visits.csv", max_bytes)
        for line, row in rows:
            where = Where("visits.csv", line)
            xid = row.get("id", "")
            pid = _visit_place(row, xid, where, places, {})
            visits.append(
                build_at(
                    where,
                    Visit,
                    xid,
                    pid,
                    parse_duration(row.get("service") or 0, where, "service"),
                    _csv_windows(row.get("windows", ""), where, "windows"),
                    demand=qty(row, "demand", where),
                    pickup=qty(row, "pickup", where),
                    skills=frozenset(parse_names(row.get("skills"))),
                    priority=parse_int(row.get("priority") or 0, where, "priority"),
                    optional=parse_bool(row.get("optional", ""), where, "optional"),
                    penalty=parse_float(row.get("penalty") or 0.0, where, "penalty"),
                    name=row.get("name", ""),
                )
            )
    shipments = []
    if (folder / "shipments.csv").exists():
        header, rows = _rows(folder / "shipments.csv", max_bytes)
        for line, row in rows:
            where = Where("shipments.csv", line)
            for field in ("pickup_place", "delivery_place"):
                if row.get(field, "") not in places:
                    raise where.error(field, f"names unknown place {row.get(field, '')!r}")
            pw, dw, mr = row.get("pickup_window"), row.get("delivery_window"), row.get("max_ride")
            shipments.append(
                build_at(
                    where,
                    Shipment,
                    row.get("id", ""),
                    row["pickup_place"],
                    row["delivery_place"],
                    qty(row, "amount", where),
                    parse_window(pw, where, "pickup_window") if pw else None,
                    parse_window(dw, where, "delivery_window") if dw else None,
                    parse_duration(row.get("pickup_service") or 0, where, "pickup_service"),
                    parse_duration(row.get("delivery_service") or 0, where, "delivery_service"),
                    skills=frozenset(parse_names(row.get("skills"))),
                    priority=parse_int(row.get("priority") or 0, where, "priority"),
                    optional=parse_bool(row.get("optional", ""), where, "optional"),
                    penalty=parse_float(row.get("penalty") or 0.0, where, "penalty"),
                    max_ride_s=parse_duration(mr, where, "max_ride") if mr else None,
                    name=row.get("name", ""),
                )
            )
    return build_at(
        Where(str(folder)),
        Problem,
        tuple(places.values()),
        tuple(depots),
        tuple(vehicles),
        tuple(visits),
        tuple(shipments),
        tuple(dims),
        folder.name,
    )


def read_problem(path: str | Path, *, max_bytes: int = MAX_PROBLEM_BYTES) -> Problem:
    """Read a problem from a ``.json`` file or a folder of CSV files.

    Parameters
    ----------
    path
        The JSON file or the folder.
    max_bytes
        Refuse any file bigger than this (default :data:`~arverne.fleet.limits.MAX_PROBLEM_BYTES`).

    Returns
    -------
    Problem
        The problem, checked.

    Raises
    ------
    ProblemError
        Naming the file, the row (or item) and the field of the first value that cannot be used.
    """
    path = Path(path)
    if path.is_dir():
        return read_problem_csv(path, max_bytes=max_bytes)
    if not path.exists():
        raise ProblemError(f"{path}: no such file or folder")
    return read_problem_json(path, max_bytes=max_bytes)
