/**
 * Our Cache-Status entry (RFC 9211) must always be exactly one valid RFC 8941 list
 * member, whatever it carries, and appending it must keep what caches before us wrote.
 * The small Structured Fields list parser below follows RFC 8941 §4.2.1 (lists),
 * §4.2.3 (items and parameters) and §4.2.3.1 onwards (bare items), without decimals
 * and byte sequences, which a Cache-Status never needs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appendCacheStatus, CACHE_NAME, type CacheStatus, type ForwardReason, formatCacheStatus } from "../../src/http/cache-status";

// ---- a small RFC 8941 parser ----

type Bare = { token: string } | string | number | boolean;
interface Member {
  value: Bare;
  params: [string, Bare][];
}

class SfError extends Error {}

function parseSfList(input: string): Member[] {
  let s = input.replace(/^ +| +$/g, ""); // §4.2: discard leading and trailing SP
  const members: Member[] = [];
  const fail = (why: string): never => {
    throw new SfError(`${why} at ${JSON.stringify(s.slice(0, 20))} in ${JSON.stringify(input)}`);
  };
  const bare = (): Bare => {
    const c = s[0] ?? "";
    if (c === "-" || /[0-9]/.test(c)) {
      const m = /^-?[0-9]{1,15}(?![0-9.])/.exec(s) ?? fail("bad integer"); // §4.2.4
      s = s.slice(m[0].length);
      return Number(m[0]);
    }
    if (c === '"') {
      let out = "";
      let i = 1;
      for (;;) {
        const ch = s[i] ?? fail("unterminated string");
        if (ch === "\\") {
          const next = s[i + 1];
          if (next !== '"' && next !== "\\") fail("bad escape");
          out += next;
          i += 2;
        } else if (ch === '"') {
          s = s.slice(i + 1);
          return out;
        } else if (ch < " " || ch > "~") {
          fail("non-printable in string"); // §4.2.5
        } else {
          out += ch;
          i++;
        }
      }
    }
    if (/[A-Za-z*]/.test(c)) {
      const m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(s)!; // §4.2.6
      s = s.slice(m[0].length);
      return { token: m[0] };
    }
    if (c === "?") {
      const m = /^\?[01]/.exec(s) ?? fail("bad boolean");
      s = s.slice(2);
      return m[0] === "?1";
    }
    return fail("unknown bare item");
  };
  const params = (): [string, Bare][] => {
    const out: [string, Bare][] = [];
    while (s[0] === ";") {
      s = s.slice(1).replace(/^ +/, "");
      const m = /^[a-z*][a-z0-9_\-.*]*/.exec(s) ?? fail("bad key"); // §4.2.3.3
      s = s.slice(m[0].length);
      let value: Bare = true;
      if (s[0] === "=") {
        s = s.slice(1);
        value = bare();
      }
      const existing = out.findIndex(([k]) => k === m[0]);
      if (existing >= 0) out.splice(existing, 1); // a repeated key overwrites
      out.push([m[0], value]);
    }
    return out;
  };
  while (s.length > 0) {
    if (s[0] === "(") fail("inner lists are not expected here");
    members.push({ value: bare(), params: params() });
    s = s.replace(/^[ \t]+/, "");
    if (s.length === 0) return members;
    if (s[0] !== ",") fail("expected a comma");
    s = s.slice(1).replace(/^[ \t]+/, "");
    if (s.length === 0) fail("trailing comma");
  }
  return members;
}

describe("the test's RFC 8941 parser", () => {
  it("reads what RFC 9211's examples show and refuses what RFC 8941 refuses", () => {
    expect(parseSfList('ExampleCache; hit, "Other"; fwd=uri-miss; ttl=-3; detail="a, b"')).toEqual([
      { value: { token: "ExampleCache" }, params: [["hit", true]] },
      { value: "Other", params: [["fwd", { token: "uri-miss" }], ["ttl", -3], ["detail", "a, b"]] },
    ]);
    for (const bad of ['a; detail="x', "a,", "a; Hit", 'a; d="é"', "a; ttl=1234567890123456", "a b"]) {
      expect(() => parseSfList(bad), bad).toThrow(SfError);
    }
  });
});

