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

function served(c: Counts): number {
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

/** Adds up `minutes` (any order, any subset) over the window ending at `now`. */
export function statsAnswer(minutes: readonly Minute[], window: WindowName, scope: Scope, now: number): StatsAnswer {
  const span = WINDOWS[window];
  const first = minuteOf(now) - (span - 1) * MINUTE_MS;
  const total = emptyCounts();
  const routes = dict<Counts>();
  const misses = new Map<string, MissCount>();
  const perMinute = new Map<number, SeriesPoint>();
  for (const m of minutes) {
    if (m.t < first || m.t > now) continue;
    const point: SeriesPoint = perMinute.get(m.t) ?? { t: new Date(m.t).toISOString(), requests: 0, hits: 0, routes: dict() };
    perMinute.set(m.t, point);
    for (const [name, c] of Object.entries(m.routes)) {
      mergeCounts(total, c);
      mergeCounts((routes[name] ??= emptyCounts()), c);
      const r = (point.routes[name] ??= { requests: 0, hits: 0 });
      r.requests += c.requests;
      r.hits += served(c);
      point.requests += c.requests;
      point.hits += served(c);
    }
    for (const [url, miss] of Object.entries(m.misses)) {
      const seen = misses.get(url);
      if (seen) seen.count += miss.count;
      else misses.set(url, { ...miss });
    }
  }
  const series: SeriesPoint[] = [];
  for (let t = first; t <= now; t += MINUTE_MS) {
    series.push(perMinute.get(t) ?? { t: new Date(t).toISOString(), requests: 0, hits: 0, routes: dict() });
  }
  const summaries = dict<RouteSummary>();
  for (const name of Object.keys(routes).sort()) summaries[name] = summarize(routes[name]!);
  return {
    window,
    scope,
    generatedAt: new Date(now).toISOString(),
    total: summarize(total),
    routes: summaries,
    series,
    topMisses: [...misses.entries()]
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP_MISSES)
      .map(([url, m]) => ({ url, reason: m.reason, count: m.count })),
  };
}
