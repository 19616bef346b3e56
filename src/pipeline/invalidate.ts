/**
 * Invalidation after a successful unsafe request (RFC 9111 §4.4), as decided by
 * policy/invalidation: the URL's primary key (its Vary index with it), only in the
 * tiers its route uses. The Cache API delete is local and free; a KV delete is billed
 * and counts against the key's one write a second, so it is throttled per key per
 * isolate exactly as KV writes are (tiers/kv.ts).
 */
import { buildCacheKey } from "../policy/cache-key";
import { invalidationTarget } from "../policy/invalidation";
import type { CompiledRules } from "../rules/types";
import { KV_WRITE_INTERVAL_MS } from "../tiers/kv";
import { storageKey } from "../tiers/two-tier";
import type { ProxyDeps } from "./context";

/** Keys remembered per isolate; the oldest goes first past this. */
const MAX_REMEMBERED = 10_000;

export function createInvalidator(deps: Pick<ProxyDeps, "tiers" | "clock">) {
  const lastKvDelete = new Map<string, number>();

  /** Whether this key's KV copy may be deleted now (at most once per write interval). */
  function kvDue(name: string): boolean {
    const now = deps.clock.now();
    const last = lastKvDelete.get(name);
    if (last !== undefined && now - last < KV_WRITE_INTERVAL_MS && now >= last) return false;
    lastKvDelete.delete(name);
    lastKvDelete.set(name, now);
    if (lastKvDelete.size > MAX_REMEMBERED) lastKvDelete.delete(lastKvDelete.keys().next().value as string);
    return true;
  }

  /** Clears what `url` (normalized) can have stored; a no-op where nothing can be. */
  return async function invalidate(rules: CompiledRules, url: URL, request: Request): Promise<void> {
    const target = invalidationTarget(rules, url);
    if (!target) return;
    const key = buildCacheKey(url, request.headers, target.route.key, request.cf?.country);
    const at = await storageKey(key.key, key.parts.host);
    await Promise.all([
      target.tiers.edge ? deps.tiers.edge.delete(at) : null,
      target.tiers.kv && kvDue(at.hash) ? deps.tiers.kv.delete(at) : null,
    ]);
  };
}
