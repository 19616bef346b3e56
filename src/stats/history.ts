/**
 * The site's statistics history: 24 h of minutes in the site's statistics object's
 * SQLite, pre-aggregated as they arrive. One row per minute and route (the counters),
 * one per minute, route and tally key (reasons, latency bins), one per minute and
 * missed URL (≤ 20 a minute): a flush adds into those rows (upserts), so the rows a
 * minute holds grow with routes, never with flushes, isolates or locations, and a
 * window is read with SUM ... GROUP BY, never by parsing what was flushed.
 * Plain functions over the object's `SqlStorage`.
 */
import { KEEP_MINUTES, MAX_ROUTES, MINUTE_MS, MISS_URLS, minuteOf } from "./buckets";
import { SAMPLE_SIZE, type SampledRequest, type StatsBatch } from "./batch";
import { dict, emptyCounts, type Counts, type Tally } from "./counts";
import { answerOf, served, TOP_MISSES, windowStart, type StatsAnswer, type WindowName } from "./summary";

/** The counters kept as tallies (maps of reason or latency bin to a count). */
const TALLIES = ["notStored", "bypass", "stale", "errors", "originMs"] as const;
type TallyKind = (typeof TALLIES)[number];

/** The scalar counters: column name -> where it lives in `Counts`. */
const COLUMNS = {
  requests: (c: Counts) => c.requests,
  hits: served,
  edge: (c: Counts) => c.hits.edge,
  kv: (c: Counts) => c.hits.kv,
  stored: (c: Counts) => c.missesStored,
  cache_bytes: (c: Counts) => c.bytes.cache,
  origin_bytes: (c: Counts) => c.bytes.origin,
  fetches: (c: Counts) => c.originFetches,
  kv_reads: (c: Counts) => c.kv.reads,
  kv_writes: (c: Counts) => c.kv.writes,
} as const;
type Column = keyof typeof COLUMNS;
const NAMES = Object.keys(COLUMNS) as Column[];

