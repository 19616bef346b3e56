/**
 * The cache key: normalization examples (RFC 3986 §6.2.2) and properties that must
 * hold for every request: idempotence, order independence when sorting, no
 * collisions between requests that differ, a fixed-length storage name.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCookies } from "../../src/http/fields";
import { buildCacheKey, hashKey, normalizePercentEncoding } from "../../src/policy/cache-key";
import { parseRules } from "../../src/rules/parse";
import type { CompiledKey, KeySettings } from "../../src/rules/types";

function compiledKey(key: KeySettings = {}): CompiledKey {
  const result = parseRules({ version: 1, routes: [{ name: "r", match: { path: "/*" }, key }] });
  const route = result.rules?.routes[0];
  if (!route) throw new Error(`test key settings invalid: ${JSON.stringify(result.problems)}`);
  return route.key;
}

const PLAIN = compiledKey();
const build = (url: string, key: CompiledKey = PLAIN, headers: HeadersInit = {}) =>
  buildCacheKey(new URL(url), new Headers(headers), key);
const keyOf = (url: string, key?: CompiledKey, headers?: HeadersInit) => build(url, key, headers).key;

describe("normalizePercentEncoding (RFC 3986 §6.2.2)", () => {
  it.each<[string, string, string]>([
    ["§6.2.2.2 decodes unreserved characters: ~", "/a%7eb", "/a~b"],
    ["§6.2.2.2 decodes unreserved characters: letters, digits, - . _", "/%41%7A%30%2D%2E%5F", "/Az0-._"],
    ["§6.2.2.1 upper-cases the hex of what stays encoded", "/caf%c3%a9", "/caf%C3%A9"],
    ["never decodes %2F into a new path separator", "/a%2fb", "/a%2Fb"],
    ["never decodes reserved characters (? # & = + ;)", "/%3f%23%26%3d%2b%3b", "/%3F%23%26%3D%2B%3B"],
    ["keeps %25 encoded, so nothing is decoded twice", "/%2541", "/%2541"],
    ["leaves a malformed escape alone", "/%zz%4", "/%zz%4"],
    ["leaves text without escapes alone", "/plain/path", "/plain/path"],
  ])("%s: %s → %s", (_name, input, expected) => {
    expect(normalizePercentEncoding(input)).toBe(expected);
  });
});

describe("buildCacheKey examples", () => {
  it("lower-cases scheme and host, keeps the path's case, drops the default port and the fragment", () => {
    const k = build("HTTPS://WWW.Example.COM:443/Path/File.HTML?Q=V#frag");
    expect(k.key).toBe("https://www.example.com/Path/File.HTML?Q=V");
    expect(k.url.href).toBe(k.key);
    expect(k.parts).toMatchObject({ scheme: "https", host: "www.example.com", path: "/Path/File.HTML", query: ["Q=V"] });
  });

  it("keeps a non-default port", () => {
    expect(keyOf("https://example.com:8443/a")).toBe("https://example.com:8443/a");
  });

  it("normalizes percent-encoding in the path: %7e → ~, %2f stays %2F, hex upper-cased", () => {
    expect(keyOf("https://x.test/%7euser/a%2fb/caf%c3%a9")).toBe("https://x.test/~user/a%2Fb/caf%C3%A9");
    expect(keyOf("https://x.test/~user/a%2Fb/caf%C3%A9")).toBe(keyOf("https://x.test/%7Euser/a%2fb/café"));
    expect(keyOf("https://x.test/a%2Fb")).not.toBe(keyOf("https://x.test/a/b"));
  });

  it("normalizes percent-encoding in the query the same way", () => {
    expect(keyOf("https://x.test/?q=%7e%2f%c3%a9")).toBe("https://x.test/?q=~%2F%C3%A9");
  });

  it("drops query parameters matching the ignore globs, and says which", () => {
    const key = compiledKey({ query: { ignore: ["utm_*", "fbclid"] } });
    const k = build("https://x.test/p?id=7&utm_source=news&fbclid=abc&utm_medium=mail&x=1", key);
    expect(k.key).toBe("https://x.test/p?id=7&x=1");
    expect(k.parts.dropped).toEqual(["utm_source", "fbclid", "utm_medium"]);
  });

  it("matches the globs against the decoded name", () => {
    const key = compiledKey({ query: { ignore: ["utm_*"] } });
    expect(build("https://x.test/p?utm%5Fsource=1&id=2", key).key).toBe("https://x.test/p?id=2");
  });

  it("keeps only the allow-listed parameters, and says which were dropped", () => {
    const key = compiledKey({ query: { allow: ["q", "page"] } });
    const k = build("https://x.test/search?session=1&q=shoes&ref=mail&page=2", key);
    expect(k.key).toBe("https://x.test/search?q=shoes&page=2");
    expect(k.parts.dropped).toEqual(["session", "ref"]);
  });

  it("an allow list that keeps nothing leaves no '?'", () => {
    const key = compiledKey({ query: { allow: ["q"] } });
    expect(keyOf("https://x.test/search?a=1&b=2", key)).toBe("https://x.test/search");
  });

  it("keeps the order as sent unless asked to sort; sorting orders by name and keeps the order of one name's values", () => {
    const sorted = compiledKey({ query: { sort: true } });
    expect(keyOf("https://x.test/?b=2&a=1&c=3")).toBe("https://x.test/?b=2&a=1&c=3");
    expect(keyOf("https://x.test/?b=2&a=1&c=3", sorted)).toBe("https://x.test/?a=1&b=2&c=3");
    expect(keyOf("https://x.test/?a=2&b=0&a=1", sorted)).toBe("https://x.test/?a=2&a=1&b=0");
    expect(keyOf("https://x.test/?a=2&a=1")).not.toBe(keyOf("https://x.test/?a=1&a=2"));
    expect(keyOf("https://x.test/?a=2&a=1", sorted)).not.toBe(keyOf("https://x.test/?a=1&a=2", sorted));
  });

  it("sorts equivalent spellings of a name that is not UTF-8 the same way (%d0 and %D0 are one name)", () => {
    const sorted = compiledKey({ query: { sort: true } });
    // Both URLs hold the same two pairs once normalized: %D0=1 and %D0=2.
    expect(keyOf("https://x.test/p?%d0=2&b=0&%D0=1", sorted)).toBe("https://x.test/p?%D0=2&%D0=1&b=0");
    expect(keyOf("https://x.test/p?b=0&%D0=2&%d0=1", sorted)).toBe("https://x.test/p?%D0=2&%D0=1&b=0");
  });

  it("drops empty pairs and an empty query", () => {
    expect(keyOf("https://x.test/p?&a=1&&b=2&")).toBe("https://x.test/p?a=1&b=2");
    expect(keyOf("https://x.test/p?")).toBe("https://x.test/p");
    expect(keyOf("https://x.test/p?&&")).toBe("https://x.test/p");
    expect(keyOf("https://x.test/p?&&")).toBe(keyOf("https://x.test/p"));
  });

  it("keeps a parameter without a value apart from one with an empty value", () => {
    expect(keyOf("https://x.test/p?a")).toBe("https://x.test/p?a");
    expect(keyOf("https://x.test/p?a=")).toBe("https://x.test/p?a=");
  });

  it("'+' and '%20' in names: both read as a space for the globs, each spelling kept as sent", () => {
    const ignore = compiledKey({ query: { ignore: ["utm source"] } });
    expect(keyOf("https://x.test/p?utm+source=1&id=1", ignore)).toBe("https://x.test/p?id=1");
    expect(keyOf("https://x.test/p?utm%20source=1&id=1", ignore)).toBe("https://x.test/p?id=1");
    const allow = compiledKey({ query: { allow: ["a b"] } });
    expect(keyOf("https://x.test/p?a+b=1&z=2", allow)).toBe("https://x.test/p?a+b=1");
    expect(keyOf("https://x.test/p?a%20b=1&z=2", allow)).toBe("https://x.test/p?a%20b=1");
    // The origin sees exactly what the key says, so two spellings never share an entry.
    expect(keyOf("https://x.test/p?a+b=1", allow)).not.toBe(keyOf("https://x.test/p?a%20b=1", allow));
  });

  it("adds the named request headers, absent (null) apart from empty (\"\")", () => {
    const key = compiledKey({ headers: ["Accept-Language"] });
    const absent = build("https://x.test/p", key);
    const empty = build("https://x.test/p", key, { "accept-language": "" });
    const en = build("https://x.test/p", key, { "accept-language": "en" });
    expect(absent.parts.headers).toEqual([["accept-language", null]]);
    expect(empty.parts.headers).toEqual([["accept-language", ""]]);
    expect(en.key).toBe('https://x.test/p\n[["h","accept-language","en"]]');
    expect(new Set([absent.key, empty.key, en.key]).size).toBe(3);
    // The URL part is the same: only the dimensions differ.
    expect(absent.url.href).toBe(en.url.href);
  });

  it("adds the named cookies, and only those", () => {
    const key = compiledKey({ cookies: ["currency"] });
    const eur = build("https://x.test/p", key, { cookie: "sid=secret; currency=EUR" });
    expect(eur.key).toBe('https://x.test/p\n[["c","currency","EUR"]]');
    expect(eur.key).not.toContain("secret");
    expect(build("https://x.test/p", key, { cookie: "currency=EUR; sid=other" }).key).toBe(eur.key);
    expect(build("https://x.test/p", key).parts.cookies).toEqual([["currency", null]]);
    expect(build("https://x.test/p", key, { cookie: "currency=" }).parts.cookies).toEqual([["currency", ""]]);
  });

  it("a header value cannot forge another dimension", () => {
    const key = compiledKey({ headers: ["x-a", "x-b"] });
    const forged = build("https://x.test/p", key, { "x-a": 'v"],["h","x-b","w' });
    const honest = build("https://x.test/p", key, { "x-a": "v", "x-b": "w" });
    expect(forged.key).not.toBe(honest.key);
    expect(forged.parts.headers).toEqual([["x-a", 'v"],["h","x-b","w'], ["x-b", null]]);
  });
});

describe("parseCookies (RFC 6265 §5.4)", () => {
  it("reads name=value pairs, trims them, keeps the first of a repeated name", () => {
    expect([...parseCookies(" a=1;b = 2 ; a=3; flag; c=x=y")]).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["flag", ""],
      ["c", "x=y"],
    ]);
    expect(parseCookies(null).size).toBe(0);
    expect(parseCookies("").size).toBe(0);
  });
});

// ---- properties ----

const hexDigit = fc.constantFrom(..."0123456789abcdefABCDEF");
const escape = fc.tuple(hexDigit, hexDigit).map(([a, b]) => `%${a}${b}`);
/**
 * A piece of a path segment or query name/value, in any spelling a client might send
 * (a literal space is left out: the URL parser strips one at the end of the input).
 */
