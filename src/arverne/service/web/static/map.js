// The map: a MapLibre style drawn only from our own data (no outside tiles, fonts or sprites),
// and the overlay layers the panel fills (journey, isochrones, diagnosis, on-demand plan, live
// vehicles).

import { get } from "./api.js";

const EMPTY = { type: "FeatureCollection", features: [] };
// Streets and stops are fetched for the whole territory when it is small, else by view above
// this zoom (the API refuses a street box of more than 50,000 segments, lists 500 stops at most).
const WHOLE_STREETS = 20000;
const WHOLE_STOPS = 500;
const BY_VIEW_ZOOM = 13;

const STREET_STYLE = {
  motorway: { color: "#d9822b", width: 4 },
  road: { color: "#ffffff", width: 3 },
  track: { color: "#a0784a", width: 1.5 },
  path: { color: "#7a6f66", width: 1 },
};

function byKind(property) {
  const expr = ["match", ["get", "kind"]];
  for (const [kind, style] of Object.entries(STREET_STYLE)) expr.push(kind, style[property]);
  expr.push(STREET_STYLE.road[property]);
  return expr;
}

function baseStyle() {
  const source = (data = EMPTY) => ({ type: "geojson", data });
  return {
    version: 8,
    sources: {
      streets: source(),
      lines: source(),
      stops: source(),
      diagnosis: source(),
      isochrones: source(),
      journey: source(),
      tours: source(),
      plan: source(),
      vehicles: source(),
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eef0e6" } },
      {
        id: "diagnosis-fill",
        type: "fill",
        source: "diagnosis",
        paint: { "fill-color": ["coalesce", ["get", "_color"], "#cccccc"], "fill-opacity": 0.6 },
      },
      {
        id: "streets-casing",
        type: "line",
        source: "streets",
        filter: ["in", ["get", "kind"], ["literal", ["road", "motorway"]]],
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": "#b9b4a8", "line-width": ["+", byKind("width"), 1.5] },
      },
      {
        id: "streets-minor",
        type: "line",
        source: "streets",
        filter: ["in", ["get", "kind"], ["literal", ["track", "path"]]],
        paint: { "line-color": byKind("color"), "line-width": byKind("width"), "line-dasharray": [2, 1.5] },
      },
      {
        id: "streets",
        type: "line",
        source: "streets",
        filter: ["!", ["in", ["get", "kind"], ["literal", ["track", "path"]]]],
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": byKind("color"), "line-width": byKind("width") },
      },
      {
        id: "isochrones-fill",
        type: "fill",
        source: "isochrones",
        paint: { "fill-color": ["coalesce", ["get", "_color"], "#3b6fb6"], "fill-opacity": 0.35 },
      },
      {
        id: "isochrones-line",
        type: "line",
        source: "isochrones",
        paint: { "line-color": ["coalesce", ["get", "_color"], "#3b6fb6"], "line-width": 1.5 },
      },
      {
        id: "lines",
        type: "line",
        source: "lines",
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": ["get", "color"], "line-width": 2.5, "line-opacity": 0.55 },
      },
      {
        id: "stops",
        type: "circle",
        source: "stops",
        paint: {
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 2.5, 15, 6],
          "circle-color": "#ffffff",
          "circle-stroke-color": "#333333",
          "circle-stroke-width": 1.5,
        },
      },
      {
        id: "journey-casing",
        type: "line",
        source: "journey",
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": "#ffffff", "line-width": 8 },
      },
      {
        id: "journey-walk",
        type: "line",
        source: "journey",
        filter: ["!", ["get", "_transit"]],
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": "#333333", "line-width": 3.5, "line-dasharray": [1, 1.5] },
      },
      {
        id: "journey-transit",
        type: "line",
        source: "journey",
        filter: ["get", "_transit"],
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": ["get", "_color"], "line-width": 5.5 },
      },
      {
        id: "tours-route",
        type: "line",
        source: "tours",
        filter: ["==", ["geometry-type"], "LineString"],
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": ["get", "_color"], "line-width": 4 },
      },
      {
        id: "tours-stops",
        type: "circle",
        source: "tours",
        filter: ["==", ["geometry-type"], "Point"],
        paint: {
          "circle-radius": 5,
          "circle-color": ["get", "_color"],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 1.5,
        },
      },
      {
        id: "plan-route",
        type: "line",
        source: "plan",
        filter: ["==", ["geometry-type"], "LineString"],
        paint: { "line-color": "#6a1b9a", "line-width": 4, "line-dasharray": [2, 1] },
      },
      {
        id: "plan-stops",
        type: "circle",
        source: "plan",
        filter: ["==", ["geometry-type"], "Point"],
        paint: {
          "circle-radius": 7,
          "circle-color": ["match", ["get", "kind"], "pickup", "#1b7f3b", "dropoff", "#b3261e", "#555555"],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 2,
        },
      },
      {
        id: "vehicles",
        type: "circle",
        source: "vehicles",
        paint: {
          "circle-radius": 6,
          "circle-color": "#0b57d0",
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 2,
        },
      },
    ],
  };
}

