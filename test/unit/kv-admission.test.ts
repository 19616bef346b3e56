/** The per-isolate request counter of kv.minHits, and what counts as an unchanged 304 refresh. */
import { describe, expect, it } from "vitest";
import { createHitCounter } from "../../src/pipeline/kv-admission";
import type { Lifetimes } from "../../src/policy/freshness";
import { unchangedBy304 } from "../../src/policy/unchanged";

describe("hit counter", () => {
  it("counts within the first counted request's lifetime, then starts again", () => {
    const c = createHitCounter();
    expect([c.note("a", 0, 100), c.note("a", 50, 999), c.note("b", 60, 100)]).toEqual([1, 2, 1]);
    expect(c.note("a", 100, 300)).toBe(1);
    expect(c.note("a", 299, 300)).toBe(2);
  });

  it("holds at most its bound of keys, dropping the least recently counted", () => {
    const c = createHitCounter(3);
    for (const k of ["a", "b", "c"]) c.note(k, 0, 1000);
    c.note("a", 1, 1000);
    c.note("d", 2, 1000);
    expect(c.note("b", 3, 1000)).toBe(1);
    expect(c.note("a", 4, 1000)).toBe(3);
  });
});

describe("unchangedBy304", () => {
  const l: Lifetimes = { lifetime: 60, initialAge: 0, staleWhileRevalidate: 0, staleIfError: 0, mustRevalidate: false };
  const before = { headers: [["content-type", "text/html"], ["date", "Mon"], ["etag", '"a"']] as [string, string][], lifetimes: l };
  it("ignores Date, Age and Expires, and the initial age; any other field or lifetime is a change", () => {
    const same = new Headers({ "content-type": "text/html", date: "Tue", age: "3", etag: '"a"' });
    expect(unchangedBy304(before, { headers: same, lifetimes: { ...l, initialAge: 3 } })).toBe(true);
    expect(unchangedBy304(before, { headers: same, lifetimes: { ...l, lifetime: 120 } })).toBe(false);
    expect(unchangedBy304(before, { headers: new Headers({ "content-type": "text/plain", etag: '"a"' }), lifetimes: l })).toBe(false);
    expect(unchangedBy304(before, { headers: new Headers({ "content-type": "text/html", etag: '"a"', vary: "accept" }), lifetimes: l })).toBe(false);
  });
});
