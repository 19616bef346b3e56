/**
 * An isolate's statistics: every request is counted once, from the facts of its log
 * line, into one-minute buckets (a few map updates), and written to Analytics Engine
 * when that binding exists. With statistics objects, what was counted since the last
 * flush goes to the location's object in the background at most every 10 s, with a
 * small sample of the requests, and the endpoint answers for the whole site from the
 * site's object. The isolate itself keeps only that unflushed part and its own last
 * `OWN_MINUTES` (the answer when the objects cannot be reached): no history.
 */
import { systemClock, within } from "../clock";
import type { CompiledRoute } from "../rules/types";
import { analyticsWriter } from "./analytics";
import { encodeBatch, type SampledRequest } from "./batch";
import { MINUTE_MS, MinuteBuckets, minuteOf } from "./buckets";
import { cleanUrl } from "./clean-url";
import type { StatsApi } from "./client";
import type { Observation } from "./counts";
import { classify, type Outcome } from "./outcome";
import { statsAnswer, type StatsAnswer, type WindowName } from "./summary";

/** The facts of a request's log line that the statistics read. */
export interface RequestFacts {
  method: string;
  status: number;
  cacheStatus: string | null;
  timings: { kv?: number; origin?: number };
  /** Content-Length of the answer, when it had one. */
  bytes: number | null;
}

export interface TrafficSample {
  scope: "site" | "isolate";
  requests: SampledRequest[];
}

export interface IsolateStats {
  observe(facts: RequestFacts, url: URL, route: CompiledRoute | null, exec?: ExecutionContext): void;
  /** A write into KV (the tier counts it: the request that caused it is long answered). */
  kvWrite(route: string): void;
  answer(window: WindowName): Promise<StatsAnswer>;
  /** The most recent sampled requests, newest first. */
  traffic(limit: number): Promise<TrafficSample>;
  /** Minutes held in memory: the isolate's own window and its unflushed counts (tests and the bench read it). */
  retained(): { own: number; pending: number };
}

export interface StatsOptions {
  now(): number;
  analytics?: AnalyticsEngineDataset;
  /** The statistics objects (src/stats/object.ts); without them the isolate's own counters answer. */
  objects?: {
    site: string;
    /** This isolate's location's object, which it flushes to. */
    location(): StatsApi;
    /** The site's object, which keeps the history and answers reads. */
    history(): StatsApi;
  };
  /** Where the one line about failing statistics objects or Analytics Engine goes (createWorker's log seam). */
  log(line: Record<string, unknown>): void;
}

/** At most one flush per isolate this often. */
export const FLUSH_EVERY_MS = 10_000;
/** Requests sampled per flush (reservoir), and kept by the isolate for itself. */
const SAMPLE_PER_FLUSH = 50;
const OWN_SAMPLE = 200;
/** A statistics object slower than this is treated as failed (real time: it bounds real waiting). */
const OBJECT_TIMEOUT_MS = 5_000;
/**
 * The isolate's own window: its answer when the objects cannot be reached (the 15m
 * window whole, the longer ones from what it has), and the most a refused flush is
 * kept for the next (older minutes go). ~87 KB a minute at 64 busy routes.
 */
export const OWN_MINUTES = 15;

/** Requests the origin answered: the ones the top-misses list is about. */
function wentToOrigin(o: Outcome): boolean {
  return o.kind === "miss" || o.kind === "miss-stored" || o.kind === "bypass" || o.kind === "error";
}

