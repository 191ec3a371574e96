// Live vehicles: a map layer of the GTFS-realtime vehicle positions, shown only when the service
// reads a real-time feed (its /v1/status says so), refreshed as often as the service reads it.

import { get } from "./api.js";
import { show } from "./map.js";

const MIN_REFRESH_MS = 5000;

/** Fill the "vehicles" source now and on the feed's schedule; false when there is no feed. */
export async function startVehicles(map, status) {
  const feed = status.live?.sources?.find((s) => s.kind === "gtfs-rt");
  if (!feed) return false;
  const refresh = async () => {
    try {
      show(map, "vehicles", await get("vehicles"));
    } catch {
      // a failed refresh keeps the last positions drawn; the next one tries again
    }
  };
  await refresh();
  setInterval(refresh, Math.max(feed.every_s * 1000, MIN_REFRESH_MS));
  return true;
}
