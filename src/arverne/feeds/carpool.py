"""Carpool offers: drivers' trips as a CSV table, checked row by row.

Columns (one row per offer)::

    driver_id, origin_lat, origin_lon, destination_lat, destination_lon,
    depart_earliest, depart_latest, seats, max_detour_min

``depart_*`` are ISO 8601 times (a time without an offset is in ``timezone``); the driver
leaves the origin inside that window, takes up to ``seats`` riders and accepts a trip at most
``max_detour_min`` minutes longer than driving straight to the destination.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import InputError

COLUMNS = (
    "driver_id",
    "origin_lat",
    "origin_lon",
    "destination_lat",
    "destination_lon",
    "depart_earliest",
    "depart_latest",
    "seats",
    "max_detour_min",
)


@dataclass(frozen=True)
class CarpoolOffers:
    """Drivers' offers, one row per offer (parallel arrays)."""

    driver_id: np.ndarray
    """str[n]"""
    origin_lat: np.ndarray
    """float64[n]"""
    origin_lon: np.ndarray
    """float64[n]"""
    destination_lat: np.ndarray
    """float64[n]"""
    destination_lon: np.ndarray
    """float64[n]"""
    depart_earliest_s: np.ndarray
    """int64[n]: Unix seconds."""
    depart_latest_s: np.ndarray
    """int64[n]: Unix seconds, at least ``depart_earliest_s``."""
    seats: np.ndarray
    """int32[n]: free seats (an offer with none is never matched)."""
    max_detour_s: np.ndarray
    """int32[n]: longest extra driving the driver accepts, seconds."""

    def __len__(self) -> int:
        return int(self.driver_id.shape[0])


def read_carpool_offers(path: str | Path, *, timezone: str) -> CarpoolOffers:
    """Read a carpool offers CSV (see the module docstring).

    Parameters
    ----------
    path
        The CSV file (UTF-8, header row).
    timezone
        Zone of times given without an offset (IANA name, e.g. ``Europe/Paris``).

    Raises
    ------
    InputError
        A missing column, or a row whose value is not a number, a time, or in range (naming
        the file, row and field).
    """
    zone = ZoneInfo(timezone)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = [_row(path, k + 2, row, zone) for k, row in enumerate(reader)]
    cols: list[tuple[object, ...]] = list(zip(*rows, strict=True)) or [() for _ in COLUMNS]
    return CarpoolOffers(
        driver_id=np.array(cols[0], dtype=object),
        origin_lat=np.array(cols[1], np.float64),
        origin_lon=np.array(cols[2], np.float64),
        destination_lat=np.array(cols[3], np.float64),
        destination_lon=np.array(cols[4], np.float64),
        depart_earliest_s=np.array(cols[5], np.int64),
        depart_latest_s=np.array(cols[6], np.int64),
        seats=np.array(cols[7], np.int32),
        max_detour_s=np.array(cols[8], np.int32),
    )


def _row(path: str | Path, line: int, row: dict[str, str], zone: ZoneInfo) -> tuple[object, ...]:
    where = f"{path} row {line}"

    def number(field: str, lo: float, hi: float) -> float:
        try:
            value = float(row[field])
        except ValueError:
            raise InputError(f"{where}: {field} {row[field]!r} is not a number") from None
        if not lo <= value <= hi:
            raise InputError(f"{where}: {field} {value} is outside [{lo}, {hi}]")
        return value

    def when(field: str) -> int:
        try:
            t = dt.datetime.fromisoformat(row[field])
        except ValueError:
            raise InputError(f"{where}: {field} {row[field]!r} is not an ISO 8601 time") from None
        return int((t if t.tzinfo else t.replace(tzinfo=zone)).timestamp())

    lo, hi = when("depart_earliest"), when("depart_latest")
    if hi < lo:
        raise InputError(f"{where}: depart_latest is before depart_earliest")
    return (
        row["driver_id"],
        number("origin_lat", -90, 90),
        number("origin_lon", -180, 180),
        number("destination_lat", -90, 90),
        number("destination_lon", -180, 180),
        lo,
        hi,
        int(number("seats", 0, 8)),
        round(number("max_detour_min", 0, 240) * 60),
    )
