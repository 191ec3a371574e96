"""Validation notices: what was wrong in a feed, where, and how bad.

Codes follow the canonical MobilityData GTFS validator's notice names where one exists
(``missing_required_field``, ``invalid_time``, ``foreign_key_violation``, ``duplicate_key``, ...);
the few codes of Arverne's own are listed in :data:`ARVERNE_CODES`.

Row numbers follow the canonical validator's ``csvRowNumber``: the header is row 1, so the first
data row is row 2. A notice about a whole file or column has ``row=None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from arverne.feeds.limits import ReadLimits

if TYPE_CHECKING:
    import numpy as np


class Severity(IntEnum):
    """How bad a notice is; ordered so that ``Severity.ERROR > Severity.WARNING > Severity.INFO``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, name: str) -> Severity:
        """Severity from its name, case-insensitive (``"error"``, ``"WARNING"``, ...).

        Parameters
        ----------
        name
            ``ERROR``, ``WARNING`` or ``INFO``.

        Returns
        -------
        Severity
            The matching severity.

        Raises
        ------
        ValueError
            When the name is none of the three.
        """
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"severity {name!r} is not one of ERROR, WARNING, INFO") from None


@dataclass(frozen=True, slots=True)
class Notice:
    """One finding about a feed.

    Attributes
    ----------
    code
        Stable snake_case code (canonical GTFS validator name where one exists).
    severity
        ERROR (the row or file was quarantined or is wrong), WARNING (suspicious but used),
        INFO (informational: kept, ignored or interpolated).
    file
        File name inside the feed (``stop_times.txt``), or None for the whole feed.
    row
        CSV row number (header is row 1), or None for a whole file or column.
    field
        Column name, or None.
    message
        One sentence naming file, row and field.
    """

    code: str
    severity: Severity
    file: str | None
    row: int | None
    field: str | None
    message: str

    def to_json(self) -> dict[str, object]:
        """The notice as a JSON-ready dict (severity by name)."""
        return {
            "code": self.code,
            "severity": self.severity.name,
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


MAX_EXAMPLE_CHARS = 60
"""Longest excerpt of a value quoted in a notice message."""


class Notices:
    """Notices of one reading, at most ``per_code`` of each code kept, the rest counted.

    Every notice goes through :meth:`add`, :meth:`add_rows` or :meth:`extend`, so the bound
    holds wherever a notice comes from.

    Parameters
    ----------
    per_code
        Notices kept per code (``ReadLimits.notices_per_code``).

    Attributes
    ----------
    items
        The notices kept, in the order found.
    per_code
        The bound (a caller quoting values needs no more than this many of them).
    omitted
        ``{code: count}`` of the notices found past the bound.
    """

    def __init__(self, per_code: int = ReadLimits.notices_per_code) -> None:
        self.items: list[Notice] = []
        self.omitted: dict[str, int] = {}
        self.per_code = per_code
        self._kept: dict[str, int] = {}

    def _room(self, code: str, wanted: int) -> int:
        """How many of ``wanted`` notices of ``code`` to keep; the rest are counted."""
        kept = self._kept.get(code, 0)
        room = min(wanted, max(self.per_code - kept, 0))
        self._kept[code] = kept + room
        if room < wanted:
            self.omitted[code] = self.omitted.get(code, 0) + wanted - room
        return room

    def add(
        self,
        code: str,
        severity: Severity,
        file: str | None,
        row: int | None,
        field: str | None,
        message: str,
    ) -> None:
        """Append one notice."""
        if self._room(code, 1):
            self.items.append(Notice(code, severity, file, row, field, message))

    def extend(self, notices: Iterable[Notice]) -> None:
        """Append notices made elsewhere."""
        for notice in notices:
            if self._room(notice.code, 1):
                self.items.append(notice)

    def add_rows(
        self,
        code: str,
        severity: Severity,
        file: str,
        rows: np.ndarray,
        field: str | None,
        message: Callable[[int, str], str],
        values: Iterable[object] | None = None,
    ) -> None:
        """Append one notice per row (the first ones, up to the bound).

        Parameters
        ----------
        code, severity, file, field
            As in :class:`Notice`.
        rows
            CSV row numbers of the flagged rows.
        message
            ``message(row, value)`` -> sentence; ``value`` is the (shortened) field value.
        values
            The flagged values, one per row, or None.
        """
        room = self._room(code, len(rows))
        vals: Iterable[object] = values if values is not None else [""] * room
        for row, value in zip(rows[:room].tolist(), vals, strict=False):
            self.items.append(
                Notice(code, severity, file, int(row), field, message(int(row), short(value)))
            )


def short(value: object) -> str:
    """A value as text, cut to :data:`MAX_EXAMPLE_CHARS` characters for messages."""
    text = "" if value is None else str(value)
    if len(text) > MAX_EXAMPLE_CHARS:
        return text[:MAX_EXAMPLE_CHARS] + "..."
    return text


ARVERNE_CODES: dict[str, Severity] = {
    "stop_time_interpolated": Severity.INFO,
    "flex_file_kept": Severity.INFO,
    "flex_stop_times_kept": Severity.INFO,
    "non_utf8_encoding": Severity.WARNING,
    "field_too_long": Severity.WARNING,
    "field_over_limit": Severity.ERROR,
    "frequency_trip_without_stop_times": Severity.WARNING,
    "no_usable_service": Severity.ERROR,
    "quarantined_by_dependency": Severity.INFO,
    "stop_time_with_departure_before_arrival_time": Severity.ERROR,
}
"""Codes that the canonical validator does not have, with their fixed severity."""


def count_by_code(notices: list[Notice], omitted: dict[str, int] | None = None) -> dict[str, int]:
    """Number of notices of each code, sorted by code.

    Parameters
    ----------
    notices
        Notices of one feed.
    omitted
        Notices counted but not kept, per code (``GtfsFeed.notices_omitted``), added in.

    Returns
    -------
    dict[str, int]
        ``{code: count}`` in code order.
    """
    counts: dict[str, int] = {}
    for notice in notices:
        counts[notice.code] = counts.get(notice.code, 0) + 1
    for code, count in (omitted or {}).items():
        counts[code] = counts.get(code, 0) + count
    return dict(sorted(counts.items()))


def worst_severity(notices: list[Notice]) -> Severity | None:
    """Highest severity among notices, or None when there are none."""
    return max((n.severity for n in notices), default=None)
