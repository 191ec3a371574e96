"""Fuzzing the OSM reader: damaged OSM XML (random values in coordinates, ids, tags, node
references, and random bytes spliced in) is read or refused with OsmError, never another
exception. ``ARVERNE_FUZZ_SCALE=N`` multiplies the budget (the suite runs at 1)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.errors import OsmError
from arverne.feeds.osm import read_osm

SCALE = max(int(os.environ.get("ARVERNE_FUZZ_SCALE", "1")), 1)

VALUES = st.one_of(
    st.sampled_from(["999", "nan", "inf", "-inf", "", "1e308", "-0", "9223372036854775807"]),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
HIGHWAYS = st.sampled_from(["residential", "primary", "motorway", "footway", "steps", "nonsense"])


@st.composite
def osm_documents(draw: st.DrawFn) -> bytes:
    """A small street extract whose attributes are partly replaced by hostile values."""
    n = draw(st.integers(min_value=1, max_value=6))
    nodes = []
    for i in range(1, n + 1):
        lat = draw(st.one_of(st.just(f"{45.77 + i / 1000:.6f}"), VALUES))
        lon = draw(st.one_of(st.just(f"{3.08 + i / 1000:.6f}"), VALUES))
        node_id = draw(st.one_of(st.just(str(i)), VALUES))
        nodes.append(f"<node id='{_attr(node_id)}' lat='{_attr(lat)}' lon='{_attr(lon)}'/>")
    ways = []
    for w in range(draw(st.integers(min_value=0, max_value=3))):
        refs = draw(st.lists(st.one_of(st.integers(1, n).map(str), VALUES), max_size=6))
        tags = {"highway": draw(HIGHWAYS)}
        tags.update(
            draw(
                st.dictionaries(
                    st.sampled_from(["oneway", "maxspeed", "access", "name", "duration", "route"]),
                    VALUES,
                    max_size=3,
                )
            )
        )
        body = "".join(f"<nd ref='{_attr(r)}'/>" for r in refs)
        body += "".join(f"<tag k='{k}' v='{_attr(v)}'/>" for k, v in tags.items())
        ways.append(f"<way id='{100 + w}'>{body}</way>")
    text = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='fuzz'>\n"
        + "\n".join(nodes + ways)
        + "\n</osm>\n"
    ).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # splice random bytes somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(max_size=16)) + text[at:]
    return text


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")


@settings(
    max_examples=40 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=osm_documents(), gz=st.booleans())
def test_damaged_osm_is_read_or_refused(tmp_path: Path, document: bytes, gz: bool) -> None:
    """Any damaged extract gives street tables or an OsmError naming the file, nothing else."""
    path = tmp_path / ("streets.osm.gz" if gz else "streets.osm")
    path.write_bytes(gzip.compress(document) if gz else document)
    try:
        tables = read_osm(path)
    except OsmError as exc:
        assert str(path.name) in str(exc)
    else:
        assert tables.n_ways >= 0
