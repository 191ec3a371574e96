"""Street layout of the demo territory, drawn in local metres and written as OSM.

Everything here is plain geometry on a local tangent plane centred on the market town; the
public entry point is :func:`arverne.demo.territory.write_territory`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from shapely.geometry import LineString, Point

from arverne.demo._names import COL_NAMES, FARM_NAMES, HAMLET_NAMES, ROW_NAMES, VILLAGE_STREETS

LON0 = 3.10
"""Longitude of the market town's centre (local origin)."""
LAT0 = 45.70
"""Latitude of the market town's centre (local origin)."""
M_PER_DEG_LAT = 111_132.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))

XY = tuple[float, float]

TOWN = "Vernac-le-Marché"
GRID_STEP_M = 200.0
GRID_HALF = 5
"""The town grid runs from -5 to +5 steps of 200 m on each axis: 2 km wide."""
VILLAGE_STEP_M = 150.0

CAR_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
    }
)


def to_lonlat(x_m: float, y_m: float) -> XY:
    """Local metres (east, north of the town centre) to WGS84 (lon, lat)."""
    return LON0 + x_m / M_PER_DEG_LON, LAT0 + y_m / M_PER_DEG_LAT


def to_xy(lon: float, lat: float) -> XY:
    """WGS84 (lon, lat) to local metres; the inverse of :func:`to_lonlat`."""
    return (lon - LON0) * M_PER_DEG_LON, (lat - LAT0) * M_PER_DEG_LAT


@dataclass
class Way:
    """One OSM way: ordered node ids and tags; ``junctions`` False for grade-separated roads."""

    way_id: int
    nodes: list[int]
    tags: dict[str, str]
    junctions: bool = True


@dataclass
class Village:
    """A village: a 3 x 3 street grid around ``centre``."""

    name: str
    key: str
    centre: XY
    population: int
    perimeter: list[XY] = field(default_factory=list)


@dataclass
class Layout:
    """Nodes and ways in local metres; nodes at the same point (0.1 m) share one id."""

    node_xy: dict[int, XY] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[Way] = field(default_factory=list)
    _by_key: dict[tuple[int, int], int] = field(default_factory=dict)

    def node(self, xy: XY, tags: dict[str, str] | None = None) -> int:
        """Id of the street node at ``xy`` (created if new)."""
        stored = (round(xy[0], 2), round(xy[1], 2))
        key = _key(stored)
        node_id = self._by_key.get(key)
        if node_id is None:
            node_id = len(self.node_xy) + 1
            self.node_xy[node_id] = stored
            self._by_key[key] = node_id
        if tags:
            self.node_tags.setdefault(node_id, {}).update(tags)
        return node_id

    def lone_node(self, xy: XY, tags: dict[str, str]) -> int:
        """A node that belongs to no way (a place label)."""
        node_id = len(self.node_xy) + 1
        self.node_xy[node_id] = (round(xy[0], 2), round(xy[1], 2))
        self.node_tags[node_id] = dict(tags)
        return node_id

    def find(self, xy: XY) -> int:
        """Id of the existing node at ``xy``."""
        return self._by_key[_key((round(xy[0], 2), round(xy[1], 2)))]

    def add_way(self, points: Sequence[XY], tags: dict[str, str], *, junctions: bool = True) -> Way:
        """Add a way through ``points``; where it crosses a way with junctions, both get a node."""
        points = list(points)
        if junctions:
            points = self._split_crossings(points)
        nodes = [self.node(p) for p in points]
        nodes = [n for i, n in enumerate(nodes) if i == 0 or n != nodes[i - 1]]
        way = Way(len(self.ways) + 1, nodes, dict(tags), junctions)
        self.ways.append(way)
        return way

    def _split_crossings(self, points: list[XY]) -> list[XY]:
        line = LineString(points)
        extra: list[XY] = []
        for way in self.ways:
            if not way.junctions:
                continue
            coords = [self.node_xy[n] for n in way.nodes]
            other = LineString(coords)
            if not line.intersects(other):
                continue
            hits = line.intersection(other)
            for geom in getattr(hits, "geoms", [hits]):
                if not isinstance(geom, Point):
                    continue
                xy = (geom.x, geom.y)
                near = [n for n in way.nodes if math.dist(self.node_xy[n], xy) < 1.0]
                if near:
                    extra.append(self.node_xy[near[0]])
                    continue
                _insert_on(way, self, xy)
                extra.append(self.node_xy[self.node(xy)])
        if not extra:
            return points
        along = [(line.project(Point(p)), p) for p in points]
        along += [(line.project(Point(p)), p) for p in extra]
        along.sort(key=lambda t: t[0])
        out: list[XY] = []
        for _, p in along:
            if out and math.dist(out[-1], p) < 1.0:
                # keep the existing node's coordinates so both ways share it
                if p in extra:
                    out[-1] = p
                continue
            out.append(p)
        return out

    def nearest_node(self, xy: XY, highways: Iterable[str] = CAR_HIGHWAYS) -> int:
        """The closest node on a way whose highway is one of ``highways``."""
        allowed = set(highways)
        best = (math.inf, -1)
        for way in self.ways:
            if way.tags.get("highway") not in allowed:
                continue
            for n in way.nodes:
                d = math.dist(self.node_xy[n], xy)
                if d < best[0] or (d == best[0] and n < best[1]):
                    best = (d, n)
        return best[1]


