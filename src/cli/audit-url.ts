/**
 * One URL of `edge-cache audit`: what the origin answers (one GET, a conditional GET
 * with its validators, the Location of a redirect followed to the end of its chain),
 * and what the Worker would decide about that answer, from the very functions the
 * proxy calls: the request's decision (explain/decide), the headers the origin is
 * sent (policy/forwarding), the store verdict and lifetimes (policy/freshness), the
 * tiers' retention, Vary's normalization (policy/vary), 304 acceptance
 * (policy/not-modified). The findings a site owner can act on are audit-warnings.ts's.
 */
import { declaredLength } from "../http/headers";
import { originUrl } from "../http/origin";
import { decide, type Decision } from "../explain/decide";
import { normalizeUrl } from "../policy/cache-key";
import { originRequestHeaders } from "../policy/forwarding";
import { retentionSeconds, storeVerdict, type LifetimeSource, type Lifetimes } from "../policy/freshness";
import { acceptsNotModified, validatorsOf } from "../policy/not-modified";
import { selectingValue, varyNames } from "../policy/vary";
import type { CompiledRules } from "../rules/types";

/** KV's largest value less our envelope (tiers/kv.ts `KV_MAX_BODY`; cli/ does not import tiers/). */
const KV_MAX_BODY = 25 * 1024 * 1024 - 64 * 1024;
/** A body is counted up to this many bytes, then left unread: past it, no tier limit changes. */
const COUNT_LIMIT = KV_MAX_BODY + 1;
const MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 30_000;

export interface Fetched {
  url: string;
  status: number;
  headers: [string, string][];
  /** Bytes: the declared Content-Length, else what was counted (at most COUNT_LIMIT); null when unknown. */
  size: number | null;
  ms: number;
  /** Set (with status 0) when a redirect's target could not be fetched. */
  error?: string;
}

export interface Storage {
  /** Whether the Worker would keep this answer in some tier. */
  stored: boolean;
  /** Why not, in Cache-Status `detail` words (`set-cookie`, `private`, ...), or the bypass / no-route reason. */
  reason: string | null;
  /** Freshness lifetime and where it came from; null when not stored. */
  lifetime: (Lifetimes & { source: LifetimeSource }) | null;
  /** Seconds each tier keeps the entry; 0 = not there. */
  edge: number;
  kv: number;
  /** Why a tier the route uses does not keep it (size, kv.minHits), if so. */
  tierNotes: string[];
  /** The browser's lifetime: a rule's seconds, or null for the origin's Cache-Control. */
  browser: number | null;
}

export interface AuditResult {
  url: string;
  decision: Decision;
  /** The origin's answer; null when it could not be fetched (`error` says why). */
  origin: Fetched | null;
  error: string | null;
  /** The answers a redirect led to, in order (the first is where `origin` pointed). */
  redirects: Fetched[];
  storage: Storage | null;
  /** Vary's names and how this request's values are matched; null without Vary. */
  vary: { name: string; sent: string | null; matched: string | null }[] | null;
  validators: { etag: string | null; lastModified: string | null };
  /** The conditional GET: its status and ETag, and whether the Worker would take the 304 (§4.3.4). */
  conditional: { status: number; etag: string | null; accepted: boolean } | null;
}

/** Audits `url` under `rules`; `origin` replaces the rules' origin (null: the rules' own). */
export async function auditUrl(rules: CompiledRules, url: URL, client: Headers, origin: string | null = null): Promise<AuditResult> {
  const decision = decide(rules, url, "GET", client);
  const route = decision.route ? rules.routes[decision.route.index]! : null;
  const target = decision.key ? new URL(decision.key.url) : normalizeUrl(url);
  const to = origin === null ? new URL(decision.originUrl) : originUrl(origin, target);
  // Exactly the headers the Worker's origin fetch carries for a cached route; else the client's.
  const sent = route && decision.key ? originRequestHeaders(client, route.key, decision.key.parts.dimensions) : new Headers(client);
  const timeoutMs = route?.originTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const base = { url: url.href, decision, redirects: [], storage: null, vary: null, validators: { etag: null, lastModified: null }, conditional: null };

  let got: { fetched: Fetched; headers: Headers; requestTime: number; responseTime: number };
  try {
    got = await get(to, sent, timeoutMs);
  } catch (e) {
    return { ...base, origin: null, error: fetchError(e, to, timeoutMs) };
  }
  const { headers } = got;
  const result: AuditResult = { ...base, origin: got.fetched, error: null };
  result.redirects = await redirectChain(to, got.fetched, sent, timeoutMs);
  result.validators = { etag: headers.get("etag"), lastModified: headers.get("last-modified") };
  const names = varyNames(headers);
  result.vary = names && names.map((name) => {
    const raw = sent.get(name);
    return { name, sent: raw, matched: raw === null || name === "*" ? null : selectingValue(name, raw) };
  });
  const validators = validatorsOf(headers);
  if (validators.length > 0) {
    const conditional = new Headers(sent);
    for (const [k, v] of validators) conditional.set(k, v);
    try {
      const again = await get(to, conditional, timeoutMs);
      const { status } = again.fetched;
      result.conditional = { status, etag: again.headers.get("etag"), accepted: status === 304 && acceptsNotModified(validators, headers, again.headers) };
    } catch {
      result.conditional = null;
    }
  }
  result.storage = storage(decision, route, got.fetched, headers, client, got);
  return result;
}

