/**
 * Reaching the statistics objects (src/stats/object.ts): the site's, which keeps the
 * history, and one per location, which the isolates there flush to. The thin seam
 * tests wrap (`createWorker({ wrapStats })`), as wrapCoordinator does the coordinator.
 */
import type { Stats } from "./object";

/** The objects' RPC methods as callers see them. */
export type StatsApi = Pick<Stats, "add" | "merge" | "read" | "sample">;

/** Which object a stub reaches: the site's (`location` null) or a location's. */
export interface StatsName {
  site: string;
  location: string | null;
}

/** Wraps each stub (tests: delays, errors, counting). */
export type StatsWrapper = (api: StatsApi, name: StatsName) => StatsApi;

/** The object's name: a JSON list, so no site or location name can pass for another's. */
export function statsObjectName({ site, location }: StatsName): string {
  return JSON.stringify(location === null ? ["site", site] : ["location", site, location]);
}

/**
 * A stub made per call, as the coordinator's are. A location's object is created by
 * the first request for it, so it lives near the location it serves.
 */
export function statsFor(namespace: DurableObjectNamespace<Stats>, name: StatsName, wrap?: StatsWrapper): StatsApi {
  const stub = namespace.get(namespace.idFromName(statsObjectName(name))) as unknown as StatsApi;
  return wrap ? wrap(stub, name) : stub;
}
