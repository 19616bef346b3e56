/**
 * Soak: the local server (`npm start`, workerd with the local Cache API and KV) under
 * 20,000 requests, 100 at a time, over 1,000 keys with mixed cacheable, private and
 * bypassed answers and purges in between. Every body names its key and its user, so
 * the test can prove that no answer ever went to the wrong key or user, none was cut
 * short, and the runtime's memory stayed flat. Loopback only, bounded in count and time.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWithRules, workerdRssMb, type Local } from "../support/local-server";

const REQUESTS = 20_000;
const CONCURRENCY = 100;
const KEYS = 1_000;
const USERS = 20;
const TOKEN = "soak-admin-token-0123456789abcdef";
const PAD = "x".repeat(2048);

/** The origin: every body states the key it answers and, for per-user answers, the user. */
function soakOrigin() {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://o");
    const user = String(req.headers["x-user"] ?? "anonymous");
    const kind = url.pathname.split("/")[1];
    const session = /session=([^;]+)/.exec(String(req.headers.cookie ?? ""))?.[1] ?? "none";
    const body =
      kind === "c"
        ? `key=${url.pathname} user=shared ${PAD}`
        : kind === "p"
          ? `key=${url.pathname} user=${user} ${PAD}`
          : `key=${url.pathname} user=${session} ${PAD}`;
    res.writeHead(200, {
      "content-type": "text/plain",
      "content-length": Buffer.byteLength(body),
      "cache-control": kind === "c" ? "public, max-age=300" : "private, no-store",
    });
    res.end(body);
  });
}

describe("soak: 20,000 requests, 100 concurrent, mixed answers and purges", () => {
  let server: http.Server;
  let local: Local | undefined;
  let base = "";

  beforeAll(async () => {
    server = soakOrigin();
    // Node closes idle keep-alive sockets after 5 s; a socket the runtime reuses just as
    // Node closes it fails as "origin unreachable". Real origins keep them longer.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const originUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const rules = { version: 1, defaults: { ttl: { edge: 300 }, bypass: { cookies: ["session*"] } }, routes: [{ name: "all", match: { path: "/*" } }] };
    local = await startWithRules(originUrl, rules, { args: ["--admin-token", TOKEN, "--fresh"] });
    base = local.base;
  });

  afterAll(async () => {
    await local?.close();
    await new Promise((r) => server?.close(r));
  });

  it("never answers with another key's or user's body, never truncates, memory stays flat", async () => {
    const pool = new Pool(base, { connections: CONCURRENCY });
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let purges = 0;
    let rssAfterWarmup = 0;
    let next = 0;
    const started = Date.now();

    async function one(i: number): Promise<void> {
      // Every 1,000th request is a purge of a prefix, through the admin API.
      if (i % 1000 === 999) {
        const res = await pool.request({
          path: "/.edge-cache/purge",
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ prefixes: [`${base}/c/${i % 10}`] }),
        });
        await res.body.text();
        if (res.statusCode !== 200) problems.push(`purge answered ${res.statusCode}`);
        purges++;
        return;
      }
      const key = (i * 7919) % KEYS;
      const kind = ["c", "c", "p", "b"][i % 4]!;
      const user = `u${i % USERS}`;
      const headers: Record<string, string> = { "x-user": user };
      if (kind === "b") headers.cookie = `session=${user}`;
      const pathname = `/${kind}/${key}`;
      const res = await pool.request({ path: `${pathname}?utm_source=soak${i % 3}`, method: "GET", headers });
      const body = await res.body.text();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const expectedUser = kind === "c" ? "shared" : user;
      const expected = `key=${pathname} user=${expectedUser} ${PAD}`;
      if (body !== expected) problems.push(`${pathname} as ${user}: got ${JSON.stringify(body.slice(0, 60))} (${body.length} bytes)`);
    }

    async function worker(): Promise<void> {
      while (next < REQUESTS && Date.now() - started < 240_000) {
        const i = next++;
        if (i === 5_000) rssAfterWarmup = workerdRssMb(local!.started);
        try {
          await one(i);
        } catch (err) {
          problems.push(`request ${i} failed: ${(err as Error).message}`);
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const rssEnd = workerdRssMb(local!.started);
    await pool.close();

    expect(next).toBe(REQUESTS);
    expect(problems.slice(0, 10)).toEqual([]);
    expect(statuses.get(200)).toBe(REQUESTS - purges);
    expect(purges).toBe(20);
    // The local runtime (wrangler dev's workerd, with its inspector forwarding console
    // output) grows by itself under load: a trivial worker that only answers "x" grew
    // 15 KB per request, 36 KB with one log line per request, and V8 collects lazily.
    // So this is only a guard against a runaway; the figures are printed for the record.
    console.log(`soak memory: workerd RSS ${rssAfterWarmup.toFixed(0)} MB after 5,000 requests, ${rssEnd.toFixed(0)} MB after ${REQUESTS}`);
    expect(rssAfterWarmup).toBeGreaterThan(0);
    expect(rssEnd - rssAfterWarmup).toBeLessThan(768);
    // Bounded by the loop's own 240 s. It takes about 95 s on a quiet 2-core machine and
    // 150-220 s when four other jobs share it: the CPU goes to wrangler dev (its proxy
    // runtime and its inspector, which receives every console line), not to the Worker.
  }, 300_000);
});
