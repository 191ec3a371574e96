// Journeys: origin and destination (clicked or searched), itineraries listed and drawn.

import { ApiError, get, lonlat, navitiaTime } from "./api.js";
import { modeName, t } from "./i18n.js";
import { fitTo, lineColor, show } from "./map.js";
import { $, clock, failure, placeMarker, say, state } from "./ui.js";

export function setEnd(role, place) {
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

export function setupCombo(role) {
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

export function renderJourneys() {
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

export async function planJourney(event) {
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
