"""The web map's HTTP side on the demo territory: the page and its assets, and the street layer
(``/v1/map/streets``) checked against a plain walk over the street arrays.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.network.network import Network
from arverne.service.web import STATIC_DIR, WEB_DIR
from tests.service.web_browser import require_browser

GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def network(demo_net: Path) -> Network:
    """The demo network, as the service loads it."""
    return Network.load(demo_net)


def _reference_streets(
    network: Network, box: tuple[float, float, float, float]
) -> set[tuple[str, tuple[tuple[float, float], ...]]]:
    """(kind, rounded points) of every street piece whose points' box meets ``box``: one arc of
    each twin pair (the lower index), kind from which modes may pass either way.
    """
    g = network.streets
    assert g is not None
    west, south, east, north = box
    passable = {m: np.isfinite(np.asarray(g.arc_time_s[g.mode_index(m)])) for m in g.modes}
    out = set()
    for a in range(g.n_arcs):
        twin = int(g.arc_twin[a])
        if twin >= 0 and twin < a:
            continue
        lo, hi = int(g.geom_ptr[a]), int(g.geom_ptr[a + 1])
        lons = [float(x) for x in g.geom_lon[lo:hi]]
        lats = [float(y) for y in g.geom_lat[lo:hi]]
        if min(lons) > east or max(lons) < west or min(lats) > north or max(lats) < south:
            continue

        def may(mode: str, a: int = a, twin: int = twin) -> bool:
            return bool(passable[mode][a] or (twin >= 0 and passable[mode][twin]))

        if may("car"):
            kind = "road" if may("walk") else "motorway"
        elif may("tractor"):
            kind = "track"
        else:
            kind = "path"
        points = tuple((round(x, 6), round(y, 6)) for x, y in zip(lons, lats, strict=True))
        out.add((kind, points))
    return out


def _streets(client: TestClient, bbox: str) -> dict[str, Any]:
    r = client.get("/v1/map/streets", params={"bbox": bbox})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(GEOJSON)
    body: dict[str, Any] = r.json()
    return body


def _same(got: dict[str, Any], reference: set[tuple[str, tuple[tuple[float, float], ...]]]) -> None:
    """Each answered piece is one reference piece (same kind, points within rounding), and
    every reference piece is answered.
    """
    left = {(kind, len(pts)): [] for kind, pts in reference}  # type: dict[tuple[str, int], list[np.ndarray]]
    for kind, pts in reference:
        left[kind, len(pts)].append(np.array(pts))
    for f in got["features"]:
        pts = np.array(f["geometry"]["coordinates"])
        pool = left.get((f["properties"]["kind"], len(pts)), [])
        match = [i for i, ref in enumerate(pool) if np.abs(ref - pts).max() <= 2e-6]
        assert match, (
            f"{f['properties']['kind']} piece {pts[:2].tolist()}... is not in the reference"
        )
        pool.pop(match[0])
    assert not any(left.values()), "pieces of the reference were not answered"


def test_extent_holds_every_stop_and_street(client: TestClient, network: Network) -> None:
    """The extent's box holds every stop and street point; its counts are the network's."""
    body = client.get("/v1/map/extent").json()
    west, south, east, north = body["bbox"]
    g, tt = network.streets, network.timetable
    assert g is not None and tt is not None
    for lon, lat in [
        *zip(g.geom_lon, g.geom_lat, strict=True),
        *zip(tt.stop_lon, tt.stop_lat, strict=True),
    ]:
        assert west - 1e-6 <= lon <= east + 1e-6 and south - 1e-6 <= lat <= north + 1e-6
    assert body["stops"] == tt.n_stops
    assert body["street_segments"] == len(_reference_streets(network, (-180, -90, 180, 90)))
    assert body["center"] == pytest.approx([(west + east) / 2, (south + north) / 2], abs=1e-6)
    assert body["network_version"].startswith("v-")


def test_whole_box_gives_every_street_with_its_kind(client: TestClient, network: Network) -> None:
    """The extent's box returns every street piece once, classed as the reference classes it:
    the demo has roads, a motorway (no walking), farm tracks and paths.
    """
    bbox = client.get("/v1/map/extent").json()["bbox"]
    got = _streets(client, ",".join(map(str, bbox)))
    _same(got, _reference_streets(network, tuple(bbox)))
    assert {"road", "motorway", "track"} <= {f["properties"]["kind"] for f in got["features"]}


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(2.95, 3.28),
    y=st.floats(45.55, 45.82),
    w=st.floats(0.0, 0.15),
    h=st.floats(0.0, 0.15),
)
def test_any_box_matches_the_reference(
    client: TestClient, network: Network, x: float, y: float, w: float, h: float
) -> None:
    """A random box over (and around) the territory returns exactly the pieces whose points'
    box meets it, as a plain loop over the arcs finds them.
    """
    box = (x, y, x + w, y + h)
    _same(_streets(client, ",".join(repr(v) for v in box)), _reference_streets(network, box))


@pytest.mark.parametrize(
    "bbox",
    ["3,45,3.1", "3,45,a,46", "3,45,nan,46", "3.2,45,3.1,46", "3,46,3.1,45", "3,45,190,46", ""],
)
def test_bad_box_is_a_problem(client: TestClient, bbox: str) -> None:
    """Three values, a word, NaN, a box upside down or off the Earth, nothing: 400 problem."""
    r = client.get("/v1/map/streets", params={"bbox": bbox})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid-parameter"


def test_box_over_the_limit_is_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A box holding more pieces than the limit is refused (limit-exceeded), naming the count."""
    from arverne.service.routes import map as map_routes

    monkeypatch.setattr(map_routes, "MAX_STREET_SEGMENTS", 10)
    r = client.get("/v1/map/streets", params={"bbox": "2.9,45.5,3.3,45.9"})
    assert r.status_code == 400
    assert r.json()["code"] == "limit-exceeded"
    assert "zoom in" in r.json()["detail"]


