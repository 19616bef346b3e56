/**
 * Counts the KV tier's writes by the route of the entry written: writes run in the
 * background, after the request that caused them has been counted.
 */
import type { Tier } from "../tiers/tier";
import type { IsolateStats } from "./recorder";

export function countingWrites(kv: Tier, stats: Pick<IsolateStats, "kvWrite">): Tier {
  return {
    name: kv.name,
    get: (at) => kv.get(at),
    delete: (at) => kv.delete(at),
    async put(at, meta, body, retention) {
      const ok = await kv.put(at, meta, body, retention);
      if (ok) stats.kvWrite(meta.route);
      return ok;
    },
  };
}
