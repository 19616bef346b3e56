/**
 * `GET /.edge-cache/purges`: the most recent purges recorded for the site, newest
 * first, for the dashboard and for anyone checking that a purge was taken.
 */
import { jsonResponse } from "../http/respond";
import type { PurgeRecords, PurgeState } from "../purge/state";
import type { AdminHandler } from "./context";

const RECENT = 20;

export interface RecentPurge {
  kind: "everything" | "tags" | "routes" | "urls" | "prefixes";
  value: string | null;
  at: string;
  soft: boolean;
}

export function recentPurges(state: PurgeState, limit = RECENT): RecentPurge[] {
  const out: { at: number; p: RecentPurge }[] = [];
  const add = (kind: RecentPurge["kind"], value: string | null, records: PurgeRecords) => {
    for (const r of records) out.push({ at: r.at, p: { kind, value, at: new Date(r.at).toISOString(), soft: r.soft } });
  };
  add("everything", null, state.everything);
  for (const kind of ["tags", "routes", "urls", "prefixes"] as const) {
    for (const [value, records] of Object.entries(state[kind])) add(kind, value, records);
  }
  return out.sort((a, b) => b.at - a.at).slice(0, limit).map((x) => x.p);
}

export const recentPurgesEndpoint: AdminHandler = async ({ deps }) => ({
  response: jsonResponse({ purges: recentPurges(await deps.purges.current()) }),
  result: "ok",
});
