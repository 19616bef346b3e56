/**
 * The cache between real software: nginx serving a real static site as a site would
 * configure it (test/support/nginx-site.ts: gzip on the fly with Vary, gzip_static,
 * ETags, ranges, expires, error_page, a 500), `npm start` in front of it, and Chromium
 * (Debian's, through playwright-core, which downloads nothing) and a crawler as the
 * clients. What they get through the cache is compared with what nginx gives the
 * same client directly, byte for byte; nginx's access log counts what reached it.
 * Hosts other than 127.0.0.1 (the site links Google Fonts and Unsplash) fail at once
 * in the browser, with and without the cache alike: nothing leaves the machine.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWithRules, type Local } from "../support/local-server";
import { BROKEN_PATH, GZIP_TYPES, PRECOMPRESSED, RANGE_ASSETS, RANGE_PAGE, startNginxSite, type NginxSite, type RangeResult } from "../support/nginx-site";

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

// What a site would write: assets for a year (nginx's `expires 1y` decides, the rule's
// TTL is the fallback), pages for five minutes, errors not kept.
const RULES = {
  version: 1,
  routes: [
    { name: "assets", match: { path: "/*.(css|js|svg|png|jpg|ico|woff|woff2|ttf|eot)", methods: ["GET", "HEAD"] }, ttl: { edge: 31536000, kv: 31536000 } },
    { name: "pages", match: { path: "/*" }, ttl: { edge: 300 }, status: { "404": 60, "5xx": 0 } },
  ],
};

// Pages a reader reloads: charts and images, a data table, a form, the error page.
const RELOADED = ["/index.html", "/charts.html", "/tables.html", "/login.html", "/404.html"];

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex").slice(0, 16);
const isHit = (cacheStatus: string | undefined) => /(^|,)\s*edge-cache;\s*hit\b/.test(cacheStatus ?? "");

// ---- the browser, seen through the DevTools protocol ----

interface Seen {
  url: string;
  method: string;
  /** The request's headers as sent on the wire (conditionals, Range, Accept-Encoding). */
  sent: Record<string, string>;
  /** The status and headers as received from the network; absent when the browser's cache answered. */
  wire?: { status: number; headers: Record<string, string> };
  fromBrowserCache: boolean;
  body?: string;
  failed?: string;
}

interface Visit {
  seen: Seen[];
  consoleErrors: string[];
}

const lower = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));

/** Every http request the page makes while `load` runs and until the network is quiet, with its body's hash. */
async function recording(page: Page, load: () => Promise<unknown>): Promise<Seen[]> {
  const session = await page.context().newCDPSession(page);
  const seen = new Map<string, Seen>();
  const pending = new Set<Promise<unknown>>();
  let inflight = 0;
  session.on("Network.requestWillBeSent", (e) => {
    if (!/^https?:/.test(e.request.url)) return;
    const earlier = seen.get(e.requestId);
    seen.set(e.requestId, { url: e.request.url, method: e.request.method, sent: earlier?.sent ?? lower(e.request.headers), fromBrowserCache: false });
    inflight++;
  });
  session.on("Network.requestWillBeSentExtraInfo", (e) => {
    const s = seen.get(e.requestId);
    if (s) s.sent = lower(e.headers);
    // The extra info can come first: keep it for the request to come.
    else seen.set(e.requestId, { url: "", method: "", sent: lower(e.headers), fromBrowserCache: false });
  });
  session.on("Network.requestServedFromCache", (e) => {
    const s = seen.get(e.requestId);
    if (s) s.fromBrowserCache = true;
  });
  session.on("Network.responseReceivedExtraInfo", (e) => {
    const s = seen.get(e.requestId);
    if (s) s.wire = { status: e.statusCode, headers: lower(e.headers) };
  });
  session.on("Network.responseReceived", (e) => {
    const s = seen.get(e.requestId);
    if (s && (e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker)) s.fromBrowserCache = true;
  });
  const done = () => inflight--;
  session.on("Network.loadingFinished", (e) => {
    const s = seen.get(e.requestId);
    if (!s?.url) return;
    const p = session
      .send("Network.getResponseBody", { requestId: e.requestId })
      .then((r) => (s.body = sha(Buffer.from(r.body, r.base64Encoded ? "base64" : "utf8"))))
      .catch((err: Error) => (s.failed = `body unreadable: ${err.message}`))
      .finally(() => pending.delete(p));
    pending.add(p);
    done();
  });
  session.on("Network.loadingFailed", (e) => {
    const s = seen.get(e.requestId);
    if (!s?.url) return;
    s.failed = e.errorText;
    done();
  });
  await session.send("Network.enable");
  await load();
  // Quiet for 150 ms, and every body read (a page's last font can start after `load`).
  const until = Date.now() + 15_000;
  let quiet = 0;
  while (Date.now() < until && quiet < 3) {
    await new Promise((r) => setTimeout(r, 50));
    quiet = inflight <= 0 && pending.size === 0 ? quiet + 1 : 0;
  }
  await Promise.all(pending);
  await session.detach();
  return [...seen.values()].filter((s) => s.url);
}

