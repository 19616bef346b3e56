/**
 * Several isolates in several locations, in one test: `createWorker()` instances over
 * the same KV and Durable Object namespaces, each with its own Cache API namespace
 * (`caches.open("location-N")`, unique per call so tests never share entries) and
 * one clock. Each location may wrap its bindings (KV delays, coordinator faults).
 */
import { adminHarness, type AdminHarnessOptions } from "./admin-harness";
import { TestClock } from "./harness";

export interface LocationsOptions extends Omit<AdminHarnessOptions, "clock" | "cacheName" | "wrapKv" | "wrapCoordinator"> {
  wrapKv?: (kv: KVNamespace, location: number) => KVNamespace;
  wrapCoordinator?: (location: number) => AdminHarnessOptions["wrapCoordinator"];
}

export function locations(count: number, options: LocationsOptions = {}) {
  const clock = new TestClock();
  const run = crypto.randomUUID().slice(0, 8);
  const sites = Array.from({ length: count }, (_, i) =>
    adminHarness({
      ...options,
      clock,
      cacheName: `location-${i}-${run}`,
      wrapKv: options.wrapKv && ((kv) => options.wrapKv!(kv, i)),
      wrapCoordinator: options.wrapCoordinator?.(i),
    }),
  );
  return { clock, sites };
}
