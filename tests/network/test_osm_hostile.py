"""Hostile OSM extracts: coordinates of 999, nan or inf, ids at the end of their range, a way
repeating one node, a 10 MB tag value. A bad element in a PBF is skipped with a notice; an XML
file libosmium cannot parse is refused as a whole (OsmError, exit 3); never an internal error."""

from __future__ import annotations

import math
from pathlib import Path

import osmium
import pytest

from arverne.errors import OsmError
from arverne.feeds.osm import read_osm
from arverne.network.build import build_network
from tests.network.osm_text import osm_xml
from tests.network.small_network import write_inputs

NODES = {1: (3.080, 45.775), 2: (3.082, 45.775), 3: (3.084, 45.775), 4: (3.084, 45.777)}
WAYS = [(10, [1, 2, 3], {"highway": "residential"}), (11, [3, 4], {"highway": "residential"})]
ID_MAX = 2**63 - 1


def _write_pbf(path: Path, bad_location: tuple[float, float]) -> Path:
    """Node 4 at ``bad_location``; ways 10 and 11 as in WAYS, and a way of id 2^63-1."""
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    for node_id, (lon, lat) in sorted({**NODES, 4: bad_location}.items()):
        location = osmium.osm.Location(lon, lat)
        writer.add_node(osmium.osm.mutable.Node(id=node_id, location=location, version=1))
    for way_id, refs, tags in [*WAYS, (ID_MAX, [1, 4], {"highway": "residential"})]:
        writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags, version=1))
    writer.close()
    return path


@pytest.mark.parametrize(
    "bad", [(3.08, 999.0), (math.nan, 45.0), (3.0, math.inf), (1e300, 45.0), (-200.0, -95.0)]
)
def test_pbf_node_with_impossible_location_is_skipped_with_a_notice(
    tmp_path: Path, bad: tuple[float, float]
) -> None:
    """A PBF node at latitude 999, nan, inf or far past the antimeridian: its ways are cut there
    and the ones left with one node skipped, with notices; the rest builds."""
    tables = read_osm(_write_pbf(tmp_path / "bad.osm.pbf", bad))
    codes = {n.code for n in tables.notices}
    assert codes == {"osm_node_without_location", "osm_way_skipped"}
    assert set(tables.way_id.tolist()) == {10}
    gtfs, _osm = write_inputs(tmp_path)
    network = build_network([gtfs], tmp_path / "bad.osm.pbf", tmp_path / "net")
    assert network.streets is not None
    assert "WARNING:osm_way_skipped" in network.manifest["notices"]["osm"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("lat-999", osm_xml(NODES, WAYS).replace('lat="45.7770000"', 'lat="999"')),
        ("lat-nan", osm_xml(NODES, WAYS).replace('lat="45.7770000"', 'lat="nan"')),
        ("lon-inf", osm_xml(NODES, WAYS).replace('lon="3.0840000"', 'lon="inf"')),
        (
            "id-max",
            osm_xml(
                {**NODES, ID_MAX: (3.083, 45.776)},
                [*WAYS, (12, [4, ID_MAX], {"highway": "service"})],
            ),
        ),
        (
            "tag-10MB",
            osm_xml(NODES, [*WAYS, (12, [1, 4], {"highway": "service", "name": "x" * 10_000_000})]),
        ),
    ],
)
def test_xml_libosmium_cannot_parse_is_refused_in_one_sentence(
    tmp_path: Path, name: str, text: str
) -> None:
    """libosmium stops at an XML element it cannot parse: the file is refused as an OsmError
    naming the file and libosmium's reason (it was an internal error, exit 4)."""
    path = tmp_path / f"{name}.osm"
    path.write_text(text)
    with pytest.raises(OsmError, match=r"not a readable OSM file \(") as info:
        read_osm(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_way_repeating_one_node_and_one_node_ways(tmp_path: Path) -> None:
    """A way repeating one node builds no arc of zero length; a way of one node is skipped
    with a notice; the streets around them build."""
    ways = [
        *WAYS,
        (12, [2, 2, 2, 2], {"highway": "residential"}),
        (13, [4], {"highway": "service"}),
    ]
    path = tmp_path / "repeat.osm"
    path.write_text(osm_xml(NODES, ways))
    tables = read_osm(path)
    assert {n.code for n in tables.notices} == {"osm_way_skipped"}
    gtfs, _osm = write_inputs(tmp_path)
    streets = build_network([gtfs], path, tmp_path / "net").streets
    assert streets is not None and (streets.arc_tail != streets.arc_head).all()


def test_named_pipe_is_not_opened(tmp_path: Path) -> None:
    """A named pipe given as the OSM file is refused before it is opened (it blocked forever)."""
    import os

    os.mkfifo(tmp_path / "streets.osm.pbf")
    with pytest.raises(OsmError, match="not a regular file"):
        read_osm(tmp_path / "streets.osm.pbf")
