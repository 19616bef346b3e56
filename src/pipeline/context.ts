/**
 * What every step of the pipeline needs to know about the request it serves.
 */
import type { Clock } from "../clock";
import type { Collapser } from "./collapse";
import type { Dimensions } from "../policy/dimensions";
import type { CompiledRoute, CompiledRules } from "../rules/types";
import type { VaryMeta } from "../tiers/entry";
import type { StorageKey } from "../tiers/tier";
import type { Tiers } from "../tiers/two-tier";
import type { IsolateStats } from "../stats/recorder";

/** Whether a stored entry was purged after it was stored (see src/purge): "hard" = gone, "soft" = stale. */
export interface PurgeCheck {
  verdict(
    entry: { storedAt: number; route: string; tags: readonly string[] },
    url: URL,
    /** Keeps a refresh of the purge state alive past the request (ctx.waitUntil). */
    background?: (p: Promise<unknown>) => void,
  ): Promise<"hard" | "soft" | null>;
}

export interface ProxyDeps {
  /** The rules in force; may consult storage (hot reload), so it may be async. */
  rules(): CompiledRules | Promise<CompiledRules>;
  tiers: Tiers;
  collapser: Collapser;
  clock: Clock;
  log(line: Record<string, unknown>): void;
  purges?: PurgeCheck;
  /** Counts each request from its log line's facts. */
  stats?: Pick<IsolateStats, "observe">;
}

/** Milliseconds spent per stage, for Server-Timing and the request log. */
export interface Timings {
  edge?: number;
  kv?: number;
  origin?: number;
}

export interface Ctx {
  deps: ProxyDeps;
  request: Request;
  route: CompiledRoute;
  rules: CompiledRules;
  exec: ExecutionContext;
  /** The normalized URL: the key's start, and what the origin is asked for. */
  target: URL;
  primary: StorageKey;
  /** The key's device/country/language values: sent to the origin as their headers. */
  dimensions: Dimensions;
  /** The request's headers as the origin gets them for Vary (RFC 9111 §4.1): with the dimensions' values. */
  variantHeaders: Headers;
  /** The Vary index found on lookup, if any: a new variant joins its epoch. */
  index: VaryMeta | null;
  timings: Timings;
  /** Where the response came from, for the log. */
  tier?: string;
  originStatus?: number;
}
