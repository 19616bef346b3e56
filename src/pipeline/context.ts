/**
 * What every step of the pipeline needs to know about the request it serves. The
 * facts are read-only: what a step decides travels on as an argument or a return
 * value, and only measurements go to the request's `Recorder`.
 */
import type { Clock } from "../clock";
import type { ShieldClient } from "../shield/client";
import type { Collapser } from "./collapse";
import type { Dimensions } from "../policy/dimensions";
import type { Recorder } from "./recorder";
import type { HealthStore } from "./origin-gate";
import type { HitCounter } from "./kv-admission";
import type { BuildWatch } from "../builds/watch";
import type { CompiledRoute, CompiledRules } from "../rules/types";
import type { StorageKey } from "../tiers/tier";
import type { Tiers } from "../tiers/two-tier";
import type { IsolateStats } from "../stats/recorder";

/** Whether a stored entry was purged after it was stored (see src/purge): "hard" = gone, "soft" = stale. */
interface PurgeCheck {
  verdict(
    entry: { storedAt: number; requestedAt?: number; route: string; tags: readonly string[] },
    url: URL,
    /** Keeps a refresh of the purge state alive past the request (ctx.waitUntil). */
    background?: (p: Promise<unknown>) => void,
  ): Promise<"hard" | "soft" | null>;
}

export interface ProxyDeps {
  /** The rules in force; may consult storage (hot reload), so it may be async. */
  rules(background?: (p: Promise<unknown>) => void): CompiledRules | Promise<CompiledRules>;
  tiers: Tiers;
  collapser: Collapser;
  clock: Clock;
  log(line: Record<string, unknown>): void;
  purges?: PurgeCheck;
  /** The origin shield, for routes with `shield: true`. */
  shield?: ShieldClient;
  /** Counts each request from its log line's facts. */
  stats?: Pick<IsolateStats, "observe">;
  /** Origin health per origin, for routes with `originHealth` (pipeline/origin-gate.ts). */
  health?: HealthStore;
  /** Requests per key, for routes with `kv.minHits` above 1 (pipeline/kv-admission.ts). */
  hits?: HitCounter;
  /** Watches origin answers for a new `buildHeader` value (src/builds). */
  builds?: BuildWatch;
}

export interface Ctx {
  readonly deps: ProxyDeps;
  readonly request: Request;
  readonly route: CompiledRoute;
  readonly rules: CompiledRules;
  readonly exec: ExecutionContext;
  /** The normalized URL: the key's start, and what the origin is asked for. */
  readonly target: URL;
  readonly primary: StorageKey;
  /** The key's device/country/language values: sent to the origin as their headers. */
  readonly dimensions: Dimensions;
  /**
   * The request's headers exactly as the origin gets them (policy/forwarding
   * `originRequestHeaders`: unkeyed cookies and dangerous headers removed, the
   * dimensions' values set): the origin fetch sends these, and Vary selects on them.
   */
  readonly variantHeaders: Headers;
  readonly rec: Recorder;
}