def _key(xy: XY) -> tuple[int, int]:
    """Nodes closer than ~0.1 m share one key."""
    return (round(xy[0] * 10), round(xy[1] * 10))


def _insert_on(way: Way, layout: Layout, xy: XY) -> None:
    best = (math.inf, 0)
    for i in range(len(way.nodes) - 1):
        seg = LineString([layout.node_xy[way.nodes[i]], layout.node_xy[way.nodes[i + 1]]])
        d = seg.distance(Point(xy))
        if d < best[0]:
            best = (d, i)
    way.nodes.insert(best[1] + 1, layout.node(xy))


def _curve(a: XY, b: XY, *, step_m: float, bend_m: float, wobble: float) -> list[XY]:
    """Points from a to b every ~step_m, bowed sideways by up to ``bend_m``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    n = max(1, round(length / step_m))
    nx, ny = -dy / length, dx / length
    out = []
    for i in range(n + 1):
        t = i / n
        off = bend_m * math.sin(math.pi * t) + wobble * math.sin(3 * math.pi * t)
        out.append((a[0] + t * dx + off * nx, a[1] + t * dy + off * ny))
    out[0], out[-1] = a, b
    return out


VILLAGES: list[tuple[str, str, float, float, str, str]] = [
    # name, key, bearing (deg), distance (m), road highway, road ref
    ("Chambourg", "N", 8.0, 7000.0, "primary", "D 2009"),
    ("Saint-Vidal-d'Auze", "NE", 52.0, 11500.0, "secondary", "D 771"),
    ("Les Fontilles", "E", 98.0, 6000.0, "primary", "D 996"),
    ("Pérignat-la-Forêt", "SE", 148.0, 13000.0, "secondary", "D 758"),
    ("Beaulieu-sur-Couze", "S", 196.0, 9000.0, "primary", "D 978"),
    ("Le Mas-de-Ribes", "W", 270.0, 8000.0, "secondary", "D 767"),
]
TOWN_GATES: dict[str, XY] = {
    "N": (0.0, 1000.0),
    "NE": (1000.0, 600.0),
    "E": (1000.0, 0.0),
    "SE": (600.0, -1000.0),
    "S": (0.0, -1000.0),
    "W": (-1000.0, 0.0),
}
RING: list[tuple[str, str, str]] = [
    ("N", "NE", "D 773"),
    ("NE", "E", "D 774"),
    ("E", "SE", "D 775"),
    ("SE", "S", "D 776"),
]
MOTORWAY_X_M = -3000.0
BUS_STATION: XY = (260.0, 0.0)
"""Street node in front of the bus station (on the Avenue de la République)."""


@dataclass
class StreetPlan:
    """The drawn territory: layout plus the named features transit and places refer to."""

    layout: Layout
    villages: dict[str, Village]
    radials: dict[str, list[int]]
    """Village key -> node ids of the main road from the town gate to the village."""
    rings: dict[tuple[str, str], list[int]]
    hamlets: list[tuple[str, str, XY, int]]
    """(name, village key, centre, population)."""
    farms: list[tuple[str, str, XY]]
    """(name, village key, farmyard)."""


def draw_streets(rng: random.Random) -> StreetPlan:
    """Draw the whole street network; ``rng`` only moves villages and bends roads."""
    lay = Layout()
    _draw_town(lay)
    villages: dict[str, Village] = {}
    for name, key, bearing, dist, _, _ in VILLAGES:
        if key == "W":
            centre = (-(dist + rng.uniform(-300.0, 300.0)), 0.0)
        else:
            b = math.radians(bearing + rng.uniform(-3.0, 3.0))
            d = dist + rng.uniform(-400.0, 400.0)
            centre = (round(d * math.sin(b), 1), round(d * math.cos(b), 1))
        village = Village(name, key, centre, population=rng.randrange(250, 1400, 10))
        _draw_village(lay, village)
        villages[key] = village
    # the motorway first: it crosses other roads on bridges, never at grade
    _draw_motorway(lay, villages)
    radials: dict[str, list[int]] = {}
    for _, key, _, _, highway, ref in VILLAGES:
        village = villages[key]
        gate = TOWN_GATES[key]
        entry = min(village.perimeter, key=lambda p: (math.dist(p, gate), p))
        if key == "W":
            xs = [-1000.0 - 250.0 * i for i in range(int((-entry[0] - 1000.0) // 250.0) + 1)]
            pts = [(x, 0.0) for x in xs] + [entry]
        else:
            pts = _curve(
                gate,
                entry,
                step_m=250.0,
                bend_m=rng.uniform(-300.0, 300.0),
                wobble=rng.uniform(-60.0, 60.0),
            )
        # 50 km/h for the first 500 m out of town, then the rural limit
        town_part, rural_part = pts[:3], pts[2:]
        base = {"highway": highway, "ref": ref, "surface": "asphalt", "lanes": "2"}
        lay.add_way(town_part, {**base, "name": f"Route de {village.name}", "maxspeed": "50"})
        lay.add_way(rural_part, {**base, "maxspeed": "80"})
        radials[key] = _nodes_along(lay, pts)
    rings: dict[tuple[str, str], list[int]] = {}
    for ka, kb, ref in RING:
        va, vb = villages[ka], villages[kb]
        pa = min(va.perimeter, key=lambda p: (math.dist(p, vb.centre), p))
        pb = min(vb.perimeter, key=lambda p: (math.dist(p, va.centre), p))
        pts = _curve(pa, pb, step_m=300.0, bend_m=rng.uniform(-400.0, 400.0), wobble=0.0)
        lay.add_way(
            pts,
            {"highway": "secondary", "ref": ref, "maxspeed": "80", "surface": "asphalt"},
        )
        rings[(ka, kb)] = _nodes_along(lay, pts)
    hamlets = _draw_hamlets(lay, villages, rng)
    farms = _draw_farms(lay, villages, rng)
    return StreetPlan(lay, villages, radials, rings, hamlets, farms)


def _nodes_along(lay: Layout, pts: Sequence[XY]) -> list[int]:
    return [lay.find(p) for p in pts]


def _grid_line_tags(axis: str, k: int) -> dict[str, str]:
    if k == 0:
        return {"highway": "secondary", "maxspeed": "50", "lanes": "2"}
    if abs(k) == 3:
        return {"highway": "tertiary", "maxspeed": "50"}
    return {"highway": "residential", "maxspeed": "30", "zone:maxspeed": "FR:30"}


def _draw_town(lay: Layout) -> None:
    s = GRID_STEP_M
    ks = range(-GRID_HALF, GRID_HALF + 1)
    for axis in ("row", "col"):
        for k in ks:
            name = (ROW_NAMES if axis == "row" else COL_NAMES)[k + GRID_HALF]
            pts = [((j * s, k * s) if axis == "row" else (k * s, j * s)) for j in ks]
            base = {**_grid_line_tags(axis, k), "name": name}
            if axis == "row" and k == 1:
                # a pedestrian street in the middle of the row: Rue des Gras
                lay.add_way(pts[:4], base)
                lay.add_way(pts[3:6], {"highway": "pedestrian", "name": name})
                lay.add_way(pts[5:], base)
                continue
            if axis == "row" and k == 0:
                # the bus station's kerb, mid-block on the avenue
                pts = [*pts[:7], BUS_STATION, *pts[7:]]
            if axis == "col" and k == 4:
                # a bollard closes Rue des Jardins to cars between two blocks
                bollard = (k * s, -700.0)
                lay.node(bollard, {"barrier": "bollard", "bicycle": "yes", "foot": "yes"})
                pts = [*pts[:2], bollard, *pts[2:]]
            if axis == "col" and k == -1:
                base |= {"oneway": "yes", "oneway:bicycle": "no"}  # northbound, contraflow bikes
            if axis == "col" and k == 1:
                base |= {"oneway": "yes"}
                pts = pts[::-1]  # southbound
            if axis == "row" and k == -1:
                base |= {"oneway": "yes"}  # eastbound
            lay.add_way(pts, base)
    # Place du Marché: a pedestrian square inside the block west of the town hall
    square = [(-170.0, 30.0), (-30.0, 30.0), (-30.0, 170.0), (-170.0, 170.0), (-170.0, 30.0)]
    lay.add_way(
        square,
        {
            "highway": "pedestrian",
            "area": "yes",
            "name": "Place du Marché",
            "surface": "paving_stones",
        },
        junctions=False,
    )
    for corner, street in [
        ((-170.0, 30.0), (-200.0, 0.0)),
        ((-30.0, 30.0), (0.0, 0.0)),
        ((-30.0, 170.0), (0.0, 200.0)),
        ((-170.0, 170.0), (-200.0, 200.0)),
    ]:
        lay.add_way([corner, street], {"highway": "footway"}, junctions=False)
    # Jardin public: two footways across a block, meeting at the fountain
    lay.add_way([(200.0, -200.0), (300.0, -300.0), (400.0, -400.0)], {"highway": "footway"})
    lay.add_way([(400.0, -200.0), (300.0, -300.0), (200.0, -400.0)], {"highway": "footway"})
    lay.add_way(
        [(-1000.0, -1000.0), (-800.0, -1150.0), (-400.0, -1200.0), (0.0, -1000.0)],
        {"highway": "cycleway", "name": "Voie verte de la Couze", "foot": "designated"},
    )


def _draw_village(lay: Layout, village: Village) -> None:
    cx, cy = village.centre
    s = VILLAGE_STEP_M
    grid = [[(cx + i * s, cy + j * s) for i in (-1, 0, 1)] for j in (-1, 0, 1)]
    for j in range(3):
        lay.add_way(
            grid[j],
            {"highway": "residential", "maxspeed": "50", "name": VILLAGE_STREETS[j]},
        )
    for i in range(3):
        lay.add_way(
            [grid[j][i] for j in range(3)],
            {"highway": "residential", "maxspeed": "50", "name": VILLAGE_STREETS[3 + i]},
        )
    village.perimeter = [grid[j][i] for j in range(3) for i in range(3) if (i, j) != (1, 1)]


def _draw_motorway(lay: Layout, villages: dict[str, Village]) -> None:
    x = MOTORWAY_X_M
    north, south = (x, 2750.0), (x, -2750.0)
    ys = [-2500.0 + 250.0 * i for i in range(21)]
    base = {
        "highway": "motorway",
        "oneway": "yes",
        "ref": "A 89",
        "maxspeed": "130",
        "lanes": "2",
        "foot": "no",
        "bicycle": "no",
        "agricultural": "no",
    }
    nb = [south] + [(x + 15.0, y) for y in ys] + [north]
    sb = [north] + [(x - 15.0, y) for y in ys[::-1]] + [south]
    for carriageway in (nb, sb):
        # a bridge over the Route du Mas-de-Ribes around y = 0
        parts: list[list[XY]] = [[]]
        for p in carriageway:
            on_bridge = abs(p[1]) <= 250.0 and p not in (north, south)
            was_bridge = len(parts) == 2
            if on_bridge and not was_bridge:
                parts[-1].append(p)
                parts.append([p])
                continue
            if not on_bridge and was_bridge:
                parts.append([parts[-1][-1]])
            parts[-1].append(p)
        for i, part in enumerate(parts):
            tags = dict(base)
            if i == 1:
                tags |= {"bridge": "yes", "layer": "1"}
            lay.add_way(part, tags, junctions=False)
    link = {"highway": "motorway_link", "oneway": "yes", "maxspeed": "70", "foot": "no"}
    link |= {"bicycle": "no", "agricultural": "no"}
    # half-diamond junctions with the Route du Mas-de-Ribes (y = 0)
    lay.add_way([(x + 15.0, -750.0), (x + 150.0, -300.0), (x + 250.0, 0.0)], link, junctions=False)
    lay.add_way([(x + 250.0, 0.0), (x + 150.0, 300.0), (x + 15.0, 750.0)], link, junctions=False)
    lay.add_way([(x - 15.0, 750.0), (x - 150.0, 300.0), (x - 250.0, 0.0)], link, junctions=False)
    lay.add_way([(x - 250.0, 0.0), (x - 150.0, -300.0), (x - 15.0, -750.0)], link, junctions=False)
    # the motorway ends on primary roads towards the northern and southern villages
    for end, key, ref in ((north, "N", "D 2089"), (south, "S", "D 2089")):
        village = villages[key]
        entry = min(village.perimeter, key=lambda p: (math.dist(p, end), p))
        pts = _curve(end, entry, step_m=300.0, bend_m=0.0, wobble=0.0)
        lay.add_way(pts, {"highway": "primary", "ref": ref, "maxspeed": "80", "lanes": "2"})


def _outward(village: Village) -> float:
    return math.atan2(village.centre[1], village.centre[0])


def _draw_hamlets(
    lay: Layout, villages: dict[str, Village], rng: random.Random
) -> list[tuple[str, str, XY, int]]:
    out = []
    names = iter(HAMLET_NAMES)
    for key, village in villages.items():
        for side in (-1.0, 1.0):
            angle = _outward(village) + side * math.radians(rng.uniform(55.0, 95.0))
            dist = rng.uniform(1500.0, 2800.0)
            centre = (
                round(village.centre[0] + dist * math.cos(angle), 1),
                round(village.centre[1] + dist * math.sin(angle), 1),
            )
            motorway = LineString([(MOTORWAY_X_M, -2750.0), (MOTORWAY_X_M, 2750.0)])
            if motorway.distance(Point(centre)) < 800.0 or math.hypot(*centre) < 2000.0:
                continue
            name = next(names)
            start = lay.node_xy[lay.nearest_node(centre, {"residential", "primary", "secondary"})]
            pts = _curve(start, centre, step_m=250.0, bend_m=rng.uniform(-150.0, 150.0), wobble=0.0)
            lay.add_way(
                pts, {"highway": "unclassified", "maxspeed": "80", "name": f"Route de {name}"}
            )
            lane = [
                (centre[0] - 60.0, centre[1] + 40.0),
                centre,
                (centre[0] + 60.0, centre[1] - 40.0),
            ]
            lay.add_way(
                lane, {"highway": "residential", "maxspeed": "30", "name": f"Rue de {name}"}
            )
            out.append((name, key, centre, rng.randrange(20, 150, 5)))
    return out


def _draw_farms(
    lay: Layout, villages: dict[str, Village], rng: random.Random
) -> list[tuple[str, str, XY]]:
    out = []
    names = iter(FARM_NAMES)
    grades = ["grade1", "grade2", "grade3", "grade4"]
    for key, village in villages.items():
        for side in (-1.0, 1.0):
            angle = _outward(village) + side * math.radians(rng.uniform(15.0, 40.0))
            dist = rng.uniform(1000.0, 2000.0)
            yard = (
                round(village.centre[0] + dist * math.cos(angle), 1),
                round(village.centre[1] + dist * math.sin(angle), 1),
            )
            start = lay.node_xy[lay.nearest_node(yard, {"residential", "unclassified"})]
            pts = _curve(start, yard, step_m=200.0, bend_m=rng.uniform(-120.0, 120.0), wobble=0.0)
            lay.add_way(
                pts,
                {
                    "highway": "track",
                    "tracktype": rng.choice(grades),
                    "motor_vehicle": "agricultural",
                    "agricultural": "yes",
                },
            )
            out.append((next(names), key, yard))
    # field tracks between neighbouring farms give tractors a way round the main roads
    for (_, _, a), (_, _, b) in zip(out[::2], out[1::2], strict=True):
        if math.dist(a, b) < 4500.0:
            lay.add_way(
                _curve(a, b, step_m=250.0, bend_m=rng.uniform(-200.0, 200.0), wobble=0.0),
                {
                    "highway": "track",
                    "tracktype": "grade3",
                    "agricultural": "yes",
                    "motor_vehicle": "agricultural",
                },
            )
    return out


# --- OSM XML ----------------------------------------------------------------------------------


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def osm_xml(lay: Layout) -> str:
    """The layout as OSM XML 0.6 text, nodes then ways by id, with a bounds element."""
    lonlat = {n: to_lonlat(*xy) for n, xy in lay.node_xy.items()}
    lons = [p[0] for p in lonlat.values()]
    lats = [p[1] for p in lonlat.values()]
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<osm version="0.6" generator="arverne demo territory">',
        f'  <bounds minlat="{min(lats):.7f}" minlon="{min(lons):.7f}" '
        f'maxlat="{max(lats):.7f}" maxlon="{max(lons):.7f}"/>',
    ]
    stamp = 'version="1" timestamp="2026-01-01T00:00:00Z"'
    for n in sorted(lonlat):
        lon, lat = lonlat[n]
        tags = lay.node_tags.get(n)
        head = f'  <node id="{n}" {stamp} lat="{lat:.7f}" lon="{lon:.7f}"'
        if not tags:
            lines.append(head + "/>")
            continue
        lines.append(head + ">")
        lines += [f'    <tag k="{_attr(k)}" v="{_attr(v)}"/>' for k, v in sorted(tags.items())]
        lines.append("  </node>")
    for way in sorted(lay.ways, key=lambda w: w.way_id):
        lines.append(f'  <way id="{way.way_id}" {stamp}>')
        lines += [f'    <nd ref="{n}"/>' for n in way.nodes]
        lines += [f'    <tag k="{_attr(k)}" v="{_attr(v)}"/>' for k, v in sorted(way.tags.items())]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"
