"""Reading GTFS-realtime sources again and again, on a schedule the caller sets."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from arverne.errors import InputError
from arverne.feeds.notices import Notices
from arverne.feeds.realtime import (
    MAX_AGE,
    RealtimeFeed,
    add_notice,
    failed_feed,
    fetch_url,
    parse_feed_message,
)


class RealtimeFetcher:
    """Reads GTFS-realtime sources again and again, every ``every``, on a background thread.

    Each round reads every source and hands the feeds to ``on_feeds`` (in source order). A
    round whose header is older than the previous round's adds ``E018``; the same header with
    other content adds ``E017``. A callback that raises stops nothing: the error is kept in
    :attr:`last_error` and the next round runs.

    Parameters
    ----------
    sources
        Paths or http(s) URLs.
    every
        Time between the starts of two rounds.
    on_feeds
        Called with the feeds of each round.
    timeout_s
        Timeout of each URL fetch.
    """

    def __init__(
        self,
        sources: Sequence[str | Path],
        *,
        every: dt.timedelta,
        on_feeds: Callable[[list[RealtimeFeed]], None],
        timeout_s: float = 10.0,
    ) -> None:
        if every.total_seconds() <= 0:
            raise InputError(f"the fetch interval must be positive, got {every}")
        if not sources:
            raise InputError("a fetcher needs at least one GTFS-realtime source")
        self.sources = [str(s) for s in sources]
        self.every = every
        self.on_feeds = on_feeds
        self.timeout_s = timeout_s
        self.rounds = 0
        self.last_error: BaseException | None = None
        self._last: dict[str, tuple[int | None, bytes]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def fetch_once(self) -> list[RealtimeFeed]:
        """Read every source once, call ``on_feeds``, and return the feeds."""
        feeds = []
        for src in self.sources:
            data = self._read(src)
            feed = (
                data
                if isinstance(data, RealtimeFeed)
                else parse_feed_message(data, src, max_age=MAX_AGE)
            )
            if not isinstance(data, RealtimeFeed):
                feed = self._compare(src, feed, data)
            feeds.append(feed)
        self.rounds += 1
        try:
            self.on_feeds(feeds)
        except Exception as exc:  # a bad round must not end the schedule
            self.last_error = exc
        return feeds

    def _read(self, src: str) -> bytes | RealtimeFeed:
        if src.startswith(("http://", "https://")):
            return fetch_url(src, self.timeout_s)
        try:
            return Path(src).read_bytes()
        except OSError as exc:
            return failed_feed(src, f"cannot read ({exc})")

    def _compare(self, src: str, feed: RealtimeFeed, data: bytes) -> RealtimeFeed:
        """Add E017/E018 by comparing with the previous round of the same source."""
        previous = self._last.get(src)
        self._last[src] = (feed.timestamp, data)
        if previous is None or feed.timestamp is None or previous[0] is None:
            return feed
        notices = Notices()
        notices.extend(feed.notices)
        if feed.timestamp < previous[0]:
            add_notice(
                notices,
                "E018",
                src,
                "header.timestamp",
                f"{src}: header timestamp {feed.timestamp} went back from {previous[0]}",
            )
        elif feed.timestamp == previous[0] and data != previous[1]:
            add_notice(
                notices,
                "E017",
                src,
                "header.timestamp",
                f"{src}: content changed under the same header timestamp {feed.timestamp}",
            )
        else:
            return feed
        return RealtimeFeed(
            source=feed.source,
            timestamp=feed.timestamp,
            incremental=feed.incremental,
            trip_updates=feed.trip_updates,
            alerts=feed.alerts,
            vehicles=feed.vehicles,
            notices=tuple(notices.items),
        )

    def start(self) -> RealtimeFetcher:
        """Start the rounds on a daemon thread (the first one at once); returns ``self``."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="gtfs-rt-fetcher", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.fetch_once()
            self._stop.wait(max(self.every.total_seconds() - (time.monotonic() - started), 0.0))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the rounds and wait for the current one to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> RealtimeFetcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
