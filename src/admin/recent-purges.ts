/**
 * `GET /.edge-cache/purges`: the most recent purges recorded for the site, newest
 * first, for the dashboard and for anyone checking that a purge was taken. The
 * coordinator keeps them (src/purge/log.ts); isolates hold only hashes.
 */
import { jsonResponse } from "../http/respond";
import type { AdminHandler } from "./context";

const RECENT = 20;

export type { RecentPurge } from "../purge/log";

export const recentPurgesEndpoint: AdminHandler = async ({ deps }) => {
  try {
    return { response: jsonResponse({ purges: await deps.purges.recent(RECENT) }), result: "ok" };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      response: jsonResponse({ error: "coordinator-unavailable", message: `The purge log could not be read from the coordinator (${why}); try again.` }, 503, { "retry-after": "2" }),
      result: "coordinator-error",
    };
  }
};
