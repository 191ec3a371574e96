// What every part of the page shares: its state, the status line, times, markers, place names.

import { ApiError } from "./api.js";
import { t, lang } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

export const state = {
  maplibregl: null,
  map: null,
  extent: null,
  timezone: null, // the network's: every time shown is local to the territory
  feeds: [],
  lineColors: new Map(),
  tab: "journey",
  origin: null, // {lonlat, name}
  destination: null,
  markers: {},
  journeys: [],
  selected: -1,
  isoFrom: null,
  isoLast: null,
  pickup: null,
  dropoff: null,
  booking: null,
  plan: null,
  planTimer: null,
  tours: null,
  diagnoses: [], // the last two diagnosis results (GeoJSON zones), for the difference
  points: null, // stop id -> [lon, lat], to draw a shuttle's plan
  stopNames: new Map(),
};

export function say(text) {
  $("status").textContent = text;
}

export function failure(error) {
  if (error instanceof ApiError && error.status >= 500 && !error.problem.detail) {
    return t("not_available", { status: error.status });
  }
  return t("error", { msg: error.message });
}

// ---------- times ----------

export function clock(iso) {
  return new Intl.DateTimeFormat(lang(), {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: state.timezone || undefined,
  }).format(new Date(iso));
}

const NEAR_M = 150; // a clicked point this close to a stop is named after it

export function pointName(ll) {
  // equirectangular distance: exact enough over a few hundred metres
  const metres = ([lon, lat]) => {
    const k = Math.cos((ll[1] * Math.PI) / 180);
    return 111320 * Math.hypot((lon - ll[0]) * k, lat - ll[1]);
  };
  let best = null;
  for (const [id, lonlat] of state.points || []) {
    const d = metres(lonlat);
    if (d <= NEAR_M && (!best || d < best.d)) best = { d, id };
  }
  const where = `${ll[1].toFixed(5)}, ${ll[0].toFixed(5)}`;
  return best ? t("near", { name: state.stopNames.get(best.id), where }) : where;
}

export function placeMarker(role, place) {
  state.markers[role]?.remove();
  if (!place) {
    delete state.markers[role];
    return;
  }
  const el = document.createElement("div");
  el.className = `marker marker-${role}`;
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", `${t(`${role}_marker`, { name: place.name })}`);
  const marker = new state.maplibregl.Marker({ element: el });
  marker.setLngLat(place.lonlat).addTo(state.map);
  state.markers[role] = marker;
}

export const hhmm = (clockText) => (clockText ? clockText.slice(0, 5) : "–");

/** Names and positions of the stops the map holds (all of them, or the view's on a big network). */
export async function loadStopIndex() {
  const stops = await state.map.getSource("stops").getData();
  state.points = new Map(stops.features.map((f) => [f.properties.stop_id, f.geometry.coordinates]));
  for (const f of stops.features) state.stopNames.set(f.properties.stop_id, f.properties.name);
}
