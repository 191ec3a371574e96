// The page talks only to the public HTTP API (/v1). Errors come back as application/problem+json;
// an ApiError carries its status and the problem's title/detail for the page to show.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

// The page is served at the API's root; its assets under web/.
const BASE = new URL("v1/", document.baseURI).href;

async function send(path, { method = "GET", params, body, token } = {}) {
  const url = new URL(path, BASE);
  for (const [key, value] of Object.entries(params || {})) {
    // a list repeats its key (Navitia's `forbidden_uris[]=a&forbidden_uris[]=b`)
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(key, item);
    }
  }
  const headers = { Accept: "application/json, application/geo+json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 200) };
  }
  if (!response.ok && response.status !== 202) throw new ApiError(response.status, data);
  return { status: response.status, data, headers: response.headers };
}

/** GET a JSON resource (private ones with the token); resolves to its body. */
export async function get(path, params, token) {
  return (await send(path, { params, token })).data;
}

/** POST JSON; resolves to {status, data, headers} (202 for a job). */
export function post(path, body, token, params) {
  return send(path, { method: "POST", body, token, params });
}

/** A point as Navitia writes it: "lon;lat". */
export function lonlat([lon, lat]) {
  return `${lon.toFixed(6)};${lat.toFixed(6)}`;
}

/** A datetime-local value ("2026-11-30T08:00") as Navitia's "20261130T0800". */
export function navitiaTime(value) {
  return value.replaceAll("-", "").replaceAll(":", "").slice(0, 13);
}

/** Poll a job resource until it is done or failed; `onProgress` hears each state. */
export async function waitJob(url, onProgress, { every = 500, limit = 600 } = {}) {
  for (let i = 0; i < limit; i += 1) {
    const job = (await send(new URL(url, location.href).href)).data;
    onProgress(job);
    if (["succeeded", "failed"].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  throw new ApiError(504, { detail: "job did not finish" });
}
