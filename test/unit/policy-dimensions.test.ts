/**
 * Country grouping and language matching: what `key.country` and `key.language`
 * reduce a request to, and so what the key holds and the origin receives.
 */
import { describe, expect, it } from "vitest";
import { buildCacheKey } from "../../src/policy/cache-key";
import { countryValue, matchLanguage } from "../../src/policy/dimensions";
import { forwardHeaders } from "../../src/policy/forwarding";
import { parseRules } from "../../src/rules/parse";
import type { CompiledKey, KeySettings } from "../../src/rules/types";

function compiledKey(key: KeySettings): CompiledKey {
  const result = parseRules({ version: 1, routes: [{ name: "r", match: { path: "/*" }, key }] });
  if (!result.rules) throw new Error(JSON.stringify(result.problems));
  return result.rules.routes[0]!.key;
}

describe("countryValue", () => {
  const grouped = compiledKey({ country: { groups: { eu: ["DE", "FR"], na: ["US", "CA"] }, other: "row" } }).country!;
  const plain = compiledKey({ country: true }).country!;

  it("is the country's code, XX when Cloudflare gave none", () => {
    expect(countryValue(plain, "DE")).toBe("DE");
    expect(countryValue(plain, "de")).toBe("DE");
    expect(countryValue(plain, undefined)).toBe("XX");
    expect(countryValue(plain, "not a country")).toBe("XX");
  });

  it("is the group's name when grouped, else `other`", () => {
    expect(countryValue(grouped, "FR")).toBe("eu");
    expect(countryValue(grouped, "CA")).toBe("na");
    expect(countryValue(grouped, "JP")).toBe("row");
    expect(countryValue(grouped, undefined)).toBe("row");
  });

  it("without `other`, an ungrouped country keeps its code", () => {
    const noOther = compiledKey({ country: { groups: { eu: ["DE"] } } }).country!;
    expect(countryValue(noOther, "DE")).toBe("eu");
    expect(countryValue(noOther, "JP")).toBe("JP");
  });
});

describe("matchLanguage (RFC 9110 §12.5.4, RFC 4647)", () => {
  const offered = ["en", "fr", "de", "pt-BR"];
  it.each<[string | null, string]>([
    [null, "en"],
    ["", "en"],
    ["fr", "fr"],
    ["FR-ca", "fr"],
    ["de-AT,de;q=0.9,en;q=0.8", "de"],
    ["es, fr;q=0.5, de;q=0.7", "de"],
    ["es", "en"],
    ["pt", "pt-BR"],
    ["pt-br", "pt-BR"],
    ["en;q=0.1, fr;q=0.9", "fr"],
    ["fr;q=0, de", "de"],
    ["*", "en"],
    ["en;q=0, *", "fr"],
    ["zh, *;q=0.1", "en"],
    ["ja;q=1, fr;q=1", "fr"],
    ["fr;q=abc", "fr"],
    ["!!, de", "de"],
  ])("%s -> %s", (header, expected) => {
    expect(matchLanguage(header, offered)).toBe(expected);
  });

  it("looks at a bounded number of items", () => {
    const header = `${Array.from({ length: 40 }, (_, i) => `x${i}`).join(",")},fr`;
    expect(matchLanguage(header, offered)).toBe("en");
  });
});

describe("dimensions in the key and the origin request", () => {
  const key = compiledKey({ device: true, country: { groups: { eu: ["DE", "FR"] }, other: "row" }, language: ["en", "fr"] });
  const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148";

  it("each value is a part of the key; requests that reduce alike share it", () => {
    const a = buildCacheKey(new URL("https://s.test/p"), new Headers({ "user-agent": iphone, "accept-language": "fr-FR,fr;q=0.9" }), key, "DE");
    const b = buildCacheKey(new URL("https://s.test/p"), new Headers({ "user-agent": `${iphone} Safari`, "accept-language": "fr" }), key, "FR");
    const c = buildCacheKey(new URL("https://s.test/p"), new Headers({ "user-agent": iphone, "accept-language": "fr" }), key, "US");
    expect(a.parts.dimensions).toEqual({ device: "mobile", country: "eu", language: "fr" });
    expect(a.key).toBe(b.key);
    expect(c.parts.dimensions?.country).toBe("row");
    expect(c.key).not.toBe(a.key);
  });

  it("a route without dimensions has none in its key", () => {
    const k = buildCacheKey(new URL("https://s.test/p"), new Headers(), compiledKey({}));
    expect(k.parts.dimensions).toBeUndefined();
    expect(k.key).toBe("https://s.test/p");
  });

  it("the origin receives each value under its header, and nothing else of what the client sent there", () => {
    const sent = forwardHeaders(
      new Headers({ "accept-language": "fr-FR,fr;q=0.9,en;q=0.5", "cf-device-type": "desktop", "cf-ipcountry": "US" }),
      key,
      { device: "mobile", country: "eu", language: "fr" },
    );
    expect(sent.get("cf-device-type")).toBe("mobile");
    expect(sent.get("cf-ipcountry")).toBe("eu");
    expect(sent.get("accept-language")).toBe("fr");
  });

  it("a client's own CF-Device-Type never reaches the origin of a route that does not key on it", () => {
    expect(forwardHeaders(new Headers({ "cf-device-type": "mobile" }), compiledKey({})).has("cf-device-type")).toBe(false);
    expect(forwardHeaders(new Headers({ "cf-device-type": "mobile" }), compiledKey({ headers: ["cf-device-type"] })).get("cf-device-type")).toBe("mobile");
  });
});