/** Opens every page in one tab of `context`, as a reader clicking through; with `reload`, records only the reload of each. */
async function visit(context: BrowserContext, base: string, pages: string[], options: { reload?: boolean } = {}): Promise<Visit> {
  const page: Page = await context.newPage();
  const consoleErrors: string[] = [];
  const site = (text: string) => text.split(base).join("SITE");
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(site(`${m.text()} @ ${m.location().url}`)));
  page.on("pageerror", (e) => consoleErrors.push(site(e.message)));
  const seen: Seen[] = [];
  for (const p of pages) {
    const url = `${base}${p}`;
    const load = options.reload ? () => page.reload({ waitUntil: "load" }) : () => page.goto(url, { waitUntil: "load" });
    if (options.reload) await recording(page, () => page.goto(url, { waitUntil: "load" }));
    for (const s of await recording(page, load)) seen.push({ ...s, url: site(s.url) });
  }
  await page.close();
  return { seen, consoleErrors };
}

const sameSite = (s: Seen) => s.url.startsWith("SITE");
const onNetwork = (s: Seen) => sameSite(s) && !s.fromBrowserCache && s.wire !== undefined;
const failures = (v: Visit) => v.seen.filter((s) => s.failed).map((s) => `${s.url} ${s.failed}`).sort();
const requested = (v: Visit) => [...new Set(v.seen.map((s) => s.url))].sort();

/** Every resource (Range requests aside: the range test checks those) whose bytes differ from the direct load's. */
function differences(direct: Visit, through: Visit): string[] {
  const want = new Map<string, string>();
  for (const s of direct.seen) if (s.body && !s.sent.range) want.set(s.url, s.body);
  return through.seen
    .filter((s) => s.body && !s.sent.range && want.get(s.url) !== s.body)
    .map((s) => `${s.url}: ${s.body} through the cache, ${want.get(s.url) ?? "nothing"} from nginx`);
}

// ---- the crawler ----

interface Raw {
  status: number;
  headers: Record<string, string>;
  raw: Buffer;
}

const agent = new Agent({ headersTimeout: 15_000, bodyTimeout: 15_000, connections: 8 });

/** One request, body as received (undici decodes nothing), or the error as text. */
async function raw(url: string, headers: Record<string, string>): Promise<Raw | string> {
  try {
    const res = await request(url, { headers, dispatcher: agent });
    const raw = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: lower(res.headers as Record<string, unknown>), raw };
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

function decode(r: Raw): Buffer {
  const coding = r.headers["content-encoding"] ?? "identity";
  if (coding === "gzip" || coding === "x-gzip") return gunzipSync(r.raw);
  if (coding === "br") return brotliDecompressSync(r.raw);
  if (coding === "deflate") return inflateSync(r.raw);
  return r.raw;
}

/** Every same-site link of the site's pages and style sheets, from nginx (the reference), as paths. */
async function crawl(origin: string, pages: string[]): Promise<string[]> {
  const found = new Set<string>(pages);
  const queue = [...pages];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const r = await raw(`${origin}${p}`, {});
    if (typeof r === "string" || r.status !== 200) continue;
    const type = r.headers["content-type"] ?? "";
    const text = r.raw.toString("utf8");
    const refs = type.startsWith("text/html")
      ? [...text.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]!)
      : type.startsWith("text/css")
        ? [...text.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)].map((m) => m[1]!)
        : [];
    for (const ref of refs) {
      if (/^(#|data:|javascript:|mailto:)/.test(ref)) continue;
      const u = new URL(ref, `${origin}${p}`);
      if (u.origin !== origin) continue;
      const path = u.pathname;
      if (!found.has(path)) {
        found.add(path);
        queue.push(path);
      }
    }
  }
  return [...found].sort();
}

