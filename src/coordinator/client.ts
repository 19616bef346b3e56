/**
 * Reaching the coordinator: which object serves a site, and the thin seam tests wrap
 * to inject faults (`createWorker({ wrapCoordinator })`, like wrapKv and wrapCache).
 *
 * A site is one deployment of this Worker: one rules file, one KV namespace, one
 * coordinator, whatever hosts its routes serve (a purge sent to one host may name
 * URLs of another, and the rules cover them all). Its name is `SITE_NAME` when set
 * (two deployments sharing a namespace keep apart), else "default".
 */
import type { WorkerEnv } from "../env";
import type { Coordinator } from "./object";

/** The coordinator's RPC methods as callers see them (each returns a promise). */
export type CoordinatorApi = Pick<Coordinator, "time" | "since" | "recordPurge" | "recentPurges" | "statsAdd" | "statsRead" | "statsSample"
  | "putRules" | "rulesStatus" | "recordBuild">;

/** Wraps the stub (tests: delays, errors, restarts). */
export type CoordinatorWrapper = (api: CoordinatorApi, site: string) => CoordinatorApi;

export function siteName(env: Pick<WorkerEnv, "SITE_NAME">): string {
  return env.SITE_NAME || "default";
}

/**
 * The coordinator of `site`. A stub is made per call: stubs are cheap, and one made
 * during one request must not carry I/O for another.
 */
export function coordinatorFor(env: Pick<WorkerEnv, "COORDINATOR">, site: string, wrap?: CoordinatorWrapper): CoordinatorApi {
  const stub = env.COORDINATOR.get(env.COORDINATOR.idFromName(site)) as unknown as CoordinatorApi;
  return wrap ? wrap(stub, site) : stub;
}
