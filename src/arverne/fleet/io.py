"""Read and write tour problems: one JSON file, or a folder of CSV files a planner can edit.

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
import math
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from arverne.errors import FallbackWarning, ProblemError
from arverne.fleet.limits import MAX_PROBLEM_BYTES
from arverne.fleet.model import Break, Depot, Place, Problem, Shipment, Vehicle, Visit

T = TypeVar("T")

_CLOCK = re.compile(r"^\s*(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?\s*$")
_UNIT = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(s|sec|min|m|h)\s*$", re.IGNORECASE)


def _short(value: Any) -> str:
    """``repr(value)``, cut to a readable length for a message."""
    text = (
        repr(value) if not isinstance(value, int) or value.bit_length() < 200 else "a huge number"
    )
    return text if len(text) <= 60 else text[:57] + "..."


class _Where:
    """The file and row a value comes from, for error messages."""

    def __init__(self, file: str, row: int | None = None, item: str | None = None) -> None:
        self.file = file
        self.row = row
        self.item = item

    def __str__(self) -> str:
        if self.row is not None:
            return f"{self.file} row {self.row}"
        if self.item is not None:
            return f"{self.file} {self.item}"
        return self.file

    def error(self, field: str, message: str) -> ProblemError:
        return ProblemError(f"{self}: field '{field}' {message}")


def parse_time(value: Any, where: _Where, field: str) -> float:
    """Seconds from a number or ``H:MM[:SS]`` (hours may pass 24)."""
    if isinstance(value, bool):
        raise where.error(field, f"{_short(value)} is not a time")
    if isinstance(value, int | float):
        if isinstance(value, int) and value.bit_length() > 64:
            raise where.error(field, f"{_short(value)} is not a time of day in seconds")
        if not math.isfinite(value) or value < 0:
            raise where.error(field, f"{_short(value)} is not a time of day in seconds")
        return float(value)
    text = str(value).strip()
    match = _CLOCK.match(text)
    if match:
        h, m, s = int(match.group(1)), int(match.group(2)), float(match.group(3) or 0)
        if m >= 60 or s >= 60:
            raise where.error(field, f"{_short(text)} is not a time (minutes and seconds go to 59)")
        return h * 3600.0 + m * 60.0 + s
    try:
        seconds = float(text)
    except ValueError:
        raise where.error(field, f"{_short(text)} is not a time (use seconds or H:MM)") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise where.error(field, f"{_short(text)} is not a time of day in seconds")
    return seconds


def parse_duration(value: Any, where: _Where, field: str) -> float:
    """Seconds from a number, ``H:MM[:SS]`` or ``90s`` / ``20min`` / ``2h``."""
    if isinstance(value, str):
        match = _UNIT.match(value)
        if match:
            factor = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}[match.group(2).lower()]
            return float(match.group(1)) * factor
    return parse_time(value, where, field)


def _window(value: Any, where: _Where, field: str) -> tuple[float, float]:
    if isinstance(value, str):
        parts = value.split("-")
        if len(parts) != 2:
            raise where.error(field, f"{_short(value)} is not a window 'start-end'")
        value = parts
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise where.error(field, f"{_short(value)} is not a [start, end] window")
    start, end = parse_time(value[0], where, field), parse_time(value[1], where, field)
    if end < start:
        raise where.error(field, f"window {value[0]}-{value[1]} ends before it starts")
    return start, end


def _int(value: Any, where: _Where, field: str) -> int:
    if isinstance(value, bool):
        raise where.error(field, f"{_short(value)} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise where.error(field, f"{_short(value)} is not a whole number") from None


def _float(value: Any, where: _Where, field: str) -> float:
    if isinstance(value, bool):
        raise where.error(field, f"{_short(value)} is not a number")
    try:
        out = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError, OverflowError):
        raise where.error(field, f"{_short(value)} is not a number") from None
    if not math.isfinite(out):
        raise where.error(field, f"{_short(value)} is not a finite number")
    return out


def _bool(value: Any, where: _Where, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "oui", "x"):
        return True
    if text in ("", "0", "false", "no", "n", "non"):
        return False
    raise where.error(field, f"{_short(value)} is not yes/no")


def _items(value: Any, where: _Where, field: str) -> list[Any]:
    """A JSON list (``None`` is empty); anything else is an error naming the field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(field, f"{_short(value)} is not a list")
    return value


