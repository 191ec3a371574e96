"""Street profiles as data: which OSM ways and nodes each mode may use, in which direction, how fast.

A :class:`Profile` is a frozen dataclass of plain tables (highway speeds, access keys, barrier
rules). :func:`evaluate_way` and :func:`barrier_blocks` apply a profile to one OSM object's tags;
:mod:`arverne.feeds.osm` calls them once per way or barrier node while reading.
Just over 600 lines: most of it is the four profiles' tables, kept beside the rules that read
them so that one file says what a mode may do.

Rules shared by every profile
-----------------------------
- **Access**: the most specific access key present with a known value decides (e.g. for a car
  ``motorcar`` beats ``motor_vehicle`` beats ``vehicle`` beats ``access``). Values in
  :data:`ALLOWED_VALUES` open the way, values in :data:`FORBIDDEN_VALUES` close it (``private``
  closes it: routing never goes through private land), ``agricultural``/``forestry`` open it
  only for the tractor. Unknown values are ignored (the next less specific key decides).
  Explicit access never opens a highway type the profile has no speed for.
- **Oneway**: ``oneway=yes|true|1`` and ``-1|reverse``; ``junction=roundabout|circular`` and
  ``highway=motorway|motorway_link`` imply it. The bike reads ``oneway:bicycle`` first (and
  ``cycleway=opposite*``); walking ignores oneway.
- **Speed**: the highway default of the profile; for motor modes a parsable ``maxspeed`` replaces
  it; the result is capped by ``max_speed_kmh``. ``highway=steps`` is slow for walking.
- **Motor roads**: ``motorroad=yes`` closes a road to profiles slower than
  :data:`MOTORROAD_MIN_KMH` (walking, cycling, the tractor).
- **Areas**: ``area=yes`` highways (e.g. ``highway=pedestrian area=yes`` squares) are walked
  along their outline; other modes skip them.
- **Ferries**: ``route=ferry`` ways at ``ferry_speed_kmh`` or their ``duration`` tag, for the
  modes whose access keys do not forbid them.
- **Barriers**: a node with ``barrier=*`` blocks a mode unless the barrier type is in its
  ``passable_barriers``; access tags on the node override that (``barrier=bollard
  motor_vehicle=yes`` lets cars through).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

ALLOWED_VALUES = frozenset(
    {
        "yes",
        "designated",
        "permissive",
        "destination",
        "customers",
        "delivery",
        "official",
        "discouraged",
        "permit",
        "unknown",
    }
)
"""Access values that let a mode through."""
FORBIDDEN_VALUES = frozenset(
    {"no", "private", "use_sidepath", "emergency", "military", "restricted", "forbidden"}
)
"""Access values that close a way or node to a mode."""
AGRICULTURAL_VALUES = frozenset({"agricultural", "forestry", "agricultural;forestry"})
"""Access values that open a way only to profiles with ``agricultural=True``."""

_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "false", "0"})

MOTORROAD_MIN_KMH = 60.0
"""``motorroad=yes`` roads are closed to profiles whose top speed is below this."""

MPH_KMH = 1.609344
"""Kilometres per hour in one mile per hour."""

ZONE_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "urban": 50.0,
        "rural": 80.0,
        "trunk": 100.0,
        "motorway": 130.0,
        "living_street": 20.0,
        "walk": 7.0,
        "bicycle_road": 30.0,
        "school": 30.0,
    }
)
"""Implicit ``maxspeed`` values (``FR:urban``, ``DE:rural``...) when the country has no override."""

COUNTRY_ZONE_SPEEDS_KMH: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "DE": MappingProxyType({"rural": 100.0, "motorway": 130.0}),
        "AT": MappingProxyType({"rural": 100.0, "motorway": 130.0}),
        "BR": MappingProxyType({"urban": 60.0, "rural": 80.0, "motorway": 110.0}),
        "GB": MappingProxyType(
            {"urban": 30 * MPH_KMH, "rural": 60 * MPH_KMH, "motorway": 70 * MPH_KMH}
        ),
        "US": MappingProxyType(
            {"urban": 25 * MPH_KMH, "rural": 55 * MPH_KMH, "motorway": 65 * MPH_KMH}
        ),
        "IT": MappingProxyType({"rural": 90.0}),
        "ES": MappingProxyType({"rural": 90.0, "motorway": 120.0}),
        "CH": MappingProxyType({"rural": 80.0, "motorway": 120.0}),
    }
)
"""Country overrides of :data:`ZONE_SPEEDS_KMH`."""

_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")
_ZONE = re.compile(r"^([A-Za-z]{2})(?:-[A-Za-z0-9]+)?:(?:zone:?)?([a-z_]+|[0-9]+)$")


def parse_maxspeed(value: str | None) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h.

    Parameters
    ----------
    value
        The tag value: ``"50"``, ``"30 mph"``, ``"FR:urban"``, ``"DE:zone30"``, ``"walk"``,
        ``"50;30"`` (the lowest wins), ``"none"``...

    Returns
    -------
    The speed in km/h, or None when the value gives no usable limit (``none``, ``signals``,
    ``variable``, unparsable text).
    """
    if value is None:
        return None
    best: float | None = None
    for part in value.split(";"):
        speed = _parse_one_maxspeed(part.strip())
        if speed is not None and (best is None or speed < best):
            best = speed
    return best


