/**
 * Issue 21 items 2 and 3: the origin shield, read as an attacker would.
 * - A waiter takes a flight's answer only when the store verdict allows it, for its own
 *   request and for the one the answer was fetched for (RFC 9111 §3.5, RFC 9213).
 * - Nothing a client sends reaches the shield's protocol: it travels as RPC arguments,
 *   and every `x-edge-cache-*` field is removed from what comes in (ARCHITECTURE.md,
 *   invariant 4).
 * And the shield keeps an encoded body byte for byte.
 */
import { describe, expect, it } from "vitest";
import type { RouteRule } from "../../src/rules/types";
import { locations, overrideKv, watchShield } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

const shielded = (extra: Partial<RouteRule> = {}) => ({
  routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 600 }, shield: true, ...extra }],
});

/** A location whose KV reads still find nothing (KV caches a miss per location for up to 60 s). */
const kvNotYet = (kv: KVNamespace, location: number): KVNamespace =>
  location === 0 ? kv : overrideKv(kv, () => ({ getWithMetadata: async () => ({ value: null, metadata: null, cacheStatus: null }) }));

/**
 * Location 0 sends `first` and its answer is held at the origin until location 1's
 * `second` has joined the same shield flight; returns both bodies.
 */
async function joinFlight(rules: ReturnType<typeof shielded>, headers: Record<string, string>, first: RequestInit, second: RequestInit) {
  const { wrapShield, waiters } = watchShield();
  const { sites } = locations(2, { ...rules, wrapShield });
  const path = origin.path();
  await origin.script(path, { body: "answer {n}", headers, hold: true }, { body: "answer {n}", headers });
  const a = sites[0]!.start(path, first);
  await until(async () => (await origin.held(path)) === 1);
  const b = sites[1]!.start(path, second);
  await until(async () => (await waiters()) === 2);
  await origin.release(path);
  const texts = await Promise.all(
    [a, b].map(async (s) => {
      const text = await (await s.response).text();
      await s.done();
      return text;
    }),
  );
  return { texts, count: await origin.count(path) };
}

describe("a shield waiter takes an answer only when the store verdict allows it", () => {
  const bearer = (who: string): RequestInit => ({ headers: { authorization: `Bearer ${who}` } });

  it("cacheAuthorized: user B never gets user A's answer that is not marked shared (RFC 9111 §3.5)", async () => {
    const got = await joinFlight(shielded({ cacheAuthorized: true }), { "cache-control": "max-age=600" }, bearer("alice"), bearer("bob"));
    expect(got.texts).toEqual(["answer 1", "answer 2"]);
    expect(got.count).toBe(2);
  });

  it("cacheAuthorized: an anonymous request never takes the answer to an authorized one", async () => {
    const got = await joinFlight(shielded({ cacheAuthorized: true }), { "cache-control": "max-age=600" }, bearer("alice"), {});
    expect(got.texts).toEqual(["answer 1", "answer 2"]);
    expect(got.count).toBe(2);
  });

  it("CDN-Cache-Control: no-store governs over Cache-Control: max-age (RFC 9213): each location gets its own", async () => {
    const got = await joinFlight(shielded(), { "cache-control": "max-age=600", "cdn-cache-control": "no-store" }, {}, {});
    expect(got.texts).toEqual(["answer 1", "answer 2"]);
    expect(got.count).toBe(2);
  });

  it("an answer marked shared still goes to every authorized waiter", async () => {
    const got = await joinFlight(shielded({ cacheAuthorized: true }), { "cache-control": "public, max-age=600" }, bearer("alice"), bearer("bob"));
    expect(got.texts).toEqual(["answer 1", "answer 1"]);
    expect(got.count).toBe(1);
  });

  it("a request's own no-store does not throw away the answer the shield holds for everyone else", async () => {
    const { clock, sites } = locations(3, { ...shielded(), wrapKv: kvNotYet });
    const path = origin.path();
    await origin.script(path, { body: "v{n}", headers: { "cache-control": "max-age=600" } });
    expect((await sites[0]!.get(path)).text).toBe("v1");
    clock.advance(1);
    // RFC 9111 §5.2.1.5: this request's answer is not stored, so it fetches its own...
    expect((await sites[1]!.get(path, { headers: { "cache-control": "no-store" } })).text).toBe("v2");
    // ...and the held answer still serves the next location.
    expect((await sites[2]!.get(path)).text).toBe("v1");
    expect(await origin.count(path)).toBe(2);
  });
});

