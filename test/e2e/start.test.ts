/**
 * `npm start` as a user runs it: a real npm, tsx, wrangler dev and workerd, driven over
 * HTTP with undici. Wrangler's local state persists between runs (that is the point of
 * it), so every URL here carries a per-run query string to start from a miss.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, npmStart, ROOT, startWithRules, stop, untilRunning, type Local, type Started } from "../support/local-server";

const RUN = `run=${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

const cacheStatus = (r: { headers: Record<string, unknown> }) => String(r.headers["cache-status"] ?? "");

describe("npm start (demo)", () => {
  let s: Started | undefined;
  let base = "";

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    s = npmStart(["--port", String(port), "--admin-token", "flag-token-0123456789abcdef0123456789"]);
    await untilRunning(s);
  });
  afterAll(() => stop(s));

  it("prints where it runs and what to try", () => {
    expect(s!.output()).toContain(`edge-cache is running at ${base}`);
    expect(s!.output()).toContain(`curl -si ${base}/assets/app.js`);
  });

  it("serves an asset from the origin once, then from the cache", async () => {
    const first = await get(`${base}/assets/app.js?${RUN}`);
    const second = await get(`${base}/assets/app.js?${RUN}`);
    expect(first.status).toBe(200);
    expect(cacheStatus(first)).toContain("fwd=uri-miss");
    expect(cacheStatus(first)).toContain("stored");
    // A hit, or (when the first answer's store was still running) a collapsed read of it.
    expect(cacheStatus(second)).toMatch(/\bhit\b|\bcollapsed\b/);
    // The demo body carries the origin's request count: the same body means one origin hit.
    expect(first.body).toMatch(/origin request #\d+/);
    expect(second.body).toBe(first.body);
  });

  it("never serves the cookie-setting page from the cache", async () => {
    const first = await get(`${base}/account?${RUN}`);
    const second = await get(`${base}/account?${RUN}`);
    expect(first.headers["set-cookie"]).toBeDefined();
    expect(cacheStatus(first)).not.toMatch(/\bhit\b/);
    expect(cacheStatus(second)).not.toMatch(/\bhit\b/);
    expect(second.body).not.toBe(first.body);
  });

  it("gives the Worker the admin token from --admin-token", async () => {
    expect((await get(`${base}/.edge-cache/`)).status).toBe(401);
    expect((await get(`${base}/.edge-cache/`, { authorization: "Bearer flag-token-0123456789abcdef0123456789" })).status).not.toBe(401);
  });

  it("passes requests with a session cookie through", async () => {
    const r = await get(`${base}/blog/hello?${RUN}`, { cookie: "session=abc" });
    expect(cacheStatus(r)).toContain("fwd=bypass");
    expect(cacheStatus(r)).toContain("detail=cookie");
  });
});

describe("npm start --origin URL --rules FILE", () => {
  let local: Local | undefined;
  let origin: http.Server | undefined;
  let hits = 0;

  beforeAll(async () => {
    origin = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=300" });
      res.end(`custom origin #${hits}`);
    });
    await new Promise<void>((r) => origin!.listen(0, "127.0.0.1", () => r()));
    const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    local = await startWithRules(
      originUrl,
      { version: 1, routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 300 } }] },
      { env: { ADMIN_TOKEN: "t0k:en-0123456789abcdef0123456789abcdef" } },
    );
  });
  afterAll(async () => {
    await local?.close();
    await new Promise((r) => origin?.close(r));
  });

  it("puts the Worker in front of that origin with those rules", async () => {
    const base = local!.base;
    const before = hits;
    const first = await get(`${base}/page?${RUN}`);
    const second = await get(`${base}/page?${RUN}`);
    expect(first.body).toMatch(/^custom origin #\d+$/);
    expect(second.body).toBe(first.body);
    expect(cacheStatus(second)).toMatch(/\bhit\b|\bcollapsed\b/);
    expect(hits - before).toBe(1);
  });

  it("gives the Worker ADMIN_TOKEN from the environment, never printing it", async () => {
    const base = local!.base;
    const res = await get(`${base}/.edge-cache/`, { authorization: "Bearer t0k:en-0123456789abcdef0123456789abcdef" });
    expect(res.status).not.toBe(401);
    expect(local!.started.output()).toContain("admin   token set");
    expect(local!.started.output()).not.toContain("t0k:en-0123456789abcdef0123456789abcdef");
  });
});

describe("npm start refuses", () => {
  it("an invalid rules file, printing every problem (exit 1)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "edge-cache-start-"));
    const file = path.join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ version: 1, routes: [{ name: "a", match: { path: "/*" }, ttl: { kv: 5 } }] }));
    try {
      const s = npmStart(["--rules", file, "--port", String(await freePort())]);
      expect(await s.exited).toBe(1);
      expect(s.output()).toContain("$.routes[0].ttl.kv");
      expect(s.output()).toContain("nothing was started");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("an unknown flag, with the usage (exit 2)", async () => {
    const s = npmStart(["--bogus"]);
    expect(await s.exited).toBe(2);
    expect(s.output()).toContain("--bogus");
    expect(s.output()).toContain("Usage: npm start");
  });

  it("an admin token shorter than 32 characters, from the flag or the environment (exit 2)", async () => {
    const flag = npmStart(["--admin-token", "short-token"]);
    expect(await flag.exited).toBe(2);
    expect(flag.output()).toContain("--admin-token is 11 characters; it must be at least 32");
    const fromEnv = npmStart([], { ADMIN_TOKEN: "x".repeat(31) });
    expect(await fromEnv.exited).toBe(2);
    expect(fromEnv.output()).toContain("ADMIN_TOKEN is 31 characters; it must be at least 32");
    expect(fromEnv.output()).not.toContain("x".repeat(31));
  });

  it("a port in use, saying so (exit 1)", async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    try {
      const s = npmStart(["--port", String((busy.address() as AddressInfo).port)]);
      expect(await s.exited).toBe(1);
      expect(s.output()).toContain("already in use");
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});
