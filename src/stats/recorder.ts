/**
 * An isolate's statistics: every request is counted once, from the facts of its log
 * line, into one-minute buckets (a few map updates), and written to Analytics Engine
 * when that binding exists.
 */
import type { CompiledRoute } from "../rules/types";
import { analyticsWriter } from "./analytics";
import { MinuteBuckets } from "./buckets";
import { cleanUrl } from "./clean-url";
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

export interface IsolateStats {
  observe(facts: RequestFacts, url: URL, route: CompiledRoute | null): void;
  /** A write into KV (the tier counts it: the request that caused it is long answered). */
  kvWrite(route: string): void;
  answer(window: WindowName): StatsAnswer;
}

export interface StatsOptions {
  now(): number;
  analytics?: AnalyticsEngineDataset;
}

/** Requests the origin answered: the ones the top-misses list is about. */
function wentToOrigin(o: Outcome): boolean {
  return o.kind === "miss" || o.kind === "miss-stored" || o.kind === "bypass" || o.kind === "error";
}

export function createIsolateStats(options: StatsOptions): IsolateStats {
  const buckets = new MinuteBuckets();
  const write = analyticsWriter(options.analytics);
  return {
    observe(facts, url, route) {
      const outcome = classify(facts.status, facts.cacheStatus);
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
      buckets.record(o, options.now(), origin ? clean : undefined);
      write?.({ host: url.host, route: route?.name ?? null, method: facts.method, status: facts.status, outcome, bytes: o.bytes, originMs: o.originMs, kvRead: o.kvRead, url: clean! });
    },
    kvWrite(route) {
      buckets.kvWrite(route, options.now());
    },
    answer(window) {
      const now = options.now();
      return statsAnswer(buckets.window(now, 24 * 60), window, "isolate", now);
    },
  };
}

/** Content-Length as a number, when the answer has a valid one. */
export function contentLength(headers: Headers): number | null {
  const v = headers.get("content-length");
  return v !== null && /^\d+$/.test(v) ? Number(v) : null;
}
