import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

describe("cache key as the rule says", () => {
  const h = harness({
    defaults: { ttl: { edge: 600 } },
    routes: [
      { name: "allow", match: { path: "/:t/search" }, key: { query: { allow: ["q", "page"], sort: true } } },
      { name: "lang", match: { path: "/:t/lang" }, key: { headers: ["accept-language"], cookies: ["currency"] } },
      { name: "rest", match: { path: "/*" }, key: { query: { ignore: ["utm_*", "fbclid"], sort: true } } },
    ],
  });

  it("tracking parameters are ignored and do not reach the origin", async () => {
    const path = origin.path();
    await h.get(`${path}?id=7&utm_source=news&fbclid=abc`);
    const second = await h.get(`${path}?utm_campaign=x&id=7`);
    expect(second.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(1);
    const [seen] = await origin.requests(path);
    expect(seen?.url).toBe(`${path}?id=7`);
  });

  it("parameter order does not matter when sorting", async () => {
    const path = origin.path();
    await h.get(`${path}?b=2&a=1`);
    expect((await h.get(`${path}?a=1&b=2`)).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect((await h.get(`${path}?a=1&b=3`)).cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await origin.count(path)).toBe(2);
  });

  it("percent-encoding spellings of the same path meet; an encoded slash is never cached", async () => {
    const path = origin.path("caf%c3%a9");
    await h.get(path);
    expect((await h.get(path.replace("%c3%a9", "%C3%A9"))).cacheStatus).toMatch(/^edge-cache; hit;/);
    const base = path.replace(/\/[^/]*$/, "");
    expect((await h.get(`${base}/a%2Fb`)).cacheStatus).toBe("edge-cache; fwd=bypass; detail=path");
    expect((await h.get(`${base}/a/b`)).cacheStatus).toMatch(/fwd=uri-miss/);
  });

  it("an allow list keeps only the listed parameters", async () => {
    const t = origin.prefix().slice(1);
    const path = `/${t}/search`;
    await h.get(`${path}?q=shoes&session=1&page=2`);
    expect((await h.get(`${path}?page=2&q=shoes&ref=mail`)).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect((await h.get(`${path}?q=boots`)).cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await origin.count(path)).toBe(2);
  });

  it("named request headers and cookies become part of the key", async () => {
    const t = origin.prefix().slice(1);
    const path = `/${t}/lang`;
    await origin.script(path, { body: "{n}" });
    const en = { headers: { "accept-language": "en", cookie: "currency=EUR" } };
    const de = { headers: { "accept-language": "de", cookie: "currency=EUR" } };
    const usd = { headers: { "accept-language": "en", cookie: "currency=USD; other=1" } };
    expect((await h.get(path, en)).text).toBe("1");
    expect((await h.get(path, de)).text).toBe("2");
    expect((await h.get(path, usd)).text).toBe("3");
    expect((await h.get(path, en)).text).toBe("1");
    expect((await h.get(path, { headers: { "accept-language": "de", cookie: "currency=EUR" } })).text).toBe("2");
    expect(await origin.count(path)).toBe(3);
  });
});
