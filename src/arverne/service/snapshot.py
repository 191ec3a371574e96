"""One network version per request, swapped without a restart.

A network directory's ``current`` pointer names the version to serve (``network/store.py``). A
:class:`NetworkHolder` reads the pointer at the start of each request (one ``readlink``); when it
names a version other than the one loaded, that version is loaded (memory-mapped, checked) and
becomes the holder's snapshot. A request keeps the :class:`Snapshot` it was given for its whole
life, so it never sees two networks; the store keeps the previous version's files until the next
swap, and memory-mapped arrays stay readable even after their files are removed.

Live sources (:mod:`arverne.service.live`) publish their state to the holder, which applies it
to the version it serves (:meth:`NetworkHolder.publish`): the snapshot a request gets holds
one network version and one live state, made together, and its planners search that real-time
version. Snapshots of one version share their derived tables (:meth:`Snapshot.memo`, static
facts only) and, while the real-time part is unchanged, their planners.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from arverne.errors import NetworkStoreError
from arverne.network.network import Network
from arverne.network.store import MANIFEST, resolve_version
from arverne.routing.planner import Planner

if TYPE_CHECKING:
    from arverne.service.live import LiveInputs, LiveState

T = TypeVar("T")


@dataclass
class Snapshot:
    """One loaded network version and the planners that search it (one per running call)."""

    version: str
    """Name of the version folder (``v-<id>``; the folder name of a flat-layout network)."""
    network: Network
    loaded_at: dt.datetime
    built_at: dt.datetime | None
    live: LiveState | None = None
    """The live state applied to this version (None: the service has no live source)."""
    _free: list[Planner] = field(default_factory=list, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def planner(self) -> Iterator[Planner]:
        """A planner of this version, for one call at a time (a planner owns search state)."""
        with self._lock:
            planner = self._free.pop() if self._free else None
        if planner is None:
            planner = Planner(self.network)
            if self.live is not None and self.live.realtime is not None:
                planner.use_realtime(self.live.realtime)
        try:
            yield planner
        finally:
            with self._lock:
                self._free.append(planner)

    def planner_ready(self) -> bool:
        """Whether a planner of this version waits free (a call makes none: it plans at once)."""
        return bool(self._free)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per version (derived tables: line paths, feeds' dates, ...).

        Shared by every live state of the version: only what the static network decides.
        """
        if key not in self._memo:
            value = compute()
            with self._lock:
                self._memo.setdefault(key, value)
        result: T = self._memo[key]
        return result

    def feeds(self) -> list[dict[str, Any]]:
        """Each merged feed's name and the first and last day one of its services runs."""
        return self.memo("feeds", self._feeds)

    def _feeds(self) -> list[dict[str, Any]]:
        tt = self.network.timetable
        if tt is None:
            return []
        first = dt.date.fromisoformat(tt.first_date)
        service_feed = np.array([s.split(":", 1)[0] for s in np.asarray(tt.service_id).tolist()])
        active = np.asarray(tt.service_active, dtype=bool)
        out = []
        for name in np.asarray(tt.feed_name).tolist():
            days = np.flatnonzero(active[service_feed == name].any(axis=0))
            out.append(
                {
                    "name": name,
                    "start_date": (first + dt.timedelta(int(days[0]))).isoformat()
                    if days.size
                    else None,
                    "end_date": (first + dt.timedelta(int(days[-1]))).isoformat()
                    if days.size
                    else None,
                }
            )
        return out


class NetworkHolder:
    """The snapshot of the version a network directory's pointer names now."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._current: Snapshot | None = None
        self._static: Snapshot | None = None
        """The version's snapshot without live state (the base of every live one)."""
        self._inputs: LiveInputs | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        """The snapshot to use for one whole request (loads a new version when it moved).

        Raises
        ------
        NetworkStoreError
            When the directory holds no readable network.
        """
        current = self.current()
        if current is not None:
            return current
        version = resolve_version(self.folder)
        with self._lock:  # one thread loads; the others wait and share it
            current = self._current
            if current is not None and current.version == version.name:
                return current
            self._static = self._load()
            self._current = current = _with_live(self._static, self._inputs, None)
            return current

    def current(self) -> Snapshot | None:
        """The snapshot served now when the pointer still names its version, else None (a
        pointer read, no load: cheap enough for the event loop).
        """
        current = self._current
        if current is not None and current.version == resolve_version(self.folder).name:
            return current
        return None

    def publish(self, inputs: LiveInputs) -> Snapshot:
        """Serve ``inputs`` from now on: applied to the version served now (and to any later
        one); requests already running keep the snapshot they started with.

        Returns
        -------
        Snapshot
            The snapshot requests get from now on.
        """
        self.snapshot()  # the version the pointer names now
        with self._lock:
            assert self._static is not None
            self._inputs = inputs
            self._current = _with_live(self._static, inputs, self._current)
            return self._current

    def _load(self) -> Snapshot:
        """Load the version the pointer names now, again if it moved during the read."""
        version = resolve_version(self.folder)
        try:
            # a version folder read on its own: what is loaded is exactly that version
            network = Network.load(version)
        except NetworkStoreError:
            if resolve_version(self.folder) == version:
                raise
            version = resolve_version(self.folder)  # swapped (and the old one removed) meanwhile
            network = Network.load(version)
        return Snapshot(
            version=version.name,
            network=network,
            loaded_at=dt.datetime.now(dt.UTC),
            built_at=_mtime(version / MANIFEST),
        )


def _with_live(static: Snapshot, inputs: LiveInputs | None, previous: Snapshot | None) -> Snapshot:
    """The snapshot of ``static``'s version with ``inputs`` applied.

    It shares the version's derived tables; its planners are the static ones when no
    real-time feed is read, the previous snapshot's when the feeds did not change, else new
    ones (one built here, so the first request does not pay for it).
    """
    if inputs is None:
        return static
    from arverne.service.live import LiveState

    same = previous if previous is not None and previous.version == static.version else None
    feeds = inputs.realtime
    if not feeds:
        live, free = LiveState(inputs), static._free
    elif same is not None and same.live is not None and same.live.inputs.realtime is feeds:
        live, free = LiveState(inputs, same.live.realtime), same._free
    else:
        from arverne.network.realtime import TimetableIndex, apply_realtime

        tt = static.network.timetable
        assert tt is not None
        index = static.memo("realtime-index", lambda: TimetableIndex(tt))
        live = LiveState(inputs, apply_realtime(tt, feeds, index=index))
        with static._lock:  # an idle planner of the version moves on to the new feeds
            old = same._free if same is not None else static._free
            planner = old.pop() if old else Planner(static.network)
        assert live.realtime is not None
        planner.use_realtime(live.realtime)
        free = [planner]
    return Snapshot(
        version=static.version,
        network=static.network,
        loaded_at=static.loaded_at,
        built_at=static.built_at,
        live=live,
        _free=free,
        _memo=static._memo,
        _lock=static._lock,
    )


def _mtime(path: Path) -> dt.datetime | None:
    """When ``path`` was last written (the version's build time), None when unreadable."""
    try:
        return dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.UTC)
    except OSError:
        return None
