/**
 * The Worker behind bench/pieces.ts. `GET /?op=NAME&n=N` runs one piece of a hit N
 * times inside one request, so workerd's CPU time divided by N is what the piece
 * costs; `GET /?op=log` and `GET /?op=quiet` are whole requests, one that writes a log
 * line and one that does not. Each piece is called as the pipeline calls it, on a
 * route and an entry like the benchmark's KV hit.
 */
import { adminPath } from "../src/admin/prefix";
import { systemClock, within } from "../src/clock";
import { inspectRequest } from "../src/http/incoming";
import { deliverFromEntry } from "../src/pipeline/deliver";
import { bypassVerdict } from "../src/policy/bypass";
import { buildCacheKey, normalizeUrl } from "../src/policy/cache-key";
import { freshness } from "../src/policy/freshness";
import { matchRoute } from "../src/rules/match";
import { parseRulesText } from "../src/rules/parse";
import { createIsolateStats } from "../src/stats/recorder";
import type { ResponseMeta } from "../src/tiers/entry";
import { storageKey } from "../src/tiers/two-tier";
import rulesFile from "./rules.bench.json";

const compiled = parseRulesText(JSON.stringify({ ...rulesFile, origin: "http://127.0.0.1:9" })).rules;
if (!compiled) throw new Error("bench/rules.bench.json is invalid");
const rules = compiled;
const target = new URL("http://127.0.0.1:8787/kv/12?c=edge-cache");
const route = matchRoute(rules, target, "GET").route!;
const stats = createIsolateStats({ now: () => Date.now(), log: () => {} });

/** An entry as the KV tier returns it for the bench origin's page. */
const meta: ResponseMeta = {
  v: 1,
  kind: "response",
  key: target.href,
  route: route.name,
  tags: [],
  status: 200,
  storedAt: Date.now(),
  requestedAt: Date.now(),
  size: 8192,
  headers: [
    ["cache-control", "public, max-age=3600"],
    ["content-length", "8192"],
    ["content-type", "text/html; charset=utf-8"],
    ["date", new Date().toUTCString()],
  ],
  lifetimes: { lifetime: 3600, initialAge: 0, staleWhileRevalidate: 60, staleIfError: 86400, mustRevalidate: false },
} as ResponseMeta;

const LINE = {
  msg: "request",
  method: "GET",
  url: target.pathname,
  route: route.name,
  status: 200,
  cacheStatus: "edge-cache; hit; ttl=3599; detail=kv",
  tier: "kv",
  originStatus: null,
  timings: { kv: 1 },
  bytes: 8192,
  ms: 1,
};

const SEVEN_FIELDS: [string, string][] = [...meta.headers, ["age", "3"], ["accept-ranges", "bytes"], ["cache-status", LINE.cacheStatus]];

/** Each piece, given the request (its headers are what a client sent). Returns something, so nothing is optimized away. */
const PIECES: Record<string, (request: Request) => unknown> = {
  "url parse": (r) => new URL(r.url),
  "admin path check": () => adminPath(target.pathname),
  "request size check": (r) => inspectRequest(r),
  "normalize url": () => normalizeUrl(target),
  "match route": () => matchRoute(rules, target, "GET").route,
  "bypass rules": (r) => bypassVerdict(route, "GET", target, r.headers, target.pathname),
  "cache key": (r) => buildCacheKey(target, r.headers, route.key, undefined),
  "storage name": () => storageKey(target.href, target.host),
  freshness: () => freshness(meta.lifetimes, meta.storedAt, Date.now()),
  "deliver (stored fields to Response)": (r) =>
    deliverFromEntry(meta, null, 3, { method: "GET", requestHeaders: r.headers, acceptEncoding: r.headers.get("accept-encoding"), status: { hit: true, ttl: 3599, detail: "kv" }, browserTtl: null }),
  "Response, 7 fields as pairs": () => new Response(null, { headers: SEVEN_FIELDS }),
  "Response, 7 fields as a record": () => new Response(null, { headers: Object.fromEntries(SEVEN_FIELDS) }),
  "statistics (observe)": () => stats.observe(LINE as never, target, route),
  "log line JSON": () => JSON.stringify(LINE),
  "timer (set and clear)": () => within(systemClock, 1500, Promise.resolve(1), 0),
};

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const op = url.searchParams.get("op") ?? "";
    if (op === "list") return Response.json(Object.keys(PIECES));
    if (op === "quiet") return new Response("ok");
    if (op === "log") {
      console.log(JSON.stringify(LINE));
      return new Response("ok");
    }
    const piece = PIECES[op];
    if (!piece) return new Response(`unknown op ${op}\n`, { status: 404 });
    const n = Number(url.searchParams.get("n") ?? "1000");
    const kept: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const out = piece(request);
      // Promises (the timer, the storage name) are awaited, as the pipeline does.
      kept[i & 15] = out instanceof Promise ? await out : out;
    }
    return new Response(String(kept.length));
  },
};
