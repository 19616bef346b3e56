/**
 * What each tier holds for a request right now, for `GET /.edge-cache/explain`:
 * read-only (each tier is looked up alone, so a KV hit is not copied to the edge),
 * bodies never read.
 */
import { freshness } from "../policy/freshness";
import type { PurgeView } from "../purge/state";
import { kvName } from "../tiers/kv";
import { lookup, storageKey, type Tiers } from "../tiers/two-tier";
import type { TierName } from "../tiers/tier";

type TierView =
  | { present: false; skipped?: string }
  | {
      present: true;
      status: number;
      storedAt: string;
      /** When its origin request was sent: what purges are compared with (null for entries from before it was kept). */
      requestedAt: string | null;
      age: number;
      /** Seconds of freshness left; negative when stale. */
      ttl: number;
      /**
       * What the next request does with it: the freshness state (`fresh`, `stale`, ...),
       * or `purged` when a hard purge makes it a miss; a soft purge shows as stale.
       */
      freshness: string;
      route: string;
      tags: string[];
      size: number | null;
      /** Request headers the stored Vary names, when the entry was found through a Vary index. */
      vary: string[] | null;
      /** What the purge records say: "hard" = treated as a miss, "soft" = treated as stale. */
      purged: "hard" | "soft" | null;
    };

interface TierState {
  storage: { hash: string; kvKey: string };
  edge: TierView;
  kv: TierView;
}

/** Looks the request's key up in each tier the route uses. */
export async function tierState(
  tiers: Tiers,
  key: { key: string; url: URL; host: string },
  use: { edge: boolean; kv: boolean },
  requestHeaders: Headers,
  purges: PurgeView,
  now: number,
): Promise<TierState> {
  const primary = await storageKey(key.key, key.host);
  const one = async (name: TierName): Promise<TierView> => {
    if (!use[name]) return { present: false, skipped: `the route does not store in ${name}` };
    const { found } = await lookup(tiers, primary, requestHeaders, {
      edge: name === "edge",
      kv: name === "kv",
      now,
      background: () => {},
    });
    if (!found) return { present: false };
    await found.body?.cancel().catch(() => {});
    const m = found.meta;
    const purged = purges.verdict(m, key.url);
    // The same reading of a purge as the proxy's: soft = no freshness left, hard = gone.
    const f = freshness(purged === "soft" ? { ...m.lifetimes, lifetime: 0 } : m.lifetimes, m.storedAt, now);
    return {
      present: true,
      status: m.status,
      storedAt: new Date(m.storedAt).toISOString(),
      requestedAt: m.requestedAt === undefined ? null : new Date(m.requestedAt).toISOString(),
      age: f.age,
      ttl: f.ttl,
      freshness: purged === "hard" ? "purged" : f.state,
      route: m.route,
      tags: m.tags,
      size: m.size,
      vary: found.vary?.vary ?? null,
      purged,
    };
  };
  const [edge, kv] = await Promise.all([one("edge"), one("kv")]);
  return { storage: { hash: primary.hash, kvKey: kvName(primary) }, edge, kv };
}
