/**
 * What crosses a Durable Object boundary on its way to the statistics' history: an
 * isolate's flush to its location's object, and that object's forward to the site's.
 * JSON text, because the counters' maps have no prototype (so no key is special),
 * which structured clone refuses; checked field by field on arrival. Pure.
 */
import { MAX_URL_LENGTH, type Minute } from "./buckets";
import { isCounts } from "./counts";

/** One request of the traffic sample: method and cleaned URL, never a header. */
export interface SampledRequest {
  method: string;
  url: string;
  at: number;
}

/** Counted minutes and sampled requests, not yet in the history. */
export interface StatsBatch {
  minutes: Minute[];
  sample: SampledRequest[];
}

/** Requests kept for trying rules on: the most recent ones. */
export const SAMPLE_SIZE = 1000;

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

export function encodeBatch(batch: StatsBatch): string {
  return JSON.stringify(batch);
}

/** The valid parts of a batch (`encodeBatch`): anything malformed is left out, never thrown. */
export function decodeBatch(text: string): StatsBatch {
  let batch: Partial<StatsBatch> | null;
  try {
    batch = JSON.parse(text) as Partial<StatsBatch>;
  } catch {
    return { minutes: [], sample: [] };
  }
  const minutes = Array.isArray(batch?.minutes) ? batch.minutes.filter(isMinute) : [];
  const sample = Array.isArray(batch?.sample) ? batch.sample.filter(isSampled).slice(-SAMPLE_SIZE) : [];
  for (const s of sample) s.url = s.url.slice(0, MAX_URL_LENGTH * 4);
  return { minutes, sample };
}
