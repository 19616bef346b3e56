/**
 * `GET /.edge-cache/stats?window=15m|1h|24h`: the counters of the window, for the
 * whole site when the coordinator answers, else this isolate's own (`scope`).
 */
import { jsonResponse } from "../http/respond";
import { isWindow, WINDOWS } from "../stats/summary";
import type { AdminHandler } from "./context";

export const statsEndpoint: AdminHandler = async ({ url, deps }) => {
  const window = url.searchParams.get("window") ?? "1h";
  if (!isWindow(window)) {
    const allowed = Object.keys(WINDOWS).join(", ");
    return { response: jsonResponse({ error: "invalid-window", message: `window must be one of ${allowed}, got ${JSON.stringify(window)}.` }, 400), result: "invalid" };
  }
  if (!deps.stats) return { response: jsonResponse({ error: "no-stats", message: "This Worker was built without statistics." }, 404), result: "not-found" };
  return { response: jsonResponse(await deps.stats.answer(window)), targets: { window }, result: "ok" };
};
