/**
 * The answer of `GET /.edge-cache/stats`: minutes added up over a window, per route
 * and for the site, a per-minute series, and the URLs fetched most from the origin.
 * Pure.
 */
import { MINUTE_MS, minuteOf, type Minute, type MissCount } from "./buckets";
import { dict, emptyCounts, mergeCounts, quantile, sum, type Counts } from "./counts";

export const WINDOWS = { "15m": 15, "1h": 60, "24h": 24 * 60 } as const;
export type WindowName = keyof typeof WINDOWS;
export const TOP_MISSES = 20;

export type Scope = "site" | "isolate";

export interface RouteSummary {
  requests: number;
  hits: { edge: number; kv: number };
  misses: number;
  bypass: number;
  stale: number;
  errors: number;
  /** Served from a cache tier (hits and stale) over all requests. */
  hitRatio: number;
  bytes: { cache: number; origin: number };
  /** Share of requests and of bytes the origin did not have to serve. */
  offload: { requests: number; bytes: number };
  reasons: { notStored: Record<string, number>; bypass: Record<string, number>; stale: Record<string, number>; errors: Record<string, number> };
  missesStored: number;
  origin: { fetches: number; p50Ms: number | null; p95Ms: number | null };
  kv: { reads: number; writes: number };
}

export interface SeriesPoint {
  t: string;
  requests: number;
  hits: number;
  routes: Record<string, { requests: number; hits: number }>;
}

export interface StatsAnswer {
  window: WindowName;
  scope: Scope;
  generatedAt: string;
  total: RouteSummary;
  routes: Record<string, RouteSummary>;
  series: SeriesPoint[];
  topMisses: { url: string; reason: string; count: number }[];
}

export function isWindow(value: string): value is WindowName {
  return Object.hasOwn(WINDOWS, value);
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

export function served(c: Counts): number {
  return c.hits.edge + c.hits.kv + sum(c.stale);
}

export function summarize(c: Counts): RouteSummary {
  const cached = served(c);
  return {
    requests: c.requests,
    hits: { ...c.hits },
    misses: c.missesStored + sum(c.notStored),
    bypass: sum(c.bypass),
    stale: sum(c.stale),
    errors: sum(c.errors),
    hitRatio: ratio(cached, c.requests),
    bytes: { ...c.bytes },
    offload: { requests: ratio(cached, c.requests), bytes: ratio(c.bytes.cache, c.bytes.cache + c.bytes.origin) },
    reasons: { notStored: { ...c.notStored }, bypass: { ...c.bypass }, stale: { ...c.stale }, errors: { ...c.errors } },
    missesStored: c.missesStored,
    origin: { fetches: c.originFetches, p50Ms: quantile(c.originMs, 0.5), p95Ms: quantile(c.originMs, 0.95) },
    kv: { ...c.kv },
  };
}

/** A window's sums, however they were added up (minutes in memory, or SQL over the history). */
export interface WindowSums {
  routes: Record<string, Counts>;
  /** Per minute and route: requests, and those served from a cache tier. */
  cells: Iterable<{ t: number; route: string; requests: number; hits: number }>;
  /** URLs fetched from the origin with their counts, in any order. */
  misses: Iterable<{ url: string; reason: string; count: number }>;
}

/** The first minute of the window ending at `now`. */
export function windowStart(window: WindowName, now: number): number {
  return minuteOf(now) - (WINDOWS[window] - 1) * MINUTE_MS;
}

/** Adds up `minutes` (any order, any subset) over the window ending at `now`. */
export function statsAnswer(minutes: readonly Minute[], window: WindowName, scope: Scope, now: number): StatsAnswer {
  const first = windowStart(window, now);
  const routes = dict<Counts>();
  const cells: { t: number; route: string; requests: number; hits: number }[] = [];
  const misses = new Map<string, MissCount>();
  for (const m of minutes) {
    if (m.t < first || m.t > now) continue;
    for (const [name, c] of Object.entries(m.routes)) {
      mergeCounts((routes[name] ??= emptyCounts()), c);
      cells.push({ t: m.t, route: name, requests: c.requests, hits: served(c) });
    }
    for (const [url, miss] of Object.entries(m.misses)) {
      const seen = misses.get(url);
      if (seen) seen.count += miss.count;
      else misses.set(url, { ...miss });
    }
  }
  return answerOf({ routes, cells, misses: [...misses].map(([url, m]) => ({ url, ...m })) }, window, scope, now);
}

/** The endpoint's answer from a window's sums. */
export function answerOf(sums: WindowSums, window: WindowName, scope: Scope, now: number): StatsAnswer {
  const first = windowStart(window, now);
  const total = emptyCounts();
  const perMinute = new Map<number, SeriesPoint>();
  for (const { t, route, requests, hits } of sums.cells) {
    if (t < first || t > now) continue;
    const point: SeriesPoint = perMinute.get(t) ?? { t: new Date(t).toISOString(), requests: 0, hits: 0, routes: dict() };
    perMinute.set(t, point);
    const r = (point.routes[route] ??= { requests: 0, hits: 0 });
    r.requests += requests;
    r.hits += hits;
    point.requests += requests;
    point.hits += hits;
  }
  const series: SeriesPoint[] = [];
  for (let t = first; t <= now; t += MINUTE_MS) {
    series.push(perMinute.get(t) ?? { t: new Date(t).toISOString(), requests: 0, hits: 0, routes: dict() });
  }
  const summaries = dict<RouteSummary>();
  for (const name of Object.keys(sums.routes).sort()) {
    const c = sums.routes[name]!;
    mergeCounts(total, c);
    summaries[name] = summarize(c);
  }
  return {
    window,
    scope,
    generatedAt: new Date(now).toISOString(),
    total: summarize(total),
    routes: summaries,
    series,
    topMisses: [...sums.misses]
      .sort((a, b) => b.count - a.count || (a.url < b.url ? -1 : 1))
      .slice(0, TOP_MISSES)
      .map(({ url, reason, count }) => ({ url, reason, count })),
  };
}
