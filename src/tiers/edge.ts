/**
 * The edge tier: the Cache API of this data centre (`caches.default`).
 *
 * The origin's headers travel inside our metadata header, not as the stored
 * response's own headers, so the Cache API never applies its own reading of them
 * (it would answer conditionals and ranges itself, honour Vary, refuse Set-Cookie).
 * The stored response carries only our expiry, which covers the stale windows:
 * freshness is decided by our code, never by the Cache API (ARCHITECTURE.md, invariant 7).
 */
import { cacheTagValue } from "../policy/tags";
import { checkMeta, type EntryMeta, type StoredEntry } from "./entry";
import { consoleLog, logTierError, type StorageKey, type Tier, type TierLog } from "./tier";

const ENTRY_HEADER = "x-edge-cache-entry";

/** The Cache API addresses entries by URL: one under our reserved prefix, never a client's. */
function entryUrl(at: StorageKey): string {
  return `https://${at.host}/.edge-cache/entry/${at.hash}`;
}

export function edgeTier(cache: Cache, log: TierLog = consoleLog): Tier {
  return {
    name: "edge",
    async get(at) {
      try {
        const res = await cache.match(entryUrl(at));
        if (!res) return null;
        let meta: EntryMeta | null = null;
        try {
          meta = checkMeta(JSON.parse(res.headers.get(ENTRY_HEADER) ?? "null"), at.key);
        } catch {
          meta = null;
        }
        if (!meta) {
          await res.body?.cancel();
          return null;
        }
        if (meta.kind === "vary") await res.body?.cancel();
        return { meta, body: meta.kind === "response" ? res.body : null } satisfies StoredEntry;
      } catch (err) {
        logTierError(log, "edge", "get", err);
        return null;
      }
    },
    async put(at, meta, body, retentionSeconds) {
      try {
        const headers: Record<string, string> = {
          "cache-control": `max-age=${Math.ceil(retentionSeconds)}`,
          [ENTRY_HEADER]: JSON.stringify(meta),
        };
        // The entry's tags, for the zone's purge by tag (Cloudflare's API) to reach this tier.
        const cacheTag = cacheTagValue(meta.tags);
        if (cacheTag) headers["cache-tag"] = cacheTag;
        // Always 200 to the Cache API: the real status is in the metadata, and the
        // Cache API refuses or treats some statuses specially.
        const stored = new Response(body, { status: 200, headers });
        await cache.put(entryUrl(at), stored);
        // A put that resolved without reading the body stored nothing whole; release
        // the stream so the writer upstream is not left waiting on it.
        if (!stored.bodyUsed) await stored.body?.cancel().catch(() => {});
        return true;
      } catch (err) {
        logTierError(log, "edge", "put", err);
        await body?.cancel().catch(() => {});
        return false;
      }
    },
    async delete(at) {
      try {
        await cache.delete(entryUrl(at));
      } catch (err) {
        logTierError(log, "edge", "delete", err);
      }
    },
  };
}
