// Arverne's web map: journeys, isochrones, the territory diagnosis and on-demand bookings, all
// through the public API. State lives in `state`; every text goes through i18n's t().

import { ApiError, get, lonlat, navitiaTime, post, waitJob } from "./api.js";
import { initialLang, lang, modeName, saveLang, setLang, t } from "./i18n.js";
import { createMap, diverging, fitTo, lineColor, palette, ramp, show } from "./map.js";

const $ = (id) => document.getElementById(id);

const state = {
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
  tours: null,
  points: null, // stop id -> [lon, lat], to draw a shuttle's plan
  stopNames: new Map(),
};

function say(text) {
  $("status").textContent = text;
}

function failure(error) {
  if (error instanceof ApiError && error.status >= 500 && !error.problem.detail) {
    return t("not_available", { status: error.status });
  }
  return t("error", { msg: error.message });
}

// ---------- times ----------

function clock(iso) {
  return new Intl.DateTimeFormat(lang(), {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: state.timezone || undefined,
  }).format(new Date(iso));
}

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

// ---------- places: markers, search ----------

const NEAR_M = 150; // a clicked point this close to a stop is named after it

function pointName(ll) {
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

function placeMarker(role, place) {
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

function setEnd(role, place) {
  state[role] = place;
  const input = $(role);
  input.value = place ? place.name : "";
  placeMarker(role, place);
}

/** Stops as the API gives them (a list, {stops: [...]} or GeoJSON), as {name, lonlat, id}. */
function asStops(data) {
  const list = Array.isArray(data) ? data : data?.stops || data?.features || data?.items || [];
  return list.map((s) => {
    const p = s.properties || s;
    const coords = s.geometry?.coordinates || [p.lon ?? p.coord?.lon, p.lat ?? p.coord?.lat];
    return { id: p.stop_id || p.id, name: p.name || p.stop_name, lonlat: coords.map(Number) };
  });
}

function setupCombo(role) {
  const input = $(role);
  const list = $(`${role}-list`);
  let options = [];
  let active = -1;
  let timer = null;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const choose = (i) => {
    const stop = options[i];
    if (!stop) return;
    setEnd(role, { name: stop.name, lonlat: stop.lonlat });
    close();
  };
  const mark = (i) => {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    if (i >= 0) input.setAttribute("aria-activedescendant", `${role}-opt-${i}`);
  };
  const search = async () => {
    const q = input.value.trim();
    if (q.length < 2) return close();
    try {
      options = asStops(await get("stops", { q, count: 8 })).slice(0, 8);
    } catch (error) {
      say(failure(error));
      return close();
    }
    list.replaceChildren(
      ...options.map((stop, i) => {
        const li = document.createElement("li");
        li.id = `${role}-opt-${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = stop.name;
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(i);
        });
        return li;
      }),
    );
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", String(options.length > 0));
  };
  input.addEventListener("input", () => {
    state[role] = null;
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") mark(Math.min(active + 1, options.length - 1));
    else if (event.key === "ArrowUp") mark(Math.max(active - 1, 0));
    else if (event.key === "Enter" && active >= 0) choose(active);
    else if (event.key === "Escape") close();
    else return;
    event.preventDefault();
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

// ---------- journeys ----------

/** Journeys as the API gives them, as a list of {departure, arrival, duration_s, transfers,
 * walk_s, legs}; each leg gets `_geometry` ([lon, lat] list) and `_color`. */
function asJourneys(data) {
  const list = Array.isArray(data) ? data : data?.journeys || [];
  return list.map((j) => {
    let legs = j.legs || j.sections;
    if (!legs && j.type === "FeatureCollection") {
      legs = j.features.map((f) => ({ ...f.properties, geometry: f.geometry }));
      j = { ...j.properties, ...j };
    }
    legs = (legs || []).map((leg) => {
      const geometry =
        leg.geometry?.coordinates ||
        leg.geojson?.coordinates ||
        [[leg.from.lon, leg.from.lat], ...(leg.stops || []).map((s) => [s.lon, s.lat]), [leg.to.lon, leg.to.lat]];
      const transit = !["walk", "bike", "car"].includes(leg.mode);
      const color =
        leg.mode === "on_demand"
          ? ON_DEMAND_COLOR
          : leg.route_color
            ? lineColor(leg.route_color)
            : state.lineColors.get(leg.route_id) || lineColor("");
      return { ...leg, _geometry: geometry, _transit: transit, _color: color };
    });
    return { ...j, legs };
  });
}

function journeyGeoJSON(journey) {
  return {
    type: "FeatureCollection",
    features: journey.legs.map((leg, i) => ({
      type: "Feature",
      geometry: { type: "LineString", coordinates: leg._geometry },
      properties: { leg: i, mode: leg.mode, route_id: leg.route_id || "", _transit: leg._transit, _color: leg._color },
    })),
  };
}

function placeName(name) {
  // the planner names a journey's two ends "origin" and "destination": say what they are
  if (name === "origin") return state.origin?.name || t("origin");
  if (name === "destination") return state.destination?.name || t("destination");
  return name;
}

const ON_DEMAND_COLOR = "#6a1b9a"; // the shuttle's colour on the map (its plan is drawn so too)

function legText(leg) {
  const values = { start: clock(leg.start), end: clock(leg.end), from: placeName(leg.from.name), to: placeName(leg.to.name) };
  const min = Math.round(leg.duration_s / 60);
  if (leg.mode === "walk") {
    const dist = leg.length_m ? `, ${Math.round(leg.length_m)} m` : "";
    return t("leg_walk", { ...values, min, dist });
  }
  if (!leg._transit) return t("leg_street", { ...values, min, mode: modeName(leg.mode) });
  if (leg.on_demand) {
    const od = leg.on_demand;
    return t("leg_on_demand", { ...values, zone: od.zone || "", from: od.pickup_name || values.from, to: od.dropoff_name || values.to });
  }
  const head = (leg.headsign ? t("towards", { head: leg.headsign }) : "") + (leg.stay_seated ? t("stay_seated") : "");
  return t("leg_transit", {
    ...values,
    mode: modeName(leg.mode),
    line: leg.route_short_name || leg.route_long_name || "",
    head,
    between: leg.stops?.length > 2 ? t("stops_between", { n: leg.stops.length - 2 }) : "",
  });
}

function textOn(color) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16) / 255);
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) > 0.179 ? "#000000" : "#ffffff";
}

function renderJourneys() {
  const list = $("itineraries");
  list.replaceChildren(
    ...state.journeys.map((journey, i) => {
      const li = document.createElement("li");
      li.className = "itinerary";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "itinerary-head";
      button.setAttribute("aria-expanded", String(i === state.selected));
      button.setAttribute("aria-controls", `itinerary-${i}`);
      const title = document.createElement("span");
      title.className = "sr-only";
      title.textContent = `${t("show_on_map", { n: i + 1 })}: `;
      const summary = document.createElement("span");
      summary.textContent = t("journey_summary", {
        dep: clock(journey.departure),
        arr: clock(journey.arrival),
        min: Math.round(journey.duration_s / 60),
        tr: journey.transfers,
        walk: Math.round(journey.walk_s / 60),
      });
      const badges = document.createElement("span");
      badges.className = "badges";
      for (const leg of journey.legs.filter((l) => l._transit)) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.style.background = leg._color;
        badge.style.color = textOn(leg._color);
        const name = leg.route_short_name || modeName(leg.mode);
        badge.textContent = name;
        badge.setAttribute("aria-label", leg.route_short_name ? t("line_label", { name }) : name);
        badges.append(badge);
      }
      button.append(title, badges, summary);
      button.addEventListener("click", () => selectJourney(i));
      const legs = document.createElement("ol");
      legs.id = `itinerary-${i}`;
      legs.className = "legs";
      legs.hidden = i !== state.selected;
      for (const leg of journey.legs) {
        const item = document.createElement("li");
        item.style.borderLeftColor = leg._transit ? leg._color : "#555555";
        item.className = leg._transit ? "leg transit" : "leg walk";
        item.textContent = legText(leg);
        legs.append(item);
      }
      li.append(button, legs);
      return li;
    }),
  );
}

function selectJourney(i) {
  state.selected = i;
  renderJourneys();
  const data = journeyGeoJSON(state.journeys[i]);
  show(state.map, "journey", data);
  fitTo(state.map, data);
}

async function planJourney(event) {
  event?.preventDefault();
  if (!state.origin || !state.destination) return say(t("need_both"));
  say(t("planning"));
  $("plan").disabled = true;
  $("itineraries").setAttribute("aria-busy", "true");
  try {
    const data = await get("journeys", {
      from: lonlat(state.origin.lonlat),
      to: lonlat(state.destination.lonlat),
      datetime: navitiaTime($("when").value),
      datetime_represents: document.querySelector('input[name="represents"]:checked').value,
      timeframe_duration: $("window").value,
      wheelchair: $("wheelchair").checked ? "true" : undefined,
    });
    state.journeys = asJourneys(data);
    state.selected = state.journeys.length ? 0 : -1;
    if (state.selected >= 0) {
      selectJourney(0);
      $("itineraries").firstElementChild.scrollIntoView({ block: "nearest" });
    } else {
      renderJourneys();
      show(state.map, "journey", null);
    }
    const found = state.journeys.length ? t("found", { n: state.journeys.length }) : t("none_found");
    say(data.other_day ? `${found} ${t("other_day")}` : found);
  } catch (error) {
    state.journeys = [];
    renderJourneys();
    show(state.map, "journey", null);
    say(error instanceof ApiError && error.status === 404 ? `${t("none_found")} ${error.message}` : failure(error));
  } finally {
    $("plan").disabled = false;
    $("itineraries").setAttribute("aria-busy", "false");
  }
}

// ---------- isochrones ----------

/** Isochrones as the API gives them (GeoJSON, or Navitia's {isochrones: [{geojson, ...}]}),
 * as a FeatureCollection with `_minutes` and `_color`, largest first so smaller ones draw on top. */
function asIsochrones(data) {
  let features = data?.features;
  if (!features && data?.isochrones) {
    features = data.isochrones.map((iso) => ({
      type: "Feature",
      geometry: iso.geojson,
      properties: { max_duration: iso.max_duration },
    }));
  }
  features = (features || []).map((f) => {
    const p = f.properties || {};
    const seconds = p.cutoff_s ?? p.max_duration ?? p.duration_s ?? (p.cutoff_min ?? p.minutes ?? p.cutoff) * 60;
    return { ...f, properties: { ...p, _minutes: Math.round(seconds / 60) } };
  });
  features.sort((a, b) => b.properties._minutes - a.properties._minutes);
  const colors = ramp(features.length, true);
  features.forEach((f, i) => (f.properties._color = colors[i]));
  return { type: "FeatureCollection", features };
}

async function computeIsochrones(event) {
  event?.preventDefault();
  if (!state.isoFrom) return say(t("iso_need_point"));
  const max = Number($("iso-max").value);
  const cutoffs = [max / 3, (2 * max) / 3, max].map(Math.round);
  say(t("iso_working"));
  try {
    // Navitia's grammar: the longest duration and each boundary, in seconds
    const data = await get("isochrones", {
      from: lonlat(state.isoFrom),
      datetime: navitiaTime($("iso-when").value),
      max_duration: max * 60,
      "boundary_duration[]": cutoffs.map((c) => c * 60),
    });
    const iso = asIsochrones(data);
    state.isoLast = iso;
    show(state.map, "isochrones", iso);
    fitTo(state.map, iso);
    renderIsoLegend();
    say(t("iso_done", { cutoffs: iso.features.map((f) => f.properties._minutes).reverse().join(", ") }));
  } catch (error) {
    say(error instanceof ApiError && error.problem.code === "not-found" ? t("iso_missing") : failure(error));
  }
}

function renderIsoLegend() {
  const legend = $("iso-legend");
  legend.replaceChildren(
    ...(state.isoLast?.features || [])
      .slice()
      .reverse()
      .map((f) => {
        const row = document.createElement("div");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = f.properties._color;
        row.append(swatch, t("minutes", { n: f.properties._minutes }));
        return row;
      }),
  );
}

function setIsoFrom(ll) {
  state.isoFrom = ll;
  $("iso-from").value = pointName(ll);
  placeMarker("iso", { name: pointName(ll), lonlat: ll });
}

// ---------- territory diagnosis ----------

function choropleth(data, key) {
  const values = data.features.map((f) => Number(f.properties[key])).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const colors = ramp(6);
  const legend = [];
  for (const f of data.features) {
    const v = Number(f.properties[key]);
    if (key === "difference") f.properties._color = diverging(v, Math.max(Math.abs(lo), Math.abs(hi)));
    else if (Number.isFinite(v)) f.properties._color = colors[Math.min(5, Math.floor(((v - lo) / (hi - lo || 1)) * 6))];
  }
  if (key === "difference") legend.push([diverging(lo, Math.max(Math.abs(lo), Math.abs(hi))), lo], ["rgb(247, 247, 247)", 0], [diverging(hi, Math.max(Math.abs(lo), Math.abs(hi))), hi]);
  else colors.forEach((c, i) => legend.push([c, lo + ((hi - lo) * i) / 6]));
  return legend;
}

async function runDiagnosis(event) {
  event?.preventDefault();
  const scenario = $("diag-scenario").value;
  const progress = (text) => {
    $("diag-progress").textContent = text;
    say(text);
  };
  progress(t("diag_queued"));
  try {
    // a job, as every long computation of the API: 202, then /v1/jobs/{id} until it is done
    const started = await post("diagnoses", scenario ? { scenario } : {}, $("token").value.trim());
    const job = await waitJob(`v1/jobs/${encodeURIComponent(started.data.job_id)}`, (j) => {
      $("diag-progress").textContent = t("diag_running", { pct: Math.round(100 * (j.progress ?? 0)) });
    });
    if (job.status !== "succeeded") throw new ApiError(500, { detail: job.message });
    const data = await get(job.results.geojson);
    const first = data.features[0]?.properties || {};
    const key = scenario ? "difference" : data.properties?.indicator || Object.keys(first).find((k) => typeof first[k] === "number");
    const legend = choropleth(data, key);
    show(state.map, "diagnosis", data);
    $("diag-legend").replaceChildren(
      Object.assign(document.createElement("p"), { textContent: scenario ? t("diag_difference") : key }),
      ...legend.map(([color, value]) => {
        const row = document.createElement("div");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = color;
        row.append(swatch, Number(value).toLocaleString(lang(), { maximumFractionDigits: 1 }));
        return row;
      }),
    );
    progress(t("diag_done", { n: data.features.length }));
  } catch (error) {
    progress(error instanceof ApiError && error.problem.code === "not-found" ? t("diag_missing") : t("diag_failed", { msg: error.message }));
  }
}

// ---------- today's tours ----------

async function solveTours(event) {
  event?.preventDefault();
  const token = $("token").value.trim();
  const file = $("tours-file").files[0];
  if (!file) return say(t("tours_need_file"));
  if (!token) return say(t("book_need_token"));
  sessionStorage.setItem("arverne.token", token);
  let problem;
  try {
    problem = JSON.parse(await file.text());
  } catch {
    return say(t("tours_bad_file"));
  }
  const progress = (text) => {
    $("tours-progress").textContent = text;
    say(text);
  };
  progress(t("tours_queued"));
  $("tours-go").disabled = true;
  try {
    const started = await post("tours", problem, token, { time_limit: $("tours-time").value });
    const job = await waitJob(`v1/jobs/${encodeURIComponent(started.data.job_id)}`, (j) => {
      $("tours-progress").textContent = t("tours_running", { pct: Math.round(100 * (j.progress ?? 0)) });
    });
    if (job.status !== "succeeded") throw new ApiError(500, { detail: job.message });
    const tours = await get(job.results.geojson);
    state.tours = tours;
    renderTours();
    fitTo(state.map, tours);
    const gantt = $("tours-gantt");
    gantt.hidden = !job.results.gantt;
    if (job.results.gantt) gantt.href = job.results.gantt;
    progress(t("tours_done", { n: tours.features.filter((f) => f.geometry?.type === "LineString").length }));
  } catch (error) {
    progress(t("tours_failed", { msg: error.message }));
  } finally {
    $("tours-go").disabled = false;
  }
}

function renderTours() {
  const tours = state.tours;
  if (!tours) return;
  const routes = tours.features.filter((f) => f.geometry?.type === "LineString");
  const colors = new Map(routes.map((f, i) => [f.properties.vehicle_id, palette(routes.length)[i]]));
  for (const f of tours.features) f.properties._color = colors.get(f.properties.vehicle_id) || "#555555";
  show(state.map, "tours", tours);
  $("tours-list").replaceChildren(
    ...routes.map((route) => {
      const id = route.properties.vehicle_id;
      const stops = tours.features.filter((f) => f.geometry?.type === "Point" && f.properties.vehicle_id === id);
      const li = document.createElement("li");
      li.style.borderLeftColor = colors.get(id);
      li.textContent = t("tour_line", {
        vehicle: id,
        stops: route.properties.stops,
        km: (route.properties.distance_m / 1000).toLocaleString(lang(), { maximumFractionDigits: 1 }),
        start: stops[0]?.properties.start || "",
        end: stops[stops.length - 1]?.properties.end || "",
      });
      return li;
    }),
  );
}

// ---------- on-demand ----------

function setRide(role, ll) {
  state[role] = ll;
  $(role).value = pointName(ll);
  placeMarker(role, { name: pointName(ll), lonlat: ll });
}

const hhmm = (clockText) => (clockText ? clockText.slice(0, 5) : "–");

async function book(event) {
  event?.preventDefault();
  const token = $("token").value.trim();
  if (!state.pickup || !state.dropoff) return say(t("book_need"));
  if (!token) return say(t("book_need_token"));
  sessionStorage.setItem("arverne.token", token);
  $("booking").textContent = t("booking");
  try {
    const { data } = await post(
      "ondemand/requests",
      {
        pickup: state.pickup,
        dropoff: state.dropoff,
        earliest_pickup: $("book-when").value,
        passengers: Number($("passengers").value),
      },
      token,
    );
    state.booking = data;
    renderBooking();
    if (data.status === "offer") {
      $("vehicle").value = data.vehicle_id;
      await showPlan();
    }
  } catch (error) {
    state.booking = null;
    $("booking").textContent = failure(error);
    say(failure(error));
  }
}

function renderBooking() {
  const b = state.booking;
  if (!b) return;
  const text =
    b.status === "offer"
      ? t("offer", {
          id: b.booking_id,
          vehicle: b.vehicle_id,
          from: hhmm(b.pickup_window[0]),
          to: hhmm(b.pickup_window[1]),
          drop: hhmm(b.latest_dropoff),
        })
      : t("refusal", { reason: b.message || b.reason });
  $("booking").textContent = text;
  say(text);
}

async function showPlan() {
  const vehicle = $("vehicle").value.trim();
  if (!vehicle) return;
  try {
    state.plan = await get(`ondemand/vehicles/${encodeURIComponent(vehicle)}/plan`);
    await loadStopIndex();
    renderPlan();
  } catch (error) {
    state.plan = null;
    $("plan-list").replaceChildren();
    show(state.map, "plan", null);
    say(failure(error));
  }
}

function renderPlan() {
  const stops = state.plan?.stops || [];
  const list = $("plan-list");
  const rides = stops.filter((s) => s.kind === "pickup" || s.kind === "dropoff");
  list.replaceChildren(
    ...(rides.length ? stops : []).map((s) => {
      const li = document.createElement("li");
      li.textContent = t("plan_stop", {
        time: hhmm(s.planned),
        kind: t(`${s.kind}_kind`),
        place: state.stopNames.get(s.point) || s.point,
        booking: s.booking_id ? `(${s.booking_id})` : "",
      });
      return li;
    }),
  );
  if (!rides.length) list.replaceChildren(Object.assign(document.createElement("li"), { textContent: t("plan_empty") }));
  // drawn where the points are stops of the network (a service whose points are its stops)
  const placed = stops.filter((s) => state.points?.has(s.point));
  const features = placed.map((s) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: state.points.get(s.point) },
    properties: { kind: s.kind, booking_id: s.booking_id || "" },
  }));
  if (placed.length > 1) {
    features.push({
      type: "Feature",
      geometry: { type: "LineString", coordinates: placed.map((s) => state.points.get(s.point)) },
      properties: { kind: "route" },
    });
  }
  show(state.map, "plan", { type: "FeatureCollection", features });
}

/** Names and positions of the stops the map holds (all of them, or the view's on a big network). */
async function loadStopIndex() {
  const stops = await state.map.getSource("stops").getData();
  state.points = new Map(stops.features.map((f) => [f.properties.stop_id, f.geometry.coordinates]));
  for (const f of stops.features) state.stopNames.set(f.properties.stop_id, f.properties.name);
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
    for (const id of ["when", "iso-when"]) $(id).value = defaultWhen();
    $("book-when").value = soon();
    state.map = await createMap(state.maplibregl, $("map"), state.extent, { map: t("map_label") });
    const lines = await state.map.getSource("lines").getData();
    for (const f of lines.features) state.lineColors.set(f.properties.route_id, f.properties.color);
    await loadStopIndex();
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
