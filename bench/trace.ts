/**
 * The offload trace: requests over a set of URLs with Zipf popularity (s = 1, the
 * shape of web object popularity), a share carrying random tracking parameters, and
 * query parameters in random order. Deterministic for a seed, so every contender
 * sees the very same sequence.
 *
 * Every third URL has real query parameters (`v`, `lang`, and for some `page`); the
 * normalized form of a request is its path with those parameters sorted and the
 * tracking ones dropped: what an ideal cache fetches exactly once.
 */

export interface TraceOptions {
  requests: number;
  urls: number;
  /** Share of requests that carry tracking parameters (utm_*, fbclid). */
  trackingShare: number;
  /** Zipf exponent. */
  s?: number;
  seed: number;
  /** Path prefix, e.g. `/o/r1`: each run uses its own, so no cache is warm for it. */
  prefix: string;
}

export interface Trace {
  /** Request paths with query, in order. */
  paths: string[];
  /** Distinct normalized URLs requested: the ideal number of origin fetches. */
  ideal: number;
  /** Distinct raw URLs requested: what a cache keyed on the full URL fetches at best. */
  distinctRaw: number;
  withTracking: number;
}

/** mulberry32: a small, fast, seedable PRNG (good enough for workload generation). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0..n-1 with P(k) proportional to 1/(k+1)^s, by inverse CDF. */
export function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / Math.pow(k + 1, s);
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function token(random: () => number, length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

const SOURCES = ["newsletter", "twitter", "facebook", "google", "partner"];
const MEDIUMS = ["email", "social", "cpc", "referral"];

export function makeTrace(o: TraceOptions): Trace {
  const random = prng(o.seed);
  // Rank -> URL id through a fixed permutation, so popular URLs are spread over the id space.
  const ids = shuffle(Array.from({ length: o.urls }, (_, i) => i), random);
  const rank = zipf(o.urls, o.s ?? 1, random);
  const paths: string[] = [];
  const normalized = new Set<string>();
  const raw = new Set<string>();
  let withTracking = 0;
  for (let i = 0; i < o.requests; i++) {
    const id = ids[rank()]!;
    const path = `${o.prefix}/${id}`;
    const real: [string, string][] = [];
    if (id % 3 === 0) {
      real.push(["v", String(id % 97)], ["lang", id % 2 ? "en" : "de"]);
      if (id % 9 === 0) real.push(["page", String(1 + (id % 5))]);
    }
    const params = [...real];
    if (random() < o.trackingShare) {
      withTracking++;
      params.push(["utm_source", SOURCES[Math.floor(random() * SOURCES.length)]!]);
      if (random() < 0.7) params.push(["utm_medium", MEDIUMS[Math.floor(random() * MEDIUMS.length)]!]);
      if (random() < 0.5) params.push(["utm_campaign", `c${Math.floor(random() * 1000)}`]);
      if (random() < 0.5) params.push(["fbclid", token(random, 24)]);
    }
    shuffle(params, random);
    const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
    const full = query ? `${path}?${query}` : path;
    paths.push(full);
    raw.add(full);
    const sorted = [...real].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    normalized.add(sorted.length ? `${path}?${sorted.map(([k, v]) => `${k}=${v}`).join("&")}` : path);
  }
  return { paths, ideal: normalized.size, distinctRaw: raw.size, withTracking };
}
