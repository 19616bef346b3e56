/**
 * The coordinator's half of `buildHeader`: one row per header name, and a new build
 * recorded as a soft purge of the header's routes in the same transaction, so it
 * takes the purge log's sequence and reaches every isolate the way purges do (their
 * deltas, and the coordinator's KV copy when it cannot be reached).
 */
import { recordPurge } from "../purge/log";
import { nextBuild, type BuildRecord } from "./record";

export const BUILD_TABLES: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS builds (header TEXT PRIMARY KEY, value TEXT NOT NULL, at REAL NOT NULL, recent TEXT NOT NULL)",
];

export interface BuildInput {
  site: string;
  /** Lower-cased header name. */
  header: string;
  value: string;
  /** The routes with this `buildHeader`: the soft purge's targets. */
  routes: readonly string[];
  /** The caller's clock, ms (the purge's time is never earlier). */
  at: number;
  horizonMs: number;
}

export interface BuildAnswer {
  /** The current build after this answer. */
  value: string;
  changed: boolean;
  /** When it became current; for a change, the soft purge's time. */
  at: number;
  /** The purge's sequence number when changed. */
  sequence: number | null;
}

export function recordBuild(sql: SqlStorage, input: BuildInput, now: number): BuildAnswer {
  const row = sql.exec<{ value: string; at: number; recent: string }>("SELECT value, at, recent FROM builds WHERE header = ?", input.header).toArray()[0];
  const current: BuildRecord | null = row ? { value: row.value, at: row.at, recent: JSON.parse(row.recent) as BuildRecord["recent"] } : null;
  const { record, changed } = nextBuild(current, input.value, Math.max(now, input.at));
  let sequence: number | null = null;
  let at = record.at;
  if (changed && input.routes.length > 0) {
    const purged = recordPurge(sql, { site: input.site, target: { kind: "routes", values: input.routes }, soft: true, at: record.at, horizonMs: input.horizonMs }, now);
    sequence = purged.sequence;
    at = purged.at;
  }
  sql.exec(
    "INSERT INTO builds (header, value, at, recent) VALUES (?, ?, ?, ?) ON CONFLICT (header) DO UPDATE SET value = excluded.value, at = excluded.at, recent = excluded.recent",
    input.header,
    record.value,
    at,
    JSON.stringify(record.recent),
  );
  return { value: record.value, changed, at, sequence };
}