// ---- formatCacheStatus ----

const paramsOf = (line: string) => {
  const members = parseSfList(line);
  expect(members).toHaveLength(1);
  expect(members[0]!.value).toEqual({ token: CACHE_NAME });
  return Object.fromEntries(members[0]!.params);
};

describe("formatCacheStatus", () => {
  it.each<[string, CacheStatus, string]>([
    ["a hit from the edge tier", { hit: true, ttl: 3540, detail: "edge" }, "edge-cache; hit; ttl=3540; detail=edge"],
    ["a hit from KV", { hit: true, detail: "kv" }, "edge-cache; hit; detail=kv"],
    ["a stored miss", { fwd: "uri-miss", stored: true }, "edge-cache; fwd=uri-miss; stored"],
    ["a bypass with its reason", { fwd: "bypass", detail: "cookie" }, "edge-cache; fwd=bypass; detail=cookie"],
    ["stale served because the origin failed", { fwd: "stale", fwdStatus: 503 }, "edge-cache; fwd=stale; fwd-status=503"],
    ["every parameter, in RFC 9211 order", { hit: true, fwd: "stale", fwdStatus: 200, stored: true, collapsed: true, ttl: -5, detail: "kv" }, "edge-cache; hit; fwd=stale; fwd-status=200; stored; collapsed; ttl=-5; detail=kv"],
    ["nothing at all: just the name", {}, "edge-cache"],
    ["false flags are left out", { hit: false, stored: false, collapsed: false }, "edge-cache"],
    ["an empty detail is left out", { fwd: "uri-miss", detail: "" }, "edge-cache; fwd=uri-miss"],
    ["§2.4 ttl is an integer, truncated toward zero", { hit: true, ttl: 59.9 }, "edge-cache; hit; ttl=59"],
    ["§2.4 a negative fractional ttl, truncated toward zero", { ttl: -0.5 }, "edge-cache; ttl=0"],
    ["a detail that is not a token is a string", { detail: "no rule" }, 'edge-cache; detail="no rule"'],
    ["a detail starting with a digit is a string", { detail: "404" }, 'edge-cache; detail="404"'],
    ["quotes and backslashes are escaped (RFC 8941 §3.3.3)", { detail: 'a"b\\c' }, 'edge-cache; detail="a\\"b\\\\c"'],
    ["non-ASCII becomes '?'", { detail: "café" }, 'edge-cache; detail="caf?"'],
    ["a comma stays inside the string", { detail: "a,b" }, 'edge-cache; detail="a,b"'],
    ["token characters stay bare, ':' and '/' included", { detail: "kv:stale/x" }, "edge-cache; detail=kv:stale/x"],
  ])("%s", (_name, status, expected) => {
    expect(formatCacheStatus(status)).toBe(expected);
    paramsOf(expected); // every expected line is itself valid
  });

  const detail = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary" }),
    fc.string({ unit: fc.constantFrom('"', "\\", ",", ";", "=", " ", "a", "é", "\t", "\n", "\u0000", "😀", "\u007f", "(", ")") }),
  );
  const status: fc.Arbitrary<CacheStatus> = fc.record(
    {
      hit: fc.boolean(),
      fwd: fc.constantFrom<ForwardReason>("bypass", "method", "uri-miss", "stale"),
      fwdStatus: fc.integer({ min: 100, max: 599 }),
      stored: fc.boolean(),
      collapsed: fc.boolean(),
      ttl: fc.oneof(fc.integer({ min: -(2 ** 32), max: 2 ** 32 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
      detail,
    },
    { requiredKeys: [] },
  );

  it("is always exactly one valid RFC 8941 list member that says what it was given", () => {
    fc.assert(
      fc.property(status, (s) => {
        const line = formatCacheStatus(s);
        const params = paramsOf(line);
        expect(params.hit).toBe(s.hit ? true : undefined);
        expect(params.fwd).toEqual(s.fwd ? { token: s.fwd } : undefined);
        expect(params["fwd-status"]).toBe(s.fwdStatus);
        expect(params.stored).toBe(s.stored ? true : undefined);
        expect(params.collapsed).toBe(s.collapsed ? true : undefined);
        expect(params.ttl).toBe(s.ttl === undefined ? undefined : Math.trunc(s.ttl) + 0);
        if (s.detail) {
          const d = params.detail;
          const text = typeof d === "object" && d !== null && "token" in d ? d.token : d;
          // Printable ASCII survives exactly; anything else becomes '?', one per UTF-16 unit.
          expect(text).toBe(s.detail.replace(/[^\x20-\x7e]/g, "?"));
        } else {
          expect(params.detail).toBeUndefined();
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- appendCacheStatus ----

const appended = (upstream: string | string[] | null, s: CacheStatus = { hit: true, detail: "edge" }) => {
  const h = new Headers();
  for (const line of upstream === null ? [] : [upstream].flat()) h.append("cache-status", line);
  appendCacheStatus(h, s);
  return h.get("cache-status") ?? "";
};

describe("appendCacheStatus", () => {
  it("writes ours alone when nothing came before", () => {
    expect(appended(null)).toBe("edge-cache; hit; detail=edge");
  });

  it("§2 keeps the entries of caches nearer the origin, ours last", () => {
    expect(appended("OriginCache; hit; ttl=30")).toBe("OriginCache; hit; ttl=30, edge-cache; hit; detail=edge");
    expect(appended(["A; fwd=miss", "B; hit"])).toBe("A; fwd=miss, B; hit, edge-cache; hit; detail=edge");
  });

  it("replaces an entry that claims to be ours, wherever it is, and leaves exactly one", () => {
    const line = appended("edge-cache; fwd=miss, OriginCache; hit, edge-cache; hit; detail=kv");
    expect(line).toBe("OriginCache; hit, edge-cache; hit; detail=edge");
    expect(parseSfList(line).filter((m) => (m.value as { token: string }).token === CACHE_NAME)).toHaveLength(1);
  });

  it("keeps an entry whose name only starts like ours", () => {
    expect(appended("edge-cache-2; hit")).toBe("edge-cache-2; hit, edge-cache; hit; detail=edge");
  });

  // RFC 8941 §3.3.3: a comma inside an sf-string is part of the string, not a list separator.
  it("RFC 8941 §3.3.3 keeps an upstream entry whose string holds a comma byte for byte", () => {
    expect(appended('OriginCache; fwd=miss; detail="a,b"')).toBe('OriginCache; fwd=miss; detail="a,b", edge-cache; hit; detail=edge');
  });

  it("RFC 8941 §3.3.3 an upstream string that mentions our name cannot swallow our entry", () => {
    const line = appended('OriginCache; detail="x, edge-cache; y"');
    const members = parseSfList(line);
    expect(members.map((m) => m.value)).toEqual([{ token: "OriginCache" }, { token: CACHE_NAME }]);
    expect(members[0]!.params).toEqual([["detail", "x, edge-cache; y"]]);
  });

  it("keeps every valid upstream member intact and ends with exactly one of ours", () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:/-]{0,10}$/).filter((t) => t !== CACHE_NAME);
    const str = fc.string({ unit: fc.constantFrom("a", " ", ",", ";", "=", '\\"', "\\\\", "e") });
    const param = fc.tuple(
      fc.constantFrom("hit", "fwd", "ttl", "detail", "key"),
      fc.oneof(
        fc.constant(""),
        fc.integer({ min: -999, max: 999 }).map((n) => `=${n}`),
        token.map((t) => `=${t}`),
        str.map((v) => `="${v}"`),
      ),
    );
    const member = fc
      .tuple(token, fc.uniqueArray(param, { selector: ([k]) => k, maxLength: 3 }))
      .map(([name, ps]) => [name, ...ps.map(([k, v]) => `${k}${v}`)].join("; "));
    fc.assert(
      fc.property(fc.array(member, { minLength: 1, maxLength: 4 }), (members) => {
        const upstream = members.join(", ");
        const line = appended(upstream);
        const parsed = parseSfList(line);
        expect(parsed.slice(0, -1)).toEqual(parseSfList(upstream));
        expect(parsed.at(-1)).toEqual({ value: { token: CACHE_NAME }, params: [["hit", true], ["detail", { token: "edge" }]] });
      }),
      { numRuns: 500 },
    );
  });
});