/** A GTFS route_color ("E2001A", maybe empty) as CSS; a dark grey when absent or bad. */
export function lineColor(raw) {
  const hex = (raw || "").replace(/^#/, "");
  return /^[0-9a-fA-F]{6}$/.test(hex) ? `#${hex.toLowerCase()}` : "#4a4a4a";
}

/** Create the map in `container`, draw our base layers, and resolve once they are drawn. */
export async function createMap(maplibregl, container, extent, labels) {
  const [west, south, east, north] = extent.bbox;
  const map = new maplibregl.Map({
    container,
    style: baseStyle(),
    bounds: [
      [west, south],
      [east, north],
    ],
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    // the canvas is focusable: arrows pan, +/- zoom (MapLibre's keyboard handler)
    keyboard: true,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.getCanvas().setAttribute("aria-label", labels.map);
  await new Promise((resolve) => map.once("load", resolve));
  const lines = await get("lines");
  lines.features = lines.features.filter((f) => f.geometry);
  for (const f of lines.features) f.properties.color = lineColor(f.properties.color);
  map.getSource("lines").setData(lines);
  const layers = [
    // source, API path, how many the whole network has, how many one answer may hold
    ["streets", "map/streets", extent.street_segments, WHOLE_STREETS, {}],
    ["stops", "stops", extent.stops, WHOLE_STOPS, { count: WHOLE_STOPS }],
  ];
  const hint = Object.assign(document.createElement("p"), { className: "map-hint", textContent: labels.zoom });
  hint.dataset.i18n = "zoom_hint"; // translated with the page
  map.getContainer().append(hint);
  const load = () => {
    // on a big network, below BY_VIEW_ZOOM only the lines are drawn: say why
    const big = layers.some(([, , total, whole]) => total > whole);
    hint.hidden = !(big && map.getZoom() < BY_VIEW_ZOOM);
    return Promise.all(layers.map((layer) => loadByView(map, extent, ...layer)));
  };
  await load();
  map.on("moveend", load);
  return map;
}

const loaded = {};

/** Fill `source` from `path`: the whole network once when it is small, else the view's box
 * above BY_VIEW_ZOOM (nothing below it). */
async function loadByView(map, extent, source, path, total, whole, params) {
  let bbox;
  if (total <= whole) bbox = extent.bbox.join(",");
  else if (map.getZoom() >= BY_VIEW_ZOOM) {
    const b = map.getBounds();
    bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  } else bbox = null;
  if (bbox === loaded[source]) return;
  loaded[source] = bbox;
  map.getSource(source).setData(bbox ? await get(path, { ...params, bbox }) : EMPTY);
}

/** Show `data` (a FeatureCollection, or null to clear) in the overlay source `name`. */
export function show(map, name, data) {
  map.getSource(name).setData(data || EMPTY);
}

/** Fit the view to the features of a FeatureCollection (no-op when empty). */
export function fitTo(map, data) {
  let box = null;
  const add = (c) => {
    if (typeof c[0] === "number") {
      box = box ? [Math.min(box[0], c[0]), Math.min(box[1], c[1]), Math.max(box[2], c[0]), Math.max(box[3], c[1])] : [c[0], c[1], c[0], c[1]];
    } else c.forEach(add);
  };
  for (const f of data.features) if (f.geometry) add(f.geometry.coordinates);
  if (box) map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 60, maxZoom: 15, duration: 0 });
}

/** A colour ramp for `n` classes, light to dark, readable on the base map. */
export function ramp(n, reverse = false) {
  const stops = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"];
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(stops[Math.round((i * (stops.length - 1)) / Math.max(n - 1, 1))]);
  return reverse ? out.reverse() : out;
}

/** Distinct colours for `n` tours (Okabe-Ito, told apart with colour-blindness too). */
export function palette(n) {
  const colors = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"];
  return Array.from({ length: n }, (_, i) => colors[i % colors.length]);
}

/** Blue for a gain, red for a loss, white for none (scenario differences). */
export function diverging(value, limit) {
  const x = Math.max(-1, Math.min(1, limit ? value / limit : 0));
  const mix = (a, b, f) => Math.round(a + (b - a) * f);
  const [r, g, b] = x >= 0 ? [mix(247, 33, x), mix(247, 102, x), mix(247, 172, x)] : [mix(247, 178, -x), mix(247, 24, -x), mix(247, 43, -x)];
  return `rgb(${r}, ${g}, ${b})`;
}
