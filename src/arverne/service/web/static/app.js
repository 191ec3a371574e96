// Arverne's web map: journeys, isochrones, the territory diagnosis, tours and on-demand bookings,
// all through the public API. This module wires the page: tabs, map clicks, language, start-up.

import { computeIsochrones, fillDiagnosisChoices, renderDiagnosis, renderIsoLegend, runDiagnosis, setIsoFrom } from "./areas.js";
import { get } from "./api.js";
import { initialLang, lang, saveLang, setLang, t } from "./i18n.js";
import { planJourney, renderJourneys, setEnd, setupCombo } from "./journey.js";
import { startVehicles } from "./live.js";
import { createMap } from "./map.js";
import { book, renderBooking, renderPlan, renderTours, setRide, showPlan, solveTours } from "./services.js";
import { $, failure, loadStopIndex, placeMarker, pointName, say, state } from "./ui.js";

function defaultWhen() {
  // now, in the network's time zone, when the timetable covers today; else its first weekday 08:00
  const zone = state.timezone || undefined;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date())
      .map((p) => [p.type, p.value]),
  );
  const today = `${parts.year}-${parts.month}-${parts.day}`;
  const starts = state.feeds.map((f) => f.start_date).filter(Boolean).sort();
  const ends = state.feeds.map((f) => f.end_date).filter(Boolean).sort();
  if (starts.length) {
    const start = new Date(`${starts[0]}T12:00:00Z`);
    const end = new Date(`${ends[ends.length - 1]}T12:00:00Z`);
    const now = new Date(`${today}T12:00:00Z`);
    if (now < start || now > end) {
      while ([0, 6].includes(start.getUTCDay())) start.setUTCDate(start.getUTCDate() + 1);
      return `${start.toISOString().slice(0, 10)}T08:00`;
    }
  }
  return `${today}T${parts.hour}:${parts.minute}`;
}

function soon() {
  // a quarter of an hour from now, on a five-minute step, in the network's time zone
  const later = new Date(Date.now() + 15 * 60000);
  const [h, m] = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: state.timezone || undefined })
    .format(later)
    .split(":")
    .map(Number);
  const minutes = Math.min(h * 60 + Math.ceil(m / 5) * 5, 23 * 60 + 55);
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

// ---------- tabs (WAI-ARIA tabs pattern: arrows, Home, End) ----------

// What each tab draws: only the open tab's overlays and markers show.
const TAB_LAYERS = {
  journey: ["journey-casing", "journey-walk", "journey-transit"],
  isochrones: ["isochrones-fill", "isochrones-line"],
  territory: ["diagnosis-fill"],
  tours: ["tours-route", "tours-stops"],
  ondemand: ["plan-route", "plan-stops"],
};
const TAB_WRITES = ["territory", "tours", "ondemand"]; // tabs that need the token (jobs, bookings)
const TAB_MARKERS = { journey: ["origin", "destination"], isochrones: ["iso"], ondemand: ["pickup", "dropoff"] };

function showTabOverlays() {
  for (const [tab, layers] of Object.entries(TAB_LAYERS)) {
    for (const id of layers) state.map?.setLayoutProperty(id, "visibility", tab === state.tab ? "visible" : "none");
  }
  for (const [tab, roles] of Object.entries(TAB_MARKERS)) {
    for (const role of roles) {
      const marker = state.markers[role];
      if (marker) marker.getElement().style.display = tab === state.tab ? "" : "none";
    }
  }
}

function selectTab(name, focus = false) {
  state.tab = name;
  showTabOverlays();
  $("token-field").hidden = !TAB_WRITES.includes(name);
  if (name === "ondemand" && state.plan) showPlan(); // back on the tab: the plan as it is now
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const names = tabs.map((tab) => tab.id.slice(4));
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(names[i]));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(names[(moves[event.key] + tabs.length) % tabs.length], true);
    });
  });
}

// ---------- map clicks (and the keyboard's "at the map centre" buttons) ----------

