"""The on-demand booking desk of one worker process, over the shared bookings store.

The service is described by a JSON file (``arverne serve --ondemand FILE --store DSN``)::

    {"name": "Auze valley shuttle",       the zone's name on journeys (optional)
     "points": "stops",                   or [{"id": "p1", "lon": 3.1, "lat": 45.7}, ...]
     "travel_times": "streets",           or "straight_line"
     "vehicles": [{"vehicle_id": "tad-1", "seats": 8, "wheelchairs": 1, "depot": "<point>",
                   "shift_start": "06:00", "shift_end": "21:00"}],
     "params": {"max_wait_s": 1800, ...}} ServiceParams fields, optional

``"stops"`` makes every stop of the network a service point (named by its stop id). Each worker
opens its own :class:`~arverne.fleet.ondemand.OnDemandService` on the same store: the store
serialises bookings per vehicle across processes. Inside a worker one call runs at a time (a
service object is single-threaded). Times of day are the network's local time. The store's
connection lives as long as the worker (every booking is committed before it is answered, so
nothing waits for a close).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import re
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from arverne.errors import InputError
from arverne.network.network import Network

if TYPE_CHECKING:
    import numpy as np

    from arverne.fleet.ondemand_feeder import ServiceFeeder
    from arverne.routing.flex_feeder import FlexFeeder
    from arverne.routing.journey import DemandOffer, Journey
    from arverne.routing.ondemand import Feeder
    from arverne.service.snapshot import Snapshot

log = logging.getLogger("arverne.service")
T = TypeVar("T")
PROVIDER = "arverne"
"""Provider name of the live dispatcher's offers in journeys."""
MAX_CONFIG_BYTES = 1 << 20
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_clock(text: str, name: str) -> float:
    """``H:MM[:SS]`` (hours up to 47: past midnight of the service day) as seconds."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise InputError(f"{name} {text[:20]!r} is not H:MM[:SS]")
    h, m, s = (int(g or 0) for g in match.groups())
    if h > 47 or m > 59 or s > 59:
        raise InputError(f"{name} {text!r} is not a time of the service day")
    return h * 3600.0 + m * 60 + s


def clock(seconds: float) -> str | None:
    """Seconds of the service day as ``HH:MM:SS`` (None for an open end: +-infinity)."""
    if not math.isfinite(seconds):
        return None
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class OnDemandDesk:
    """One worker's on-demand service and its clock (the day, seconds since local midnight)."""

    def __init__(
        self,
        service: Any,
        timezone: str,
        *,
        name: str = "on-demand zone",
        point_names: dict[str, str] | None = None,
    ) -> None:
        self.service = service
        self.zone = ZoneInfo(timezone)
        self.name = name
        """The zone's name, shown on journeys' on-demand legs."""
        self.point_names = dict(point_names or {})
        """Names of the meeting points shown on journeys, by point id (default: the id)."""
        self.lock = threading.Lock()
        self.now_s: Callable[[], float] = self._now_s
        self.today: Callable[[], dt.date] = lambda: dt.datetime.now(self.zone).date()

    def _now_s(self) -> float:
        now = dt.datetime.now(self.zone)
        return now.hour * 3600.0 + now.minute * 60 + now.second + now.microsecond / 1e6

    def now(self) -> dt.datetime:
        """The desk's clock as a datetime of the network's zone (naive, as journeys' queries)."""
        return dt.datetime.combine(self.today(), dt.time(0)) + dt.timedelta(seconds=self.now_s())

    def feeder(self) -> ServiceFeeder:
        """The live dispatcher as a journey planner's feeder (:data:`PROVIDER`), for today;
        use it, and book its offers, under :attr:`lock`.
        """
        from arverne.fleet.ondemand_feeder import ServiceFeeder

        return ServiceFeeder(
            self.service,
            day=self.today(),
            name=PROVIDER,
            zone=self.name,
            names=self.point_names,
            clock=self.now,
        )

    def call(self, fn: Callable[[Any, float], T]) -> T:
        """Run ``fn(service, now_s)`` alone (the service object is single-threaded)."""
        with self.lock:
            return fn(self.service, self.now_s())

    @classmethod
    def open(cls, config_path: Path, store_dsn: str, network: Network) -> OnDemandDesk:
        """Open the desk described by ``config_path`` over ``store_dsn`` on ``network``."""
        from arverne.fleet.ondemand import OnDemandService
        from arverne.fleet.ondemand_model import ServiceParams, Shuttle
        from arverne.fleet.service_area import straight_line_area, street_area

        config = _read_config(config_path)
        ids, lons, lats = _points(config, network)
        kind = config.get("travel_times", "streets")
        if kind == "streets" and network.streets is not None:
            area = street_area(network.streets, ids, lons, lats, drop_unreachable=True)
        elif kind in ("streets", "straight_line"):
            area = straight_line_area(ids, lons, lats)
        else:
            raise InputError(f"{config_path}: travel_times must be streets or straight_line")
        try:
            vehicles = [
                Shuttle(
                    str(v["vehicle_id"]),
                    int(v["seats"]),
                    int(v.get("wheelchairs", 0)),
                    str(v["depot"]),
                    parse_clock(str(v.get("shift_start", "06:00")), "shift_start"),
                    parse_clock(str(v.get("shift_end", "21:00")), "shift_end"),
                )
                for v in config.get("vehicles", [])
            ]
            params = ServiceParams(**config.get("params", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{config_path}: bad vehicle or params ({exc})") from None
        tt = network.timetable
        service = OnDemandService.open(area, store_dsn, vehicles, params=params)
        names = {}
        if tt is not None:
            names = dict(zip(tt.stop_id.tolist(), tt.stop_name.tolist(), strict=True))
        return cls(
            service,
            tt.timezone if tt is not None else "UTC",
            name=str(config.get("name", "on-demand zone")),
            point_names={p: names.get(p, p) for p in ids},
        )


def _read_config(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InputError(f"{path}: more than {MAX_CONFIG_BYTES} bytes")
        config = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON on-demand description ({exc})") from None
    if not isinstance(config, dict):
        raise InputError(f"{path}: the on-demand description must be a JSON object")
    return config


def _points(config: dict[str, Any], network: Network) -> tuple[list[str], list[float], list[float]]:
    points = config.get("points", "stops")
    if points == "stops":
        tt = network.timetable
        if tt is None:
            raise InputError("on-demand points 'stops' need a network with a timetable")
        return (
            [str(s) for s in tt.stop_id.tolist()],
            [float(x) for x in tt.stop_lon.tolist()],
            [float(y) for y in tt.stop_lat.tolist()],
        )
    try:
        return (
            [str(p["id"]) for p in points],
            [float(p["lon"]) for p in points],
            [float(p["lat"]) for p in points],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"on-demand points must be 'stops' or a list of id/lon/lat ({exc})"
        ) from None


# ------------------------------------------------------------------ offers carried by journeys


class JourneyFeeders:
    """The on-demand feeders of one departure query (the desk's live dispatcher, the network's
    GTFS-Flex zones) and how its journeys carry their offers.

    A context manager around the planning, in the worker thread: it gathers the feeders (the
    Flex feeds are read once per network version); the live dispatcher answers one call at a
    time under the desk's lock (its service object is single-threaded), so the planning of
    other requests goes on meanwhile.
    """

    def __init__(self, desk: OnDemandDesk | None, token: str | None, snap: Snapshot) -> None:
        self.desk = desk
        self.snap = snap
        self.feeders: list[Feeder] = []
        self.key = reference_key(token) if desk is not None and token else None

    def __enter__(self) -> JourneyFeeders:
        desk, snap = self.desk, self.snap
        clock = desk.now if desk is not None else _wall_clock(snap.network)
        self.feeders = [*snap.memo("flex_feeders", lambda: flex_feeders(snap.network, clock))]
        if desk is not None:
            self.feeders.append(_OneAtATime(desk.feeder(), desk.lock))
        return self

    def __exit__(self, *exc: object) -> None:
        self.feeders = []

    def to_geojson(self, journey: Journey) -> dict[str, Any]:
        """The journey's FeatureCollection, with its ``booking_ref`` when it has live offers."""
        out = journey.to_geojson()
        ref = booking_reference(journey, self.key) if self.key is not None else None
        if ref is not None:
            out["properties"]["booking_ref"] = ref
        return out


class _OneAtATime:
    """A feeder whose calls take ``lock`` one at a time (the :class:`Feeder` protocol)."""

    def __init__(self, feeder: ServiceFeeder, lock: threading.Lock) -> None:
        self.feeder = feeder
        self.lock = lock
        self.name = feeder.name

    def reach_s(
        self, point: tuple[float, float], lon: np.ndarray, lat: np.ndarray, *, from_point: bool
    ) -> np.ndarray:
        """The feeder's estimate, under the lock."""
        with self.lock:
            return self.feeder.reach_s(point, lon, lat, from_point=from_point)

    def offer(
        self,
        pickup: tuple[float, float],
        dropoff: tuple[float, float],
        *,
        earliest: dt.datetime,
        wheelchair: bool,
        latest_arrival: dt.datetime | None = None,
    ) -> DemandOffer | None:
        """The feeder's checked offer, under the lock."""
        with self.lock:
            return self.feeder.offer(
                pickup,
                dropoff,
                earliest=earliest,
                wheelchair=wheelchair,
                latest_arrival=latest_arrival,
            )


def _wall_clock(network: Network) -> Callable[[], dt.datetime]:
    """The network zone's time now (naive, as queries), for a service without a desk."""
    zone = ZoneInfo(network.timetable.timezone if network.timetable is not None else "UTC")
    return lambda: dt.datetime.now(zone).replace(tzinfo=None)


MAX_REFERENCE_CHARS = 16_000
"""Longest booking reference accepted (a journey with a few on-demand legs needs ~1 KB each)."""


def reference_key(token: str) -> bytes:
    """The key signing booking references: derived from the service token, so every worker of
    one service (and no one without the token) makes and checks the same signatures.
    """
    return hashlib.sha256(b"arverne booking reference\0" + token.encode()).digest()


def booking_reference(journey: Journey, key: bytes) -> str | None:
    """The reference that books ``journey``'s live on-demand legs in one call (None: it has
    none): the offers as shown and the requests to make, as signed base64url JSON, so any
    worker can book them and nobody can alter the times shown.
    """
    from arverne.fleet.ondemand_feeder import offer_to_json

    legs = [
        [i, offer_to_json(leg.on_demand)]
        for i, leg in enumerate(journey.legs)
        if leg.on_demand is not None and leg.on_demand.bookable
    ]
    if not legs:
        return None
    payload = json.dumps(legs, separators=(",", ":")).encode()
    sig = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(sig)}"


def read_booking_reference(text: str, key: bytes) -> tuple[list[int], Journey]:
    """The journey legs a :func:`booking_reference` carries: (their index in the planned
    journey, a journey of those on-demand legs, as :func:`book_journey` takes it).

    Raises
    ------
    InputError
        When ``text`` is not a reference this service signed.
    """
    from arverne.fleet.ondemand_feeder import offer_from_json
    from arverne.routing.journey import Journey, Leg

    if len(text) > MAX_REFERENCE_CHARS:
        raise InputError(f"the booking reference is longer than {MAX_REFERENCE_CHARS} characters")
    body, _, sig = text.partition(".")
    try:
        payload, given = _unb64(body), _unb64(sig)
    except ValueError:
        raise InputError("the booking reference is not base64url") from None
    if not hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), given):
        raise InputError("the booking reference was not made by this service")
    indices, legs = [], []
    for i, data in json.loads(payload):
        od = offer_from_json(data)
        indices.append(int(i))
        legs.append(
            Leg(
                mode="on_demand",
                start=od.planned_pickup,
                end=od.planned_dropoff,
                from_name=od.pickup_name,
                to_name=od.dropoff_name,
                from_lonlat=od.pickup_lonlat,
                to_lonlat=od.dropoff_lonlat,
                coords=[od.pickup_lonlat, od.dropoff_lonlat],
                on_demand=od,
            )
        )
    return indices, Journey(legs)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(str(exc)) from None


