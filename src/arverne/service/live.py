"""Live sources of a running service: GTFS-realtime, GBFS bike share and carpool offers.

Each worker process reads its sources again on the schedule the settings give, in one asyncio
task the app's lifespan starts (:meth:`LiveFeeds.run`; the reading itself runs in a thread, so
the event loop keeps answering). A round that fails (a URL that does not answer, a message that
is not protobuf, a GBFS or CSV file that does not parse) keeps the last good state of that
source and records why in its :class:`SourceStatus`, which ``/v1/status`` shows.

What the sources said last is one immutable :class:`LiveInputs`; the network holder
(:mod:`arverne.service.snapshot`) applies it to the network version it serves and hands each
request one :class:`~arverne.service.snapshot.Snapshot` holding both: a request never sees a
network from one moment and a live state from another.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from arverne.errors import InputError
from arverne.service.settings import ServiceSettings

if TYPE_CHECKING:
    from arverne.feeds.carpool import CarpoolOffers
    from arverne.feeds.gbfs import BikeShare
    from arverne.feeds.realtime import RealtimeFeed
    from arverne.feeds.realtime_fetch import RealtimeFetcher
    from arverne.network.realtime import RealtimeTimetable

log = logging.getLogger("arverne.service")


def public_name(source: str) -> str:
    """A source as ``/v1/status`` shows it: a URL without its query (it may hold an API key)
    nor its credentials, a file by its name only (the server's folders are nobody's business).
    """
    if source.startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(source)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
    return Path(source).name


class AlertOut(BaseModel):
    """A GTFS-realtime service alert (on a departure, a line or a journey's leg)."""

    id: str
    header: str
    description: str
    url: str
    cause: str
    effect: str
    active: list[list[int | None]] = Field(
        description="[start, end] POSIX seconds, either open (null); none: always active"
    )


@dataclass(frozen=True)
class SourceStatus:
    """The last reads of one live source."""

    kind: str
    """``gtfs-rt``, ``gbfs`` or ``carpool``."""
    source: str
    """As :func:`public_name` shows it."""
    every_s: float
    read_at: dt.datetime | None = None
    """Last read that gave a usable state (the one in use)."""
    tried_at: dt.datetime | None = None
    """Last attempt, good or not."""
    error: str | None = None
    """Why the last attempt failed (the last good state is kept); None when it worked."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        out = dataclasses.asdict(self)
        for k in ("read_at", "tried_at"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        return out


@dataclass(frozen=True)
class LiveInputs:
    """What the live sources said last (one generation), before it meets a timetable."""

    generation: int
    """Counts the states this worker published (0: none read yet)."""
    realtime: tuple[RealtimeFeed, ...] = ()
    """The last good message of each GTFS-realtime source (a source never read is absent)."""
    bikeshare: BikeShare | None = None
    carpool: CarpoolOffers | None = None
    sources: tuple[SourceStatus, ...] = ()


@dataclass(frozen=True)
class LiveState:
    """A live state applied to one network version (what a request reads)."""

    inputs: LiveInputs
    realtime: RealtimeTimetable | None = None
    """The GTFS-realtime feeds applied to the version's timetable (None: no feed read)."""

    @property
    def bikeshare(self) -> BikeShare | None:
        """The bike-share system now (None: no GBFS source, or never read)."""
        return self.inputs.bikeshare

    @property
    def carpool(self) -> CarpoolOffers | None:
        """The drivers' offers (None: no carpool source, or never read)."""
        return self.inputs.carpool

    def summary(self) -> dict[str, Any]:
        """What ``/v1/status`` says of the live state: sources, counts, notice codes."""
        bs, rt = self.inputs.bikeshare, self.realtime
        return {
            "generation": self.inputs.generation,
            "sources": [s.to_dict() for s in self.inputs.sources],
            "realtime": (
                {
                    "timestamp": rt.timestamp,
                    "counts": dict(rt.counts),
                    "notices": rt.summary["notices"],
                }
                if rt is not None
                else None
            ),
            "bikeshare": (
                {
                    "system_id": bs.system_id,
                    "version": bs.version,
                    "last_updated": bs.last_updated.isoformat() if bs.last_updated else None,
                    "stations": bs.n_stations,
                    "free_vehicles": int(bs.vehicle_id.shape[0]),
                }
                if bs is not None
                else None
            ),
            "carpool": (
                {"offers": len(self.inputs.carpool)} if self.inputs.carpool is not None else None
            ),
        }


@dataclass
class _Source:
    """One source's schedule and last status (mutated by the refreshing thread only)."""

    kind: str
    source: str
    every_s: float
    status: SourceStatus
    due: float = 0.0
    """Monotonic time of the next read."""


@dataclass
class LiveFeeds:
    """The live sources of one worker process, read on their schedules.

    Parameters
    ----------
    settings
        The service's settings (sources and intervals).
    publish
        Called (in the reading thread) with every new :class:`LiveInputs`.
    timezone
        Gives the network's time zone now (carpool offers without an offset are local times).
    """

    settings: ServiceSettings
    publish: Callable[[LiveInputs], object]
    timezone: Callable[[], str]
    inputs: LiveInputs = field(default_factory=lambda: LiveInputs(0))
    _sources: list[_Source] = field(default_factory=list)
    _fetcher: RealtimeFetcher | None = None
    _realtime: dict[str, RealtimeFeed] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    """One refresh at a time (the schedule's, or a caller's)."""

    def __post_init__(self) -> None:
        s = self.settings
        wanted: list[tuple[str, str, float]] = [
            ("gtfs-rt", src, s.realtime_every_s) for src in s.realtime_sources
        ]
        if s.gbfs_source is not None:
            wanted.append(("gbfs", s.gbfs_source, s.gbfs_every_s))
        if s.carpool_offers is not None:
            wanted.append(("carpool", str(s.carpool_offers), s.carpool_every_s))
        self._sources = [
            _Source(kind, src, every, SourceStatus(kind, public_name(src), every))
            for kind, src, every in wanted
        ]
        if s.realtime_sources:
            from arverne.feeds.realtime_fetch import RealtimeFetcher

            # the fetcher's own thread is not started: its rounds run on this schedule, and it
            # compares each round with the previous one (header going back, E017/E018)
            self._fetcher = RealtimeFetcher(
                s.realtime_sources,
                every=dt.timedelta(seconds=s.realtime_every_s),
                on_feeds=lambda feeds: None,
                timeout_s=s.live_timeout_s,
            )

    def refresh(self, now: float | None = None) -> bool:
        """Read every source that is due (all of them when ``now`` is None) and publish.

        Returns
        -------
        bool
            Whether a new :class:`LiveInputs` was published.
        """
        with self._lock:
            return self._refresh(now)

    def _refresh(self, now: float | None) -> bool:
        clock = time.monotonic() if now is None else now
        due = {s.kind for s in self._sources if now is None or s.due <= clock}
        if not due:
            return False
        changes: dict[str, Any] = {}
        if "gtfs-rt" in due:
            changes["realtime"] = self._read_realtime()
        if "gbfs" in due:
            changes.update(self._read_other("gbfs", self._read_gbfs, "bikeshare"))
        if "carpool" in due:
            changes.update(self._read_other("carpool", self._read_carpool, "carpool"))
        for s in self._sources:
            if s.kind in due:
                s.due = clock + s.every_s
        self.inputs = dataclasses.replace(
            self.inputs,
            generation=self.inputs.generation + 1,
            sources=tuple(s.status for s in self._sources),
            **changes,
        )
        self.publish(self.inputs)
        return True

    def _read_realtime(self) -> tuple[RealtimeFeed, ...]:
        """One round of every GTFS-realtime source; a source that fails keeps its last feed."""
        assert self._fetcher is not None
        tried = dt.datetime.now(dt.UTC)
        try:
            feeds = self._fetcher.fetch_once()
        except Exception as exc:  # a source must never end the schedule: noted, state kept
            log.warning("GTFS-realtime round failed: %s", exc)
            for s in self._sources:
                if s.kind == "gtfs-rt":
                    self._note(s, tried, f"the round failed ({type(exc).__name__})")
            return tuple(self._realtime.values())
        sources = [s for s in self._sources if s.kind == "gtfs-rt"]
        for s, feed in zip(sources, feeds, strict=True):
            if feed.ok:
                self._realtime[s.source] = feed
                s.status = dataclasses.replace(s.status, read_at=tried, tried_at=tried, error=None)
            else:
                why = "; ".join(
                    n.message
                    for n in feed.notices
                    if n.code in ("fetch_failed", "invalid_protobuf")
                )
                self._note(s, tried, _without(why, s.source))
        round_ = tuple(self._realtime[s.source] for s in sources if s.source in self._realtime)
        last = self.inputs.realtime
        if len(round_) == len(last) and all(map(_same_content, round_, last)):
            # the same messages again: the very tuple served now, so the version they were
            # applied to and its planners are kept (nothing is applied again)
            return last
        return round_

    def _read_other(self, kind: str, read: Callable[[str], object], key: str) -> dict[str, object]:
        """Read the one source of ``kind``; on failure keep the last state (no change)."""
        s = next(s for s in self._sources if s.kind == kind)
        tried = dt.datetime.now(dt.UTC)
        try:
            value = read(s.source)
        except InputError as exc:  # the readers' own words: which file, which field
            self._note(s, tried, _without(str(exc), s.source))
            return {}
        except Exception as exc:  # an outside feed of any shape must not end the schedule
            self._note(s, tried, _without(f"unreadable ({type(exc).__name__}: {exc})", s.source))
            return {}
        s.status = dataclasses.replace(s.status, read_at=tried, tried_at=tried, error=None)
        return {key: value}

    def _read_gbfs(self, source: str) -> BikeShare:
        from arverne.feeds.gbfs import read_gbfs

        return read_gbfs(source, timeout_s=self.settings.live_timeout_s)

    def _read_carpool(self, source: str) -> CarpoolOffers:
        from arverne.feeds.carpool import read_carpool_offers

        return read_carpool_offers(source, timezone=self.timezone())

    @staticmethod
    def _note(s: _Source, tried: dt.datetime, why: str) -> None:
        log.warning("live source %s %s: %s (last good state kept)", s.kind, s.status.source, why)
        s.status = dataclasses.replace(s.status, tried_at=tried, error=why or "unreadable")

    async def run(self) -> None:
        """Refresh the due sources for ever (cancel the task to stop); each round in a thread."""
        while True:
            pause = 0.05
            try:
                await asyncio.to_thread(self.refresh, time.monotonic())
            except Exception:  # publishing failed (the network unreadable now): retry soon
                log.exception("live refresh failed")
                pause = 1.0
            wait = min(s.due for s in self._sources) - time.monotonic()
            await asyncio.sleep(min(max(wait, pause), 3600.0))


_URL = re.compile(r"https?://[^\s'\"()]+")


def _same_content(a: RealtimeFeed, b: RealtimeFeed) -> bool:
    """Whether two reads of a source hold the same message (their notices aside)."""
    return (a.timestamp, a.trip_updates, a.alerts, a.vehicles) == (
        b.timestamp,
        b.trip_updates,
        b.alerts,
        b.vehicles,
    )


def _without(message: str, source: str) -> str:
    """A reader's message without full URLs (queries) nor the source's folder
    (see :func:`public_name`).
    """
    message = _URL.sub(lambda m: public_name(m.group(0)), message)
    if not source.startswith(("http://", "https://")):
        message = message.replace(source, public_name(source))
        for folder in {str(Path(source).parent), str(Path(source).resolve().parent)} - {"."}:
            message = message.replace(folder + "/", "")
    return message
