"""The web map in a real browser (Debian's Chromium, headless) on the demo territory.

One service (uvicorn on a free loopback port) and one browser serve the whole module. Each test
drives the page as a person would (clicks on the map, typing, keys) and checks what the map
holds and draws by asking MapLibre (sources, rendered features), with a screenshot saved for a
person to look at.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arverne.demo.territory import Territory
from arverne.fleet.scenarios import write_scenarios
from arverne.service.app import create_app
from arverne.service.demo import write_diagnosis_inputs
from arverne.service.settings import ServiceLimits, ServiceSettings
from arverne.service.web import WEB_DIR
from tests.service.conftest import TOKEN
from tests.service.web_browser import (
    artifacts_dir,
    chromium,
    click_lonlat,
    open_page,
    rendered,
    require_browser,
    running_service,
    source_features,
    wait_idle,
)

pytestmark = pytest.mark.xdist_group("browser")

AXE = WEB_DIR / "node_modules" / "axe-core" / "axe.min.js"
WHEN = "2026-11-30T07:00"  # a Monday of the demo's school year
CHAMBOURG = "territory-gtfs:CHAMB"
MARCHE = "territory-gtfs:MARCHE"


@pytest.fixture(scope="module")
def base_url(demo_net: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service over the demo network on a free loopback port, with a token, jobs and an
    on-demand shuttle (tad-1, from the bus station, every stop a service point) whose clock
    says 07:00.
    """
    require_browser()
    folder = tmp_path_factory.mktemp("web-service")
    config = folder / "ondemand.json"
    shuttle = {"vehicle_id": "tad-1", "seats": 8, "depot": "territory-gtfs:GARE"}
    config.write_text(json.dumps({"points": "stops", "vehicles": [shuttle]}), "utf-8")
    settings = ServiceSettings(
        network_dir=demo_net,
        token=TOKEN,
        job_dir=folder / "jobs",
        store_dsn=str(folder / "bookings.sqlite"),
        ondemand_config=config,
        limits=ServiceLimits(rate_per_s=1000.0, rate_burst=1000),
    )
    app = create_app(settings)
    app.state.context.ondemand.now_s = lambda: 7 * 3600.0
    with running_service(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Any]:
    """Chromium, once for the module."""
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def shared_page(browser: Any, base_url: str) -> Iterator[Any]:
    """The map page in English, loaded once for the module (a load takes seconds of software
    WebGL); each test starts from the journey tab.
    """
    page = open_page(browser, base_url, viewport={"width": 1280, "height": 800})
    yield page
    page.context.close()


@pytest.fixture()
def page(shared_page: Any) -> Iterator[Any]:
    """The shared page on its journey tab; no page error may happen during the test."""
    shared_page.click("#tab-journey")
    start = len(shared_page.errors)
    yield shared_page
    assert shared_page.errors[start:] == []


def _stop(page: Any, stop_id: str) -> tuple[float, float]:
    """(lon, lat) of a stop as the map's stops layer holds it."""
    for f in source_features(page, "stops"):
        if f["properties"]["stop_id"] == stop_id:
            lon, lat = f["geometry"]["coordinates"]
            return float(lon), float(lat)
    raise AssertionError(f"no stop {stop_id} on the map")


def _plan_by_clicks(page: Any) -> None:
    """Chambourg to the market square at 07:00: two clicks on the map, then wait for the list."""
    page.fill("#when", WHEN)
    click_lonlat(page, *_stop(page, CHAMBOURG))
    click_lonlat(page, *_stop(page, MARCHE))
    page.wait_for_selector("#itineraries[aria-busy=false] li", timeout=30_000)
    wait_idle(page)


def test_page_draws_our_base_map(page: Any, base_url: str) -> None:
    """The page loads with no outside request: streets, lines in their colours and stops drawn."""
    urls = page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
    assert urls and all(u.startswith(base_url) for u in urls)
    assert len(source_features(page, "streets")) > 100
    lines = {f["short_name"]: f["color"] for f in rendered(page, "lines")}
    assert lines["10"] == "#e2001a"
    assert len({f["stop_id"] for f in rendered(page, "stops")}) >= 20
    page.screenshot(path=artifacts_dir() / "base-map.png")