export const HISTORY_SQL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS route_minutes (t INTEGER NOT NULL, route TEXT NOT NULL, ${NAMES.map((n) => `${n} INTEGER NOT NULL`).join(", ")}, PRIMARY KEY (t, route)) WITHOUT ROWID`,
  "CREATE TABLE IF NOT EXISTS route_tallies (t INTEGER NOT NULL, route TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (t, route, kind, key)) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS miss_minutes (t INTEGER NOT NULL, url TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (t, url)) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS sample (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, method TEXT NOT NULL, url TEXT NOT NULL)",
];

const UPSERT_ROUTE =
  `INSERT INTO route_minutes (t, route, ${NAMES.join(", ")}) VALUES (?, ?, ${NAMES.map(() => "?").join(", ")}) ` +
  `ON CONFLICT (t, route) DO UPDATE SET ${NAMES.map((n) => `${n} = ${n} + excluded.${n}`).join(", ")}`;
const UPSERT_TALLY = "INSERT INTO route_tallies (t, route, kind, key, n) VALUES (?, ?, ?, ?, ?) ON CONFLICT (t, route, kind, key) DO UPDATE SET n = n + excluded.n";

/** Adds a batch into the minutes it names (those of the last 24 h up to `now`) and the sample. */
export function mergeHistory(sql: SqlStorage, batch: StatsBatch, now: number): void {
  const oldest = minuteOf(now) - (KEEP_MINUTES - 1) * MINUTE_MS;
  for (const m of batch.minutes) {
    const t = minuteOf(m.t);
    if (t < oldest || t > now + MINUTE_MS) continue;
    // The route cap holds across flushes: a route new to a full minute counts as "(other)".
    const routes = new Set(sql.exec<{ route: string }>("SELECT route FROM route_minutes WHERE t = ?", t).toArray().map((r) => r.route));
    for (const [name, c] of Object.entries(m.routes)) {
      const route = routes.has(name) || routes.size < MAX_ROUTES ? name : "(other)";
      routes.add(route);
      sql.exec(UPSERT_ROUTE, t, route, ...NAMES.map((n) => COLUMNS[n](c)));
      for (const kind of TALLIES) for (const [key, n] of Object.entries(c[kind])) sql.exec(UPSERT_TALLY, t, route, kind, key, n);
    }
    let urls = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM miss_minutes WHERE t = ?", t).one().n;
    for (const [url, miss] of Object.entries(m.misses)) {
      if (sql.exec("UPDATE miss_minutes SET n = n + ?, reason = ? WHERE t = ? AND url = ?", miss.count, miss.reason, t, url).rowsWritten > 0) continue;
      // The top-N sample: past MISS_URLS distinct URLs a minute, random URLs add nothing.
      if (urls >= MISS_URLS) continue;
      sql.exec("INSERT INTO miss_minutes (t, url, reason, n) VALUES (?, ?, ?, ?)", t, url, miss.reason, miss.count);
      urls++;
    }
  }
  for (const s of batch.sample) sql.exec("INSERT INTO sample (at, method, url) VALUES (?, ?, ?)", s.at, s.method, s.url);
  if (batch.sample.length > 0) sql.exec("DELETE FROM sample WHERE id <= (SELECT MAX(id) FROM sample) - ?", SAMPLE_SIZE);
}

/** Drops minutes older than 24 h before `now` (a range delete on each table's leading key). */
export function pruneHistory(sql: SqlStorage, now: number): void {
  const cut = minuteOf(now) - KEEP_MINUTES * MINUTE_MS;
  for (const table of ["route_minutes", "route_tallies", "miss_minutes"]) sql.exec(`DELETE FROM ${table} WHERE t <= ?`, cut);
}

type Row = Record<Column, number> & { route: string };

/**
 * The answer for a window: four grouped queries over at most minutes × routes rows
 * (plus their tallies and ≤ 20 URLs a minute); what comes back is one row per route,
 * per route and tally key, per minute and route (the series), and the top URLs.
 */
export function readHistory(sql: SqlStorage, window: WindowName, now: number): StatsAnswer {
  const range = [windowStart(window, now), now] as const;
  const routes = dict<Counts>();
  const sums = NAMES.map((n) => `SUM(${n}) AS ${n}`).join(", ");
  for (const r of sql.exec<Row>(`SELECT route, ${sums} FROM route_minutes WHERE t BETWEEN ? AND ? GROUP BY route`, ...range)) {
    const c = emptyCounts();
    c.requests = r.requests;
    c.hits = { edge: r.edge, kv: r.kv };
    c.missesStored = r.stored;
    c.bytes = { cache: r.cache_bytes, origin: r.origin_bytes };
    c.originFetches = r.fetches;
    c.kv = { reads: r.kv_reads, writes: r.kv_writes };
    routes[r.route] = c;
  }
  const tallies = sql.exec<{ route: string; kind: string; key: string; n: number }>(
    "SELECT route, kind, key, SUM(n) AS n FROM route_tallies WHERE t BETWEEN ? AND ? GROUP BY route, kind, key",
    ...range,
  );
  for (const { route, kind, key, n } of tallies) {
    const c = routes[route];
    if (c && (TALLIES as readonly string[]).includes(kind)) (c[kind as TallyKind] as Tally)[key] = n;
  }
  const cells = sql.exec<{ t: number; route: string; requests: number; hits: number }>("SELECT t, route, requests, hits FROM route_minutes WHERE t BETWEEN ? AND ?", ...range).toArray();
  // The reason is the latest minute's: SQLite takes a bare column from the MAX(t) row.
  const misses = sql
    .exec<{ url: string; reason: string; count: number }>(
      "SELECT url, reason, SUM(n) AS count, MAX(t) FROM miss_minutes WHERE t BETWEEN ? AND ? GROUP BY url ORDER BY count DESC, url LIMIT ?",
      ...range,
      TOP_MISSES,
    )
    .toArray();
  // Through JSON: the answer's maps have no prototype, which structured clone refuses.
  return JSON.parse(JSON.stringify(answerOf({ routes, cells, misses }, window, "site", now))) as StatsAnswer;
}

/** The most recent sampled requests, newest first. */
export function readSample(sql: SqlStorage, limit: number): SampledRequest[] {
  return sql
    .exec<{ at: number; method: string; url: string }>("SELECT at, method, url FROM sample ORDER BY id DESC LIMIT ?", Math.max(0, Math.min(limit, SAMPLE_SIZE)))
    .toArray()
    .map((r) => ({ at: r.at, method: r.method, url: r.url }));
}
