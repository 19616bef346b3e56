/**
 * The "may it be stored" checks and the lifetime rules for what RFC 9111 says about
 * status codes (§3, §4.2.2), must-understand (§5.2.2.3), Authorization (§3.5) and
 * Age (§5.1), as tables. T0 is the moment the response arrived.
 */
import { describe, expect, it } from "vitest";
import { storeVerdict, type ResponseFacts } from "../../src/policy/freshness";
import { ageValue } from "../../src/policy/lifetime";
import { parseRules } from "../../src/rules/parse";
import type { CompiledRoute, RouteSettings } from "../../src/rules/types";

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000).toUTCString();

function route(settings: RouteSettings = {}): CompiledRoute {
  const compiled = parseRules({ version: 1, routes: [{ name: "r", match: { path: "/*" }, ...settings }] }).rules?.routes[0];
  if (!compiled) throw new Error("test route invalid");
  return compiled;
}
const RESPECT = route({ origin: "respect" });

function verdict(status: number, headers: Record<string, string>, more: Partial<ResponseFacts> = {}, r = RESPECT) {
  const v = storeVerdict(r, { status, headers: new Headers({ date: at(0), ...headers }), requestTime: T0, responseTime: T0, authorized: false, ...more });
  return v.store ? { store: true, lifetime: v.lifetimes.lifetime, source: v.source } : { store: false, reason: v.reason };
}
const stored = (lifetime: number, source: string) => ({ store: true, lifetime, source });
const refused = (reason: string) => ({ store: false, reason });

describe("status codes (§3, §4.2.2)", () => {
  it.each<[string, number, Record<string, string>, object]>([
    ["§3 an unknown 2xx with max-age is stored", 299, { "cache-control": "max-age=60" }, stored(60, "max-age")],
    ["§3 an unknown 4xx with max-age is stored", 499, { "cache-control": "max-age=60" }, stored(60, "max-age")],
    ["§3 an unknown 5xx with s-maxage is stored", 599, { "cache-control": "s-maxage=60" }, stored(60, "s-maxage")],
    ["§3 an unknown status with Expires is stored", 299, { expires: at(30) }, stored(30, "expires")],
    ["§4.2.2 an unknown status with Last-Modified only: no heuristic", 299, { "last-modified": at(-1000) }, refused("status")],
    ["§4.2.2 an unknown status marked public gets a heuristic", 299, { "cache-control": "public", "last-modified": at(-1000) }, stored(100, "heuristic")],
    ["§4.2.2 a known, non-heuristic status marked public gets a heuristic", 302, { "cache-control": "public", "last-modified": at(-1000) }, stored(100, "heuristic")],
    ["§4.2.2 public without anything to go on: nothing to store", 299, { "cache-control": "public" }, refused("no-freshness")],
    ["§3 a 206 is never stored, even with max-age", 206, { "cache-control": "max-age=60" }, refused("status")],
    ["§3 a 304 is never stored as an entry", 304, { "cache-control": "max-age=60" }, refused("status")],
  ])("%s", (_name, status, headers, expected) => {
    expect(verdict(status, headers)).toEqual(expected);
  });

  it("§3 a status rule never makes a 206 storable", () => {
    expect(verdict(206, {}, {}, route({ origin: "fallback", status: { "2xx": 60 } }))).toEqual(refused("status"));
  });
});

describe("must-understand (§5.2.2.3)", () => {
  it.each<[string, number, string, object]>([
    ["with a status we understand, no-store is ignored", 200, "must-understand, no-store, max-age=60", stored(60, "max-age")],
    ["a 404 we understand: no-store ignored", 404, "no-store, must-understand, max-age=60", stored(60, "max-age")],
    ["with a status we do not understand, not stored", 299, "must-understand, no-store, max-age=60", refused("must-understand")],
    ["with a status we do not understand, not stored even without no-store", 499, "must-understand, max-age=60", refused("must-understand")],
    ["without must-understand, no-store stands", 200, "no-store, max-age=60", refused("no-store")],
    ["must-understand does not lift private", 200, "must-understand, private, max-age=60", refused("private")],
  ])("§5.2.2.3 %s", (_name, status, cc, expected) => {
    expect(verdict(status, { "cache-control": cc })).toEqual(expected);
  });
});

describe("Age (§5.1)", () => {
  it.each<[string, string | null, number | "invalid" | null]>([
    ["absent", null, null],
    ["delta-seconds", "10", 10],
    ["the first of several lines counts", "10, 20", 10],
    ["an invalid first member", "old, 0", "invalid"],
    ["negative", "-1", "invalid"],
    ["a fraction", "1.5", "invalid"],
    ["empty", "", "invalid"],
    ["huge: 2^31", "99999999999999999999", 2 ** 31],
  ])("%s", (_name, value, expected) => {
    expect(ageValue(new Headers(value === null ? {} : { age: value }))).toBe(expected);
  });

  it.each<[string, string, Record<string, string>, object]>([
    ["§5.1 an invalid Age is ignored: as fresh as max-age says", "old, 0", {}, stored(60, "max-age")],
    ["§5.1 a negative or fractional Age is ignored too", "-5", {}, stored(60, "max-age")],
    ["§5.1 the first Age line counts", "10, old", {}, stored(60, "max-age")],
  ])("%s", (_name, age, more, expected) => {
    expect(verdict(200, { "cache-control": "max-age=60", age, ...more })).toEqual(expected);
  });

  it("§5.1 under a rule's own TTL an upstream Age is not ours to spend, valid or not", () => {
    expect(verdict(200, { age: "nonsense" }, {}, route({ origin: "override", ttl: { edge: 600 } }))).toEqual(stored(600, "rule"));
  });
});

describe("checks that read the request", () => {
  it("§5.2.1.5 and deception read the request", () => {
    const request = (headers: Record<string, string>, path = "/a") => ({ request: { headers: new Headers(headers), path } });
    expect(verdict(200, { "cache-control": "max-age=60" }, request({ "cache-control": "no-store" }))).toEqual(refused("request-no-store"));
    expect(verdict(200, { "cache-control": "max-age=60", "content-type": "text/html" }, request({}, "/account/x.css"))).toEqual(refused("deception"));
    expect(verdict(200, { "cache-control": "max-age=60", "content-type": "text/css" }, request({}, "/site/x.css"))).toEqual(stored(60, "max-age"));
  });
});
