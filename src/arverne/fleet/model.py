"""The tour problem: places, depots, vehicles (or workers), visits and shipments.

Every class is a frozen dataclass checked on construction; a bad value raises
:class:`~arverne.errors.ProblemError` with one sentence naming the object and the field.

Units and conventions
---------------------
- Times are seconds since midnight of the planning day (``int`` or ``float``); durations are
  seconds. The readers in :mod:`arverne.fleet.io` also accept ``"HH:MM"`` strings.
- Quantities (demand, capacity, amounts) are tuples of non-negative integers, one per load
  dimension named in :attr:`Problem.dimensions` (e.g. ``("parcels", "kg")``).
- Costs are in currency units (euros): ``cost_per_km``, ``cost_per_hour``, ``fixed_cost``,
  ``penalty``.
- A place is a point in WGS84 (``lon``, ``lat``). For benchmark instances on a plane the travel
  matrix is given explicitly (see :func:`arverne.fleet.matrix.euclidean_matrix`) and ``lon``/``lat``
  are read as plane coordinates ``x``/``y``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from arverne.errors import ProblemError

PROFILES = ("car", "bike", "walk", "tractor")
"""Speed profiles a vehicle may have; each maps to the street-graph mode of the same name."""

Window = tuple[float, float]

MAX_TIME_S = 366 * 86_400.0
"""Latest time and longest duration, seconds: a plan spans at most a year (and stays far from
the solvers' integer limits)."""

MAX_QUANTITY = 10**9
"""Largest demand, capacity or amount in one dimension."""

MAX_MONEY = 1e9
"""Largest cost or penalty, currency units."""

MAX_COORDINATE = 1e7
"""Largest absolute coordinate (WGS84 degrees, or plane units for a given-matrix benchmark)."""

MAX_PRIORITY = 100
"""Largest absolute priority."""


def _check_id(kind: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ProblemError(f"{kind}: the id {value!r} is empty; give each {kind} a name")


def _check_time(owner: str, name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ProblemError(f"{owner}: field '{name}' {value!r} is not a finite number of seconds")
    if value < 0:
        raise ProblemError(f"{owner}: field '{name}' is negative ({value})")
    if value > MAX_TIME_S:
        raise ProblemError(
            f"{owner}: field '{name}' {value:g} s is more than a year ({MAX_TIME_S:g} s)"
        )


def _check_window(owner: str, name: str, window: Window) -> None:
    if len(window) != 2:
        raise ProblemError(f"{owner}: field '{name}' {window!r} is not a (start, end) pair")
    _check_time(owner, name, window[0])
    _check_time(owner, name, window[1])
    if window[1] < window[0]:
        raise ProblemError(
            f"{owner}: field '{name}' window ends ({window[1]:g} s) before it starts ({window[0]:g} s)"
        )


def _check_quantity(owner: str, name: str, value: tuple[int, ...]) -> None:
    for q in value:
        if not isinstance(q, int) or isinstance(q, bool):
            raise ProblemError(f"{owner}: field '{name}' {value!r} holds {q!r}, not a whole number")
        if q < 0:
            raise ProblemError(f"{owner}: field '{name}' is negative ({q}); quantities are >= 0")
        if q > MAX_QUANTITY:
            raise ProblemError(f"{owner}: field '{name}' holds a number above {MAX_QUANTITY:g}")


def _check_money(owner: str, name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ProblemError(f"{owner}: field '{name}' {value!r} is not a finite number")
    if value < 0:
        raise ProblemError(f"{owner}: field '{name}' is negative ({value})")
    if value > MAX_MONEY:
        raise ProblemError(f"{owner}: field '{name}' {value:g} is more than {MAX_MONEY:g}")


def _check_priority(owner: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProblemError(f"{owner}: field 'priority' {value!r} is not a whole number")
    if abs(value) > MAX_PRIORITY:
        raise ProblemError(f"{owner}: field 'priority' is beyond +-{MAX_PRIORITY}")


@dataclass(frozen=True)
class Place:
    """A point where vehicles start, end or serve."""

    place_id: str
    lon: float
    """WGS84 longitude (or plane x for a given-matrix benchmark)."""
    lat: float
    """WGS84 latitude (or plane y for a given-matrix benchmark)."""
    name: str = ""

    def __post_init__(self) -> None:
        _check_id("place", self.place_id)
        for name in ("lon", "lat"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ProblemError(
                    f"place {self.place_id}: field '{name}' {value!r} is not a number"
                )
            if abs(value) > MAX_COORDINATE:
                raise ProblemError(
                    f"place {self.place_id}: field '{name}' {value:g} is beyond {MAX_COORDINATE:g}"
                )


@dataclass(frozen=True)
class Depot:
    """A base where tours start or end (a garage, a care centre, a cooperative's yard)."""

    depot_id: str
    place_id: str
    open_s: float = 0.0
    """Opening time: no tour leaves before it."""
    close_s: float = 86_400.0 * 2
    """Closing time: every tour is back by then."""

    def __post_init__(self) -> None:
        _check_id("depot", self.depot_id)
        _check_id(f"depot {self.depot_id} place", self.place_id)
        _check_window(f"depot {self.depot_id}", "open_s/close_s", (self.open_s, self.close_s))


@dataclass(frozen=True)
class Break:
    """A rest a worker must take: ``duration_s`` starting within ``[earliest_s, latest_s]``."""

    earliest_s: float
    latest_s: float
    duration_s: float

    def __post_init__(self) -> None:
        _check_window("break", "earliest_s/latest_s", (self.earliest_s, self.latest_s))
        _check_time("break", "duration_s", self.duration_s)


@dataclass(frozen=True)
class Vehicle:
    """A vehicle or a worker, with its shift, capacity, skills and costs."""

    vehicle_id: str
    start_depot_id: str
    end_depot_id: str | None = None
    """Where the tour ends; ``None`` (the default) becomes the start depot."""
    capacity: tuple[int, ...] = ()
    """One value per load dimension of the problem; empty means unlimited."""
    shift_start_s: float = 0.0
    shift_end_s: float = 86_400.0
    skills: frozenset[str] = frozenset()
    profile: str = "car"
    """Speed profile: one of :data:`PROFILES`."""
    cost_per_km: float = 1.0
    cost_per_hour: float = 0.0
    fixed_cost: float = 0.0
    """Paid once when the vehicle is used."""
    max_duration_s: float | None = None
    """Longest tour, from leaving the start depot to reaching the end depot."""
    breaks: tuple[Break, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        owner = f"vehicle {self.vehicle_id}"
        _check_id("vehicle", self.vehicle_id)
        _check_id(f"{owner} start_depot_id", self.start_depot_id)
        if self.end_depot_id is None:
            object.__setattr__(self, "end_depot_id", self.start_depot_id)
        object.__setattr__(self, "capacity", tuple(self.capacity))
        object.__setattr__(self, "skills", frozenset(self.skills))
        object.__setattr__(self, "breaks", tuple(self.breaks))
        _check_quantity(owner, "capacity", self.capacity)
        _check_window(owner, "shift_start_s/shift_end_s", (self.shift_start_s, self.shift_end_s))
        if self.profile not in PROFILES:
            raise ProblemError(
                f"{owner}: field 'profile' {self.profile!r} is not one of {', '.join(PROFILES)}"
            )
        for name in ("cost_per_km", "cost_per_hour", "fixed_cost"):
            _check_money(owner, name, getattr(self, name))
        if self.max_duration_s is not None:
            _check_time(owner, "max_duration_s", self.max_duration_s)
        for brk in self.breaks:
            if not isinstance(brk, Break):
                raise ProblemError(f"{owner}: field 'breaks' holds {brk!r}, not a Break")

    @property
    def end_depot(self) -> str:
        """The depot where the tour ends."""
        return self.end_depot_id or self.start_depot_id


@dataclass(frozen=True)
class Visit:
    """A stop to serve once: a patient's care, a delivery, a field to work."""

    visit_id: str
    place_id: str
    service_s: float = 0.0
    windows: tuple[Window, ...] = ()
    """Allowed start-of-service windows; empty means any time in the shift."""
    demand: tuple[int, ...] = ()
    """Quantity delivered here, loaded at the start depot."""
    pickup: tuple[int, ...] = ()
    """Quantity collected here, unloaded at the end depot."""
    skills: frozenset[str] = frozenset()
    """Every one of these skills is needed (the vehicle must hold them all)."""
    priority: int = 0
    """Higher is more important: when not everything fits, lower priorities are dropped first."""
    optional: bool = False
    penalty: float = 0.0
    """Cost of leaving an optional visit out (currency units)."""
    name: str = ""

    def __post_init__(self) -> None:
        owner = f"visit {self.visit_id}"
        _check_id("visit", self.visit_id)
        _check_id(f"{owner} place_id", self.place_id)
        object.__setattr__(self, "windows", tuple(tuple(w) for w in self.windows))
        object.__setattr__(self, "demand", tuple(self.demand))
        object.__setattr__(self, "pickup", tuple(self.pickup))
        object.__setattr__(self, "skills", frozenset(self.skills))
        _check_time(owner, "service_s", self.service_s)
        for window in self.windows:
            _check_window(owner, "windows", window)
        _check_quantity(owner, "demand", self.demand)
        _check_quantity(owner, "pickup", self.pickup)
        _check_money(owner, "penalty", self.penalty)
        _check_priority(owner, self.priority)


@dataclass(frozen=True)
class Shipment:
    """Goods (or a rider) picked up at one place and delivered at another by the same vehicle."""

    shipment_id: str
    pickup_place_id: str
    delivery_place_id: str
    amount: tuple[int, ...] = ()
    pickup_window: Window | None = None
    delivery_window: Window | None = None
    pickup_service_s: float = 0.0
    delivery_service_s: float = 0.0
    skills: frozenset[str] = frozenset()
    priority: int = 0
    optional: bool = False
    penalty: float = 0.0
    max_ride_s: float | None = None
    """Longest time between the end of the pickup and the start of the delivery."""
    name: str = ""

    def __post_init__(self) -> None:
        owner = f"shipment {self.shipment_id}"
        _check_id("shipment", self.shipment_id)
        _check_id(f"{owner} pickup_place_id", self.pickup_place_id)
        _check_id(f"{owner} delivery_place_id", self.delivery_place_id)
        object.__setattr__(self, "amount", tuple(self.amount))
        object.__setattr__(self, "skills", frozenset(self.skills))
        _check_quantity(owner, "amount", self.amount)
        if self.pickup_window is not None:
            object.__setattr__(self, "pickup_window", tuple(self.pickup_window))
            _check_window(owner, "pickup_window", self.pickup_window)
        if self.delivery_window is not None:
            object.__setattr__(self, "delivery_window", tuple(self.delivery_window))
            _check_window(owner, "delivery_window", self.delivery_window)
        _check_time(owner, "pickup_service_s", self.pickup_service_s)
        _check_time(owner, "delivery_service_s", self.delivery_service_s)
        _check_money(owner, "penalty", self.penalty)
        _check_priority(owner, self.priority)
        if self.max_ride_s is not None:
            _check_time(owner, "max_ride_s", self.max_ride_s)


@dataclass(frozen=True)
class Problem:
    """A whole tour problem; cross-references are checked on construction.

    A reference to an unknown place or depot, a quantity with the wrong number of dimensions,
    duplicate ids and an empty fleet are errors. A visit no vehicle can serve (missing skill,
    too heavy, no window inside any shift) is *not* an error: the solver reports it unassigned
    with its reason, and plans the rest.
    """

    places: tuple[Place, ...]
    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    visits: tuple[Visit, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    dimensions: tuple[str, ...] = ()
    """Names of the load dimensions, e.g. ``("parcels", "kg")``."""
    name: str = ""
    _place_index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("places", "depots", "vehicles", "visits", "shipments", "dimensions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.vehicles:
            raise ProblemError(
                "problem: field 'vehicles' is empty; the fleet needs at least one vehicle"
            )
        if not self.places:
            raise ProblemError("problem: field 'places' is empty")
        index: dict[str, int] = {}
        for i, place in enumerate(self.places):
            if place.place_id in index:
                raise ProblemError(f"place {place.place_id}: the id is used twice")
            index[place.place_id] = i
        object.__setattr__(self, "_place_index", index)
        depots: set[str] = set()
        for depot in self.depots:
            if depot.depot_id in depots:
                raise ProblemError(f"depot {depot.depot_id}: the id is used twice")
            depots.add(depot.depot_id)
            self._need_place(f"depot {depot.depot_id}", "place_id", depot.place_id)
        n_dims = len(self.dimensions)
        seen: set[str] = set()
        for vehicle in self.vehicles:
            owner = f"vehicle {vehicle.vehicle_id}"
            if vehicle.vehicle_id in seen:
                raise ProblemError(f"{owner}: the id is used twice")
            seen.add(vehicle.vehicle_id)
            for name, depot_id in (
                ("start_depot_id", vehicle.start_depot_id),
                ("end_depot_id", vehicle.end_depot),
            ):
                if depot_id not in depots:
                    raise ProblemError(f"{owner}: field '{name}' names unknown depot {depot_id!r}")
            if vehicle.capacity and len(vehicle.capacity) != n_dims:
                raise ProblemError(
                    f"{owner}: field 'capacity' has {len(vehicle.capacity)} values but the problem "
                    f"has {n_dims} load dimensions ({', '.join(self.dimensions) or 'none'})"
                )
        seen = set()
        for visit in self.visits:
            owner = f"visit {visit.visit_id}"
            if visit.visit_id in seen:
                raise ProblemError(f"{owner}: the id is used twice")
            seen.add(visit.visit_id)
            self._need_place(owner, "place_id", visit.place_id)
            for name in ("demand", "pickup"):
                value = getattr(visit, name)
                if value and len(value) != n_dims:
                    raise ProblemError(
                        f"{owner}: field '{name}' has {len(value)} values but the problem has "
                        f"{n_dims} load dimensions"
                    )
        for shipment in self.shipments:
            owner = f"shipment {shipment.shipment_id}"
            if shipment.shipment_id in seen:
                raise ProblemError(
                    f"{owner}: the id is used twice (visit and shipment ids share one space)"
                )
            seen.add(shipment.shipment_id)
            self._need_place(owner, "pickup_place_id", shipment.pickup_place_id)
            self._need_place(owner, "delivery_place_id", shipment.delivery_place_id)
            if shipment.amount and len(shipment.amount) != n_dims:
                raise ProblemError(
                    f"{owner}: field 'amount' has {len(shipment.amount)} values but the problem has "
                    f"{n_dims} load dimensions"
                )

    def _need_place(self, owner: str, name: str, place_id: str) -> None:
        if place_id not in self._place_index:
            raise ProblemError(f"{owner}: field '{name}' names unknown place {place_id!r}")

    def place_index(self, place_id: str) -> int:
        """Dense index of a place in :attr:`places`."""
        return self._place_index[place_id]

    def depot(self, depot_id: str) -> Depot:
        """The depot with this id."""
        for depot in self.depots:
            if depot.depot_id == depot_id:
                return depot
        raise ProblemError(f"problem: unknown depot {depot_id!r}")

    @property
    def n_dims(self) -> int:
        """Number of load dimensions."""
        return len(self.dimensions)

    def quantity(self, value: tuple[int, ...]) -> tuple[int, ...]:
        """``value`` padded to the problem's dimensions (an empty quantity is all zeros)."""
        return tuple(value) if value else (0,) * self.n_dims

    def capacity(self, vehicle: Vehicle) -> tuple[float, ...]:
        """Capacity of ``vehicle`` per dimension (``inf`` where unlimited)."""
        return tuple(vehicle.capacity) if vehicle.capacity else (math.inf,) * self.n_dims