def _parse_one_maxspeed(text: str) -> float | None:
    if not text:
        return None
    match = _NUMBER.match(text)
    if match:
        speed = float(match.group(1))
        unit = match.group(2)
        if unit == "mph":
            speed *= MPH_KMH
        elif unit == "knots":
            speed *= 1.852
        return speed if speed > 0 else None
    if text == "walk":
        return ZONE_SPEEDS_KMH["walk"]
    match = _ZONE.match(text)
    if match:
        country, zone = match.group(1).upper(), match.group(2)
        if zone.isdigit():
            return float(zone)
        if zone.startswith("zone") and zone[4:].isdigit():
            return float(zone[4:])
        override = COUNTRY_ZONE_SPEEDS_KMH.get(country, {})
        if zone in override:
            return override[zone]
        return ZONE_SPEEDS_KMH.get(zone)
    return None


def parse_duration_s(value: str | None) -> float | None:
    """Parse an OSM ``duration`` value (``"HH:MM"``, ``"HH:MM:SS"``, ``"MM"``, ``"PT1H30M"``) into seconds."""
    if not value:
        return None
    text = value.strip()
    try:
        if text.upper().startswith("P"):
            match = re.fullmatch(
                r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?",
                text.upper(),
            )
            if not match:
                return None
            days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        else:
            parts = [float(p) for p in text.split(":")]
            if len(parts) == 1:
                total = parts[0] * 60
            elif len(parts) == 2:
                total = parts[0] * 3600 + parts[1] * 60
            elif len(parts) == 3:
                total = parts[0] * 3600 + parts[1] * 60 + parts[2]
            else:
                return None
    except ValueError:
        return None
    return total if total > 0 and math.isfinite(total) else None


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Profile:
    """How one mode uses OSM streets.

    Parameters
    ----------
    name
        Mode name (``walk``, ``bike``, ``car``, ``tractor``).
    highway_speeds_kmh
        Speed on each routable ``highway=*`` value; a highway missing here is closed to the mode.
    access_keys
        Access keys from the least to the most specific (``access`` first).
    max_speed_kmh
        Cap on every speed (vehicle limit).
    use_maxspeed
        Whether a ``maxspeed`` tag replaces the highway default.
    oneway
        Whether the mode follows oneway rules.
    oneway_keys
        Mode-specific oneway keys read before ``oneway`` (e.g. ``oneway:bicycle``).
    agricultural
        Whether ``agricultural``/``forestry`` access values open ways to this mode.
    motor
        Whether this is a motor vehicle (``highway=motorway`` implied oneway, ``area=yes`` skipped).
    ferry_speed_kmh
        Speed on a ferry without a ``duration`` tag; 0 closes ferries to the mode.
    passable_barriers
        Barrier types this mode passes (without node access tags saying otherwise).
    push_speed_kmh
        For the bike: speed when pushing (footway, pedestrian, ``bicycle=dismount``); 0 = no pushing.
    push_highways
        Highways where the bike is pushed unless ``bicycle`` explicitly allows riding.
    """

    name: str
    highway_speeds_kmh: Mapping[str, float]
    access_keys: tuple[str, ...]
    max_speed_kmh: float
    use_maxspeed: bool = False
    oneway: bool = True
    oneway_keys: tuple[str, ...] = ()
    agricultural: bool = False
    motor: bool = False
    ferry_speed_kmh: float = 10.0
    passable_barriers: frozenset[str] = field(default_factory=frozenset)
    push_speed_kmh: float = 0.0
    push_highways: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Profile.name must not be empty")
        if not self.max_speed_kmh > 0:
            raise ValueError(f"Profile {self.name}: max_speed_kmh must be positive")
        for highway, speed in self.highway_speeds_kmh.items():
            if not speed > 0:
                raise ValueError(
                    f"Profile {self.name}: speed of highway={highway} must be positive"
                )
        if not self.access_keys or self.access_keys[0] != "access":
            raise ValueError(f"Profile {self.name}: access_keys must start with 'access'")