# ------------------------------------------------------------------ GTFS-Flex zones

FLEX_FILES = ("locations.geojson", "location_groups.txt", "booking_rules.txt")
"""A feed holding one of these has GTFS-Flex services."""


def flex_feeders(network: Network, clock: Callable[[], dt.datetime]) -> list[FlexFeeder]:
    """A :class:`~arverne.routing.flex_feeder.FlexFeeder` per GTFS-Flex feed the network was
    built from (its manifest's inputs, named as in the network), offering their zones' rides with
    the booking rules; a feed no longer where it was, or changed since the build, is left out
    (with a log warning): its zones could name stops the network does not have.
    """
    from arverne.feeds.flex import read_flex
    from arverne.feeds.gtfs import read_gtfs
    from arverne.network.build import file_sha256
    from arverne.routing.flex_feeder import FlexFeeder

    feeders = []
    for entry in network.manifest.get("inputs", []):
        path = Path(str(entry.get("path", "")))
        if entry.get("role") != "gtfs" or not _has_flex(path):
            continue
        if file_sha256(path) != entry.get("sha256"):
            log.warning("GTFS-Flex of %s left out: the file changed since the build", path)
            continue
        feed = read_gtfs(path)
        flex = read_flex(feed)
        if flex.windows:
            feeders.append(FlexFeeder(flex, name=feed.name, clock=clock))
    return feeders


def _has_flex(path: Path) -> bool:
    """Whether the GTFS zip or folder at ``path`` holds a Flex file (its listing only)."""
    try:
        if path.is_dir():
            return any((path / name).is_file() for name in FLEX_FILES)
        with zipfile.ZipFile(path) as z:
            return any(Path(n).name in FLEX_FILES for n in z.namelist())
    except (OSError, zipfile.BadZipFile):
        log.warning("GTFS-Flex of %s left out: not readable where the build found it", path)
        return False
