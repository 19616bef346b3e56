/**
 * One-minute buckets of counters per route, plus the URLs fetched from the origin,
 * for the last `keep` minutes (24 hours unless told). Bounded: at most `keep` minutes,
 * 64 routes a minute, 20 miss URLs a minute (5 once a minute is an hour old). The time
 * is passed in. Pure.
 */
import { addObservation, dict, emptyCounts, mergeCounts, type Counts, type Observation } from "./counts";

export const MINUTE_MS = 60_000;
export const KEEP_MINUTES = 24 * 60;
export const MAX_ROUTES = 64;
export const MISS_URLS = 20;
const OLD_MISS_URLS = 5;
const TRIM_AFTER_MINUTES = 60;
/** Longer URLs are cut: a counter is no place for a megabyte of query string. */
export const MAX_URL_LENGTH = 300;

export interface MissCount {
  reason: string;
  count: number;
}

export interface Minute {
  /** Start of the minute, ms since epoch. */
  t: number;
  routes: Record<string, Counts>;
  /** URL -> how often it was fetched from the origin, and the last reason it was not served from cache. */
  misses: Record<string, MissCount>;
  /** Origin fetches whose URL did not fit in `misses`. */
  missesOther: number;
}

export function minuteOf(now: number): number {
  return now - (now % MINUTE_MS);
}

export class MinuteBuckets {
  private readonly minutes = new Map<number, Minute>();
  private latest = 0;

  constructor(private readonly keep: number = KEEP_MINUTES) {}

  private at(t: number, now: number): Minute {
    let m = this.minutes.get(t);
    if (!m) {
      m = { t, routes: dict(), misses: dict(), missesOther: 0 };
      this.minutes.set(t, m);
      if (t > this.latest) {
        this.latest = t;
        this.prune(now);
      }
    }
    return m;
  }

  private route(m: Minute, name: string): Counts {
    const existing = Object.hasOwn(m.routes, name) ? m.routes[name] : undefined;
    if (existing) return existing;
    const key = Object.keys(m.routes).length < MAX_ROUTES ? name : "(other)";
    return (m.routes[key] ??= emptyCounts());
  }

  /** Counts one request; `missUrl` (already cleaned) when it was fetched from the origin. */
  record(o: Observation, now: number, missUrl?: string): void {
    const m = this.at(minuteOf(now), now);
    addObservation(this.route(m, o.route), o);
    if (missUrl !== undefined) addMiss(m, missUrl.slice(0, MAX_URL_LENGTH), o.outcome.reason ?? o.outcome.kind, 1, MISS_URLS);
  }

  kvWrite(route: string, now: number): void {
    this.route(this.at(minuteOf(now), now), route).kv.writes++;
  }

  /** Adds minutes counted elsewhere (another isolate's flush). */
  add(list: readonly Minute[], now: number): void {
    const oldest = minuteOf(now) - (this.keep - 1) * MINUTE_MS;
    for (const from of list) {
      if (from.t < oldest || from.t > now + MINUTE_MS) continue;
      const m = this.at(minuteOf(from.t), now);
      for (const [name, c] of Object.entries(from.routes)) mergeCounts(this.route(m, name), c);
      for (const [url, miss] of Object.entries(from.misses)) addMiss(m, url.slice(0, MAX_URL_LENGTH), miss.reason, miss.count, MISS_URLS);
      m.missesOther += from.missesOther;
    }
  }

  /** Everything counted so far, emptied (an isolate's flush). */
  take(): Minute[] {
    const out = [...this.minutes.values()];
    this.minutes.clear();
    this.latest = 0;
    return out;
  }

  /** The minutes of the last `minutes` minutes up to `now`, oldest first. */
  window(now: number, minutes: number): Minute[] {
    const from = minuteOf(now) - (minutes - 1) * MINUTE_MS;
    return [...this.minutes.values()].filter((m) => m.t >= from && m.t <= now).sort((a, b) => a.t - b.t);
  }

  get size(): number {
    return this.minutes.size;
  }

  /** Drops minutes older than `keep` and trims the miss URLs of those older than an hour. */
  private prune(now: number): void {
    const current = minuteOf(now);
    for (const [t, m] of this.minutes) {
      if (t <= current - this.keep * MINUTE_MS) this.minutes.delete(t);
      else if (t <= current - TRIM_AFTER_MINUTES * MINUTE_MS) trimMisses(m, OLD_MISS_URLS);
    }
  }
}

function addMiss(m: Minute, url: string, reason: string, count: number, cap: number): void {
  const existing = Object.hasOwn(m.misses, url) ? m.misses[url] : undefined;
  if (existing) {
    existing.count += count;
    existing.reason = reason;
  } else if (Object.keys(m.misses).length < cap) {
    m.misses[url] = { reason, count };
  } else {
    m.missesOther += count;
  }
}

function trimMisses(m: Minute, keep: number): void {
  const entries = Object.entries(m.misses);
  if (entries.length <= keep) return;
  entries.sort((a, b) => b[1].count - a[1].count);
  m.misses = Object.assign(dict<MissCount>(), Object.fromEntries(entries.slice(0, keep)));
  for (const [, miss] of entries.slice(keep)) m.missesOther += miss.count;
}
