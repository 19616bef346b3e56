/**
 * `npm start -- --rules FILE` seeds the coordinator with FILE, so an upload to the
 * local server takes effect as it would in production (it used to be stored and
 * ignored while --rules was given). Wrangler's local state persists between runs: the
 * seed is new for each start, so what an earlier run uploaded never serves here.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWithRules, type Local } from "../support/local-server";

const RUN = `run=${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const TOKEN = "rules-e2e-token-0123456789abcdef0123456789";

describe("npm start --rules FILE, then PUT /.edge-cache/rules", () => {
  let local: Local | undefined;
  let origin: http.Server | undefined;
  let base = "";
  let originUrl = "";

  async function call(method: string, url: string, body?: string) {
    // The token only on admin calls: a request with Authorization is never cached (RFC 9111 §3.5).
    const headers: Record<string, string> = url.startsWith("/.edge-cache/") ? { authorization: `Bearer ${TOKEN}` } : {};
    const res = await request(`${base}${url}`, { method, body, headers });
    const text = await res.body.text();
    return { status: res.statusCode, cacheStatus: String(res.headers["cache-status"] ?? ""), text, json: () => JSON.parse(text) as Record<string, unknown> };
  }

  beforeAll(async () => {
    origin = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=300" });
      res.end("from the origin");
    });
    await new Promise<void>((r) => origin!.listen(0, "127.0.0.1", () => r()));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    local = await startWithRules(originUrl, { version: 1, routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 300 } }] }, { args: ["--admin-token", TOKEN] });
    base = local.base;
  });
  afterAll(async () => {
    await local?.close();
    await new Promise((r) => origin?.close(r));
  });

  it("serves the file given to npm start, then the upload, at once", async () => {
    const started = (await call("GET", "/.edge-cache/rules")).json();
    expect(started).toMatchObject({ source: "RULES_JSON", routes: ["all"], coordinator: { seed: true } });
    expect((await call("GET", `/page?${RUN}`)).cacheStatus).toMatch(/fwd=uri-miss; stored/);

    const upload = JSON.stringify({ version: 1, origin: originUrl, routes: [{ name: "other", match: { path: "/other/*" }, ttl: { edge: 60 } }] });
    const put = await call("PUT", "/.edge-cache/rules", upload);
    expect(put.status).toBe(200);
    expect(put.json()).toMatchObject({ stored: true, sequence: (started.sequence as number) + 1, active: { source: "coordinator", routes: ["other"] }, notes: [] });

    // The upload serves: /page no longer matches a route, /other/ does.
    expect((await call("GET", `/page2?${RUN}`)).cacheStatus).toMatch(/fwd=bypass; detail=no-rule/);
    expect((await call("GET", `/other/x?${RUN}`)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
    expect((await call("GET", "/.edge-cache/rules")).json()).toMatchObject({ source: "coordinator", routes: ["other"], coordinator: { sequence: put.json().sequence, seed: false } });
  });
});