_COMMON_BARRIERS = frozenset(
    {
        "border_control",
        "toll_booth",
        "cattle_grid",
        "entrance",
        "no",
        "gate",
        "lift_gate",
        "swing_gate",
        "sliding_gate",
        "sally_port",
        "height_restrictor",
        "arch",
        "chain",
        "checkpoint",
        "hampshire_gate",
        "bump_gate",
        "coupure",
        "yes",
        "door",
    }
)

WALK = Profile(
    name="walk",
    highway_speeds_kmh=_frozen(
        {
            h: 5.0
            for h in (
                "footway",
                "pedestrian",
                "path",
                "living_street",
                "residential",
                "service",
                "unclassified",
                "tertiary",
                "tertiary_link",
                "secondary",
                "secondary_link",
                "primary",
                "primary_link",
                "trunk",
                "trunk_link",
                "track",
                "cycleway",
                "bridleway",
                "corridor",
                "platform",
                "road",
                "elevator",
                "crossing",
                "sidewalk",
            )
        }
        | {"steps": 2.5}
    ),
    access_keys=("access", "foot"),
    max_speed_kmh=5.0,
    oneway=False,
    ferry_speed_kmh=10.0,
    passable_barriers=_COMMON_BARRIERS
    | {
        "bollard",
        "block",
        "cycle_barrier",
        "kerb",
        "stile",
        "turnstile",
        "kissing_gate",
        "full-height_turnstile",
        "motorcycle_barrier",
        "jersey_barrier",
        "log",
        "rope",
        "step",
        "horse_stile",
        "bar",
        "spikes",
        "planter",
        "bus_trap",
    },
)
"""Walking: 5 km/h (steps 2.5 km/h), both directions of every way it may use."""

BIKE = Profile(
    name="bike",
    highway_speeds_kmh=_frozen(
        {
            h: 15.0
            for h in (
                "cycleway",
                "path",
                "living_street",
                "residential",
                "service",
                "unclassified",
                "tertiary",
                "tertiary_link",
                "secondary",
                "secondary_link",
                "primary",
                "primary_link",
                "trunk",
                "trunk_link",
                "road",
            )
        }
        | {"track": 12.0, "footway": 5.0, "pedestrian": 5.0, "bridleway": 5.0, "platform": 5.0}
    ),
    access_keys=("access", "vehicle", "bicycle"),
    max_speed_kmh=25.0,
    oneway=True,
    oneway_keys=("oneway:bicycle",),
    ferry_speed_kmh=10.0,
    passable_barriers=_COMMON_BARRIERS
    | {
        "bollard",
        "block",
        "cycle_barrier",
        "kerb",
        "motorcycle_barrier",
        "bus_trap",
        "bar",
        "planter",
    },
    push_speed_kmh=5.0,
    push_highways=frozenset({"footway", "pedestrian", "bridleway", "platform"}),
)
"""Cycling: 15 km/h on roads, pushed at 5 km/h on footways unless ``bicycle=yes|designated``."""