const piece = fc
  .array(fc.oneof(fc.constantFrom(..."abcXYZ019-._~!$'()*,:@é/\\+"), escape), { maxLength: 6 })
  .map((parts) => parts.join(""));
const pair = fc.tuple(piece, fc.option(piece, { nil: undefined })).map(([n, v]) => (v === undefined ? n : `${n}=${v}`));
const rawUrl = fc
  .record({
    host: fc.constantFrom("x.test", "X.Test", "a.b.example"),
    segments: fc.array(piece, { maxLength: 4 }),
    pairs: fc.array(pair, { maxLength: 6 }),
  })
  .map(({ host, segments, pairs }) => `https://${host}/${segments.join("/")}${pairs.length ? `?${pairs.join("&")}` : ""}`);
const keySettings = fc.record({
  sort: fc.boolean(),
  list: fc.constantFrom<KeySettings["query"]>({}, { ignore: ["a*"] }, { ignore: ["b", "x*"] }, { allow: ["a*", "Z"] }),
});
const withSettings = ({ sort, list }: { sort: boolean; list: KeySettings["query"] }) =>
  compiledKey({ query: { ...list, sort }, headers: ["x-dim"], cookies: ["c"] });
const dims = fc.record({
  header: fc.option(fc.constantFrom("", "en", "a,b", '"q"', "\\"), { nil: null }),
  cookie: fc.option(fc.constantFrom("", "1", "x=y"), { nil: null }),
});
const requestHeaders = ({ header, cookie }: { header: string | null; cookie: string | null }) => {
  const h = new Headers();
  if (header !== null) h.set("x-dim", header);
  if (cookie !== null) h.set("cookie", `other=0; c=${cookie}`);
  return h;
};

