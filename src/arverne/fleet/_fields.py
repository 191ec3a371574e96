"""Values of a tour problem file, each parsed with the file, row and field it comes from.

Every error is a :class:`~arverne.errors.ProblemError` of one sentence naming the file, the row
(or JSON item) and the field; values from data are shown cut to a readable length.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from arverne.errors import FallbackWarning, ProblemError

T = TypeVar("T")

_CLOCK = re.compile(r"^\s*(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?\s*$")
_UNIT = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(s|sec|min|m|h)\s*$", re.IGNORECASE)


def shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length for a message."""
    text = (
        repr(value) if not isinstance(value, int) or value.bit_length() < 200 else "a huge number"
    )
    return text if len(text) <= 60 else text[:57] + "..."


class Where:
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


def parse_time(value: Any, where: Where, field: str) -> float:
    """Seconds from a number or ``H:MM[:SS]`` (hours may pass 24)."""
    if isinstance(value, bool):
        raise where.error(field, f"{shown(value)} is not a time")
    if isinstance(value, int | float):
        if isinstance(value, int) and value.bit_length() > 64:
            raise where.error(field, f"{shown(value)} is not a time of day in seconds")
        if not math.isfinite(value) or value < 0:
            raise where.error(field, f"{shown(value)} is not a time of day in seconds")
        return float(value)
    text = str(value).strip()
    match = _CLOCK.match(text)
    if match:
        h, m, s = int(match.group(1)), int(match.group(2)), float(match.group(3) or 0)
        if m >= 60 or s >= 60:
            raise where.error(field, f"{shown(text)} is not a time (minutes and seconds go to 59)")
        return h * 3600.0 + m * 60.0 + s
    try:
        seconds = float(text)
    except ValueError:
        raise where.error(field, f"{shown(text)} is not a time (use seconds or H:MM)") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise where.error(field, f"{shown(text)} is not a time of day in seconds")
    return seconds


def parse_duration(value: Any, where: Where, field: str) -> float:
    """Seconds from a number, ``H:MM[:SS]`` or ``90s`` / ``20min`` / ``2h``."""
    if isinstance(value, str):
        match = _UNIT.match(value)
        if match:
            factor = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}[match.group(2).lower()]
            return float(match.group(1)) * factor
    return parse_time(value, where, field)


def parse_window(value: Any, where: Where, field: str) -> tuple[float, float]:
    """``(start, end)`` seconds from ``[start, end]`` or ``"start-end"`` (ordered)."""
    if isinstance(value, str):
        parts = value.split("-")
        if len(parts) != 2:
            raise where.error(field, f"{shown(value)} is not a window 'start-end'")
        value = parts
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise where.error(field, f"{shown(value)} is not a [start, end] window")
    start, end = parse_time(value[0], where, field), parse_time(value[1], where, field)
    if end < start:
        raise where.error(field, f"window {value[0]}-{value[1]} ends before it starts")
    return start, end


def parse_int(value: Any, where: Where, field: str) -> int:
    """A whole number from a number or its text (``3``, ``3.0``, ``"3"``; never a bool)."""
    if isinstance(value, bool):
        raise where.error(field, f"{shown(value)} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise where.error(field, f"{shown(value)} is not a whole number") from None


def parse_float(value: Any, where: Where, field: str) -> float:
    """A finite number from a number or its text (a decimal comma is accepted)."""
    if isinstance(value, bool):
        raise where.error(field, f"{shown(value)} is not a number")
    try:
        out = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError, OverflowError):
        raise where.error(field, f"{shown(value)} is not a number") from None
    if not math.isfinite(out):
        raise where.error(field, f"{shown(value)} is not a finite number")
    return out


def parse_bool(value: Any, where: Where, field: str) -> bool:
    """Yes or no from a bool or a word (``yes``/``no``, ``oui``/``non``, ``1``/``0``, ``x``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "oui", "x"):
        return True
    if text in ("", "0", "false", "no", "n", "non"):
        return False
    raise where.error(field, f"{shown(value)} is not yes/no")


def json_list(value: Any, where: Where, field: str) -> list[Any]:
    """A JSON list (``None`` is empty); anything else is an error naming the field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(field, f"{shown(value)} is not a list")
    return value


def parse_quantity(value: Any, where: Where, field: str) -> tuple[int, ...]:
    """Non-negative whole numbers, one per load dimension, from a number or a list of them."""
    if value is None or value == "":
        return ()
    if isinstance(value, bool) or not isinstance(value, int | float | str | list):
        raise where.error(
            field, f"{shown(value)} is not a quantity (a whole number or a list of them)"
        )
    if not isinstance(value, list):
        value = [value]
    out = tuple(parse_int(v, where, field) for v in value)
    for q in out:
        if q < 0:
            raise where.error(field, f"is negative ({q}); quantities are >= 0")
    return out


def json_objects(value: Any, where: Where, field: str) -> list[dict[str, Any]]:
    """A JSON list of objects."""
    out = json_list(value, where, field)
    for item in out:
        if not isinstance(item, dict):
            raise where.error(field, f"holds {shown(item)}, not an object")
    return out


def parse_names(value: Any) -> list[str]:
    """Names from a list or from text separated by ``|`` or ``;``."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[|;]", str(value)) if v.strip()]


def build_at(where: Where, make: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a dataclass constructor, prefixing its error with the file and row."""
    try:
        return make(*args, **kwargs)
    except ProblemError as exc:
        if str(exc).startswith(str(where)):
            raise
        raise ProblemError(f"{where}: {exc}") from None


def read_text(path: Path, max_bytes: int, *, raise_with: str = "it") -> str:
    """The text of a regular file: UTF-8, else Windows-1252 with a warning (spreadsheets on
    Windows save CSV that way); a file too big, not a regular file, or neither is refused.

    ``raise_with`` names what raises ``max_bytes`` when a caller derives it from another limit.
    """
    if not path.is_file():
        what = "does not exist" if not path.exists() else "not a regular file"
        raise ProblemError(f"{path}: {what}")
    size = path.stat().st_size
    if size > max_bytes:
        raise ProblemError(
            f"{path.name}: {size:,} bytes, more than max_bytes={max_bytes:,} "
            f"(raise {raise_with} to read it)"
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
