"""What a running service is given: the network, the stores, the token and its limits.

Settings are a frozen dataclass checked on creation. The token is never given a default: when
it is unset every write (bookings, cancellations, jobs) is refused. ``uvicorn`` starts its worker
processes from an import string, so the settings travel to them as JSON in one environment
variable (:meth:`ServiceSettings.to_env`, :meth:`ServiceSettings.from_env`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arverne.errors import InputError

ENV_SETTINGS = "ARVERNE_SERVICE_SETTINGS"
"""Environment variable that carries the settings (JSON) from ``arverne serve`` to its workers."""
ENV_TOKEN = "ARVERNE_TOKEN"
"""Environment variable read by ``arverne serve`` for the bearer token of writes."""
MIN_TOKEN_CHARS = 16
"""A shorter token is guessable by brute force over HTTP: refused."""


@dataclass(frozen=True)
class ServiceLimits:
    """Bounds checked before any computation; per worker process where it says so."""

    max_body_bytes: int = 1 << 20
    """Largest request body (a tour problem, a booking), bytes."""
    max_window_s: int = 3 * 3600
    """Longest range-query window of ``/v1/journeys``, seconds."""
    max_cutoff_s: int = 2 * 3600
    """Largest isochrone cutoff, seconds."""
    max_matrix_cells: int = 250_000
    """Most origin x destination cells of one matrix job."""
    max_problem_stops: int = 500
    """Most visits and shipment stops of one tour problem."""
    max_solve_s: float = 60.0
    """Longest solver time a tour job may ask for, seconds."""
    max_results: int = 500
    """Most items one listing returns (stops, lines, departures)."""
    rate_per_s: float = 20.0
    """Sustained requests per second per client address (token bucket shared by the workers
    of ``arverne serve``; per app otherwise)."""
    rate_burst: int = 40
    """Requests a client may send at once before the rate applies."""
    planner_slots: int = 1
    """Planner calls running at once per worker (the kernels hold a core each)."""
    queue_depth: int = 4
    """Planner calls waiting per worker; beyond them a request is answered 503 at once."""
    queue_wait_s: float = 0.2
    """Longest wait for a planner slot before 503, seconds."""
    retry_after_s: int = 1
    """Retry-After sent with 503 and 429 answers, seconds."""
    jobs_running: int = 1
    """Jobs (tours, matrices) running at once per worker; more are refused with 503."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"ServiceLimits.{f.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise InputError(f"ServiceLimits.{f.name} must be > 0, got {value!r}")
            if f.type == "int" and not isinstance(value, int):
                raise InputError(f"ServiceLimits.{f.name} must be whole, got {value!r}")


@dataclass(frozen=True)
class ServiceSettings:
    """Everything one service (all its worker processes) is started with.

    Parameters
    ----------
    network_dir
        Compiled network directory (``arverne build``); its ``current`` pointer may move while
        the service runs: each request uses the version it finds when it starts.
    store_dsn
        Bookings store of the on-demand service: a SQLite file path or a ``postgresql://`` DSN;
        None: no on-demand endpoints answer (404 problem).
    ondemand_config
        JSON file describing the on-demand service (area, shuttles, parameters); read at start.
    job_dir
        Folder where jobs keep their state (``jobs.sqlite``) and results; None: jobs refused.
    token
        Bearer token every write must present; None: writes refused (never a default secret).
    host, port, workers
        Where uvicorn listens (loopback by default) and how many worker processes it starts.
    limits
        Bounds checked before any computation.
    realtime_sources, realtime_every_s
        GTFS-realtime files or http(s) URLs (trip updates, alerts, vehicle positions), read
        again every ``realtime_every_s`` seconds by each worker.
    gbfs_source, gbfs_every_s
        A GBFS system (its ``gbfs.json`` URL or file, or a folder of GBFS files), read again
        every ``gbfs_every_s`` seconds.
    carpool_offers, carpool_every_s
        A carpool offers CSV (:func:`arverne.feeds.carpool.read_carpool_offers`), read again
        every ``carpool_every_s`` seconds.
    live_timeout_s
        Time allowed to fetch each live URL.
    shared_dir
        Folder every worker process of the service shares: the per-client rate buckets live
        there (:class:`arverne.service.limits.SharedRateLimiter`); None: each app counts alone.
        :func:`arverne.service.serve.serve` sets it (the job folder, else a temporary one).
    """

    network_dir: Path
    store_dsn: str | None = None
    ondemand_config: Path | None = None
    job_dir: Path | None = None
    token: str | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    realtime_sources: tuple[str, ...] = ()
    realtime_every_s: float = 30.0
    gbfs_source: str | None = None
    gbfs_every_s: float = 60.0
    carpool_offers: Path | None = None
    carpool_every_s: float = 300.0
    live_timeout_s: float = 10.0
    shared_dir: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "network_dir", Path(self.network_dir))
        object.__setattr__(self, "realtime_sources", tuple(str(s) for s in self.realtime_sources))
        if self.gbfs_source is not None:
            object.__setattr__(self, "gbfs_source", str(self.gbfs_source))
        for name in ("realtime_every_s", "gbfs_every_s", "carpool_every_s", "live_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{name} must be a number of seconds, got {value!r}")
            if not (math.isfinite(value) and 1.0 <= value <= 86400.0):
                raise InputError(f"{name} must lie in 1..86400 seconds, got {value!r}")
        for name in ("ondemand_config", "job_dir", "carpool_offers", "shared_dir"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, Path(getattr(self, name)))
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise InputError(f"the service token must have at least {MIN_TOKEN_CHARS} characters")
        if self.token is not None and not self.token.isprintable():
            raise InputError("the service token must be printable characters")
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            if self.host != "localhost":
                raise InputError(f"host {self.host!r} is not an IP address") from None
        if not 0 <= self.port <= 65535:
            raise InputError(f"port {self.port} is not in 0..65535")
        if not 1 <= self.workers <= 64:
            raise InputError(f"workers must lie in 1..64, got {self.workers}")
        if self.ondemand_config is not None and self.store_dsn is None:
            raise InputError("an on-demand configuration needs a bookings store (store_dsn)")

    @property
    def loopback(self) -> bool:
        """Whether the service listens on the loopback interface only."""
        return self.host == "localhost" or ipaddress.ip_address(self.host).is_loopback

    def to_env(self) -> str:
        """The settings as JSON, for :data:`ENV_SETTINGS`."""
        values: dict[str, Any] = dataclasses.asdict(self)
        for name in ("network_dir", "ondemand_config", "job_dir", "carpool_offers", "shared_dir"):
            if values[name] is not None:
                values[name] = str(values[name])
        return json.dumps(values)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServiceSettings:
        """The settings :meth:`to_env` wrote into :data:`ENV_SETTINGS`."""
        text = (os.environ if environ is None else environ).get(ENV_SETTINGS)
        if not text:
            raise InputError(f"{ENV_SETTINGS} is not set: start the service with `arverne serve`")
        values = json.loads(text)
        values["limits"] = ServiceLimits(**values.get("limits", {}))
        values["realtime_sources"] = tuple(values.get("realtime_sources", ()))
        return cls(**values)