def test_two_clicks_draw_and_list_an_itinerary(page: Any) -> None:
    """Two clicks (Chambourg, market square) plan at once: both points are named after the
    nearest stop, bus 10 at 07:09 is listed, its leg drawn in line 10's red, the walks drawn as
    walks, with markers for both ends.
    """
    _plan_by_clicks(page)
    assert page.input_value("#origin").startswith("near Chambourg Église (45.")
    assert page.input_value("#destination").startswith("near Place du Marché (45.")
    first = page.inner_text("#itineraries li:first-child")
    assert "07:09" in first and "10" in first
    assert page.get_attribute("#itineraries li:first-child button", "aria-expanded") == "true"
    legs = page.locator("#itinerary-0 li").all_inner_texts()
    assert any("bus 10" in leg for leg in legs)
    drawn = rendered(page, "journey-transit")
    assert drawn and {f["_color"] for f in drawn} == {"#e2001a"}
    held = source_features(page, "journey")
    assert {f["properties"]["mode"] for f in held} >= {"bus", "walk"}
    assert page.locator(".marker-origin").count() == 1
    assert page.locator(".marker-destination").count() == 1
    page.screenshot(path=artifacts_dir() / "journey.png")


def test_choosing_another_itinerary_redraws_it(page: Any) -> None:
    """Each listed itinerary is a button: pressing the second draws the second one's legs."""
    _plan_by_clicks(page)
    heads = page.locator("#itineraries .itinerary-head")
    if heads.count() < 2:
        pytest.skip("one itinerary only at that hour")
    heads.nth(1).press("Enter")
    wait_idle(page)
    assert heads.nth(1).get_attribute("aria-expanded") == "true"
    assert page.evaluate("() => window.arverne.state.selected") == 1


def test_language_switch_translates_the_page(page: Any) -> None:
    """The language button switches every label to French and back, html lang included."""
    assert page.inner_text("label[for=origin]") == "From"
    page.click("#lang")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.inner_text("label[for=origin]") == "Départ"
    assert page.inner_text("#tab-journey") == "Itinéraire"
    assert page.get_attribute("#lang", "lang") == "en"
    page.click("#lang")
    assert page.inner_text("label[for=origin]") == "From"


