// Areas: isochrones from a point and the territory diagnosis's choropleth.

import { ApiError, get, lonlat, navitiaTime, post, waitJob } from "./api.js";
import { lang, t } from "./i18n.js";
import { diverging, fitTo, ramp, show } from "./map.js";
import { $, failure, placeMarker, pointName, say, state } from "./ui.js";

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

export async function computeIsochrones(event) {
  event?.preventDefault();
  if (!state.isoFrom) return say(t("iso_need_point"));
  const max = Number($("iso-max").value);
  const cutoffs = [max / 3, (2 * max) / 3, max].map(Math.round);
  say(t("iso_working"));
  try {
    // Navitia's grammar: each boundary in seconds
    const data = await get("isochrones", {
      from: lonlat(state.isoFrom),
      datetime: navitiaTime($("iso-when").value),
      mode: $("iso-mode").value,
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

export function renderIsoLegend() {
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

export function setIsoFrom(ll) {
  state.isoFrom = ll;
  $("iso-from").value = pointName(ll);
  placeMarker("iso", { name: pointName(ll), lonlat: ll });
}

// ---------- territory diagnosis ----------

const NOT_REACHED = "#bdbdbd";

async function readGeoJSON(input) {
  const file = input.files[0];
  return file ? JSON.parse(await file.text()) : null;
}

export async function runDiagnosis(event) {
  event?.preventDefault();
  const progress = (text) => {
    $("diag-progress").textContent = text;
    say(text);
  };
  progress(t("diag_queued")); // at once: a previous result's "done" no longer shows
  let zones;
  let services;
  try {
    [zones, services] = [await readGeoJSON($("diag-zones")), await readGeoJSON($("diag-services"))];
  } catch {
    return progress(t("tours_bad_file"));
  }
  if (!zones?.features || !services?.features) return progress(t("diag_need_files"));
  $("diag-go").disabled = true;
  try {
    // a job, as every long computation of the API: 202, then /v1/jobs/{id} until it is done
    const started = await post(
      "diagnoses",
      {
        zones: zones.features,
        services: services.features,
        at: navitiaTime($("diag-when").value),
        threshold_min: Number($("diag-threshold").value),
      },
      $("token").value.trim(),
    );
    const job = await waitJob(`v1/jobs/${encodeURIComponent(started.data.job_id)}`, (j) => {
      $("diag-progress").textContent = t("diag_running", { pct: Math.round(100 * (j.progress ?? 0)) });
    });
    if (job.status !== "succeeded") throw new ApiError(500, { detail: job.message });
    const data = await get(job.results.geojson);
    // the previous result stays, for the difference (a scenario served since, another time)
    state.diagnoses = [...state.diagnoses.slice(-1), data];
    fillDiagnosisChoices();
    renderDiagnosis();
    progress(t("diag_done", { n: data.features.length }));
  } catch (error) {
    progress(error instanceof ApiError && error.problem.code === "not-found" ? t("diag_missing") : t("diag_failed", { msg: error.message }));
  } finally {
    $("diag-go").disabled = false;
  }
}

/** The measures the latest diagnosis can be mapped by (and the difference with the one before). */
export function fillDiagnosisChoices() {
  const [previous, current] = state.diagnoses.length > 1 ? state.diagnoses : [null, state.diagnoses[0]];
  const keys = Object.keys(current?.features[0]?.properties || {});
  const categories = keys.filter((k) => k.startsWith("time_")).map((k) => k.slice(5));
  const select = $("diag-show");
  const chosen = select.value;
  const options = [];
  for (const c of categories) {
    options.push([`time:${c}`, t("diag_time", { c })], [`beyond:${c}`, t("diag_beyond", { c })]);
    if (previous) options.push([`delta:${c}`, t("diag_delta", { c })]);
  }
  select.replaceChildren(...options.map(([value, text]) => Object.assign(document.createElement("option"), { value, textContent: text })));
  if (options.some(([value]) => value === chosen)) select.value = chosen;
  select.disabled = options.length === 0;
}

/** Colour the latest diagnosis's zones by the chosen measure and write its legend. */
export function renderDiagnosis() {
  const current = state.diagnoses[state.diagnoses.length - 1];
  if (!current || !$("diag-show").value) return;
  const [what, c] = $("diag-show").value.split(/:(.*)/s);
  const before = new Map();
  if (what === "delta") {
    for (const f of state.diagnoses[0].features) before.set(f.properties.zone_id, f.properties[`time_${c}`]);
  }
  const value = (p) => {
    const number = (v) => (v === null || v === undefined || Number.isNaN(Number(v)) ? null : Number(v));
    if (what === "time") return number(p[`time_${c}`]);
    if (what === "beyond") return number(p[`beyond_${c}`]);
    const [now, then] = [number(p[`time_${c}`]), number(before.get(p.zone_id))];
    return now === null || then === null ? null : now - then;
  };
  const values = current.features.map((f) => value(f.properties)).filter((v) => v !== null);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const limit = Math.max(Math.abs(lo), Math.abs(hi));
  const colors = ramp(6);
  const colour = (v) => {
    if (v === null) return NOT_REACHED;
    if (what === "delta") return diverging(-v, limit); // closer (negative) in blue
    return colors[Math.min(5, Math.floor(((v - lo) / (hi - lo || 1)) * 6))];
  };
  for (const f of current.features) f.properties._color = colour(value(f.properties));
  show(state.map, "diagnosis", current);
  const rows =
    what === "delta"
      ? [lo, 0, hi].map((v) => [colour(v), v])
      : colors.map((color, i) => [color, lo + ((hi - lo) * i) / 6]);
  const format = (v) => Number(v).toLocaleString(lang(), { maximumFractionDigits: 1 });
  $("diag-legend").replaceChildren(
    ...[...rows.map(([color, v]) => [color, format(v)]), [NOT_REACHED, "–"]].map(([color, text]) => {
      const row = document.createElement("div");
      const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
      swatch.style.background = color;
      row.append(swatch, text);
      return row;
    }),
  );
}
