"""The typed tables of one GTFS feed as read (:class:`GtfsFeed`), and what derives from them.

:func:`arverne.feeds.gtfs.read_gtfs` makes one; the loader (``feeds/_load.py``) fills it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from arverne.feeds._frames import empty_table
from arverne.feeds._service import ServiceDays, expand_frequencies, service_days
from arverne.feeds.limits import ReadLimits
from arverne.feeds.notices import Notice


@dataclass
class GtfsFeed:
    """A GTFS feed as typed, cleaned tables (bad rows quarantined); see the module contract.

    Attributes
    ----------
    name
        Feed key used to namespace ids (file stem unless given).
    timezone
        IANA time zone of the (first) agency.
    notices
        Everything found while reading, up to ``ReadLimits.notices_per_code`` per code.
    notices_omitted
        Notices found but not kept, per code (past ``ReadLimits.notices_per_code``).
    agency, stops, routes, trips, stop_times, calendar, calendar_dates, frequencies, transfers,
    feed_info, shapes, pathways, levels
        Typed DataFrames, columns named as in GTFS (``feeds/_spec.py`` lists each table's); an
        absent optional file gives an empty frame with the same columns.
        The ids of the big tables (stop_times trip_id and stop_id, shapes shape_id) are
        pandas categoricals of the ids used.
    flex
        Raw GTFS-Flex files kept verbatim (file name -> bytes).
    flex_stop_times
        stop_times rows that serve a location group or zone instead of a stop (raw strings).
    raw_counts
        Rows read from each file before any quarantine (file name -> rows).
    max_service_days
        Longest calendar span :meth:`service_days` accepts (``ReadLimits.max_service_days``
        of the reading).
    """

    name: str
    timezone: str
    notices: list[Notice]
    agency: pd.DataFrame
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    frequencies: pd.DataFrame
    transfers: pd.DataFrame
    feed_info: pd.DataFrame
    shapes: pd.DataFrame
    pathways: pd.DataFrame = field(default_factory=lambda: empty_table("pathways"))
    levels: pd.DataFrame = field(default_factory=lambda: empty_table("levels"))
    flex: dict[str, bytes] = field(default_factory=dict)
    flex_stop_times: pd.DataFrame = field(default_factory=pd.DataFrame)
    raw_counts: dict[str, int] = field(default_factory=dict)
    notices_omitted: dict[str, int] = field(default_factory=dict)
    max_service_days: int = ReadLimits.max_service_days

    def expanded(self) -> GtfsFeed:
        """A copy with frequencies.txt expanded into ordinary trips.

        Each frequency row gives departures ``start_s, start_s + headway_s, ...`` strictly
        before ``end_s`` (for both exact_times 0 and 1); each departure becomes a trip
        ``"<trip_id>@<HH:MM:SS>"`` whose stop times are the template trip's, shifted so that
        its first departure is the start time. Template trips are replaced by their copies.

        Returns
        -------
        GtfsFeed
            The new feed (``frequencies`` emptied); the original is unchanged.
        """
        if self.frequencies.empty:
            return replace(self)
        trips, stop_times = expand_frequencies(self.trips, self.stop_times, self.frequencies)
        return replace(
            self,
            trips=trips,
            stop_times=stop_times,
            frequencies=empty_table("frequencies"),
            notices=list(self.notices),
        )

    def service_days(self) -> ServiceDays:
        """Service calendar as a bool matrix (calendar.txt, then calendar_dates.txt applied).

        Returns
        -------
        ServiceDays
            One row per service id (sorted), one column per day from the earliest to the latest
            date that calendar or calendar_dates give the services trips use.

        Raises
        ------
        GtfsError
            When that span is longer than ``max_service_days``.
        """
        used = set(self.trips["service_id"].tolist()) if len(self.trips) else None
        return service_days(
            self.calendar, self.calendar_dates, used=used, max_days=self.max_service_days
        )