def test_tabs_and_map_centre_buttons_work_from_the_keyboard(page: Any) -> None:
    """Arrow keys move between tabs (WAI-ARIA tabs); the "at the map centre" buttons set a
    point without a mouse; every control has a name a screen reader reads.
    """
    page.focus("#tab-journey")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.id") == "tab-isochrones"
    assert page.is_visible("#pane-isochrones") and not page.is_visible("#pane-journey")
    page.keyboard.press("Home")
    assert page.evaluate("() => document.activeElement.id") == "tab-journey"
    page.focus("#origin-centre")
    page.keyboard.press("Enter")
    assert page.input_value("#origin") != ""
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select')]
            .filter((el) => !el.labels?.length && !el.getAttribute('aria-label')
                            && !el.textContent.trim() && el.offsetParent !== null)
            .map((el) => el.outerHTML)"""
    )
    assert unnamed == []


def test_phone_layout_shows_map_and_panel(browser: Any, base_url: str) -> None:
    """On a phone-sized screen the map sits above the panel, both visible, nothing wider than
    the screen.
    """
    page = open_page(
        browser, base_url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        map_box = page.locator("#map").bounding_box()
        panel_box = page.locator("#panel").bounding_box()
        assert map_box["height"] > 200 and panel_box["height"] > 200
        assert map_box["y"] < panel_box["y"]
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.screenshot(path=artifacts_dir() / "phone.png")
    finally:
        page.context.close()


def test_search_by_name_with_the_keyboard(page: Any) -> None:
    """Typing part of a stop name (accents ignored) lists stops; arrows and Enter pick one; the
    form is sent with Enter: an itinerary from Chambourg to the market square is listed.
    """
    page.fill("#when", WHEN)
    page.fill("#origin", "")
    page.type("#origin", "chamb")
    page.wait_for_selector("#origin-list li")
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#origin", "aria-activedescendant") == "origin-opt-0"
    page.keyboard.press("Enter")
    assert page.input_value("#origin").startswith("Chambourg")
    page.fill("#destination", "")
    page.type("#destination", "marche")
    page.wait_for_selector("#destination-list li")
    options = page.locator("#destination-list li").all_inner_texts()
    pick = next(i for i, name in enumerate(options) if "Place du Marché" in name)
    for _ in range(pick + 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert "Place du Marché" in page.input_value("#destination")
    page.focus("#plan")
    page.keyboard.press("Enter")
    page.wait_for_selector("#itineraries[aria-busy=false] li")
    assert "07:09" in page.inner_text("#itineraries li:first-child")


def test_book_an_on_demand_ride_with_the_token(page: Any) -> None:
    """On the on-demand tab: two clicks (Chambourg, the market square) set pickup and drop-off;
    without the token the page asks for it; with it, the booking is offered at once and the
    shuttle's plan (pickup then drop-off) is listed and drawn.
    """
    page.click("#tab-ondemand")
    click_lonlat(page, *_stop(page, CHAMBOURG))
    click_lonlat(page, *_stop(page, MARCHE))
    assert page.input_value("#pickup") and page.input_value("#dropoff")
    page.fill("#book-when", "08:00")
    page.fill("#token", "")
    page.click("#book")
    assert "token" in page.inner_text("#status")
    page.fill("#token", TOKEN)
    page.click("#book")
    page.wait_for_function("() => /tad-1/.test(document.getElementById('booking').textContent)")
    booked = page.inner_text("#booking")
    assert booked.startswith("Booked (") and "pickup between 08:" in booked
    page.wait_for_selector("#plan-list li")
    plan = page.locator("#plan-list li").all_inner_texts()
    kinds = [next(k for k in ("depot", "pickup", "drop-off") if k in line) for line in plan]
    assert kinds == ["depot", "pickup", "drop-off", "depot"]
    assert "Chambourg" in plan[1] and "Place du Marché" in plan[2]
    wait_idle(page)
    drawn = rendered(page, "plan-stops")
    assert {f["kind"] for f in drawn} >= {"pickup", "dropoff"}
    assert rendered(page, "plan-route")
    assert rendered(page, "journey-transit") == []  # another tab's drawing is hidden
    page.screenshot(path=artifacts_dir() / "ondemand.png")


def test_shuttle_plan_is_live(page: Any, base_url: str) -> None:
    """A ride booked elsewhere (another client, through the API) shows in the shuttle's plan
    (asked with the token) when the on-demand tab is opened again: the page asks for it anew.
    """
    page.click("#tab-ondemand")
    page.fill("#vehicle", "tad-1")
    page.fill("#token", TOKEN)  # a driver's plan is private
    page.click("#show-plan")
    page.wait_for_selector("#plan-list li")
    before = page.locator("#plan-list li").count()
    ride = {
        "pickup": "territory-gtfs:BEAU",
        "dropoff": "territory-gtfs:HOPITAL",
        "earliest_pickup": "10:00",
    }
    request = urllib.request.Request(
        base_url + "v1/ondemand/requests",
        data=json.dumps(ride).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as r:
        assert json.load(r)["status"] == "offer"
    page.click("#tab-journey")
    page.click("#tab-ondemand")
    page.wait_for_function(
        f"() => document.querySelectorAll('#plan-list li').length > {max(before, 2)}"
    )
    assert "Beaulieu" in page.inner_text("#plan-list")


def test_booking_with_a_wrong_token_says_so(page: Any) -> None:
    """A wrong token: the page shows the API's refusal (401) and books nothing."""
    page.click("#tab-ondemand")
    click_lonlat(page, *_stop(page, CHAMBOURG))
    click_lonlat(page, *_stop(page, MARCHE))
    page.fill("#token", "not-the-token-0123456789")
    page.click("#book")
    page.wait_for_function("() => /Bearer/.test(document.getElementById('booking').textContent)")
    assert page.inner_text("#booking").startswith("Error:")


def test_todays_tours_are_solved_and_drawn(page: Any, territory: Territory, tmp_path: Path) -> None:
    """On the tours tab, the demo's home-care round (its problem file, as `arverne tours` reads
    it) is sent with the token, solved as a job and drawn tour by tour, each in its own colour,
    with one line per nurse listed and the Gantt chart linked.
    """
    problem = write_scenarios(tmp_path, territory.places)["home_care"]
    page.click("#tab-tours")
    assert page.is_visible("#token")
    page.fill("#token", TOKEN)
    page.set_input_files("#tours-file", str(problem))
    page.select_option("#tours-time", "2")
    page.click("#tours-go")
    page.wait_for_function(
        "() => /solved|failed/.test(document.getElementById('tours-progress').textContent)",
        timeout=120_000,
    )
    assert "solved" in page.inner_text("#tours-progress"), page.inner_text("#tours-progress")
    vehicles = {v["id"] for v in json.loads(problem.read_text("utf-8"))["vehicles"]}
    listed = page.locator("#tours-list li").all_inner_texts()
    assert listed and all(line.split(":")[0] in vehicles for line in listed)
    wait_idle(page)
    routes = rendered(page, "tours-route")
    assert (
        len({f["_color"] for f in routes}) == len({f["vehicle_id"] for f in routes}) == len(listed)
    )
    assert rendered(page, "tours-stops")
    assert page.get_attribute("#tours-gantt", "href").endswith("/results/gantt")
    page.screenshot(path=artifacts_dir() / "tours.png")