CAR = Profile(
    name="car",
    highway_speeds_kmh=_frozen(
        {
            "motorway": 110.0,
            "motorway_link": 60.0,
            "trunk": 90.0,
            "trunk_link": 50.0,
            "primary": 65.0,
            "primary_link": 45.0,
            "secondary": 55.0,
            "secondary_link": 40.0,
            "tertiary": 45.0,
            "tertiary_link": 35.0,
            "unclassified": 35.0,
            "residential": 30.0,
            "living_street": 10.0,
            "service": 15.0,
            "road": 25.0,
        }
    ),
    access_keys=("access", "vehicle", "motor_vehicle", "motorcar"),
    max_speed_kmh=130.0,
    use_maxspeed=True,
    motor=True,
    ferry_speed_kmh=10.0,
    passable_barriers=_COMMON_BARRIERS,
)
"""Car: free-flow highway defaults replaced by ``maxspeed``; no tracks, no footways."""

TRACTOR = Profile(
    name="tractor",
    highway_speeds_kmh=_frozen(
        {
            "primary": 25.0,
            "primary_link": 25.0,
            "secondary": 25.0,
            "secondary_link": 25.0,
            "tertiary": 25.0,
            "tertiary_link": 25.0,
            "unclassified": 25.0,
            "residential": 20.0,
            "living_street": 10.0,
            "service": 15.0,
            "road": 20.0,
            "track": 15.0,
        }
    ),
    access_keys=("access", "vehicle", "motor_vehicle", "agricultural"),
    max_speed_kmh=25.0,
    use_maxspeed=True,
    agricultural=True,
    motor=True,
    ferry_speed_kmh=10.0,
    passable_barriers=_COMMON_BARRIERS,
)
"""Slow agricultural vehicle: at most 25 km/h, no motorway or trunk, tracks and agricultural access."""

PROFILES: Mapping[str, Profile] = MappingProxyType({p.name: p for p in (WALK, BIKE, CAR, TRACTOR)})
"""The built-in profiles by name."""


def get_profiles(modes: tuple[str, ...] | list[str]) -> list[Profile]:
    """The built-in profiles for ``modes``, in that order; a clear error for an unknown mode."""
    out = []
    for mode in modes:
        if mode not in PROFILES:
            raise ValueError(f"unknown street mode {mode!r} (known: {', '.join(PROFILES)})")
        out.append(PROFILES[mode])
    return out


@dataclass(frozen=True)
class WayRule:
    """A profile applied to one way: who may go which way and how fast."""

    forward: bool
    """The mode may go along the way's node order."""
    backward: bool
    """The mode may go against the way's node order."""
    speed_kmh: float
    """Speed on the way (0 when closed)."""
    duration_s: float | None = None
    """Fixed time for the whole way (ferries with a ``duration`` tag), seconds."""


CLOSED = WayRule(False, False, 0.0)
"""The rule of a way the mode may not use."""


def access_decision(profile: Profile, tags: Mapping[str, str]) -> bool | None:
    """What the access tags say for ``profile``: True allowed, False forbidden, None silent."""
    for key in reversed(profile.access_keys):
        value = tags.get(key)
        if value is None:
            continue
        value = value.strip().lower()
        if value in ALLOWED_VALUES:
            return True
        if value in FORBIDDEN_VALUES:
            return False
        if value in AGRICULTURAL_VALUES:
            return profile.agricultural
        if profile.name == "bike" and value == "dismount":
            return True
    return None


