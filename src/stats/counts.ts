/**
 * The counters of one route in one minute, as plain JSON so that an isolate can send
 * them to the coordinator and both can add them up. Every map is bounded: reasons
 * come from a small fixed set, and anything past the cap counts as "other". Pure.
 */
import type { Outcome } from "./outcome";

export type Tally = Record<string, number>;

export interface Counts {
  requests: number;
  hits: { edge: number; kv: number };
  missesStored: number;
  /** Misses whose answer was not stored, by reason (Cache-Status detail). */
  notStored: Tally;
  bypass: Tally;
  stale: Tally;
  errors: Tally;
  bytes: { cache: number; origin: number };
  originFetches: number;
  /** Origin latency histogram: bin (see `latencyBin`) -> requests. */
  originMs: Tally;
  kv: { reads: number; writes: number };
}

/** One request, as counted. */
export interface Observation {
  route: string;
  outcome: Outcome;
  /** Body bytes sent (Content-Length; 0 when unknown). */
  bytes: number;
  /** Time spent waiting for the origin, when it was asked. */
  originMs: number | null;
  kvRead: boolean;
}

const MAX_TALLY_KEYS = 24;

/** A map keyed by outside text (route names, reasons, URLs): no prototype, so no key is special. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function emptyCounts(): Counts {
  return {
    requests: 0,
    hits: { edge: 0, kv: 0 },
    missesStored: 0,
    notStored: dict(),
    bypass: dict(),
    stale: dict(),
    errors: dict(),
    bytes: { cache: 0, origin: 0 },
    originFetches: 0,
    originMs: dict(),
    kv: { reads: 0, writes: 0 },
  };
}

function bump(t: Tally, key: string, n = 1): void {
  if (Object.hasOwn(t, key) || Object.keys(t).length < MAX_TALLY_KEYS) t[key] = (t[key] ?? 0) + n;
  else t.other = (t.other ?? 0) + n;
}

/** Bins a quarter of a power of two wide (about 19 %): p50/p95 read from them are that close. */
export function latencyBin(ms: number): number {
  return Math.ceil(4 * Math.log2(Math.max(0, ms) + 1));
}

/** The upper edge of a bin, in ms. */
function binLimit(bin: number): number {
  return Math.round(2 ** (bin / 4) - 1);
}

/** The q-quantile (0..1) of a histogram, as its bin's upper edge; null when it is empty. */
export function quantile(hist: Tally, q: number): number | null {
  const bins = Object.keys(hist).map(Number).sort((a, b) => a - b);
  const total = bins.reduce((n, b) => n + hist[b]!, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const b of bins) {
    seen += hist[b]!;
    if (seen >= q * total) return binLimit(b);
  }
  return binLimit(bins[bins.length - 1]!);
}

export function addObservation(c: Counts, o: Observation): void {
  c.requests++;
  const { kind, tier, reason } = o.outcome;
  switch (kind) {
    case "hit":
      c.hits[tier ?? "edge"]++;
      break;
    case "miss-stored":
      c.missesStored++;
      break;
    case "miss":
      bump(c.notStored, reason ?? "not-stored");
      break;
    case "bypass":
      bump(c.bypass, reason ?? "bypass");
      break;
    case "stale":
      bump(c.stale, reason ?? "stale");
      break;
    case "error":
      bump(c.errors, reason ?? "error");
      break;
    default:
      kind satisfies never;
  }
  if (kind === "hit" || kind === "stale") c.bytes.cache += o.bytes;
  else c.bytes.origin += o.bytes;
  if (o.originMs !== null) {
    c.originFetches++;
    bump(c.originMs, String(latencyBin(o.originMs)));
  }
  if (o.kvRead) c.kv.reads++;
}

function addTally(into: Tally, from: Tally): void {
  for (const [k, n] of Object.entries(from)) if (typeof n === "number" && Number.isFinite(n)) bump(into, k, n);
}

/** Adds `from` into `into` (both are counts of the same route, or a total). */
export function mergeCounts(into: Counts, from: Counts): void {
  into.requests += from.requests;
  into.hits.edge += from.hits.edge;
  into.hits.kv += from.hits.kv;
  into.missesStored += from.missesStored;
  addTally(into.notStored, from.notStored);
  addTally(into.bypass, from.bypass);
  addTally(into.stale, from.stale);
  addTally(into.errors, from.errors);
  into.bytes.cache += from.bytes.cache;
  into.bytes.origin += from.bytes.origin;
  into.originFetches += from.originFetches;
  addTally(into.originMs, from.originMs);
  into.kv.reads += from.kv.reads;
  into.kv.writes += from.kv.writes;
}

export function sum(t: Tally): number {
  let n = 0;
  for (const v of Object.values(t)) n += v;
  return n;
}

const num = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);

function isTally(v: unknown): v is Tally {
  return typeof v === "object" && v !== null && Object.values(v).every(num);
}

/** Counts as sent by another isolate: every field present and a finite number. */
export function isCounts(v: unknown): v is Counts {
  const c = v as Partial<Counts> | null;
  return (
    typeof c === "object" && c !== null &&
    num(c.requests) && num(c.hits?.edge) && num(c.hits?.kv) && num(c.missesStored) &&
    isTally(c.notStored) && isTally(c.bypass) && isTally(c.stale) && isTally(c.errors) &&
    num(c.bytes?.cache) && num(c.bytes?.origin) && num(c.originFetches) && isTally(c.originMs) &&
    num(c.kv?.reads) && num(c.kv?.writes)
  );
}
