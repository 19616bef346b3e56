/**
 * The statistics' part of the coordinator: the site's minutes (what every isolate
 * flushed, added up) and a bounded sample of recent requests, in the coordinator's
 * SQLite. Plain functions over its `SqlStorage`; the class only forwards to them.
 */
import { KEEP_MINUTES, MAX_URL_LENGTH, MINUTE_MS, MinuteBuckets, minuteOf, type Minute } from "./buckets";
import { isCounts } from "./counts";
import { statsAnswer, WINDOWS, type StatsAnswer, type WindowName } from "./summary";

/** One request of the traffic sample: method and cleaned URL, never a header. */
export interface SampledRequest {
  method: string;
  url: string;
  at: number;
}

/** What an isolate sends at most every 10 s. */
export interface StatsBatch {
  minutes: Minute[];
  sample: SampledRequest[];
}

/** Requests kept for trying rules on: the most recent ones. */
export const SAMPLE_SIZE = 1000;

export const STATS_SQL: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS stats_minutes (t INTEGER PRIMARY KEY, data TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS stats_sample (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, method TEXT NOT NULL, url TEXT NOT NULL)",
];

/** A minute as flushed: checked field by field, since it crossed an RPC boundary. */
export function isMinute(v: unknown): v is Minute {
  if (typeof v !== "object" || v === null) return false;
  const m = v as Partial<Minute>;
  if (typeof m.t !== "number" || !Number.isFinite(m.t) || typeof m.missesOther !== "number") return false;
  if (typeof m.routes !== "object" || m.routes === null || typeof m.misses !== "object" || m.misses === null) return false;
  if (!Object.values(m.routes).every(isCounts)) return false;
  return Object.values(m.misses).every((x) => typeof x?.reason === "string" && typeof x.count === "number" && Number.isFinite(x.count));
}

function isSampled(v: unknown): v is SampledRequest {
  const s = v as Partial<SampledRequest> | null;
  return typeof s?.method === "string" && s.method.length <= 32 && typeof s.url === "string" && typeof s.at === "number";
}

/**
 * Batches cross the RPC boundary as JSON text: the counters' maps have no prototype
 * (so no key is special), which structured clone refuses.
 */
export function encodeBatch(batch: StatsBatch): string {
  return JSON.stringify(batch);
}

/** Adds an isolate's batch (`encodeBatch`) into the site's minutes and sample; drops what is older than 24 h. */
export function addStats(sql: SqlStorage, text: string, now: number): void {
  let batch: Partial<StatsBatch> | null;
  try {
    batch = JSON.parse(text) as Partial<StatsBatch>;
  } catch {
    return;
  }
  const minutes = Array.isArray(batch?.minutes) ? batch.minutes.filter(isMinute) : [];
  const merged = new MinuteBuckets();
  for (const t of new Set(minutes.map((m) => minuteOf(m.t)))) {
    const row = sql.exec<{ data: string }>("SELECT data FROM stats_minutes WHERE t = ?", t).toArray()[0];
    const stored: unknown = row ? JSON.parse(row.data) : null;
    if (isMinute(stored)) merged.add([stored], now);
  }
  merged.add(minutes, now);
  for (const m of merged.take()) sql.exec("INSERT OR REPLACE INTO stats_minutes (t, data) VALUES (?, ?)", m.t, JSON.stringify(m));
  sql.exec("DELETE FROM stats_minutes WHERE t <= ?", minuteOf(now) - KEEP_MINUTES * MINUTE_MS);

  const sample = Array.isArray(batch?.sample) ? batch.sample.filter(isSampled).slice(-SAMPLE_SIZE) : [];
  for (const s of sample) sql.exec("INSERT INTO stats_sample (at, method, url) VALUES (?, ?, ?)", s.at, s.method, s.url.slice(0, MAX_URL_LENGTH * 4));
  if (sample.length > 0) sql.exec("DELETE FROM stats_sample WHERE id <= (SELECT MAX(id) FROM stats_sample) - ?", SAMPLE_SIZE);
}

export function readStats(sql: SqlStorage, window: WindowName, now: number): StatsAnswer {
  const from = minuteOf(now) - (WINDOWS[window] - 1) * MINUTE_MS;
  const rows = sql.exec<{ data: string }>("SELECT data FROM stats_minutes WHERE t >= ? ORDER BY t", from).toArray();
  const minutes = rows.map((r) => JSON.parse(r.data) as unknown).filter(isMinute);
  // Through JSON: plain objects, which structured clone takes.
  return JSON.parse(JSON.stringify(statsAnswer(minutes, window, "site", now))) as StatsAnswer;
}

/** The most recent sampled requests, newest first. */
export function readSample(sql: SqlStorage, limit: number): SampledRequest[] {
  return sql
    .exec<{ at: number; method: string; url: string }>("SELECT at, method, url FROM stats_sample ORDER BY id DESC LIMIT ?", Math.max(0, Math.min(limit, SAMPLE_SIZE)))
    .toArray()
    .map((r) => ({ at: r.at, method: r.method, url: r.url }));
}
