"""Validate a GTFS feed: read it fully, collect notices, count what loads.

>>> report = validate_feed("poa_eptc.zip")          # doctest: +SKIP
>>> print(report.to_text())                          # doctest: +SKIP
>>> report.has_notices_at_or_above("ERROR")          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from arverne.errors import GtfsError
from arverne.feeds.gtfs import GtfsFeed, load_feed
from arverne.feeds.limits import ReadLimits
from arverne.feeds.notices import Notice, Severity, count_by_code

__all__ = ["ValidationReport", "expanded_counts", "validate_feed"]

EXAMPLES_PER_CODE = 3
"""Notices quoted under each code in the text report."""


@dataclass(frozen=True)
class ValidationReport:
    """What validation found in one feed.

    Attributes
    ----------
    feed
        Feed name (file stem).
    path
        The validated path, as text.
    notices
        The notices kept (``ReadLimits.notices_per_code`` per code), in the order found.
    counts
        Rows loaded after quarantine: ``routes``, ``trips``, ``stops``, ``stop_times``,
        ``flex_stop_times``, and after frequency expansion ``trips_expanded``,
        ``stop_times_expanded``.
    rows_read
        Rows read from each file before any quarantine (file name -> rows).
    timezone
        The feed's time zone.
    omitted
        Notices found past ``ReadLimits.notices_per_code``, per code: counted, not kept.
    """

    feed: str
    path: str
    notices: list[Notice]
    counts: dict[str, int]
    rows_read: dict[str, int] = field(default_factory=dict)
    timezone: str = ""
    omitted: dict[str, int] = field(default_factory=dict)

    def has_notices_at_or_above(self, severity_name: str) -> bool:
        """Whether any notice is at least as severe as ``severity_name``.

        Parameters
        ----------
        severity_name
            ``ERROR``, ``WARNING`` or ``INFO`` (any case).

        Returns
        -------
        bool
            True when at least one notice reaches that severity.

        Raises
        ------
        ValueError
            When the name is not a severity.
        """
        threshold = Severity.parse(severity_name)
        return any(n.severity >= threshold for n in self.notices)

    def summary(self) -> list[tuple[str, Severity, int]]:
        """``(code, severity, count)`` per code, most severe first, then by code."""
        counts = count_by_code(self.notices, self.omitted)
        severity = {n.code: n.severity for n in self.notices}
        return sorted(
            ((code, severity[code], count) for code, count in counts.items()),
            key=lambda item: (-int(item[1]), item[0]),
        )

    def to_text(self) -> str:
        """A readable report: counts, then notices grouped by code with a few examples."""
        lines = [f"GTFS feed {self.feed} ({self.path}), time zone {self.timezone}"]
        width = max(len(k) for k in self.counts)
        for key, value in self.counts.items():
            lines.append(f"  {key:<{width}}  {value:>10,}")
        by_severity = {s: 0 for s in Severity}
        for _code, severity, count in self.summary():
            by_severity[severity] += count
        lines.append(
            "Notices: "
            + ", ".join(f"{by_severity[s]} {s.name}" for s in sorted(Severity, reverse=True))
        )
        examples: dict[str, list[Notice]] = {}
        for n in self.notices:
            bucket = examples.setdefault(n.code, [])
            if len(bucket) < EXAMPLES_PER_CODE:
                bucket.append(n)
        for code, severity, count in self.summary():
            lines.append(f"  {severity.name:<7} {code} x {count}")
            for n in examples[code]:
                lines.append(f"      {n.message}")
            if count > EXAMPLES_PER_CODE:
                lines.append(f"      ... and {count - EXAMPLES_PER_CODE} more")
            if code in self.omitted:
                lines.append(f"      ({self.omitted[code]:,} of them counted but not kept)")
        if not self.notices:
            lines.append("  no notices: the feed is clean")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        """The report as a JSON-ready dict: counts, a per-code summary, every notice kept and
        the number of notices counted but not kept per code (``notices_omitted``).
        """
        return {
            "feed": self.feed,
            "path": self.path,
            "timezone": self.timezone,
            "counts": dict(self.counts),
            "rows_read": dict(self.rows_read),
            "summary": [
                {"code": code, "severity": severity.name, "count": count}
                for code, severity, count in self.summary()
            ],
            "notices": [n.to_json() for n in self.notices],
            "notices_omitted": dict(sorted(self.omitted.items())),
        }


def validate_feed(
    path: str | Path, *, name: str | None = None, limits: ReadLimits | None = None
) -> ValidationReport:
    """Read and check every file of a GTFS feed.

    Beyond what reading checks, travel speeds and the distance of stops to their shapes are
    checked, and the span of the service calendar against ``ReadLimits.max_service_days``
    (a ``service_calendar_too_long`` ERROR notice where a build would refuse it). A feed whose
    every trip is quarantined still gives a report (with a ``no_usable_service`` ERROR notice);
    a feed that cannot be read at all is refused.

    Parameters
    ----------
    path
        GTFS zip or folder.
    name
        Feed name for the report (default: the file stem).
    limits
        Bounds on the reading (default ``ReadLimits()``).

    Returns
    -------
    ValidationReport
        Notices and counts.

    Raises
    ------
    GtfsError
        When the feed is refused: unreadable or corrupt archive, or a required file missing
        or empty.
    """
    feed = load_feed(Path(path), name=name, strict=False, plausibility=True, limits=limits)
    notices = list(feed.notices)
    try:
        feed.service_days()
    except GtfsError as refused:
        code = "service_calendar_too_long"
        notices.append(Notice(code, Severity.ERROR, None, None, None, str(refused)))
    return ValidationReport(
        feed=feed.name,
        path=str(path),
        notices=notices,
        counts=feed_counts(feed),
        rows_read=dict(sorted(feed.raw_counts.items())),
        timezone=feed.timezone,
        omitted=dict(feed.notices_omitted),
    )


def feed_counts(feed: GtfsFeed) -> dict[str, int]:
    """Rows loaded per table, and trips/stop_times after frequency expansion."""
    trips_expanded, stop_times_expanded = expanded_counts(feed)
    return {
        "agencies": len(feed.agency),
        "routes": len(feed.routes),
        "trips": len(feed.trips),
        "stops": len(feed.stops),
        "stop_times": len(feed.stop_times),
        "flex_stop_times": len(feed.flex_stop_times),
        "shapes_points": len(feed.shapes),
        "frequencies": len(feed.frequencies),
        "transfers": len(feed.transfers),
        "trips_expanded": trips_expanded,
        "stop_times_expanded": stop_times_expanded,
    }


def expanded_counts(feed: GtfsFeed) -> tuple[int, int]:
    """Numbers of trips and stop_times that :meth:`GtfsFeed.expanded` gives, without building them.

    Parameters
    ----------
    feed
        A loaded feed.

    Returns
    -------
    tuple[int, int]
        ``(trips, stop_times)`` after frequency expansion.
    """
    if feed.frequencies.empty:
        return len(feed.trips), len(feed.stop_times)
    per_trip = feed.stop_times["trip_id"].value_counts()
    freq = feed.frequencies[
        feed.frequencies["trip_id"].isin(per_trip.index)
        & feed.frequencies["trip_id"].isin(feed.trips["trip_id"])
    ]
    templates = pd.Index(freq["trip_id"].unique())
    start = freq["start_s"].to_numpy(np.int64)
    end = freq["end_s"].to_numpy(np.int64)
    headway = freq["headway_s"].to_numpy(np.int64)
    # departure times per template, deduplicated like expanded() does
    n_trips = 0
    n_stop_times = 0
    departures: dict[str, set[int]] = {}
    for trip, s, e, h in zip(freq["trip_id"].tolist(), start, end, headway, strict=True):
        departures.setdefault(trip, set()).update(range(int(s), int(e), int(h)))
    for trip, deps in departures.items():
        n_trips += len(deps)
        n_stop_times += len(deps) * int(per_trip[trip])
    base_trips = int((~feed.trips["trip_id"].isin(templates)).sum())
    base_stop_times = int((~feed.stop_times["trip_id"].isin(templates)).sum())
    return base_trips + n_trips, base_stop_times + n_stop_times
