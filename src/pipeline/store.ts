/**
 * Fetching for the cache and storing what comes back: the I/O half of a miss or a
 * revalidation. Whether to store is decided by policy/freshness; here it is done,
 * streamed, in the background.
 */
import { declaredLength, stripHopByHop } from "../http/headers";
import { fetchOrigin, originUrl } from "../http/origin";
import { retentionSeconds, storeVerdict, type StoreVerdict } from "../policy/freshness";
import { forwardHeaders } from "../policy/forwarding";
import { responseTags } from "../policy/tags";
import { variantKey, varyNames } from "../policy/vary";
import type { Ctx } from "./context";
import { ENTRY_VERSION, type ResponseMeta, type VaryMeta } from "../tiers/entry";
import { KV_MAX_BODY } from "../tiers/kv";
import { storageKey, storeEntry, type StorePlan } from "../tiers/two-tier";

/** Request fields the cache answers itself from the whole entry; the origin never sees the client's. */
const CLIENT_CONDITIONALS = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"];

export interface Fetched {
  res: Response;
  requestTime: number;
  responseTime: number;
}

/** Fetches the whole GET representation for the cache (a HEAD miss fills the GET entry, as Varnish does). */
export async function fetchForCache(c: Ctx, validators: [string, string][] = []): Promise<Fetched> {
  const headers = forwardHeaders(c.request.headers, c.route.key, c.dimensions);
  for (const name of CLIENT_CONDITIONALS) headers.delete(name);
  for (const [k, v] of validators) headers.set(k, v);
  const requestTime = c.deps.clock.now();
  const t0 = Date.now();
  try {
    const res = await fetchOrigin(
      { url: originUrl(c.rules.origin, c.target), method: "GET", headers, body: null, timeoutMs: c.route.originTimeoutMs },
      c.deps.clock,
    );
    c.originStatus = res.status;
    return { res, requestTime, responseTime: c.deps.clock.now() };
  } finally {
    c.timings.origin = (c.timings.origin ?? 0) + (Date.now() - t0);
  }
}

/** The store verdict for an origin answer to this request (all the checks live in policy/storable). */
export function verdictFor(c: Ctx, f: Pick<Fetched, "requestTime" | "responseTime">, status: number, headers: Headers): StoreVerdict {
  return storeVerdict(c.route, {
    status,
    headers,
    requestTime: f.requestTime,
    responseTime: f.responseTime,
    authorized: c.request.headers.has("authorization"),
    request: { headers: c.request.headers, path: c.target.pathname },
  });
}

export function storePlan(c: Ctx, verdict: Extract<StoreVerdict, { store: true }>, size: number | null = null): StorePlan {
  return {
    edge: c.route.ttl.edge === 0 ? 0 : retentionSeconds(verdict.lifetimes),
    // Known to be too large for KV: no branch for it at all, so nothing buffers for it.
    kv: size !== null && size > KV_MAX_BODY ? 0 : c.route.ttl.kv,
  };
}

export type Stored =
  | { stored: true; body: ReadableStream<Uint8Array> | null; done: Promise<boolean> }
  | { stored: false; reason: "variant-cap" | "no-tier" };

/**
 * Stores an origin answer in the tiers the route allows, in the background, and
 * returns the body stream the client reads.
 */
export async function storeResponse(
  c: Ctx,
  res: Response,
  verdict: Extract<StoreVerdict, { store: true }>,
  responseTime: number,
): Promise<Stored> {
  const plan = storePlan(c, verdict, declaredLength(res.headers));
  if (plan.edge === 0 && plan.kv === 0) return { stored: false, reason: "no-tier" };
  const headers = stripHopByHop(res.headers);
  if (verdict.stripSetCookie) headers.delete("set-cookie");
  const tags = [...new Set([...c.route.tags, ...responseTags(res.headers)])];
  const base = { v: ENTRY_VERSION, storedAt: responseTime, route: c.route.name, tags } as const;

  let vary: VaryMeta | null = null;
  let at = c.primary;
  const names = varyNames(res.headers);
  if (names) {
    const same = c.index && c.index.vary.join() === names.join() ? c.index : null;
    // RFC 9111 §4.1 lets a cache keep as many variants as it likes; past the cap, pass.
    if (same && same.variants >= c.route.maxVariants) return { stored: false, reason: "variant-cap" };
    vary = {
      ...base,
      kind: "vary",
      key: c.primary.key,
      vary: names,
      epoch: same?.epoch ?? responseTime,
      variants: (same?.variants ?? 0) + 1,
    };
    at = await storageKey(variantKey(c.primary.key, vary.epoch, names, c.variantHeaders), c.primary.host);
  }
  const meta: ResponseMeta = {
    ...base,
    kind: "response",
    key: at.key,
    status: res.status,
    headers: [...headers],
    lifetimes: verdict.lifetimes,
    size: declaredLength(res.headers),
  };
  let client: ReadableStream<Uint8Array> | null = null;
  let toStore: ReadableStream<Uint8Array> | null = null;
  if (res.body) [client, toStore] = res.body.tee();
  const checked = toStore && checkedBody(toStore, meta.size);
  const done = storeEntry(c.deps.tiers, plan, c.primary, vary, at, meta, checked?.body ?? null).then(async (tiers) => {
    // A cut-off body must never stay stored as complete, whatever the tier accepted.
    if (checked && !(await checked.whole)) {
      await Promise.all(tiers.map((t) => c.deps.tiers[t].delete(at)));
      return false;
    }
    return tiers.length > 0;
  });
  c.exec.waitUntil(done);
  return { stored: true, body: client, done };
}

/**
 * A body on its way into storage, and whether it arrived whole: exactly the declared
 * Content-Length, and no error from the origin. The runtime's own streams carry it
 * (a JavaScript transform would fall behind the client's branch of the tee and make
 * it buffer the body), and the verdict comes from the pipe itself, because a tier may
 * accept a stream that ended early: the caller deletes what it stored when not whole.
 */
function checkedBody(
  body: ReadableStream<Uint8Array>,
  declaredLength: number | null,
): { body: ReadableStream<Uint8Array>; whole: Promise<boolean> } {
  const through = declaredLength === null ? new IdentityTransformStream() : new FixedLengthStream(declaredLength);
  const whole = body.pipeTo(through.writable).then(
    () => true,
    () => false,
  );
  return { body: through.readable as ReadableStream<Uint8Array>, whole };
}
