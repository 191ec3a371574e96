"""Parsing request values in Navitia's grammar: places (``lon;lat`` or a stop id), datetimes."""

from __future__ import annotations

import datetime as dt
import math
import re
from zoneinfo import ZoneInfo

from arverne.network.timetable import Timetable
from arverne.service.problems import HttpProblem

_DATETIME = re.compile(r"(\d{8})T(\d{4})(\d{2})?")
YEARS = (1900, 2199)
"""Years a datetime may name (outside, no timetable runs and time arithmetic overflows)."""


def parse_lon_lat(text: str, name: str) -> tuple[float, float]:
    """``"lon;lat"`` as (lat, lon); an ``invalid-parameter`` problem when it is not one."""
    lon_s, sep, lat_s = text.partition(";")
    try:
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        raise HttpProblem(
            "invalid-parameter", f"{name} {text[:50]!r} is not lon;lat (e.g. 3.0870;45.7772)"
        ) from None
    if not sep or not (math.isfinite(lon) and math.isfinite(lat)):
        raise HttpProblem("invalid-parameter", f"{name} {text[:50]!r} is not lon;lat")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise HttpProblem("invalid-parameter", f"{name} {text[:50]!r} is outside the Earth")
    return lat, lon


def parse_place(text: str, tt: Timetable, name: str) -> tuple[float, float]:
    """A place as (lat, lon): ``lon;lat``, or a stop id of the network (at its position)."""
    if ";" in text:
        return parse_lon_lat(text, name)
    try:
        idx = tt.stop_index(text)
    except KeyError:
        raise HttpProblem(
            "invalid-parameter", f"{name} {text[:50]!r} is neither lon;lat nor a stop id"
        ) from None
    return float(tt.stop_lat[idx]), float(tt.stop_lon[idx])


def parse_datetime(text: str | None, timezone: str) -> dt.datetime:
    """``YYYYMMDDThhmm[ss]`` as a naive datetime of the network's zone (None: now there)."""
    if text is None:
        return dt.datetime.now(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)
    match = _DATETIME.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        date, hhmm, ss = match.groups()
        when = dt.datetime.strptime(date + hhmm + (ss or "00"), "%Y%m%d%H%M%S")
    except ValueError:
        raise HttpProblem(
            "invalid-parameter", f"datetime {text[:30]!r} is not YYYYMMDDThhmm[ss]"
        ) from None
    if not YEARS[0] <= when.year <= YEARS[1]:
        raise HttpProblem("invalid-parameter", f"datetime {text!r}: the year is not {YEARS}")
    return when
