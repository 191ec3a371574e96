"""Options of a journey query (:class:`PlanOptions`), checked when created."""

from __future__ import annotations

from dataclasses import dataclass

from arverne.errors import InputError

INF = 2**31 - 1
"""The kernels' 'unreached' time (int32 max)."""


@dataclass(frozen=True)
class PlanOptions:
    """Per-query options; checked on creation."""

    max_walk_access_s: int = 900
    """Longest walk (or ride, for bike access) from the origin to a stop, seconds."""
    max_walk_egress_s: int = 900
    """Longest walk (or ride) from a stop to the destination, seconds."""
    max_walk_transfer_s: int = 900
    """Longest footpath between two trips, seconds."""
    max_transfers: int = 6
    """Most transfers (a journey has at most ``max_transfers + 1`` rides)."""
    route_types: tuple[int, ...] | None = None
    """GTFS route types allowed (None: all)."""
    exclude_route_types: tuple[int, ...] = ()
    """GTFS route types left out (basic or extended, e.g. 712 school buses)."""
    routes: tuple[str, ...] | None = None
    """route_id values allowed (as in the feed, or prefixed ``feed:route_id``; None: all)."""
    exclude_routes: tuple[str, ...] = ()
    """route_id values left out."""
    agencies: tuple[str, ...] | None = None
    """Agencies allowed, by agency_name (None: all)."""
    exclude_agencies: tuple[str, ...] = ()
    """Agencies left out, by agency_name."""
    modes: tuple[str, ...] | None = None
    """Transit modes allowed (``bus``, ``tram``, ``metro``, ``rail``, ``coach``, ...; None: all)."""
    exclude_modes: tuple[str, ...] = ()
    """Transit modes left out."""
    school: bool = True
    """Use school services (route type 712, or a route the feed names a school line);
    False leaves them out, for travellers who are not pupils."""
    min_change_s: int = 0
    """Least time to change vehicles, added to every change (a walk between stops included);
    a same-stop transfers.txt row (type 2, or 3: forbidden) overrides it at its stop."""
    walk_speed_mps: float = 1.3
    """Walking speed, metres per second."""
    wheelchair: bool = False
    """Only stops and trips marked accessible."""
    wheelchair_allow_unknown: bool = False
    """With ``wheelchair``: also use stops and trips whose accessibility is unknown."""
    access_mode: str = "walk"
    """``walk``, ``bike`` or ``car`` (car: a direct leg only, no park-and-ride data)."""
    egress_mode: str = "walk"
    """``walk`` or ``bike``."""
    max_direct_s: int = 3600
    """A direct street journey longer than this is not offered."""
    max_duration_s: int = 2 * 86400
    """Journeys taking longer than this (waiting included) are not searched."""
    max_snap_m: float = 500.0
    """Origin or destination farther than this from any street or stop is too far."""

    def __post_init__(self) -> None:
        for name in (
            "max_walk_access_s",
            "max_walk_egress_s",
            "max_walk_transfer_s",
            "max_direct_s",
            "min_change_s",
        ):
            if not isinstance(getattr(self, name), int):
                raise InputError(
                    f"PlanOptions.{name} must be whole seconds, got {getattr(self, name)!r}"
                )
            if getattr(self, name) < 0:
                raise InputError(f"PlanOptions.{name} must be >= 0, got {getattr(self, name)}")
        if not 0 < self.max_duration_s <= 2 * 86400:
            raise InputError(
                f"PlanOptions.max_duration_s must lie in (0, 172800], got {self.max_duration_s}"
            )
        if not 0 <= self.max_transfers <= 20:
            raise InputError(
                f"PlanOptions.max_transfers must lie in [0, 20], got {self.max_transfers}"
            )
        if not 0.1 <= self.walk_speed_mps <= 5:
            raise InputError(
                f"PlanOptions.walk_speed_mps must lie in [0.1, 5], got {self.walk_speed_mps}"
            )
        if self.access_mode not in ("walk", "bike", "car"):
            raise InputError(
                f"PlanOptions.access_mode must be walk, bike or car, got {self.access_mode!r}"
            )
        if self.egress_mode not in ("walk", "bike"):
            raise InputError(
                f"PlanOptions.egress_mode must be walk or bike, got {self.egress_mode!r}"
            )
        if self.route_types is not None:
            object.__setattr__(self, "route_types", tuple(int(r) for r in self.route_types))
        object.__setattr__(
            self, "exclude_route_types", tuple(int(r) for r in self.exclude_route_types)
        )
        for name in (
            "routes",
            "exclude_routes",
            "agencies",
            "exclude_agencies",
            "modes",
            "exclude_modes",
        ):
            values = getattr(self, name)
            if values is None:
                continue
            if isinstance(values, str):
                raise InputError(f"PlanOptions.{name} must be a sequence of names, got {values!r}")
            object.__setattr__(self, name, tuple(str(v) for v in values))
        if self.min_change_s > 3600:
            raise InputError(f"PlanOptions.min_change_s must be <= 3600, got {self.min_change_s}")
