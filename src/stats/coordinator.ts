/**
 * LEGACY: the statistics' part of the coordinator before they moved to their own
 * objects (src/stats/object.ts): the site's minutes as one JSON row a minute. No
 * isolate sends here any more; it stays only while the coordinator still exposes
 * `statsAdd`/`statsRead`/`statsSample` (to be removed with those methods).
 */
import { KEEP_MINUTES, MINUTE_MS, MinuteBuckets, minuteOf } from "./buckets";
import { decodeBatch, isMinute, SAMPLE_SIZE, type SampledRequest } from "./batch";
import { statsAnswer, WINDOWS, type StatsAnswer, type WindowName } from "./summary";

export { SAMPLE_SIZE, type SampledRequest } from "./batch";

export const STATS_SQL: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS stats_minutes (t INTEGER PRIMARY KEY, data TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS stats_sample (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, method TEXT NOT NULL, url TEXT NOT NULL)",
];

/** Adds an isolate's batch (`encodeBatch`) into the site's minutes and sample; drops what is older than 24 h. */
export function addStats(sql: SqlStorage, text: string, now: number): void {
  const { minutes, sample } = decodeBatch(text);
  const merged = new MinuteBuckets();
  for (const t of new Set(minutes.map((m) => minuteOf(m.t)))) {
    const row = sql.exec<{ data: string }>("SELECT data FROM stats_minutes WHERE t = ?", t).toArray()[0];
    const stored: unknown = row ? JSON.parse(row.data) : null;
    if (isMinute(stored)) merged.add([stored], now);
  }
  merged.add(minutes, now);
  for (const m of merged.take()) sql.exec("INSERT OR REPLACE INTO stats_minutes (t, data) VALUES (?, ?)", m.t, JSON.stringify(m));
  sql.exec("DELETE FROM stats_minutes WHERE t <= ?", minuteOf(now) - KEEP_MINUTES * MINUTE_MS);

  for (const s of sample) sql.exec("INSERT INTO stats_sample (at, method, url) VALUES (?, ?, ?)", s.at, s.method, s.url);
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
