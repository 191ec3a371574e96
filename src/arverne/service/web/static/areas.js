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

export async function runDiagnosis(event) {
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