function pick(ll) {
  if (state.tab === "journey") {
    const role = !state.origin || state.destination ? "origin" : "destination";
    if (role === "origin") setEnd("destination", null);
    setEnd(role, { name: pointName(ll), lonlat: ll });
    if (state.origin && state.destination) planJourney();
  } else if (state.tab === "isochrones") {
    setIsoFrom(ll);
    computeIsochrones();
  } else if (state.tab === "ondemand") {
    const role = !state.pickup || state.dropoff ? "pickup" : "dropoff";
    if (role === "pickup") {
      state.dropoff = null;
      $("dropoff").value = "";
      placeMarker("dropoff", null);
    }
    setRide(role, ll);
  }
}

function centre() {
  const c = state.map.getCenter();
  return [c.lng, c.lat];
}

function retranslate() {
  setLang(lang());
  const other = lang() === "fr" ? "en" : "fr";
  const button = $("lang");
  button.textContent = t("switch_to");
  button.lang = other;
  button.setAttribute("aria-label", t("switch_label"));
  state.map?.getCanvas().setAttribute("aria-label", t("map_label"));
  for (const [role, marker] of Object.entries(state.markers)) {
    const place = state[role];
    if (place?.name) marker.getElement().setAttribute("aria-label", t(`${role}_marker`, { name: place.name }));
  }
  renderJourneys();
  renderIsoLegend();
  if (state.diagnoses.length) {
    fillDiagnosisChoices();
    renderDiagnosis();
  }
  renderBooking();
  renderTours();
  if (state.plan) renderPlan();
}

function wire() {
  setupTabs();
  setupCombo("origin");
  setupCombo("destination");
  $("lang").addEventListener("click", () => {
    const next = lang() === "fr" ? "en" : "fr";
    saveLang(next);
    setLang(next);
    retranslate();
  });
  $("journey-form").addEventListener("submit", planJourney);
  $("origin-centre").addEventListener("click", () => setEnd("origin", { name: pointName(centre()), lonlat: centre() }));
  $("destination-centre").addEventListener("click", () => setEnd("destination", { name: pointName(centre()), lonlat: centre() }));
  $("swap").addEventListener("click", () => {
    const [a, b] = [state.origin, state.destination];
    setEnd("origin", b);
    setEnd("destination", a);
  });
  $("iso-form").addEventListener("submit", computeIsochrones);
  $("iso-centre").addEventListener("click", () => setIsoFrom(centre()));
  $("diag-form").addEventListener("submit", runDiagnosis);
  $("diag-show").addEventListener("change", renderDiagnosis);
  $("book-form").addEventListener("submit", book);
  $("tours-form").addEventListener("submit", solveTours);
  $("pickup-centre").addEventListener("click", () => setRide("pickup", centre()));
  $("dropoff-centre").addEventListener("click", () => setRide("dropoff", centre()));
  $("show-plan").addEventListener("click", showPlan);
  $("token").value = sessionStorage.getItem("arverne.token") || "";
  state.map.on("click", (event) => pick([event.lngLat.lng, event.lngLat.lat]));
}

async function main() {
  setLang(initialLang());
  retranslate();
  say(t("loading"));
  try {
    state.maplibregl = await import("./vendor/maplibre-gl/maplibre-gl.mjs");
  } catch {
    say(t("map_missing"));
    return;
  }
  try {
    const [extent, status] = await Promise.all([get("map/extent"), get("status")]);
    state.extent = extent;
    state.timezone = status.network.timezone;
    state.feeds = status.network.feeds;
    for (const id of ["when", "iso-when", "diag-when"]) $(id).value = defaultWhen();
    $("book-when").value = soon();
    state.map = await createMap(state.maplibregl, $("map"), state.extent, { map: t("map_label"), zoom: t("zoom_hint") });
    const lines = await state.map.getSource("lines").getData();
    for (const f of lines.features) state.lineColors.set(f.properties.route_id, f.properties.color);
    await loadStopIndex();
    await startVehicles(state.map, status);
    wire();
    showTabOverlays();
    // for the browser tests and the curious: the map and the page's state
    window.arverne = { map: state.map, state };
    document.body.dataset.ready = "true";
    say(t("ready"));
  } catch (error) {
    say(failure(error));
  }
}

main();