async function pool<T>(items: T[], width: number, each: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: width }, async () => {
    while (queue.length > 0) await each(queue.shift()!);
  }));
}

// The clients a crawl plays: a gzip-only client reading raw bytes, a browser-like one,
// one that refuses codings (RFC 9110 §12.5.3 `identity`), and one that says nothing.
const CLIENTS: { name: string; headers: Record<string, string> }[] = [
  { name: "gzip", headers: { "accept-encoding": "gzip" } },
  { name: "browser", headers: { "accept-encoding": "gzip, deflate, br" } },
  { name: "identity", headers: { "accept-encoding": "identity" } },
  { name: "none", headers: {} },
];

const opaque = (etag: string | undefined) => etag?.replace(/^W\//, "");
const acceptsGzip = (acceptEncoding: string | undefined) => /\bgzip\b/.test(acceptEncoding ?? "");

// What wrangler dev (so `npm start`, never the Worker on Cloudflare) does between the
// Worker and the client, found by this test; neither is the cache's doing:
// - its ProxyWorker runs every text/html answer through HTMLRewriter (to add a live
//   reload script, also when that is off), so HTML reaches the client decoded and
//   encoded again: the same content, other gzip bytes, no Content-Length;
// - Miniflare's entry worker plays Cloudflare's front line (`ensureAcceptableEncoding`):
//   it gzips an identity answer of a compressible type for a client that accepts gzip,
//   and gives an answer without Content-Type (every 304) `Content-Encoding: gzip`.
const REENCODED_BY_DEV_SERVER = "text/html";
const devServerCoding304 = (acceptEncoding: string | undefined) => (acceptsGzip(acceptEncoding) ? "gzip" : undefined);
const compressedByDevServer = (want: Raw, got: Raw, acceptEncoding: string | undefined) =>
  !want.headers["content-encoding"] && got.headers["content-encoding"] === "gzip" && acceptsGzip(acceptEncoding) && GZIP_TYPES.includes(want.headers["content-type"] ?? "");

/**
 * What differs between nginx's answer and the cache's to the same client, in words.
 * `etags` are the ETags nginx gives this URL (to any client): a cache that decodes or
 * encodes a body itself may send the weak form of one of them (RFC 9110 §8.8.1: a
 * strong validator names one exact representation, content-coding included).
 */
function compare(what: string, want: Raw | string, got: Raw | string, client: Record<string, string> = {}, etags: (string | undefined)[] = []): string[] {
  if (typeof want === "string") return [`${what}: nginx failed: ${want}`];
  if (typeof got === "string") return [`${what}: ${got}`];
  const out: string[] = [];
  const same = (field: string) => (got.headers[field] ?? "") === (want.headers[field] ?? "") || out.push(`${what}: ${field} "${got.headers[field] ?? ""}", nginx "${want.headers[field] ?? ""}"`);
  const devServer = compressedByDevServer(want, got, client["accept-encoding"]);
  if (got.status !== want.status) out.push(`${what}: status ${got.status}, nginx ${want.status}`);
  for (const f of ["content-type", "last-modified", ...(devServer ? [] : ["content-encoding"])]) same(f);
  const etag = got.headers.etag;
  const weakened = etag?.startsWith("W/") && [want.headers.etag, ...etags].some((e) => e && opaque(e) === opaque(etag));
  if (etag !== want.headers.etag && !weakened) out.push(`${what}: etag ${etag}, nginx ${want.headers.etag} (and ${[...new Set(etags)].join(" ")} to other clients)`);
  const length = got.headers["content-length"];
  if (length !== undefined && Number(length) !== got.raw.length) out.push(`${what}: Content-Length ${length}, ${got.raw.length} bytes received`);
  let decoded: Buffer | undefined;
  try {
    decoded = decode(got);
  } catch (e) {
    out.push(`${what}: does not decode as ${got.headers["content-encoding"]}: ${(e as Error).message}`);
  }
  if (decoded && sha(decoded) !== sha(decode(want))) out.push(`${what}: decoded ${decoded.length} bytes differ from nginx's ${decode(want).length}`);
  const reencoded = devServer || (got.headers["content-type"]?.startsWith(REENCODED_BY_DEV_SERVER) && got.headers["content-encoding"]);
  if (!reencoded && sha(got.raw) !== sha(want.raw)) out.push(`${what}: raw ${got.raw.length} bytes (${got.headers["content-encoding"] ?? "identity"}) differ from nginx's ${want.raw.length}`);
  return out;
}

describe("a real site: nginx as the origin, Chromium and a crawler as the clients", () => {
  let nginx: NginxSite | undefined;
  let local: Local | undefined;
  let browser: Browser | undefined;
  let base = "";
  let direct: Visit;
  // A fresh context is a new visitor: an empty browser cache.
  const context = () => browser!.newContext();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (.ci/run does it), or set CHROMIUM_PATH`);
    nginx = await startNginxSite();
    // A site of its own: the coordinator (rules seed, statistics) is this run's alone.
    // The direct load, the reference, while npm start builds and starts.
    const site = nginx;
    [local] = await Promise.all([
      startWithRules(site.url, RULES, { env: { SITE_NAME: `real-site-${RUN}` } }),
      (async () => {
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
        direct = await visit(await context(), site.url, site.pages);
      })(),
    ]);
    base = local.base;
  });
  afterAll(async () => {
    await browser?.close();
    await local?.close();
    await nginx?.close();
    await agent.close();
  });

  it("Chromium gets every resource as it gets it from nginx: the same bytes, no new errors or failed requests", async () => {
    const first = await visit(await context(), base, nginx!.pages);
    expect(requested(first)).toEqual(requested(direct));
    expect(differences(direct, first)).toEqual([]);
    expect(failures(first)).toEqual(failures(direct));
    expect(first.consoleErrors).toEqual(direct.consoleErrors);
    // The site is what we meant to test: its fonts, images and pre-compressed assets were all loaded.
    expect(requested(first)).toEqual(expect.arrayContaining([...PRECOMPRESSED, "/vendor/fontawesome-free/webfonts/fa-solid-900.woff2"].map((p) => `SITE${p}`)));
  });

  it("a second visit, in a fresh browser context, is answered from the cache: >= 95 % hits, nginx barely asked", async () => {
    const before = (await nginx!.accessLog()).length;
    const second = await visit(await context(), base, nginx!.pages);
    const asked = (await nginx!.accessLog()).length - before;
    const gets = second.seen.filter((s) => onNetwork(s) && s.method === "GET");
    const hits = gets.filter((s) => isHit(s.wire!.headers["cache-status"]));
    console.log(`real-site: second visit ${hits.length}/${gets.length} GETs hit (${((100 * hits.length) / gets.length).toFixed(1)} %), nginx got ${asked} requests`);
    expect(gets.length).toBeGreaterThan(nginx!.pages.length);
    const others = gets.filter((s) => !isHit(s.wire!.headers["cache-status"])).map((s) => `${s.url} ${s.wire!.status} ${s.wire!.headers["cache-status"]}`);
    expect(hits.length / gets.length, `not from the cache: ${others.join(", ")}`).toBeGreaterThanOrEqual(0.95);
    expect(asked).toBeLessThanOrEqual(Math.floor(0.05 * gets.length));
    expect(differences(direct, second)).toEqual([]);
    expect(failures(second)).toEqual(failures(direct));
  });

  it("a reload's conditional requests get 304s from the cache, with the validators of what the browser holds", async () => {
    const before = (await nginx!.accessLog()).length;
    const reload = await visit(await context(), base, RELOADED, { reload: true });
    const asked = (await nginx!.accessLog()).length - before;
    const conditional = reload.seen.filter((s) => onNetwork(s) && (s.sent["if-none-match"] || s.sent["if-modified-since"]));
    const wrong = conditional.flatMap((s) => {
      const h = s.wire!.headers;
      const out: string[] = [];
      if (s.wire!.status !== 304) out.push(`${s.url}: ${s.wire!.status}, not 304`);
      if (s.sent["if-none-match"] && h.etag !== s.sent["if-none-match"]) out.push(`${s.url}: ETag ${h.etag} for If-None-Match ${s.sent["if-none-match"]}`);
      if (!isHit(h["cache-status"])) out.push(`${s.url}: Cache-Status ${h["cache-status"]}`);
      // RFC 9110 §15.4.5: a 304 carries no representation metadata beyond the listed fields (nginx's carry none).
      if (h["content-encoding"] !== devServerCoding304(s.sent["accept-encoding"])) out.push(`${s.url}: 304 with Content-Encoding ${h["content-encoding"]}`);
      return out;
    });
    console.log(`real-site: reload sent ${conditional.length} conditional requests, ${conditional.filter((s) => s.wire!.status === 304).length} got 304; nginx got ${asked} requests`);
    // Every page's document at least: Chromium revalidates what it reloads.
    expect(conditional.length).toBeGreaterThanOrEqual(RELOADED.length);
    expect(wrong).toEqual([]);
    expect(asked).toBe(0);
    expect(differences(direct, reload)).toEqual([]);
  });

  it("a page that fetches byte ranges gets the right bytes through the cache, cold and warm", async () => {
    const ranges = async (url: string): Promise<RangeResult[] | string> => {
      const page = await (await context()).newPage();
      await page.goto(url);
      await page.waitForFunction(() => document.title !== "pending", undefined, { timeout: 15_000 });
      const title = await page.title();
      await page.close();
      return title.startsWith("[") ? (JSON.parse(title) as RangeResult[]) : title;
    };
    const want = await ranges(`${nginx!.url}${RANGE_PAGE}`);
    expect(want).toHaveLength(RANGE_ASSETS.length * 2);
    expect(want).toEqual(RANGE_ASSETS.flatMap((url) => [expect.objectContaining({ url, status: 206, same: true }), expect.objectContaining({ url, status: 206, same: true })]));
    const url = `${base}${RANGE_PAGE}?ranges=${RUN}`;
    // Chromium asks ranges with `Accept-Encoding: identity`. The font is stored as nginx
    // sent it: 206s, cold and then from the stored entry. The script is stored gzip and
    // decoded for this client, where the whole content is a valid answer (RFC 9110 §14.2).
    for (const got of [await ranges(url), await ranges(url)]) {
      expect(got).toEqual((want as RangeResult[]).map((w) => (w.url === RANGE_ASSETS[0] ? w : expect.objectContaining({ url: w.url, range: w.range, same: true }))));
    }
  });

  it("a crawl of every link, twice, through the cache: each client gets nginx's bytes, raw and decoded; the second crawl all hits", async () => {
    const started = Date.now();
    const paths = await crawl(nginx!.url, nginx!.pages);
    // A query of the crawl's own: its keys start cold whatever the browser stored.
    const q = `?crawl=${RUN}`;
    const reference = new Map<string, Raw | string>();
    await pool(paths, 4, async (p) => {
      for (const c of CLIENTS) reference.set(`${p} ${c.name}`, await raw(`${nginx!.url}${p}`, c.headers));
    });
    const problems: string[] = [];
    const notHit: string[] = [];
    const asked: number[] = [];
    let bytes = 0;
    for (const pass of [1, 2]) {
      const before = (await nginx!.accessLog()).length;
      await pool(paths, 4, async (p) => {
        for (const c of CLIENTS) {
          const got = await raw(`${base}${p}${q}`, c.headers);
          const etags = CLIENTS.map((o) => reference.get(`${p} ${o.name}`)).map((r) => (typeof r === "string" ? undefined : r?.headers.etag));
          problems.push(...compare(`pass ${pass} ${p} (${c.name})`, reference.get(`${p} ${c.name}`)!, got, c.headers, etags));
          if (typeof got !== "string") bytes += got.raw.length;
          if (pass === 2 && (typeof got === "string" || !isHit(got.headers["cache-status"]))) notHit.push(`${p} (${c.name}) ${typeof got === "string" ? got : got.headers["cache-status"]}`);
        }
      });
      asked.push((await nginx!.accessLog()).length - before);
    }
    // A client that reads bodies the way applications do: Node's fetch, which decodes.
    await pool(paths, 4, async (p) => {
      const [want, got] = await Promise.all([fetch(`${nginx!.url}${p}`), fetch(`${base}${p}${q}`)]);
      const [w, g] = [Buffer.from(await want.arrayBuffer()), Buffer.from(await got.arrayBuffer())];
      if (sha(w) !== sha(g)) problems.push(`fetch ${p}: ${g.length} bytes decoded, nginx ${w.length}`);
    }).catch((e: Error) => problems.push(`fetch: ${e.message}`));
    console.log(`real-site: crawl of ${paths.length} URLs x ${CLIENTS.length} clients, twice: ${(bytes / 1e6).toFixed(1)} MB through the cache in ${((Date.now() - started) / 1000).toFixed(1)} s; nginx got ${asked.join(" then ")} requests`);
    expect(paths.length).toBeGreaterThan(40);
    expect(problems).toEqual([]);
    expect(notHit).toEqual([]);
    expect(asked[1]).toBe(0);
  });

  it("304s to a crawler's conditional requests: no body, the 200's ETag, no Content-Encoding of the Worker's (RFC 9110 §15.4.5)", async () => {
    const problems: string[] = [];
    for (const p of ["/index.html", ...PRECOMPRESSED, RANGE_ASSETS[0]!]) {
      for (const c of CLIENTS) {
        const url = `${base}${p}?conditional=${RUN}`;
        // The validators nginx gives this client, and the cache's 200 first (so it holds the entry).
        const [origin, first] = await Promise.all([raw(`${nginx!.url}${p}`, c.headers), raw(url, c.headers)]);
        if (typeof origin === "string" || typeof first === "string") {
          problems.push(`${p} (${c.name}): ${typeof first === "string" ? first : `nginx failed: ${origin}`}`);
          continue;
        }
        for (const [name, value] of [["if-none-match", first.headers.etag], ["if-modified-since", origin.headers["last-modified"]]] as const) {
          const what = `${p} (${c.name}, ${name}: ${value})`;
          const [want, got] = await Promise.all([raw(`${nginx!.url}${p}`, { ...c.headers, [name]: value! }), raw(url, { ...c.headers, [name]: value! })]);
          if (typeof want === "string" || typeof got === "string") {
            problems.push(`${what}: ${typeof got === "string" ? got : `nginx failed: ${want}`}`);
            continue;
          }
          if (got.status !== 304) problems.push(`${what}: ${got.status}, not 304 (nginx: ${want.status})`);
          if (got.raw.length > 0) problems.push(`${what}: ${got.raw.length} bytes of body`);
          if (got.headers["content-encoding"] !== devServerCoding304(c.headers["accept-encoding"])) {
            problems.push(`${what}: 304 with Content-Encoding ${got.headers["content-encoding"]}; nginx's ${want.status} has "${want.headers["content-encoding"] ?? ""}"`);
          }
          if (got.headers.etag !== first.headers.etag) problems.push(`${what}: 304 with ETag ${got.headers.etag}, the 200's ${first.headers.etag}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("the 500 location and the error_page answer as nginx's do, and a URL that keeps failing does not take the site down", async () => {
    const [want500, want404, wantPage] = await Promise.all([raw(`${nginx!.url}${BROKEN_PATH}`, {}), raw(`${nginx!.url}/no-such-page`, {}), raw(`${nginx!.url}/blank.html`, {})]);
    for (let i = 0; i < 6; i++) expect(compare(`${BROKEN_PATH} #${i + 1}`, want500, await raw(`${base}${BROKEN_PATH}?${RUN}`, {}))).toEqual([]);
    // Another uncached URL right after: the origin answered every time, it is up (issue 20).
    const after = await raw(`${base}/blank.html?after-broken=${RUN}`, {});
    expect(compare("/blank.html after the 500s", wantPage, after, {}, [typeof wantPage !== "string" ? wantPage.headers.etag : undefined])).toEqual([]);
    expect(typeof after !== "string" && after.headers["cache-status"]).toMatch(/fwd=uri-miss/);
    for (const pass of ["miss", "hit"]) {
      const got = await raw(`${base}/no-such-page?${RUN}`, {});
      expect(compare(`/no-such-page (${pass})`, want404, got)).toEqual([]);
      if (pass === "hit") expect(typeof got !== "string" && isHit(got.headers["cache-status"])).toBe(true);
    }
  });
});
