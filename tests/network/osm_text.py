"""Tiny hand-written OSM XML files for street and link tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pyproj import Geod

GEOD = Geod(ellps="WGS84")

NodeSpec = tuple[float, float] | tuple[float, float, Mapping[str, str]]
WaySpec = tuple[int, Sequence[int], Mapping[str, str]]


def osm_xml(nodes: Mapping[int, NodeSpec], ways: Sequence[WaySpec]) -> str:
    """OSM XML text with these nodes (id -> (lon, lat[, tags])) and ways (id, refs, tags)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']
    for node_id, spec in nodes.items():
        lon, lat = spec[0], spec[1]
        tags = spec[2] if len(spec) > 2 else {}  # type: ignore[misc]
        head = f'  <node id="{node_id}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        if tags:
            lines.append(head + ">")
            lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
            lines.append("  </node>")
        else:
            lines.append(head + "/>")
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines.extend(f'    <nd ref="{r}"/>' for r in refs)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def write_osm(
    folder: Path, nodes: Mapping[int, NodeSpec], ways: Sequence[WaySpec], name: str = "tiny.osm"
) -> Path:
    """Write :func:`osm_xml` into ``folder/name`` and return the path."""
    path = Path(folder) / name
    path.write_text(osm_xml(nodes, ways), encoding="utf-8")
    return path


def geodesic_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (lon, lat) points, metres (WGS84)."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])
