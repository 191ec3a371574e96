"""The on-demand booking desk of one worker process, over the shared bookings store.

The service is described by a JSON file (``arverne serve --ondemand FILE --store DSN``)::

    {"points": "stops",                   or [{"id": "p1", "lon": 3.1, "lat": 45.7}, ...]
     "travel_times": "streets",           or "straight_line"
     "vehicles": [{"vehicle_id": "tad-1", "seats": 8, "wheelchairs": 1, "depot": "<point>",
                   "shift_start": "06:00", "shift_end": "21:00"}],
     "params": {"max_wait_s": 1800, ...}} ServiceParams fields, optional

``"stops"`` makes every stop of the network a service point (named by its stop id). Each worker
opens its own :class:`~arverne.fleet.ondemand.OnDemandService` on the same store: the store
serialises bookings per vehicle across processes. Inside a worker one call runs at a time (a
service object is single-threaded). Times of day are the network's local time. The store's
connection lives as long as the worker (every booking is committed before it is answered, so
nothing waits for a close).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from arverne.errors import InputError
from arverne.network.network import Network

T = TypeVar("T")
MAX_CONFIG_BYTES = 1 << 20
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_clock(text: str, name: str) -> float:
    """``H:MM[:SS]`` (hours up to 47: past midnight of the service day) as seconds."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise InputError(f"{name} {text[:20]!r} is not H:MM[:SS]")
    h, m, s = (int(g or 0) for g in match.groups())
    if h > 47 or m > 59 or s > 59:
        raise InputError(f"{name} {text!r} is not a time of the service day")
    return h * 3600.0 + m * 60 + s


def clock(seconds: float) -> str | None:
    """Seconds of the service day as ``HH:MM:SS`` (None for an open end: +-infinity)."""
    if not math.isfinite(seconds):
        return None
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class OnDemandDesk:
    """One worker's on-demand service and its clock (seconds since local midnight)."""

    def __init__(self, service: Any, timezone: str) -> None:
        self.service = service
        self.zone = ZoneInfo(timezone)
        self.lock = threading.Lock()
        self.now_s: Callable[[], float] = self._now_s

    def _now_s(self) -> float:
        now = dt.datetime.now(self.zone)
        return now.hour * 3600.0 + now.minute * 60 + now.second + now.microsecond / 1e6

    def call(self, fn: Callable[[Any, float], T]) -> T:
        """Run ``fn(service, now_s)`` alone (the service object is single-threaded)."""
        with self.lock:
            return fn(self.service, self.now_s())

    @classmethod
    def open(cls, config_path: Path, store_dsn: str, network: Network) -> OnDemandDesk:
        """Open the desk described by ``config_path`` over ``store_dsn`` on ``network``."""
        from arverne.fleet.ondemand import OnDemandService
        from arverne.fleet.ondemand_model import ServiceParams, Shuttle
        from arverne.fleet.service_area import straight_line_area, street_area

        config = _read_config(config_path)
        ids, lons, lats = _points(config, network)
        kind = config.get("travel_times", "streets")
        if kind == "streets" and network.streets is not None:
            area = street_area(network.streets, ids, lons, lats, drop_unreachable=True)
        elif kind in ("streets", "straight_line"):
            area = straight_line_area(ids, lons, lats)
        else:
            raise InputError(f"{config_path}: travel_times must be streets or straight_line")
        try:
            vehicles = [
                Shuttle(
                    str(v["vehicle_id"]),
                    int(v["seats"]),
                    int(v.get("wheelchairs", 0)),
                    str(v["depot"]),
                    parse_clock(str(v.get("shift_start", "06:00")), "shift_start"),
                    parse_clock(str(v.get("shift_end", "21:00")), "shift_end"),
                )
                for v in config.get("vehicles", [])
            ]
            params = ServiceParams(**config.get("params", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{config_path}: bad vehicle or params ({exc})") from None
        tt = network.timetable
        service = OnDemandService.open(area, store_dsn, vehicles, params=params)
        return cls(service, tt.timezone if tt is not None else "UTC")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InputError(f"{path}: more than {MAX_CONFIG_BYTES} bytes")
        config = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON on-demand description ({exc})") from None
    if not isinstance(config, dict):
        raise InputError(f"{path}: the on-demand description must be a JSON object")
    return config


def _points(config: dict[str, Any], network: Network) -> tuple[list[str], list[float], list[float]]:
    points = config.get("points", "stops")
    if points == "stops":
        tt = network.timetable
        if tt is None:
            raise InputError("on-demand points 'stops' need a network with a timetable")
        return (
            [str(s) for s in tt.stop_id.tolist()],
            [float(x) for x in tt.stop_lon.tolist()],
            [float(y) for y in tt.stop_lat.tolist()],
        )
    try:
        return (
            [str(p["id"]) for p in points],
            [float(p["lon"]) for p in points],
            [float(p["lat"]) for p in points],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"on-demand points must be 'stops' or a list of id/lon/lat ({exc})"
        ) from None
