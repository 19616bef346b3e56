/**
 * A wrapper for the statistics objects' stubs (createWorker's `wrapStats`) that runs
 * every call through `around`: count it, fail it, delay it; as aroundCoordinator does.
 */
import type { StatsApi, StatsName, StatsWrapper } from "../../src/stats/client";

type Method = keyof StatsApi;

export function aroundStats(around: (method: Method, name: StatsName, call: () => Promise<unknown>) => Promise<unknown>): StatsWrapper {
  return (api, name) =>
    new Proxy(api, {
      get(target, key) {
        const method = key as Method;
        // Called on the stub itself: an RPC method taken off a stub is not a plain function.
        const call = (args: unknown[]) => (target as unknown as Record<Method, (...a: unknown[]) => Promise<unknown>>)[method](...args);
        return (...args: unknown[]) => around(method, name, () => call(args));
      },
    });
}