def _oneway(profile: Profile, tags: Mapping[str, str], highway: str) -> tuple[bool, bool]:
    """(forward, backward) allowed by the oneway rules."""
    if not profile.oneway:
        return True, True
    for key in profile.oneway_keys:
        value = tags.get(key)
        if value in _ONEWAY_NO:
            return True, True
        if value in _ONEWAY_YES:
            return True, False
        if value in _ONEWAY_REVERSE:
            return False, True
    value = tags.get("oneway")
    if value in _ONEWAY_NO:
        return True, True
    if profile.name == "bike" and tags.get("cycleway", "").startswith("opposite"):
        return True, True
    if value in _ONEWAY_YES:
        return True, False
    if value in _ONEWAY_REVERSE:
        return False, True
    if tags.get("junction") in ("roundabout", "circular"):
        return True, False
    if profile.motor and highway in ("motorway", "motorway_link"):
        return True, False
    return True, True


def evaluate_way(profile: Profile, tags: Mapping[str, str]) -> WayRule:
    """Apply ``profile`` to the tags of one way.

    Parameters
    ----------
    profile
        The mode's profile.
    tags
        The way's tags (any mapping of str to str).

    Returns
    -------
    The way rule; :data:`CLOSED` when the mode may not use the way.
    """
    if tags.get("route") == "ferry":
        return _evaluate_ferry(profile, tags)
    highway = tags.get("highway")
    if highway is None or highway not in profile.highway_speeds_kmh:
        return CLOSED
    if tags.get("area") == "yes" and profile.name != "walk":
        return CLOSED
    if tags.get("motorroad") == "yes" and profile.max_speed_kmh < MOTORROAD_MIN_KMH:
        return CLOSED
    access = access_decision(profile, tags)
    if access is False:
        return CLOSED
    speed = profile.highway_speeds_kmh[highway]
    if profile.push_speed_kmh > 0:
        bicycle = tags.get("bicycle", "").strip().lower()
        if bicycle == "dismount" or (
            highway in profile.push_highways and bicycle not in ("yes", "designated", "permissive")
        ):
            speed = profile.push_speed_kmh
        elif highway in profile.push_highways:
            speed = profile.highway_speeds_kmh.get("cycleway", speed)
    if profile.use_maxspeed:
        maxspeed = parse_maxspeed(tags.get("maxspeed"))
        if maxspeed is not None:
            speed = maxspeed
    speed = min(speed, profile.max_speed_kmh)
    forward, backward = _oneway(profile, tags, highway)
    return WayRule(forward, backward, speed)


def _evaluate_ferry(profile: Profile, tags: Mapping[str, str]) -> WayRule:
    if profile.ferry_speed_kmh <= 0:
        return CLOSED
    if access_decision(profile, tags) is False:
        return CLOSED
    duration = parse_duration_s(tags.get("duration"))
    return WayRule(True, True, profile.ferry_speed_kmh, duration)


def barrier_blocks(profile: Profile, tags: Mapping[str, str]) -> bool:
    """Whether a node with these tags stops ``profile`` (False for nodes without ``barrier``)."""
    barrier = tags.get("barrier")
    if barrier is None:
        return False
    access = access_decision(profile, tags)
    if access is not None:
        return not access
    return barrier not in profile.passable_barriers


def way_keys(profiles: list[Profile] | tuple[Profile, ...]) -> tuple[str, ...]:
    """Every way tag key the rules read for ``profiles`` (``route`` first)."""
    keys = [
        "route",
        "highway",
        "area",
        "oneway",
        "junction",
        "maxspeed",
        "duration",
        "cycleway",
        "bicycle",
        "motorroad",
    ]
    for profile in profiles:
        keys.extend(profile.access_keys)
        keys.extend(profile.oneway_keys)
    return tuple(dict.fromkeys(keys))


def relevant_way(tags: Mapping[str, str]) -> bool:
    """Whether a way may matter to some profile (a ``highway`` or a ferry route)."""
    return "highway" in tags or tags.get("route") == "ferry"
