// Services: today's tours (a job) and on-demand bookings with the shuttle's plan.

import { ApiError, get, post, waitJob } from "./api.js";
import { lang, t } from "./i18n.js";
import { fitTo, palette, show } from "./map.js";
import { $, failure, hhmm, loadStopIndex, placeMarker, pointName, say, state } from "./ui.js";

// ---------- today's tours ----------

export async function solveTours(event) {
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

export function renderTours() {
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

export function setRide(role, ll) {
  state[role] = ll;
  $(role).value = pointName(ll);
  placeMarker(role, { name: pointName(ll), lonlat: ll });
}


export async function book(event) {
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

export function renderBooking() {
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

const PLAN_REFRESH_MS = 30000; // a live plan: asked again while the on-demand tab is open

export async function showPlan() {
  const vehicle = $("vehicle").value.trim();
  const token = $("token").value.trim();
  if (!vehicle) return;
  if (!token) return say(t("book_need_token")); // a driver's plan is private
  clearTimeout(state.planTimer);
  state.planTimer = setTimeout(() => {
    if (state.tab === "ondemand" && $("vehicle").value.trim() === vehicle) showPlan();
  }, PLAN_REFRESH_MS);
  try {
    state.plan = await get(`ondemand/vehicles/${encodeURIComponent(vehicle)}/plan`, undefined, token);
    await loadStopIndex();
    renderPlan();
  } catch (error) {
    state.plan = null;
    $("plan-list").replaceChildren();
    show(state.map, "plan", null);
    say(failure(error));
  }
}

export function renderPlan() {
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
