/**
 * Invalidation after a successful unsafe request (RFC 9111 §4.4), as decided by
 * policy/invalidation: the URL's primary key (its Vary index with it), only in the
 * tiers its route uses. The Cache API delete is local and free; a KV delete is billed
 * and counts against the key's one write a second, so it is throttled per key per
 * isolate exactly as KV writes are (tiers/kv.ts).
 */
import { buildCacheKey } from "../policy/cache-key";
import { invalidationRoute } from "../policy/invalidation";
import type { CompiledRules } from "../rules/types";
import { kvName, kvWriteGate } from "../tiers/kv";
import { storageKey } from "../tiers/two-tier";
import type { ProxyDeps } from "./context";

export function createInvalidator(deps: Pick<ProxyDeps, "tiers" | "clock">) {
  const kvDue = kvWriteGate(deps.clock);

  /** Clears what `url` (normalized) can have stored; a no-op where nothing can be. */
  return async function invalidate(rules: CompiledRules, url: URL, request: Request): Promise<void> {
    const route = invalidationRoute(rules, url);
    if (!route) return;
    // request.cf is built for each request that reads it: read only for a country key (as the proxy does).
    const key = buildCacheKey(url, request.headers, route.key, route.key.country !== null ? request.cf?.country : undefined);
    const at = await storageKey(key.key, key.parts.host);
    await Promise.all([
      route.tiers.edge ? deps.tiers.edge.delete(at) : null,
      route.tiers.kv && kvDue(kvName(at)) ? deps.tiers.kv.delete(at) : null,
    ]);
  };
}