def _served(base_url: str, path: str) -> bool:
    """Whether the service's OpenAPI document lists ``path``."""
    with urllib.request.urlopen(base_url + "v1/openapi.json") as r:
        return path in json.load(r)["paths"]


def test_isochrones_from_a_clicked_point(page: Any, base_url: str) -> None:
    """On the isochrones tab a click on the market square asks for isochrones at 07:00: drawn
    as nested areas with a legend when the API serves them, else the page says it does not.
    """
    page.click("#tab-isochrones")
    page.fill("#iso-when", WHEN)
    click_lonlat(page, *_stop(page, MARCHE))
    assert page.input_value("#iso-from")
    page.wait_for_function(
        "() => /Isochrones|isochrones/.test(document.getElementById('status').textContent)"
    )
    page.wait_for_function("() => !/Computing/.test(document.getElementById('status').textContent)")
    if _served(base_url, "/v1/isochrones"):
        assert page.inner_text("#status").startswith("Isochrones drawn")
        wait_idle(page)
        drawn = rendered(page, "isochrones-fill")
        assert len({f["_minutes"] for f in drawn}) == 3
        assert page.locator("#iso-legend > div").count() == 3
    else:
        assert page.inner_text("#status") == "This API does not serve isochrones yet."
    page.screenshot(path=artifacts_dir() / "isochrones.png")


@pytest.mark.parametrize("tab", ["journey", "isochrones", "territory", "tours", "ondemand"])
def test_no_serious_accessibility_violation(page: Any, tab: str) -> None:
    """axe-core (the WCAG rules engine, from npm) finds no violation at all, of any impact, on
    each tab, an itinerary listed on the journey tab: names, labels, contrast, ARIA use.
    """
    if tab == "journey":
        _plan_by_clicks(page)
    else:
        page.click(f"#tab-{tab}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
    found = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
    ]
    assert found == []


def test_territory_diagnosis(
    page: Any, base_url: str, territory: Territory, tmp_path: Path
) -> None:
    """On the territory tab, the demo's zones and services (GeoJSON files) are sent with the
    token: the diagnosis job's zones are drawn as a choropleth with a legend, and a second run
    offers the difference with the first; when the API serves no diagnoses the page says so.
    """
    zones, services = write_diagnosis_inputs(territory.places, tmp_path)
    page.click("#tab-territory")
    page.click("#diag-go")
    assert page.inner_text("#diag-progress").startswith("Choose a zones file")
    page.fill("#token", TOKEN)
    page.set_input_files("#diag-zones", str(zones))
    page.set_input_files("#diag-services", str(services))
    page.fill("#diag-when", "2026-11-30T08:00")

    def run() -> str:
        page.click("#diag-go")
        page.wait_for_function(
            "() => /done|failed|yet/.test(document.getElementById('diag-progress').textContent)",
            timeout=180_000,
        )
        return str(page.inner_text("#diag-progress"))

    if not _served(base_url, "/v1/diagnoses"):
        assert run() == "This API does not serve diagnoses yet."
        return
    assert run().startswith("Diagnosis done")
    wait_idle(page)
    assert rendered(page, "diagnosis-fill")
    assert page.locator("#diag-legend > div").count() >= 3
    shown = page.locator("#diag-show option").all_inner_texts()
    assert any("health" in o for o in shown) and not any("change" in o for o in shown)
    page.screenshot(path=artifacts_dir() / "diagnosis.png")
    assert run().startswith("Diagnosis done")
    delta = [o for o in page.locator("#diag-show option").all_inner_texts() if "change" in o]
    assert delta
    page.select_option("#diag-show", label=delta[0])
    wait_idle(page)
    assert rendered(page, "diagnosis-fill")
    page.screenshot(path=artifacts_dir() / "diagnosis-difference.png")