describe("clients cannot reach the shield's protocol", () => {
  it("X-Edge-Cache-Shield-Reject from a client neither drops the held answer nor forces an origin fetch", async () => {
    const { wrapShield, questions } = watchShield();
    const { clock, sites } = locations(2, { ...shielded(), wrapKv: kvNotYet, wrapShield });
    const path = origin.path();
    await origin.script(path, { body: "v{n}", headers: { "cache-control": "max-age=600" } });
    expect((await sites[0]!.get(path)).text).toBe("v1");
    clock.advance(1);
    const attack = await sites[1]!.get(path, { headers: { "X-Edge-Cache-Shield-Reject": "999999999", "X-Edge-Cache-Anything": "1" } });
    expect(attack.text).toBe("v1");
    expect(attack.cacheStatus).toMatch(/detail=shield/);
    expect(await origin.count(path)).toBe(1);
    // Nothing of ours that a client sent reaches the shield (nor, through it, the origin).
    expect(questions.flatMap((q) => q.headers.map(([name]) => name)).filter((n) => n.startsWith("x-edge-cache-"))).toEqual([]);
    expect(questions.map((q) => q.reject)).toEqual([undefined, undefined]);
  });

  it("X-Edge-Cache-Shield-Reject from a client does not split a running flight", async () => {
    const got = await joinFlight(shielded(), { "cache-control": "max-age=600" }, {}, { headers: { "x-edge-cache-shield-reject": "999999999" } });
    expect(got.texts).toEqual(["answer 1", "answer 1"]);
    expect(got.count).toBe(1);
  });
});

describe("an encoded answer through the shield", () => {
  it("reaches every location byte for byte: the origin's gzip bytes and their Content-Length", async () => {
    const { sites } = locations(2, { ...shielded(), wrapKv: kvNotYet });
    const text = "a pre-compressed answer, sent as the origin keeps it on disk. ".repeat(200);
    const path = origin.path();
    const reference = origin.path();
    const scripted = { body: text, encoding: "gzip", headers: { "cache-control": "max-age=600" } } as const;
    await origin.script(path, scripted);
    await origin.script(reference, scripted);
    // The origin's own bytes, read without decoding.
    const direct = await fetch(`${origin.url}${reference}`, { encodeResponseBody: "manual" } as RequestInit);
    const gzipped = new Uint8Array(await direct.arrayBuffer());
    expect(gzipped.byteLength).toBe(Number(direct.headers.get("content-length")));
    expect(gzipped.byteLength).toBeLessThan(text.length);

    // A client that takes gzip gets the bytes as they are (one that does not is the delivery step's business).
    const gzip = { headers: { "accept-encoding": "gzip" } };
    const leader = await sites[0]!.get(path, gzip);
    const held = await sites[1]!.get(path, gzip);
    expect(held.cacheStatus).toMatch(/fwd=uri-miss; stored.*detail=shield/);
    const hit = await sites[0]!.get(path, gzip);
    expect(hit.cacheStatus).toMatch(/^edge-cache; hit;/);
    for (const got of [leader, held, hit]) {
      expect(got.headers.get("content-encoding")).toBe("gzip");
      expect(got.headers.get("content-length")).toBe(String(gzipped.byteLength));
      expect(got.bytes).toEqual(gzipped);
      const plain = await new Response(new Blob([got.bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
      expect(plain).toBe(text);
    }
    expect(await origin.count(path)).toBe(1);
  });
});