def _quantity(value: Any, where: _Where, field: str) -> tuple[int, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, bool) or not isinstance(value, int | float | str | list):
        raise where.error(
            field, f"{_short(value)} is not a quantity (a whole number or a list of them)"
        )
    if not isinstance(value, list):
        value = [value]
    out = tuple(_int(v, where, field) for v in value)
    for q in out:
        if q < 0:
            raise where.error(field, f"is negative ({q}); quantities are >= 0")
    return out


def _objects(value: Any, where: _Where, field: str) -> list[dict[str, Any]]:
    """A JSON list of objects."""
    out = _items(value, where, field)
    for item in out:
        if not isinstance(item, dict):
            raise where.error(field, f"holds {_short(item)}, not an object")
    return out


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[|;]", str(value)) if v.strip()]


def _build(where: _Where, make: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a dataclass constructor, prefixing its error with the file and row."""
    try:
        return make(*args, **kwargs)
    except ProblemError as exc:
        if str(exc).startswith(str(where)):
            raise
        raise ProblemError(f"{where}: {exc}") from None


# ----------------------------------------------------------------------------------------------
# JSON


def _get(obj: dict[str, Any], key: str, where: _Where, default: Any = ...) -> Any:
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
    origin: dict[str, _Where] = {}

    def items(key: str) -> Iterator[tuple[_Where, dict[str, Any]]]:
        values = data.get(key) or []
        if not isinstance(values, list):
            raise ProblemError(f"{source}: '{key}' must be a list")
        for i, obj in enumerate(values):
            where = _Where(source, item=f"{key}[{i}]")
            if not isinstance(obj, dict):
                raise ProblemError(f"{where}: must be an object")
            yield where, obj

    for where, obj in items("places"):
        pid = str(_get(obj, "id", where))
        if pid in places:
            raise where.error("id", f"{_short(pid)} is used by two places")
        places[pid] = _build(
            where,
            Place,
            pid,
            _float(_get(obj, "lon", where), where, "lon"),
            _float(_get(obj, "lat", where), where, "lat"),
            str(obj.get("name", "")),
        )
        origin[pid] = where

    def need_place(where: _Where, field: str, pid: str) -> str:
        if pid not in places:
            raise where.error(field, f"names unknown place {_short(pid)}")
        return pid

    depots = []
    for where, obj in items("depots"):
        did = str(_get(obj, "id", where))
        pid = need_place(where, "place", str(_get(obj, "place", where)))
        depots.append(
            _build(
                where,
                Depot,
                did,
                pid,
                parse_time(_get(obj, "open", where, 0), where, "open"),
                parse_time(_get(obj, "close", where, 172_800), where, "close"),
            )
        )
    depot_ids = {d.depot_id for d in depots}
    dimensions = tuple(str(d) for d in _items(data.get("dimensions"), _Where(source), "dimensions"))

    vehicles = []
    for where, obj in items("vehicles"):
        vid = str(_get(obj, "id", where))
        start = str(_get(obj, "start_depot", where))
        end = obj.get("end_depot")
        for field, ref in (("start_depot", start), ("end_depot", end)):
            if ref is not None and ref not in depot_ids:
                raise where.error(field, f"names unknown depot {_short(ref)}")
        shift = _window(_get(obj, "shift", where, [0, 86_400]), where, "shift")
        breaks = tuple(
            _build(
                where,
                Break,
                parse_time(_get(b, "earliest", where), where, "breaks.earliest"),
                parse_time(_get(b, "latest", where), where, "breaks.latest"),
                parse_duration(_get(b, "duration", where), where, "breaks.duration"),
            )
            for b in _objects(obj.get("breaks"), where, "breaks")
        )
        max_duration = obj.get("max_duration")
        vehicles.append(
            _build(
                where,
                Vehicle,
                vid,
                start,
                str(end) if end is not None else None,
                capacity=_quantity(obj.get("capacity"), where, "capacity"),
                shift_start_s=shift[0],
                shift_end_s=shift[1],
                skills=frozenset(_list(obj.get("skills"))),
                profile=str(obj.get("profile", "car")),
                cost_per_km=_float(obj.get("cost_per_km", 1.0), where, "cost_per_km"),
                cost_per_hour=_float(obj.get("cost_per_hour", 0.0), where, "cost_per_hour"),
                fixed_cost=_float(obj.get("fixed_cost", 0.0), where, "fixed_cost"),
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
            _build(
                where,
                Visit,
                xid,
                pid,
                parse_duration(obj.get("service", 0), where, "service"),
                tuple(
                    _window(w, where, "windows")
                    for w in _items(obj.get("windows"), where, "windows")
                ),
                demand=_quantity(obj.get("demand"), where, "demand"),
                pickup=_quantity(obj.get("pickup"), where, "pickup"),
                skills=frozenset(_list(obj.get("skills"))),
                priority=_int(obj.get("priority", 0), where, "priority"),
                optional=_bool(obj.get("optional", False), where, "optional"),
                penalty=_float(obj.get("penalty", 0.0), where, "penalty"),
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
            _build(
                where,
                Shipment,
                sid,
                pp,
                dp,
                _quantity(obj.get("amount"), where, "amount"),
                _window(pw, where, "pickup_window") if pw else None,
                _window(dw, where, "delivery_window") if dw else None,
                parse_duration(obj.get("pickup_service", 0), where, "pickup_service"),
                parse_duration(obj.get("delivery_service", 0), where, "delivery_service"),
                skills=frozenset(_list(obj.get("skills"))),
                priority=_int(obj.get("priority", 0), where, "priority"),
                optional=_bool(obj.get("optional", False), where, "optional"),
                penalty=_float(obj.get("penalty", 0.0), where, "penalty"),
                max_ride_s=parse_duration(mr, where, "max_ride") if mr not in (None, "") else None,
                name=str(obj.get("name", "")),
            )
        )
    return _build(
        _Where(source),
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
    where: _Where,
    places: dict[str, Place],
    origin: dict[str, _Where],
) -> str:
    ref = obj.get("place")
    if ref not in (None, ""):
        if str(ref) not in places:
            raise where.error("place", f"names unknown place {_short(ref)}")
        return str(ref)
    if obj.get("lon") in (None, "") or obj.get("lat") in (None, ""):
        raise where.error("place", "is missing (give a place id, or lon and lat)")
    pid = xid
    if pid in places:
        raise where.error(
            "id", f"{_short(pid)} is also a place id; give the visit a 'place' instead of lon/lat"
        )
    places[pid] = _build(
        where,
        Place,
        pid,
        _float(obj["lon"], where, "lon"),
        _float(obj["lat"], where, "lat"),
    )
    origin[pid] = where
    return pid


def _read_text(path: Path, max_bytes: int) -> str:
    """The text of a regular file: UTF-8, else Windows-1252 with a warning (spreadsheets on
    Windows save CSV that way); a file too big, not a regular file, or neither is refused."""
    if not path.is_file():
        raise ProblemError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise ProblemError(
            f"{path.name}: {size:,} bytes, more than max_bytes={max_bytes:,} (raise it to read it)"
        )
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ProblemError(
            f"{path.name}: the file is neither UTF-8 nor Windows-1252 text"
        ) from None
    warnings.warn(
        f"{path.name} is not UTF-8; it was decoded as Windows-1252 (cp1252)",
        FallbackWarning,
        stacklevel=3,
    )
    return text


def _json_int(text: str) -> int | float:
    """A JSON integer; one too long for an exact int becomes a float (maybe inf) that the field's
    own check then refuses, naming the field (Python refuses to parse over 4,300 digits)."""
    return int(text) if len(text) <= 30 else float(text)


def read_problem_json(path: str | Path, *, max_bytes: int = MAX_PROBLEM_BYTES) -> Problem:
    """Read a problem from a JSON file (see the module docstring for the layout)."""
    path = Path(path)
    text = _read_text(path, max_bytes)
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
    text = _read_text(path, max_bytes)
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


def _csv_windows(value: str, where: _Where, field: str) -> tuple[tuple[float, float], ...]:
    return tuple(_window(part, where, field) for part in _list(value))


def _csv_breaks(value: str, where: _Where) -> tuple[Break, ...]:
    out = []
    for part in _list(value):
        if "/" not in part:
            raise where.error("breaks", f"{_short(part)} is not 'earliest-latest/duration'")
        span, duration = part.split("/", 1)
        a, b = _window(span, where, "breaks")
        out.append(
            _build(
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
        where = _Where("places.csv", line)
        pid = row.get("id") or ""
        if not pid:
            raise where.error("id", "is empty")
        if pid in places:
            raise where.error("id", f"{_short(pid)} is used by two places")
        places[pid] = _build(
            where,
            Place,
            pid,
            _float(row.get("lon", ""), where, "lon"),
            _float(row.get("lat", ""), where, "lat"),
            row.get("name", ""),
        )
    header, rows = _rows(folder / "depots.csv", max_bytes)
    depots = []
    for line, row in rows:
        where = _Where("depots.csv", line)
        pid = row.get("place", "")
        if pid not in places:
            raise where.error("place", f"names unknown place {_short(pid)}")
        depots.append(
            _build(
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
        where = _Where("vehicles.csv", line)
        for field in ("start_depot", "end_depot"):
            ref = row.get(field, "")
            if (ref or field == "start_depot") and ref not in depot_ids:
                raise where.error(field, f"names unknown depot {_short(ref)}")
        capacity: tuple[int, ...] = ()
        if dims and any(row.get(f"capacity_{d}") for d in dims):
            capacity = tuple(
                _int(row.get(f"capacity_{d}") or "", where, f"capacity_{d}") for d in dims
            )
            for d, q in zip(dims, capacity, strict=True):
                if q < 0:
                    raise where.error(f"capacity_{d}", f"is negative ({q})")
        md = row.get("max_duration", "")
        vehicles.append(
            _build(
                where,
                Vehicle,
                row.get("id", ""),
                row.get("start_depot", ""),
                row.get("end_depot") or None,
                capacity=capacity,
                shift_start_s=parse_time(row.get("shift_start") or 0, where, "shift_start"),
                shift_end_s=parse_time(row.get("shift_end") or 86_400, where, "shift_end"),
                skills=frozenset(_list(row.get("skills"))),
                profile=row.get("profile") or "car",
                cost_per_km=_float(row.get("cost_per_km") or 1.0, where, "cost_per_km"),
                cost_per_hour=_float(row.get("cost_per_hour") or 0.0, where, "cost_per_hour"),
                fixed_cost=_float(row.get("fixed_cost") or 0.0, where, "fixed_cost"),
                max_duration_s=parse_duration(md, where, "max_duration") if md else None,
                breaks=_csv_breaks(row.get("breaks", ""), where),
                name=row.get("name", ""),
            )
        )

    def qty(row: dict[str, str], prefix: str, where: _Where) -> tuple[int, ...]:
        if not any(row.get(f"{prefix}_{d}") for d in dims):
            return ()
        out = tuple(_int(row.get(f"{prefix}_{d}") or 0, where, f"{prefix}_{d}") for d in dims)
        for d, q in zip(dims, out, strict=True):
            if q < 0:
                raise where.error(f"{prefix}_{d}", f"is negative ({q}); quantities are >= 0")
        return out

    visits = []
    if (folder / "visits.csv").exists():
        header, rows = _rows(folder / "visits.csv", max_bytes)
        for line, row in rows:
            where = _Where("visits.csv", line)
            xid = row.get("id", "")
            pid = _visit_place(row, xid, where, places, {})
            visits.append(
                _build(
                    where,
                    Visit,
                    xid,
                    pid,
                    parse_duration(row.get("service") or 0, where, "service"),
                    _csv_windows(row.get("windows", ""), where, "windows"),
                    demand=qty(row, "demand", where),
                    pickup=qty(row, "pickup", where),
                    skills=frozenset(_list(row.get("skills"))),
                    priority=_int(row.get("priority") or 0, where, "priority"),
                    optional=_bool(row.get("optional", ""), where, "optional"),
                    penalty=_float(row.get("penalty") or 0.0, where, "penalty"),
                    name=row.get("name", ""),
                )
            )
    shipments = []
    if (folder / "shipments.csv").exists():
        header, rows = _rows(folder / "shipments.csv", max_bytes)
        for line, row in rows:
            where = _Where("shipments.csv", line)
            for field in ("pickup_place", "delivery_place"):
                if row.get(field, "") not in places:
                    raise where.error(field, f"names unknown place {row.get(field, '')!r}")
            pw, dw, mr = row.get("pickup_window"), row.get("delivery_window"), row.get("max_ride")
            shipments.append(
                _build(
                    where,
                    Shipment,
                    row.get("id", ""),
                    row["pickup_place"],
                    row["delivery_place"],
                    qty(row, "amount", where),
                    _window(pw, where, "pickup_window") if pw else None,
                    _window(dw, where, "delivery_window") if dw else None,
                    parse_duration(row.get("pickup_service") or 0, where, "pickup_service"),
                    parse_duration(row.get("delivery_service") or 0, where, "delivery_service"),
                    skills=frozenset(_list(row.get("skills"))),
                    priority=_int(row.get("priority") or 0, where, "priority"),
                    optional=_bool(row.get("optional", ""), where, "optional"),
                    penalty=_float(row.get("penalty") or 0.0, where, "penalty"),
                    max_ride_s=parse_duration(mr, where, "max_ride") if mr else None,
                    name=row.get("name", ""),
                )
            )
    return _build(
        _Where(str(folder)),
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


# ----------------------------------------------------------------------------------------------
# Writing


def _clock(seconds: float) -> str:
    """``HH:MM[:SS]`` for whole seconds, else the exact number of seconds (both read back)."""
    if not float(seconds).is_integer():
        return repr(float(seconds))
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}" + (f":{s % 60:02d}" if s % 60 else "")


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The JSON structure of ``problem``: whole-second times as ``HH:MM[:SS]``, others as exact
    numbers of seconds, so that reading it back gives the same problem."""
    return {
        "name": problem.name,
        "dimensions": list(problem.dimensions),
        "places": [
            {"id": p.place_id, "lon": p.lon, "lat": p.lat, **({"name": p.name} if p.name else {})}
            for p in problem.places
        ],
        "depots": [
            {
                "id": d.depot_id,
                "place": d.place_id,
                "open": _clock(d.open_s),
                "close": _clock(d.close_s),
            }
            for d in problem.depots
        ],
        "vehicles": [
            {
                "id": v.vehicle_id,
                "start_depot": v.start_depot_id,
                "end_depot": v.end_depot,
                "capacity": list(v.capacity),
                "shift": [_clock(v.shift_start_s), _clock(v.shift_end_s)],
                "skills": sorted(v.skills),
                "profile": v.profile,
                "cost_per_km": v.cost_per_km,
                "cost_per_hour": v.cost_per_hour,
                "fixed_cost": v.fixed_cost,
                **(
                    {"max_duration": _clock(v.max_duration_s)}
                    if v.max_duration_s is not None
                    else {}
                ),
                **(
                    {
                        "breaks": [
                            {
                                "earliest": _clock(b.earliest_s),
                                "latest": _clock(b.latest_s),
                                "duration": _clock(b.duration_s),
                            }
                            for b in v.breaks
                        ]
                    }
                    if v.breaks
                    else {}
                ),
                **({"name": v.name} if v.name else {}),
            }
            for v in problem.vehicles
        ],
        "visits": [
            {
                "id": x.visit_id,
                "place": x.place_id,
                "service": _clock(x.service_s),
                "windows": [[_clock(a), _clock(b)] for a, b in x.windows],
                "demand": list(x.demand),
                **({"pickup": list(x.pickup)} if x.pickup else {}),
                "skills": sorted(x.skills),
                "priority": x.priority,
                "optional": x.optional,
                "penalty": x.penalty,
                **({"name": x.name} if x.name else {}),
            }
            for x in problem.visits
        ],
        "shipments": [
            {
                "id": s.shipment_id,
                "pickup_place": s.pickup_place_id,
                "delivery_place": s.delivery_place_id,
                "amount": list(s.amount),
                "pickup_window": [_clock(w) for w in s.pickup_window] if s.pickup_window else None,
                "delivery_window": [_clock(w) for w in s.delivery_window]
                if s.delivery_window
                else None,
                "pickup_service": _clock(s.pickup_service_s),
                "delivery_service": _clock(s.delivery_service_s),
                "skills": sorted(s.skills),
                "priority": s.priority,
                "optional": s.optional,
                "penalty": s.penalty,
                **({"max_ride": _clock(s.max_ride_s)} if s.max_ride_s is not None else {}),
                **({"name": s.name} if s.name else {}),
            }
            for s in problem.shipments
        ],
    }


def write_problem_json(problem: Problem, path: str | Path) -> Path:
    """Write ``problem`` as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(problem_to_dict(problem), indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return path


def write_problem_csv(problem: Problem, folder: str | Path) -> Path:
    """Write ``problem`` as a folder of CSV files a spreadsheet opens; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dims = list(problem.dimensions)

    def write(name: str, header: list[str], rows: list[list[Any]]) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)

    write(
        "places.csv",
        ["id", "lon", "lat", "name"],
        [[p.place_id, p.lon, p.lat, p.name] for p in problem.places],
    )
    write(
        "depots.csv",
        ["id", "place", "open", "close"],
        [[d.depot_id, d.place_id, _clock(d.open_s), _clock(d.close_s)] for d in problem.depots],
    )

    def q(value: tuple[int, ...]) -> list[Any]:
        return list(value) if value else [""] * len(dims)

    write(
        "vehicles.csv",
        [
            "id",
            "start_depot",
            "end_depot",
            "shift_start",
            "shift_end",
            "skills",
            "profile",
            "cost_per_km",
            "cost_per_hour",
            "fixed_cost",
            "max_duration",
            "breaks",
            "name",
            *[f"capacity_{d}" for d in dims],
        ],
        [
            [
                v.vehicle_id,
                v.start_depot_id,
                v.end_depot,
                _clock(v.shift_start_s),
                _clock(v.shift_end_s),
                "|".join(sorted(v.skills)),
                v.profile,
                v.cost_per_km,
                v.cost_per_hour,
                v.fixed_cost,
                _clock(v.max_duration_s) if v.max_duration_s is not None else "",
                "|".join(
                    f"{_clock(b.earliest_s)}-{_clock(b.latest_s)}/{_clock(b.duration_s)}"
                    for b in v.breaks
                ),
                v.name,
                *q(v.capacity),
            ]
            for v in problem.vehicles
        ],
    )
    write(
        "visits.csv",
        [
            "id",
            "place",
            "service",
            "windows",
            "skills",
            "priority",
            "optional",
            "penalty",
            "name",
            *[f"demand_{d}" for d in dims],
            *[f"pickup_{d}" for d in dims],
        ],
        [
            [
                x.visit_id,
                x.place_id,
                _clock(x.service_s),
                "|".join(f"{_clock(a)}-{_clock(b)}" for a, b in x.windows),
                "|".join(sorted(x.skills)),
                x.priority,
                "yes" if x.optional else "",
                x.penalty,
                x.name,
                *q(x.demand),
                *q(x.pickup),
            ]
            for x in problem.visits
        ],
    )
    if problem.shipments:
        write(
            "shipments.csv",
            [
                "id",
                "pickup_place",
                "delivery_place",
                "pickup_window",
                "delivery_window",
                "pickup_service",
                "delivery_service",
                "skills",
                "priority",
                "optional",
                "penalty",
                "max_ride",
                "name",
                *[f"amount_{d}" for d in dims],
            ],
            [
                [
                    s.shipment_id,
                    s.pickup_place_id,
                    s.delivery_place_id,
                    "-".join(_clock(w) for w in s.pickup_window) if s.pickup_window else "",
                    "-".join(_clock(w) for w in s.delivery_window) if s.delivery_window else "",
                    _clock(s.pickup_service_s),
                    _clock(s.delivery_service_s),
                    "|".join(sorted(s.skills)),
                    s.priority,
                    "yes" if s.optional else "",
                    s.penalty,
                    _clock(s.max_ride_s) if s.max_ride_s is not None else "",
                    s.name,
                    *q(s.amount),
                ]
                for s in problem.shipments
            ],
        )
    return folder