def test_page_and_every_asset_it_names_are_served(client: TestClient) -> None:
    """``/`` is the page; every stylesheet, script and module it or its modules name is served
    with the right type, MapLibre from the npm install.
    """
    require_browser(need_chromium=False)
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    names = re.findall(r'(?:href|src)="(web/[^"]+)"', r.text)
    for module in STATIC_DIR.glob("*.js"):
        names += [f"web/{n[2:]}" for n in re.findall(r'from "(\./[^"]+)"', module.read_text())]
        names += [f"web/{n[2:]}" for n in re.findall(r'import\("(\./[^"]+)"\)', module.read_text())]
    assert "web/vendor/maplibre-gl/maplibre-gl.mjs" in names
    for name in set(names):
        asset = client.get("/" + name)
        assert asset.status_code == 200, name
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert asset.headers["content-type"].startswith(kind), name
    worker = client.get("/web/vendor/maplibre-gl/maplibre-gl-worker.mjs")
    assert worker.status_code == 200


def test_page_names_no_outside_address() -> None:
    """No CDN, tiles, fonts or sprites from elsewhere: the page's files hold no http(s) URL and
    its map style names no glyphs or sprite.
    """
    for path in STATIC_DIR.iterdir():
        text = path.read_text("utf-8")
        assert not re.search(r"https?://", text), path.name
    style = (STATIC_DIR / "map.js").read_text("utf-8")
    assert not re.search(r"\b(glyphs|sprite)\s*:", style)


def test_maplibre_is_pinned_from_npm() -> None:
    """package.json asks for one exact maplibre-gl version; the committed lock file pins it with
    its integrity hash, so `npm ci` installs exactly that.
    """
    package = json.loads((WEB_DIR / "package.json").read_text())
    lock = json.loads((WEB_DIR / "package-lock.json").read_text())
    version = package["dependencies"]["maplibre-gl"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    entry = lock["packages"]["node_modules/maplibre-gl"]
    assert entry["version"] == version
    assert entry["integrity"].startswith("sha512-")


def test_streets_geojson_is_finite(client: TestClient) -> None:
    """Every coordinate of the street layer is a finite lon, lat pair."""
    bbox = client.get("/v1/map/extent").json()["bbox"]
    for f in _streets(client, ",".join(map(str, bbox)))["features"]:
        assert len(f["geometry"]["coordinates"]) >= 2
        for lon, lat in f["geometry"]["coordinates"]:
            assert math.isfinite(lon) and math.isfinite(lat)