/** What the store step would do with the answer (pipeline/store.ts: the verdict, then the plan per tier). */
function storage(decision: Decision, route: CompiledRules["routes"][number] | null, fetched: Fetched, headers: Headers, client: Headers, times: { requestTime: number; responseTime: number }): Storage {
  const none = (reason: string): Storage => ({ stored: false, reason, lifetime: null, edge: 0, kv: 0, tierNotes: [], browser: null });
  if (!route) return none("no-rule");
  if (decision.outcome === "bypass") return none(`bypass: ${decision.bypass!.reason}`);
  const verdict = storeVerdict(route, {
    status: fetched.status,
    headers,
    requestTime: times.requestTime,
    responseTime: times.responseTime,
    authorized: client.has("authorization"),
    request: { headers: client, path: new URL(decision.key!.url).pathname },
  });
  if (!verdict.store) return none(verdict.reason);
  const notes: string[] = [];
  const size = fetched.size;
  let edge = route.tiers.edge ? retentionSeconds(verdict.lifetimes) : 0;
  if (edge > 0 && size !== null && route.maxObjectSize.edge !== null && size > route.maxObjectSize.edge) {
    edge = 0;
    notes.push(`edge: ${size} bytes is over maxObjectSize.edge (${route.maxObjectSize.edge})`);
  }
  let kv = route.tiers.kv ? route.ttl.kv : 0;
  if (kv > 0 && size !== null && size > KV_MAX_BODY) {
    kv = 0;
    notes.push(`kv: ${size >= COUNT_LIMIT ? "over " : ""}${size} bytes is over KV's 25 MiB`);
  } else if (kv > 0 && route.kv.minHits > 1) notes.push(`kv: written on the ${ordinal(route.kv.minHits)} request within its lifetime in one isolate (kv.minHits)`);
  const stored = edge > 0 || kv > 0;
  return {
    stored,
    reason: stored ? null : notes.length > 0 ? "object-too-large" : "no-tier",
    lifetime: { ...verdict.lifetimes, source: verdict.source },
    edge,
    kv,
    tierNotes: notes,
    browser: route.ttl.browser,
  };
}

async function get(url: URL, headers: Headers, timeoutMs: number) {
  const requestTime = Date.now();
  // Node's fetch keeps the socket of a 304 that carries a Content-Length (as RFC 9110
  // §8.6 allows) open, and the command from exiting, until the server drops it: one
  // connection per request instead. Redirects are the client's to follow, as the Worker
  // fetches (http/origin.ts).
  const res = await fetch(url, { headers: withClose(headers), redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  const responseTime = Date.now();
  const counted = await drain(res.body);
  const fetched: Fetched = { url: url.href, status: res.status, headers: [...res.headers], size: declaredLength(res.headers) ?? counted, ms: responseTime - requestTime };
  return { fetched, headers: res.headers, requestTime, responseTime };
}

function withClose(headers: Headers): Headers {
  const out = new Headers(headers);
  out.set("connection", "close");
  return out;
}

/** Reads and drops a body, counting its bytes up to COUNT_LIMIT (never held in memory). */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<number | null> {
  if (!body) return 0;
  const reader = body.getReader();
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return n;
      n += value.byteLength;
      if (n >= COUNT_LIMIT) {
        await reader.cancel();
        return n;
      }
    }
  } catch {
    return null;
  }
}

/** The answers a redirect leads to, to a final answer, a loop or MAX_REDIRECTS. */
async function redirectChain(from: URL, first: Fetched, sent: Headers, timeoutMs: number): Promise<Fetched[]> {
  const chain: Fetched[] = [];
  const seen = new Set([from.href]);
  let at = first;
  // Cookies and credentials are the first host's: not sent on to wherever it points.
  const headers = new Headers(sent);
  for (const name of ["cookie", "authorization"]) headers.delete(name);
  while (chain.length < MAX_REDIRECTS && at.status >= 300 && at.status < 400) {
    const location = new Headers(at.headers).get("location");
    let next: URL;
    try {
      next = new URL(location ?? "", at.url);
    } catch {
      break;
    }
    if (location === null || seen.has(next.href)) break;
    seen.add(next.href);
    try {
      at = (await get(next, headers, timeoutMs)).fetched;
    } catch (e) {
      at = { url: next.href, status: 0, headers: [], size: null, ms: 0, error: fetchError(e, next, timeoutMs) };
    }
    chain.push(at);
  }
  return chain;
}

function fetchError(e: unknown, url: URL, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError") return `no answer from ${url.origin} within ${timeoutMs / 1000} s`;
  const cause = err.cause?.code ?? err.cause?.message ?? err.message;
  return `cannot reach ${url.origin} (${cause})`;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}
