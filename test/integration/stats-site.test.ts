import { describe, expect, it } from "vitest";
import { locations } from "../support/locations";
import { aroundStats } from "../support/stats-objects";
import { origin } from "../support/origin";
import { SITE } from "../support/harness";

const routes = [{ name: "pages", match: { path: "/*" }, ttl: { edge: 60, kv: 0 }, bypass: { cookies: ["session*"] } }];

async function scripted(name: string) {
  const path = origin.path(name);
  await origin.script(path, { headers: { "cache-control": "max-age=60" }, body: "hello" });
  return path;
}

type Json = Record<string, any>;

describe("statistics for the whole site (statistics objects)", () => {
  it("isolates flush at most every 10 s; the endpoint adds up every location", async () => {
    const flushes: number[] = [];
    const { clock, sites } = locations(2, {
      routes,
      wrapStats: (i) => aroundStats((method, _name, call) => {
        if (method === "add") flushes.push(i);
        return call();
      }),
    });
    const [a, b] = sites as [ReturnType<typeof locations>["sites"][0], ReturnType<typeof locations>["sites"][0]];
    const path = await scripted("site");
    for (let i = 0; i < 3; i++) await a.get(path); // the first request flushes at once, the next two wait
    expect(flushes).toEqual([0]);
    await b.get(path);
    await b.get(path);
    // B's read sends B's own counts first; A's last two are still in A.
    const first = (await b.admin("GET", "stats?window=15m")).json as Json;
    expect(first.scope).toBe("site");
    expect(first.total).toMatchObject({ requests: 3, hits: { edge: 1, kv: 0 }, misses: 2 });

    clock.advance(10);
    await a.get(path);
    expect(flushes.filter((i) => i === 0)).toHaveLength(2);
    const all = (await b.admin("GET", "stats?window=15m")).json as Json;
    expect(all.total).toMatchObject({ requests: 6, hits: { edge: 4, kv: 0 }, misses: 2 });
    expect(all.routes.pages.requests).toBe(6);
  });

  it("failing statistics objects never fail a request: the isolate answers for itself, and sends the counts once they recover", async () => {
    let down = true;
    const { sites } = locations(1, {
      routes,
      wrapStats: () => aroundStats((_method, _name, call) => (down ? Promise.reject(new Error("statistics down")) : call())),
    });
    const h = sites[0]!;
    const path = await scripted("down");
    expect((await h.get(path)).status).toBe(200);
    expect((await h.get(path)).cacheStatus).toContain("hit");
    const alone = (await h.admin("GET", "stats?window=15m")).json as Json;
    expect(alone.scope).toBe("isolate");
    expect(alone.total).toMatchObject({ requests: 2, hits: { edge: 1, kv: 0 } });
    down = false;
    const back = (await h.admin("GET", "stats?window=15m")).json as Json;
    expect(back.scope).toBe("site");
    expect(back.total.requests).toBe(2);
  });
});

describe("rules tried on real traffic", () => {
  it("GET /.edge-cache/traffic lists sampled methods and URLs, never cookies or credentials", async () => {
    const { sites } = locations(1, { routes });
    const h = sites[0]!;
    const path = await scripted("traffic");
    await h.get(`${path}?id=1&token=s3cret`, { headers: { cookie: "session=cookie-value" } });
    await h.request(path, { method: "HEAD" });
    const got = await h.admin("GET", "traffic");
    expect(got.status).toBe(200);
    expect(got.json).toEqual({
      scope: "site",
      requests: [
        { method: "HEAD", url: `${SITE}${path}`, at: expect.any(String) },
        { method: "GET", url: `${SITE}${path}?id=1&token`, at: expect.any(String) },
      ],
    });
    expect(got.text).not.toMatch(/s3cret|cookie-value/);
    expect((await h.admin("GET", "traffic?limit=0")).status).toBe(400);
  });

  it("POST /.edge-cache/try-rules lists the sampled requests a rules file would treat differently", async () => {
    const { sites } = locations(1, { routes });
    const h = sites[0]!;
    const blog = await scripted("blog");
    const other = await scripted("other");
    await h.get(blog);
    await h.get(other);
    const next = {
      version: 1,
      origin: origin.url,
      routes: [
        { name: "blog", match: { path: blog }, ttl: { edge: 600 } },
        { name: "pages", match: { path: "/*" }, ttl: { edge: 60, kv: 0 }, bypass: { cookies: ["session*"] } },
      ],
    };
    const got = await h.admin("POST", "try-rules", next);
    expect(got.status).toBe(200);
    const answer = got.json as Json;
    expect(answer.compared).toBe(2);
    expect(answer.changed).toHaveLength(1);
    expect(answer.changed[0]).toMatchObject({ method: "GET", url: `${SITE}${blog}`, changes: { route: { old: "pages", new: "blog" } } });
    expect(answer.changed[0].changes.ttl.new).toContain("edge=600");

    const bad = await h.admin("POST", "try-rules", { version: 2 });
    expect(bad.status).toBe(400);
    expect((bad.json as Json).error).toBe("invalid-rules");
  });
});