export function createIsolateStats(options: StatsOptions): IsolateStats {
  const own = new MinuteBuckets(OWN_MINUTES);
  // Any minute of the last 24 h (an idle isolate flushes its last minutes with its next request).
  const pending = new MinuteBuckets();
  const objects = options.objects;
  const write = analyticsWriter(options.analytics, options.log);
  let sample: SampledRequest[] = [];
  let seen = 0;
  const recent: SampledRequest[] = [];
  let lastFlush = Number.NEGATIVE_INFINITY;
  let flushing: Promise<void> | null = null;
  let warned = false;

  /**
   * The site's figure from its statistics object, asked once this isolate's latest
   * counts, and what its location's object holds, are in (so what it just served
   * shows); null: use this isolate's own.
   */
  async function fromSite<T>(op: string, ask: (history: StatsApi) => Promise<T>): Promise<T | null> {
    if (!objects) return null;
    try {
      await flush(true);
      const site = await within(systemClock, OBJECT_TIMEOUT_MS, ask(objects.history()), null);
      if (site) return site;
      warnOnce(op, "timeout");
    } catch (err) {
      warnOnce(op, err);
    }
    return null;
  }

  function warnOnce(op: string, err: unknown): void {
    if (!warned) options.log({ msg: "stats-unavailable", op, error: err instanceof Error ? err.message : String(err) });
    warned = true;
  }

  /** Reservoir sampling: every request of the interval has the same chance; the URL is built only when kept. */
  function sampleRequest(method: string, url: URL, route: CompiledRoute | null, now: number): void {
    seen++;
    const slot = sample.length < SAMPLE_PER_FLUSH ? sample.length : Math.floor(Math.random() * seen);
    if (slot >= SAMPLE_PER_FLUSH) return;
    // Cleaned by the request's own route, as the counters are: what its key drops is not kept.
    const s = { method, url: cleanUrl(url, route), at: now };
    sample[slot] = s;
    recent.push(s);
    if (recent.length > OWN_SAMPLE) recent.shift();
  }

  /** Sends what is not flushed yet to the location's object; `forward`: and it on to the site's at once (a read). */
  function flush(forward = false): Promise<void> {
    if (flushing) return forward ? flushing.then(() => flush(true)) : flushing;
    const now = options.now();
    lastFlush = now;
    const batch = { minutes: pending.take(), sample };
    sample = [];
    seen = 0;
    if (!objects || (!forward && batch.minutes.length === 0 && batch.sample.length === 0)) return Promise.resolve();
    flushing = within(systemClock, OBJECT_TIMEOUT_MS, objects.location().add(encodeBatch(batch), now, objects.site, forward).then(() => true), false)
      .then((done) => {
        // A timed-out flush may still land: not sent again, so nothing is counted twice.
        if (done) warned = false;
        else warnOnce("flush", "timeout");
      })
      .catch((err) => {
        // Refused: sent again with the next flush, while within the isolate's own window.
        const now = options.now();
        pending.add(batch.minutes.filter((m) => m.t > minuteOf(now) - OWN_MINUTES * MINUTE_MS), now);
        warnOnce("flush", err);
      })
      .finally(() => (flushing = null));
    return flushing;
  }

  return {
    observe(facts, url, route, exec) {
      const outcome = classify(facts.status, facts.cacheStatus);
      const now = options.now();
      const o: Observation = {
        route: route?.name ?? "(none)",
        outcome,
        bytes: facts.bytes ?? 0,
        originMs: facts.timings.origin ?? null,
        kvRead: facts.timings.kv !== undefined,
      };
      const origin = wentToOrigin(outcome);
      const clean = origin || write ? cleanUrl(url, route) : undefined;
      if (origin && outcome.kind === "miss-stored") outcome.reason = "uri-miss";
      own.record(o, now, origin ? clean : undefined);
      write?.({ host: url.host, route: route?.name ?? null, method: facts.method, status: facts.status, outcome, bytes: o.bytes, originMs: o.originMs, kvRead: o.kvRead, url: clean! });
      sampleRequest(facts.method, url, route, now);
      if (!objects) return;
      pending.record(o, now, origin ? clean : undefined);
      if (exec && !flushing && now - lastFlush >= FLUSH_EVERY_MS) exec.waitUntil(flush());
    },
    kvWrite(route) {
      own.kvWrite(route, options.now());
      if (objects) pending.kvWrite(route, options.now());
    },
    async answer(window) {
      const site = await fromSite("read", (history) => history.read(window, options.now()));
      if (site) return site;
      const now = options.now();
      return statsAnswer(own.window(now, OWN_MINUTES), window, "isolate", now);
    },
    retained: () => ({ own: own.size, pending: pending.size }),
    async traffic(limit) {
      const site = await fromSite("sample", (history) => history.sample(limit));
      if (site) return { scope: "site", requests: site };
      return { scope: "isolate", requests: recent.slice(-limit).reverse() };
    },
  };
}

/** Content-Length as a number, when the answer has a valid one. */
export function contentLength(headers: Headers): number | null {
  const v = headers.get("content-length");
  return v !== null && /^\d+$/.test(v) ? Number(v) : null;
}
