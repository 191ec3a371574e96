"""Read a GTFS feed (zip or folder) into typed, validated tables.

>>> feed = read_gtfs("poa_eptc.zip")          # doctest: +SKIP
>>> feed.stop_times.head()                     # doctest: +SKIP

Every file is read with pyarrow as strings, then parsed and checked with vectorised code.
A bad row gets a :class:`~arverne.feeds.notices.Notice` and is quarantined (left out); the rest
loads. Only a feed that cannot give any service is refused with :class:`~arverne.errors.GtfsError`.
"""

from __future__ import annotations

from pathlib import Path

from arverne.feeds._load import FeedLoader
from arverne.feeds._service import ServiceDays
from arverne.feeds._source import Source
from arverne.feeds.feed import GtfsFeed
from arverne.feeds.limits import ReadLimits
from arverne.memory import lean_memory

__all__ = ["GtfsFeed", "ServiceDays", "read_gtfs"]


def read_gtfs(
    path: str | Path, *, name: str | None = None, limits: ReadLimits | None = None
) -> GtfsFeed:
    """Read and validate a GTFS feed.

    Parameters
    ----------
    path
        A GTFS ``.zip`` or a folder of ``.txt`` files.
    name
        Feed key (default: the file or folder stem, e.g. ``poa_eptc``).
    limits
        Bounds on file sizes, zip ratios, field lengths, notices kept and the span of the
        service calendar :meth:`GtfsFeed.service_days` builds (default ``ReadLimits()``).

    Returns
    -------
    GtfsFeed
        Typed tables, bad rows quarantined, notices attached.

    Raises
    ------
    GtfsError
        When the feed cannot be used: unreadable or corrupt archive, a required file missing or
        empty, no valid agency time zone, nothing left to run after quarantine, or a file past
        ``limits``.
    """
    return load_feed(Path(path), name=name, strict=True, limits=limits)


def load_feed(
    path: Path,
    *,
    name: str | None = None,
    strict: bool = True,
    plausibility: bool = False,
    limits: ReadLimits | None = None,
) -> GtfsFeed:
    """Read a feed; with ``strict=False`` a feed emptied by quarantine is still returned.

    The non-strict mode is what validation uses: a feed whose every trip is broken (such as
    the GTFS reference's example with deliberate integrity errors) gives a report of its
    notices plus ``no_usable_service`` rather than a refusal. Missing required files and
    unreadable archives are refused in both modes.

    Parameters
    ----------
    path
        Zip or folder.
    name
        Feed key.
    strict
        Refuse (GtfsError) a feed left without service or without a valid time zone.
    plausibility
        Also check travel speeds and the distance of stops to their shapes (WARNING notices,
        see ``feeds/_checks.py``); validation does, a build skips these costlier checks.
    limits
        As in :func:`read_gtfs`.

    Returns
    -------
    GtfsFeed
        The feed.
    """
    path = Path(path)
    with lean_memory():
        source = Source(path, limits)
        try:
            return FeedLoader(path, source, name, strict, plausibility).run()
        finally:
            source.close()
