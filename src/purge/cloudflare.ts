/**
 * Cloudflare's own zone cache, cleared through its API when a purge is recorded, so
 * no layer under us keeps what was purged. A failure is reported, never thrown: our
 * tiers are already purged by then.
 */
import { prefixForm } from "./records";
import type { PurgeRequest } from "./request";

export const CF_API_DEFAULT = "https://api.cloudflare.com/client/v4";
/** Cloudflare takes at most 30 files, tags or prefixes per call on most plans. */
export const CF_BATCH = 30;
const CF_TIMEOUT_MS = 10_000;

export interface ZoneConfig {
  CF_API_TOKEN?: string;
  CF_ZONE_ID?: string;
  CF_API_BASE?: string;
}

export type ZonePurgeResult =
  | { called: false; reason: string }
  | { called: true; ok: true; calls: number }
  | { called: true; ok: false; calls: number; error: string };

/** The bodies to send for one purge: none for route purges, which only we understand. */
export function zonePurgeBodies(purge: PurgeRequest): Record<string, unknown>[] {
  switch (purge.kind) {
    case "everything":
      return [{ purge_everything: true }];
    case "urls":
      return batches(purge.values).map((files) => ({ files }));
    case "prefixes":
      // Cloudflare's prefixes are written without the scheme.
      return batches(purge.values.map((p) => prefixForm(new URL(p)))).map((prefixes) => ({ prefixes }));
    case "tags":
      return batches(purge.values).map((tags) => ({ tags }));
    case "routes":
      return [];
    default:
      return purge satisfies never;
  }
}

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CF_BATCH) out.push(items.slice(i, i + CF_BATCH));
  return out;
}

/** Calls `POST {base}/zones/{zone}/purge_cache` for each batch; stops at the first failure. */
export async function purgeZone(config: ZoneConfig, purge: PurgeRequest, fetcher: typeof fetch = fetch): Promise<ZonePurgeResult> {
  if (!config.CF_API_TOKEN || !config.CF_ZONE_ID) {
    return { called: false, reason: "CF_API_TOKEN and CF_ZONE_ID are not both set" };
  }
  const bodies = zonePurgeBodies(purge);
  if (bodies.length === 0) return { called: false, reason: "route purges have no equivalent in Cloudflare's cache" };
  const base = (config.CF_API_BASE || CF_API_DEFAULT).replace(/\/+$/, "");
  const endpoint = `${base}/zones/${encodeURIComponent(config.CF_ZONE_ID)}/purge_cache`;
  let calls = 0;
  for (const body of bodies) {
    calls++;
    const error = await call(endpoint, config.CF_API_TOKEN, body, fetcher);
    if (error !== null) return { called: true, ok: false, calls, error };
  }
  return { called: true, ok: true, calls };
}

async function call(endpoint: string, token: string, body: unknown, fetcher: typeof fetch): Promise<string | null> {
  let res: Response;
  try {
    res = await fetcher(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CF_TIMEOUT_MS),
    });
  } catch (err) {
    return `Cloudflare's API could not be reached: ${err instanceof Error ? err.message : String(err)}`;
  }
  const text = await res.text().catch(() => "");
  const parsed = parseJson(text) as { success?: unknown; errors?: { code?: unknown; message?: unknown }[] } | null;
  if (res.ok && parsed?.success === true) return null;
  const reasons = Array.isArray(parsed?.errors)
    ? parsed.errors.map((e) => `${String(e.code ?? "")} ${String(e.message ?? "")}`.trim()).filter(Boolean)
    : [];
  const detail = reasons.length > 0 ? reasons.join("; ") : parsed === null ? "the answer was not JSON" : "success was not true";
  const hint = res.status === 401 || res.status === 403 ? " (check that CF_API_TOKEN has the Zone > Cache Purge permission for CF_ZONE_ID)" : "";
  return `Cloudflare's API answered ${res.status}: ${detail}${hint}`;
}

function parseJson(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}
