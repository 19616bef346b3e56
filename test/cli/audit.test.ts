import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cli } from "../support/cli";
import { BROKEN_PATH, startNginxSite } from "../support/nginx-site";
import { startOriginServer, type OriginServer } from "../support/origin-server";
import type { RecordedRequest, ScriptedResponse } from "../support/scripted";

let dir: string;
let origin: OriginServer;

const SITE = "https://www.example.com";
const html = { "content-type": "text/html; charset=utf-8" };

/** The scripted origin's edge cases, one path each. */
const SCRIPTS: Record<string, ScriptedResponse[]> = {
  "/assets/app.3f9a2c1b7d.js": [{ headers: { "content-type": "application/javascript", "cache-control": "public, max-age=31536000", etag: '"v1"' } }, { status: 304, headers: { etag: '"v1"' } }],
  "/assets/app.css": [{ headers: { "content-type": "text/css", "cache-control": "public, max-age=86400", etag: '"c1"' } }],
  "/account": [{ headers: { ...html, "set-cookie": ["session=abc; Path=/; HttpOnly", "theme=dark"], "cache-control": "max-age=600" } }],
  "/img/logo.png": [{ headers: { "content-type": "image/png", "cache-control": "private, max-age=0" } }],
  "/ua": [{ headers: { ...html, vary: "User-Agent, Accept-Encoding", "cache-control": "max-age=7200", "last-modified": "Mon, 01 Dec 2025 00:00:00 GMT" } }, { status: 304 }],
  "/by-cookie": [{ headers: { ...html, vary: "Cookie", "cache-control": "max-age=60" } }],
  "/long": [{ headers: { ...html, "cache-control": "max-age=86400" } }],
  "/account/profile.css": [{ headers: { ...html, "cache-control": "max-age=600" } }],
  "/old": [{ status: 301, headers: { location: "/older" } }],
  "/older": [{ status: 302, headers: { location: "/final" } }],
  "/final": [{ headers: { ...html, "cache-control": "max-age=60", etag: '"f"' } }, { status: 304, headers: { etag: '"f"' } }],
  "/plain": [{ headers: { "content-type": "text/plain", "cache-control": "max-age=60", etag: '"p"' } }, { status: 304, headers: { etag: '"p"' } }],
  "/broken": [{ status: 503, headers: { "content-type": "text/plain" } }],
  "/sitemap.xml": [{ headers: { "content-type": "application/xml" }, body: `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{ORIGIN}/pages.xml</loc></sitemap></sitemapindex>` }],
  "/pages.xml": [{ headers: { "content-type": "application/xml" }, body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${SITE}/plain?a=1&amp;b=2</loc></url><url><loc>${SITE}/account</loc></url><url><loc>${SITE}/long</loc></url></urlset>` }],
};

const RULES = (originUrl: string) => ({
  version: 1,
  origin: originUrl,
  routes: [
    { name: "assets", match: { path: "/*.(js|css|png)" }, ttl: { edge: 86400, kv: 604800 }, key: { query: { ignore: ["utm_*"] } } },
    { name: "pages", match: { path: "/*" }, ttl: { edge: 300 } },
  ],
});

async function control(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${origin.url}/__control/${path}`, { method: body === undefined ? "GET" : "POST", body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}
const requestsTo = async (path: string) => ((await control(`requests?path=${encodeURIComponent(path)}`)) as { requests: RecordedRequest[] }).requests;

beforeAll(async () => {
  origin = await startOriginServer();
  dir = await mkdtemp(join(tmpdir(), "edge-cache-audit-"));
  await writeFile(join(dir, "rules.json"), JSON.stringify(RULES(origin.url)));
});
afterAll(async () => {
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await control("reset", {});
  for (const [path, responses] of Object.entries(SCRIPTS)) {
    await control("script", { path, responses: responses.map((r) => (r.body ? { ...r, body: r.body.replaceAll("{ORIGIN}", origin.url) } : r)) });
  }
});

const audit = (args: string[]) => cli(["audit", "--rules", "rules.json", ...args], { cwd: dir });
const urls = (...paths: string[]) => paths.map((p) => `${SITE}${p}`);
/** The lines of one URL's block in the text output. */
const block = (stdout: string, url: string) => stdout.split("\n\n").find((b) => b.startsWith(`GET ${url}\n`)) ?? "";

describe("edge-cache audit", () => {
  it("for each URL: the route, key, stored or not and why, each tier's lifetime, Vary, validators, and the findings, then a table", async () => {
    const run = await audit(urls("/assets/app.3f9a2c1b7d.js", "/account", "/img/logo.png", "/ua", "/by-cookie", "/long", "/account/profile.css", "/old", "/plain"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);

    const js = block(run.stdout, `${SITE}/assets/app.3f9a2c1b7d.js`);
    expect(js).toContain("  route      assets (routes[0])\n");
    expect(js).toContain(`  key        ${SITE}/assets/app.3f9a2c1b7d.js\n`);
    expect(js).toContain(`  origin     ${origin.url}/assets/app.3f9a2c1b7d.js -> 200 application/javascript`);
    // The origin's max-age under the default "fallback" mode; the edge keeps it 60 s past (retentionSeconds); KV the rule's week.
    // The origin's Date has whole seconds: the answer may arrive "already 1 s old" (RFC 9111 §4.2.3 apparent age).
    expect(js).toMatch(/\n  stored {5}yes, fresh 31536000 s \(max-age\)(, already 1 s old)?; edge keeps 315360(59|60) s, kv keeps 604800 s\n/);
    expect(js).toContain('  validators ETag "v1"; conditional GET -> 304, taken\n');
    expect(js).toContain("  warning    fingerprint-not-immutable: ");

    expect(block(run.stdout, `${SITE}/account`)).toContain("  stored     no: set-cookie\n");
    expect(block(run.stdout, `${SITE}/account`)).toContain('set-cookie: answers with Set-Cookie (session, theme) on route "pages", which stores: never stored');
    expect(block(run.stdout, `${SITE}/img/logo.png`)).toContain('asset-not-cacheable: an asset sent with Cache-Control "private, max-age=0" (private, max-age=0): not stored (private)');
    const ua = block(run.stdout, `${SITE}/ua`);
    // Vary's values as the Worker matches them: Accept-Encoding by class.
    expect(ua).toContain("  vary       accept-encoding: gzip, deflate, br -> matched as br; user-agent: edge-cache-audit/0.1\n");
    expect(ua).toContain("  validators Last-Modified Mon, 01 Dec 2025 00:00:00 GMT; conditional GET -> 304, taken\n");
    expect(ua).toContain("vary-user-agent: Vary: User-Agent: one stored copy per browser version, 16 at most (maxVariants)");
    expect(ua).not.toContain("html-no-validators");
    expect(block(run.stdout, `${SITE}/by-cookie`)).toContain("vary-cookie: ");
    expect(block(run.stdout, `${SITE}/long`)).toContain("html-no-validators: a page kept fresh 86400 s with neither ETag nor Last-Modified");
    expect(block(run.stdout, `${SITE}/account/profile.css`)).toContain("  stored     no: deception\n");
    const old = block(run.stdout, `${SITE}/old`);
    expect(old).toContain(`  redirect   -> ${origin.url}/older 302\n  redirect   -> ${origin.url}/final 200\n`);
    expect(old).toContain(`redirect-chain: 2 redirects in a row: 301 ${origin.url}/old -> 302 ${origin.url}/older -> 200 ${origin.url}/final`);
    const plain = block(run.stdout, `${SITE}/plain`);
    expect(plain).toContain("  stored     yes, fresh 60 s (max-age); edge keeps 120 s, kv: no\n");
    expect(plain).not.toContain("warning");

    const table = run.stdout.slice(run.stdout.lastIndexOf("URL "));
    expect(table.split("\n").slice(0, 4)).toEqual([
      expect.stringMatching(/^URL +status +route +stored +findings$/),
      expect.stringMatching(/^https:\/\/www\.example\.com\/assets\/app\.3f9a2c1b7d\.js +200 +assets +edge 365d, kv 7d +fingerprint-not-immutable$/),
      expect.stringMatching(/^https:\/\/www\.example\.com\/account +200 +pages +no: set-cookie +set-cookie$/),
      expect.stringMatching(/^https:\/\/www\.example\.com\/img\/logo\.png +200 +assets +no: private +asset-not-cacheable$/),
    ]);
    expect(table).toMatch(/\/plain +200 +pages +edge 2m +-\n/);
    expect(table).toContain("9 URLs: 6 stored, 3 not stored; 8 warnings (");
  });

  it("sends the origin what the Worker would: the normalized URL, no unkeyed cookie or forwarded host, then one conditional GET", async () => {
    const run = await audit([`${SITE}/assets/app.3f9a2c1b7d.js?utm_source=x`, "-H", "Cookie: _ga=1; other=2", "-H", "X-Forwarded-Host: evil.example"]);
    expect(run.code).toBe(0);
    const seen = await requestsTo("/assets/app.3f9a2c1b7d.js");
    expect(seen.map((r) => [r.method, r.url, r.headers["if-none-match"]])).toEqual([
      ["GET", "/assets/app.3f9a2c1b7d.js", undefined],
      ["GET", "/assets/app.3f9a2c1b7d.js", '"v1"'],
    ]);
    for (const r of seen) {
      expect(r.headers.cookie).toBeUndefined();
      expect(r.headers["x-forwarded-host"]).toBeUndefined();
    }
  });

  it("flags an origin that sends validators but never answers 304, and one that answers 5xx", async () => {
    const run = await audit([...urls("/assets/app.css", "/broken"), "--json"]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    const [css, broken] = out.results;
    expect(css.conditional).toEqual({ status: 200, etag: '"c1"', accepted: false });
    expect(css.findings.map((f: { code: string }) => f.code)).toEqual(["conditional-ignored"]);
    expect(css.findings[0].message).toBe("the origin sends validators but answers If-None-Match with 200, not 304: every revalidation downloads the whole body");
    expect(css.storage).toMatchObject({ stored: true, edge: 86460, kv: 604800, lifetime: { lifetime: 86400, source: "max-age" } });
    expect(broken.storage).toMatchObject({ stored: false, reason: "status" });
    expect(broken.findings.map((f: { code: string }) => f.code)).toEqual(["origin-error"]);
    expect(out.summary).toEqual({ stored: 1, notStored: 1, unreachable: 0, warnings: 2, errors: 0, byCode: { "conditional-ignored": 1, "origin-error": 1 } });
  });

  it("--strict exits 1 when there is a warning; 0 without one", async () => {
    expect((await audit([...urls("/account"), "--strict"])).code).toBe(1);
    expect((await audit(urls("/account"))).code).toBe(0);
    const clean = await audit([...urls("/plain"), "--strict"]);
    expect(clean.stdout).toContain("1 URL: 1 stored, 0 not stored; 0 warnings\n");
    expect(clean.code).toBe(0);
  });

  it("reads --urls FILE and --sitemap (an index, entities decoded) and audits every URL", async () => {
    await writeFile(join(dir, "urls.txt"), `# top pages\n${SITE}/plain\n\nGET ${SITE}/long\n`);
    const fromFile = JSON.parse((await audit(["--urls", "urls.txt", "--json"])).stdout);
    expect(fromFile.results.map((r: { url: string }) => r.url)).toEqual(urls("/plain", "/long"));

    const fromSitemap = await audit(["--sitemap", `${origin.url}/sitemap.xml`, "--json"]);
    expect(fromSitemap.code).toBe(0);
    const out = JSON.parse(fromSitemap.stdout);
    expect(out.results.map((r: { url: string }) => r.url)).toEqual(urls("/plain?a=1&b=2", "/account", "/long"));
    expect((await requestsTo("/plain")).map((r) => r.url)).toContain("/plain?a=1&b=2");
    expect(JSON.parse((await audit(["--sitemap", `${origin.url}/sitemap.xml`, "--limit", "1", "--json"])).stdout).audited).toBe(1);
  });

  it("an origin it cannot reach is an error (exit 1) that says what to do", async () => {
    const closed = await startOriginServer();
    await closed.close();
    const run = await audit([...urls("/plain"), "--origin", closed.url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`  error      unreachable: cannot reach ${closed.url} (ECONNREFUSED)\n`);
    expect(run.stdout).toContain("fix: check the URL and that the origin answers from here");
    expect(run.stdout).toContain("1 URL: 0 stored, 0 not stored, 1 unreachable; 0 warnings, 1 error (unreachable 1)\n");
  });

  it("refuses a command line without exactly one source of URLs, and an invalid rules file", async () => {
    expect((await audit([])).stderr).toContain("error: name the URLs to audit, a --urls FILE or a --sitemap URL");
    expect((await audit([...urls("/plain"), "--urls", "urls.txt"])).code).toBe(2);
    expect((await audit(["/plain"])).stderr).toContain("a URL must be an absolute URL such as https://www.example.com/");
    await writeFile(join(dir, "bad.json"), '{"version": 1, "routes": [{"name": "x"}]}');
    const bad = await cli(["audit", "--rules", "bad.json", ...urls("/plain")], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad.json: invalid");
    expect(await requestsTo("/plain")).toEqual([]);
  });

  it("on the nginx fixture site (test/support/nginx-site.ts), with the rules the real-site tests use", async () => {
    const site = await startNginxSite();
    try {
      await writeFile(
        join(dir, "nginx.json"),
        JSON.stringify({
          version: 1,
          origin: site.url,
          routes: [
            { name: "assets", match: { path: "/*.(css|js|svg|png|jpg|ico|woff|woff2|ttf|eot)", methods: ["GET", "HEAD"] }, ttl: { edge: 31536000, kv: 31536000 } },
            { name: "pages", match: { path: "/*" }, ttl: { edge: 300 }, status: { "404": 60, "5xx": 0 } },
          ],
        }),
      );
      const assets = ["/css/sb-admin-2.min.css", "/vendor/fontawesome-free/webfonts/fa-solid-900.woff2"];
      await writeFile(join(dir, "nginx-urls.txt"), [...site.pages, ...assets, "/missing.html", BROKEN_PATH].map((p) => `${SITE}${p}`).join("\n"));
      const run = await cli(["audit", "--rules", "nginx.json", "--urls", "nginx-urls.txt", "--json"], { cwd: dir });
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout);
      const at = (path: string) => out.results.find((r: { url: string }) => r.url === `${SITE}${path}`);
      const codes = (path: string) => at(path).findings.map((f: { code: string }) => f.code);

      // nginx's `expires 1y` is a max-age the fallback mode takes; its ETag and Last-Modified get a 304 the cache takes.
      expect(at(assets[0]!)).toMatchObject({ storage: { stored: true, kv: 31536000, lifetime: { lifetime: 31536000, source: "max-age" } }, conditional: { status: 304, accepted: true } });
      // Its retention: the lifetime plus the stale window, less the second nginx's Date may already be old.
      expect([31536059, 31536060]).toContain(at(assets[0]!).storage.edge);
      expect(at(assets[0]!).vary).toEqual([{ name: "accept-encoding", sent: "gzip, deflate, br", matched: "br" }]);
      // A font nginx does not compress: no Vary.
      expect(at(assets[1]!)).toMatchObject({ vary: null, storage: { stored: true }, findings: [] });
      // Pages: the rule's 300 s. On-the-fly gzip weakens the 200's ETag (W/"...") but not the 304's: the cache
      // takes that 304 for the encoded answer it weakened (policy/not-modified.ts), so no warning.
      const index = at("/index.html");
      expect(index.storage).toMatchObject({ stored: true, edge: 360, kv: 0, lifetime: { lifetime: 300, source: "rule" } });
      expect(index.validators.etag).toMatch(/^W\//);
      expect(index.conditional).toEqual({ status: 304, etag: index.validators.etag.slice(2), accepted: true });
      expect(codes("/index.html")).toEqual([]);
      // The error page: 60 s (status["404"]); its ignored conditionals are as HTTP says (RFC 9110 §13.2.1), no warning.
      expect(at("/missing.html")).toMatchObject({ origin: { status: 404 }, storage: { stored: true, lifetime: { lifetime: 60, source: "status-rule" } }, findings: [] });
      expect(at(BROKEN_PATH)).toMatchObject({ origin: { status: 500 }, storage: { stored: false, reason: "ttl-zero" } });
      expect(codes(BROKEN_PATH)).toEqual(["origin-error"]);
      expect(out.summary).toMatchObject({ stored: site.pages.length + 3, notStored: 1, unreachable: 0 });
    } finally {
      await site.close();
    }
  });
});