describe("buildCacheKey properties", () => {
  it("is idempotent: the key built from the key's own URL is the same key", () => {
    fc.assert(
      fc.property(rawUrl, keySettings, dims, (url, settings, d) => {
        const key = withSettings(settings);
        const headers = requestHeaders(d);
        const first = buildCacheKey(new URL(url), headers, key);
        const again = buildCacheKey(first.url, headers, key);
        expect(again.key).toBe(first.key);
        expect(again.parts.dropped).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it("when sorting, does not depend on the order of different names, and keeps the order of one name's values", () => {
    const sorted = compiledKey({ query: { sort: true } });
    // A pair's name as the key reads it (decoded): an allow list of nothing drops every pair by name.
    const dropAll = compiledKey({ query: { allow: [] } });
    const nameOf = (p: string) => buildCacheKey(new URL(`https://x.test/p?${p}`), new Headers(), dropAll).parts.dropped[0];
    const pairsAndShuffle = fc.array(pair, { maxLength: 6 }).chain((pairs) =>
      fc.tuple(fc.constant(pairs), fc.shuffledSubarray(pairs, { minLength: pairs.length, maxLength: pairs.length })),
    );
    fc.assert(
      fc.property(pairsAndShuffle, ([pairs, shuffled]) => {
        // The shuffle, with each name's values put back in their first order: the same key.
        const queue = new Map<string | undefined, string[]>();
        for (const p of pairs) queue.set(nameOf(p), [...(queue.get(nameOf(p)) ?? []), p]);
        const regrouped = shuffled.map((p) => queue.get(nameOf(p))!.shift()!);
        const key = (ps: string[]) => keyOf(`https://x.test/p?${ps.join("&")}`, sorted);
        expect(key(regrouped)).toBe(key(pairs));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.constantFrom("a", "b%20c", "%C3%A9"), fc.string({ minLength: 1, maxLength: 3 }), fc.string({ minLength: 1, maxLength: 3 }), (name, x, y) => {
        fc.pre(x !== y);
        const [ex, ey] = [encodeURIComponent(x), encodeURIComponent(y)];
        expect(keyOf(`https://x.test/p?${name}=${ex}&${name}=${ey}`, sorted)).not.toBe(keyOf(`https://x.test/p?${name}=${ey}&${name}=${ex}`, sorted));
      }),
      { numRuns: 200 },
    );
  });

  it("never gives two different requests the same key (paths, kept parameters, header and cookie dimensions)", () => {
    // Inputs are drawn already canonical (unreserved characters and upper-case escapes
    // of reserved ones), so a simple model says exactly when two keys must be equal.
    // The second request is either independent or a small variation of the first, so
    // both answers (same key, different key) come up often.
    const canon = fc.array(fc.constantFrom("a", "b", "~", "%2F", "%26", "%3D", "%C3%A9", "%22"), { maxLength: 3 }).map((p) => p.join(""));
    type Input = { path: string; pairs: [string, string][]; header: string | null; cookie: string | null };
    const input: fc.Arbitrary<Input> = fc.record({
      path: fc.array(canon, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join("/")}`),
      pairs: fc.array(fc.tuple(fc.constantFrom("a", "b", "utm_x", "c%26d"), canon), { maxLength: 3 }),
      header: fc.option(fc.constantFrom("", "en", "a,b", '"q"', '"],["h'), { nil: null }),
      cookie: fc.option(fc.constantFrom("", "EUR", "x=y"), { nil: null }),
    });
    const variations: Record<string, (a: Input, other: Input) => Input> = {
      independent: (_a, other) => other,
      same: (a) => a,
      reordered: (a) => ({ ...a, pairs: [...a.pairs].reverse() }),
      "plus an ignored parameter": (a) => ({ ...a, pairs: [...a.pairs, ["utm_x", "b"]] }),
      "plus a kept parameter": (a) => ({ ...a, pairs: [...a.pairs, ["b", ""]] }),
      "header absent ↔ empty": (a) => ({ ...a, header: a.header === null ? "" : null }),
      "cookie absent ↔ empty": (a) => ({ ...a, cookie: a.cookie === null ? "" : null }),
      "path with a trailing slash": (a) => ({ ...a, path: `${a.path}/` }),
      "an encoded slash for a slash": (a) => ({ ...a, path: a.path.replace("/", "%2F").replace(/^(?!\/)/, "/") }),
    };
    const key = compiledKey({ query: { ignore: ["utm_*"], sort: true }, headers: ["x-dim"], cookies: ["c"] });
    const model = (i: Input) => ({
      path: i.path,
      kept: i.pairs.filter(([n]) => !n.startsWith("utm_")).map(([n, v]) => `${n}=${v}`).sort((x, y) => {
        const [nx, ny] = [decodeURIComponent(x.split("=")[0]!), decodeURIComponent(y.split("=")[0]!)];
        return nx < ny ? -1 : nx > ny ? 1 : 0;
      }),
      header: i.header,
      cookie: i.cookie,
    });
    const keyFor = (i: Input) =>
      buildCacheKey(
        new URL(`https://x.test${i.path}${i.pairs.length ? `?${i.pairs.map(([n, v]) => `${n}=${v}`).join("&")}` : ""}`),
        requestHeaders(i),
        key,
      ).key;
    const seen = { equal: 0, different: 0 };
    fc.assert(
      fc.property(input, input, fc.constantFrom(...Object.keys(variations)), (a, other, how) => {
        const b = variations[how]!(a, other);
        const sameModel = JSON.stringify(model(a)) === JSON.stringify(model(b));
        seen[sameModel ? "equal" : "different"]++;
        expect(keyFor(a) === keyFor(b)).toBe(sameModel);
      }),
      { numRuns: 2000 },
    );
    expect(seen.equal).toBeGreaterThan(100);
    expect(seen.different).toBeGreaterThan(100);
  });
});

describe("hashKey", () => {
  it("is 64 lower-case hex characters for any key, and deterministic", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 3000 }), async (key) => {
        const h = await hashKey(key);
        expect(h).toMatch(/^[0-9a-f]{64}$/);
        expect(await hashKey(key)).toBe(h);
      }),
      { numRuns: 200 },
    );
  });

  it("is SHA-256 of the UTF-8 key (known vector) and differs for keys that differ", async () => {
    expect(await hashKey("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const keys = ["https://x.test/a", "https://x.test/a?", "https://x.test/A", 'https://x.test/a\n[["h","x",null]]', 'https://x.test/a\n[["h","x",""]]'];
    const hashes = await Promise.all(keys.map(hashKey));
    expect(new Set(hashes).size).toBe(keys.length);
  });
});
