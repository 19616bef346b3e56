/**
 * Carrying out one purge: record it (what makes it hold everywhere), delete purged
 * URLs here and in KV at once (so they are gone without waiting for a lookup), and
 * ask Cloudflare to clear its zone cache when it is configured to.
 */
import { ambiguousPath } from "../policy/bypass";
import { buildCacheKey, normalizeUrl } from "../policy/cache-key";
import { compileGlobs } from "../rules/glob";
import { matchRoute } from "../rules/match";
import type { CompiledKey, CompiledRules } from "../rules/types";
import { storageKey, type Tiers } from "../tiers/two-tier";
import { purgeZone, type ZoneConfig, type ZonePurgeResult } from "./cloudflare";
import type { PurgeRequest } from "./request";
import { purgeHorizonMs } from "./horizon";
import { prefixForm, PURGE_BOUND_MS, type PurgeStore, type PurgeTarget } from "./state";

/** A URL no route matches has never been stored; its key is still normalized the plain way. */
const PLAIN_KEY: CompiledKey = { query: { mode: "ignore", names: compileGlobs([]), sort: false }, headers: [], cookies: [], device: false, country: null, language: null };

export interface PurgeDeps {
  store: PurgeStore;
  tiers: Tiers;
  rules: CompiledRules;
  zone: ZoneConfig;
  now(): number;
  fetch?: typeof fetch;
}

export interface PurgeAnswer {
  purged:
    | { kind: "urls" | "prefixes" | "tags" | "routes"; values: string[]; soft: boolean }
    | { kind: "everything"; soft: boolean };
  /** The coordinator's sequence number for this purge: purges are applied in this order. */
  sequence: number;
  /** The purge's time (the coordinator's): entries stored (origin answered) at or before it are purged. */
  at: string;
  /** Hard URL purges: keys deleted from this data centre's Cache API and from KV right away. */
  deleted: number;
  cloudflare: ZonePurgeResult;
  propagation: string;
  warnings: string[];
}

export const PROPAGATION =
  `recorded by the site's coordinator before this answer; applied at once by the isolate that took it, and by every ` +
  `other isolate in every location within ${PURGE_BOUND_MS / 1000} s (an isolate that cannot reach the coordinator ` +
  "reads its KV copy instead: typically within 60 s, not guaranteed)";

/** Records and carries out `purge`; rejects only when the record could not be written. */
export async function executePurge(deps: PurgeDeps, purge: PurgeRequest): Promise<PurgeAnswer> {
  const warnings: string[] = [];
  let target: PurgeTarget;
  let shown: string[] = [];
  let keys: { key: string; host: string }[] = [];
  switch (purge.kind) {
    case "everything":
      target = { kind: "everything" };
      break;
    case "urls": {
      const keyed = purge.values.map((u) => urlKey(deps.rules, new URL(u)));
      shown = [...new Set(keyed.map((k) => k.url))];
      target = { kind: "urls", values: shown };
      keys = keyed.flatMap((k) => (k.stored ? [{ key: k.key, host: k.host }] : []));
      for (const k of keyed) {
        if (ambiguousPath(new URL(k.url).pathname)) warnings.push(unmatchable(k.url));
        else if (!k.stored) warnings.push(`no route of the active rules stores ${k.url} (no route matches it, or its route has bypass: true): this purge can match nothing stored now`);
      }
      break;
    }
    case "routes": {
      const known = new Set(deps.rules.routes.map((r) => r.name));
      for (const name of purge.values) {
        if (!known.has(name)) warnings.push(`no route named ${JSON.stringify(name)} in the active rules; entries stored under that name are purged all the same`);
      }
      target = { kind: "routes", values: purge.values };
      shown = purge.values;
      break;
    }
    case "prefixes": {
      // Normalized exactly as keys are (RFC 3986 §6.2.2: `%7E` is `~`, hex digits upper-case,
      // the host lower-case), or the prefix could never meet the URLs it names.
      const normalized = [...new Set(purge.values.map((p) => buildCacheKey(new URL(p), new Headers(), PLAIN_KEY).url))];
      // Kept without the scheme, so a purge of https://site/blog/ takes http://site/blog/... too.
      target = { kind: "prefixes", values: [...new Set(normalized.map(prefixForm))] };
      shown = normalized.map((u) => u.href);
      for (const u of normalized) if (ambiguousPath(u.pathname)) warnings.push(unmatchable(u.href));
      break;
    }
    case "tags":
      target = { kind: "tags", values: purge.values };
      shown = purge.values;
      break;
    default:
      return purge satisfies never;
  }
  const recorded = await deps.store.record({ target, soft: purge.soft, at: deps.now(), horizonMs: purgeHorizonMs(deps.rules) });
  // A soft purge keeps the entries: they may still serve stale while they are revalidated.
  const deleted = purge.soft ? 0 : await deleteHere(deps.tiers, keys);
  const cloudflare = await purgeZone(deps.zone, purge, deps.fetch);
  if (cloudflare.called && !cloudflare.ok) warnings.push(`the zone cache was not purged: ${cloudflare.error}`);
  return {
    purged: purge.kind === "everything" ? { kind: "everything", soft: purge.soft } : { kind: purge.kind, values: shown, soft: purge.soft },
    sequence: recorded.sequence,
    at: new Date(recorded.at).toISOString(),
    deleted,
    cloudflare,
    propagation: PROPAGATION,
    warnings,
  };
}

function unmatchable(url: string): string {
  return `${url} holds an encoded delimiter (such as %2F) in its path; requests for such paths are never stored (bypass: path), so this purge can match nothing`;
}

/** The normalized cache URL the purge record is keyed by, and the primary key to delete. */
function urlKey(rules: CompiledRules, asked: URL): { url: string; key: string; host: string; stored: boolean } {
  // The route the proxy picks for it: from the normalized URL, as the proxy matches.
  const url = normalizeUrl(asked);
  const { route } = matchRoute(rules, url, "GET");
  const key = buildCacheKey(url, new Headers(), route?.key ?? PLAIN_KEY);
  return { url: key.url.href, key: key.key, host: key.parts.host, stored: route !== null && !route.bypass.always };
}

/**
 * Deletes each primary key in both tiers. Under Vary the primary key holds the index,
 * so the variants become unreachable with it; variants keyed on request headers or
 * cookies have other primary keys, which the purge record covers.
 */
async function deleteHere(tiers: Tiers, keys: readonly { key: string; host: string }[]): Promise<number> {
  await Promise.all(
    keys.map(async ({ key, host }) => {
      const at = await storageKey(key, host);
      await Promise.all([tiers.edge.delete(at), tiers.kv.delete(at)]);
    }),
  );
  return keys.length;
}
