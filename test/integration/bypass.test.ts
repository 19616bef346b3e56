import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

// Every bypass kind: the request reaches the origin every time, nothing is stored,
// and Cache-Status says why.
const h = harness({
  defaults: {
    ttl: { edge: 600 },
    bypass: { cookies: ["session*"], headers: ["x-preview"], query: ["preview"], methods: [] },
  },
  routes: [
    { name: "admin", match: { path: "/:t/admin/*" }, bypass: true },
    { name: "pages", match: { path: "/:t/pages/*" } },
    { name: "api", match: { path: "/:t/api/*", methods: ["GET", "HEAD", "POST", "DELETE"] } },
  ],
});

async function twice(path: string, init: RequestInit = {}) {
  const a = await h.request(path, init);
  const b = await h.request(path, init);
  return { a, b, count: await origin.count(new URL(path, "https://x").pathname) };
}

describe("bypass", () => {
  const cases: [string, string, RequestInit, string][] = [
    ["route says bypass", "admin/x", {}, "edge-cache; fwd=bypass; detail=route"],
    ["session cookie (glob)", "pages/c", { headers: { cookie: "theme=dark; session_id=abc" } }, "edge-cache; fwd=bypass; detail=cookie"],
    ["listed header", "pages/h", { headers: { "x-preview": "1" } }, "edge-cache; fwd=bypass; detail=header"],
    ["listed query parameter", "pages/q?preview=1", {}, "edge-cache; fwd=bypass; detail=query"],
    ["Authorization (RFC 9111 §3.5)", "pages/a", { headers: { authorization: "Bearer x" } }, "edge-cache; fwd=bypass; detail=authorization"],
    ["unsafe method", "api/m", { method: "POST", body: "x" }, "edge-cache; fwd=method; detail=method"],
    ["WebSocket upgrade", "pages/u", { headers: { upgrade: "websocket" } }, "edge-cache; fwd=bypass; detail=upgrade"],
  ];
  for (const [name, suffix, init, status] of cases) {
    it(name, async () => {
      const path = `${origin.prefix()}/${suffix}`;
      await origin.script(new URL(path, "https://x").pathname, { headers: { "cache-control": "max-age=600" } });
      const { a, b, count } = await twice(path, init);
      expect(a.cacheStatus).toBe(status);
      expect(b.cacheStatus).toBe(status);
      expect(count).toBe(2);
    });
  }

  it("no matching route passes through uncached", async () => {
    const path = origin.path("elsewhere");
    await origin.script(path, { headers: { "cache-control": "max-age=600" }, body: "plain" });
    const { a, b, count } = await twice(path);
    expect(a.cacheStatus).toBe("edge-cache; fwd=bypass; detail=no-rule");
    expect(b.text).toBe("plain");
    expect(count).toBe(2);
  });

  it("a cookie that matches no bypass glob does not bypass", async () => {
    const path = `${origin.prefix()}/pages/ok`;
    await origin.script(path, {});
    const { b, count } = await twice(path, { headers: { cookie: "theme=dark" } });
    expect(b.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(count).toBe(1);
  });

  it("the bypassed request reaches the origin with its method, body and headers", async () => {
    const path = `${origin.prefix()}/api/post`;
    await origin.script(path, { status: 201, body: "created" });
    const res = await h.request(path, { method: "POST", body: "payload", headers: { "x-custom": "1" } });
    expect(res.status).toBe(201);
    const [seen] = await origin.requests(path);
    expect(seen?.method).toBe("POST");
    expect(seen?.body).toBe("payload");
    expect(seen?.headers["x-custom"]).toBe("1");
  });
});
