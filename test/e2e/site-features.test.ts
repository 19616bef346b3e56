/**
 * `npm start` with the site features of issue 13: a route keyed by device class in
 * front of a Node origin that renders per CF-Device-Type, and Varnish-style `PURGE`
 * sent as a CMS plugin sends it. Every URL carries a per-run query (wrangler's local
 * state persists between runs).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWithRules, type Local } from "../support/local-server";

const RUN = `run=${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const TOKEN = "e2e-admin-token-0123456789abcdefghij";

async function send(url: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const res = await request(url, { method: (init.method ?? "GET") as "GET", headers: init.headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe("npm start: device keys and PURGE", () => {
  let local: Local | undefined;
  let origin: http.Server | undefined;
  let base = "";
  const seen: { method: string; device: string | undefined }[] = [];

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      const device = req.headers["cf-device-type"] as string | undefined;
      seen.push({ method: req.method ?? "", device });
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=300" });
      res.end(`page for ${device ?? "nobody"} #${seen.length}`);
    });
    await new Promise<void>((r) => origin!.listen(0, "127.0.0.1", () => r()));
    local = await startWithRules(
      `http://127.0.0.1:${(origin.address() as AddressInfo).port}`,
      { version: 1, routes: [{ name: "pages", match: { path: "/*" }, ttl: { edge: 300 }, key: { device: true } }] },
      { args: ["--admin-token", TOKEN] },
    );
    base = local.base;
  });
  afterAll(async () => {
    await local?.close();
    await new Promise((r) => origin?.close(r));
  });

  it("keeps one copy per device class, the origin told which by CF-Device-Type", async () => {
    const url = `${base}/home?${RUN}`;
    const phone = await send(url, { headers: { "user-agent": IPHONE } });
    const desk = await send(url, { headers: { "user-agent": CHROME } });
    expect(phone.body).toMatch(/^page for mobile #\d+$/);
    expect(desk.body).toMatch(/^page for desktop #\d+$/);
    const phoneAgain = await send(url, { headers: { "user-agent": IPHONE } });
    expect(phoneAgain.body).toBe(phone.body);
    expect(String(phoneAgain.headers["cache-status"])).toMatch(/\bhit\b|\bcollapsed\b/);
  });

  it("PURGE <url> empties every device's copy, answers JSON, and never reaches the origin", async () => {
    const url = `${base}/post?${RUN}`;
    const phone = await send(url, { headers: { "user-agent": IPHONE } });
    const desk = await send(url, { headers: { "user-agent": CHROME } });
    const before = seen.length;
    const denied = await send(url, { method: "PURGE" });
    expect(denied.status).toBe(401);
    const purged = await send(url, { method: "PURGE", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(purged.status).toBe(200);
    expect(JSON.parse(purged.body).purged).toEqual({ kind: "urls", values: [url, url.replace("http:", "https:")], soft: false });
    expect(seen.length).toBe(before);
    expect((await send(url, { headers: { "user-agent": IPHONE } })).body).not.toBe(phone.body);
    expect((await send(url, { headers: { "user-agent": CHROME } })).body).not.toBe(desk.body);
    expect(seen.slice(before).map((r) => r.method)).toEqual(["GET", "GET"]);
  });

  it("PURGE on a path ending in * purges the prefix", async () => {
    const url = `${base}/blog/one?${RUN}`;
    const first = await send(url);
    const purged = await send(`${base}/blog/*`, { method: "PURGE", headers: { "x-purge-token": TOKEN } });
    expect(JSON.parse(purged.body).purged.kind).toBe("prefixes");
    expect((await send(url)).body).not.toBe(first.body);
  });
});
