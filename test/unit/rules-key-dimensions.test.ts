/**
 * The rules fields `key.device`, `key.country`, `key.language`: what the validator
 * refuses (with a path and a hint), how routes inherit them, and the lint warning
 * for keying assets on a dimension.
 */
import { describe, expect, it } from "vitest";
import { lintRules } from "../../src/rules/lint";
import { parseRules } from "../../src/rules/parse";

const withKey = (key: unknown) => ({ version: 1, routes: [{ name: "r", match: { path: "/*" }, key }] });
const errors = (file: unknown) => parseRules(file).problems.filter((p) => p.severity === "error").map((p) => `${p.path}: ${p.message}`);

describe("key dimension fields", () => {
  it("accepts the documented forms", () => {
    for (const key of [
      { device: true },
      { device: false },
      { country: true },
      { country: { groups: { eu: ["DE", "FR"] } } },
      { country: { groups: { eu: ["DE", "FR"], na: ["US"] }, other: "row" } },
      { language: ["en", "fr", "pt-BR"] },
    ]) {
      expect({ key, problems: parseRules(withKey(key)).problems }).toEqual({ key, problems: [] });
    }
  });

  it.each<[string, unknown, string]>([
    ["device must be a boolean", { device: "yes" }, "$.routes[0].key.device: expected true or false, got string"],
    ["country groups are required in the object form", { country: { other: "row" } }, '$.routes[0].key.country.groups: missing required field "groups"'],
    ["country codes are ISO capitals", { country: { groups: { eu: ["de"] } } }, '$.routes[0].key.country.groups.eu[0]: "de" is not a country code'],
    ["a country in one group only", { country: { groups: { eu: ["DE"], dach: ["DE", "AT"] } } }, '$.routes[0].key.country.groups.dach[0]: DE is already in group "eu"'],
    ["group names are lower-case tokens", { country: { groups: { EU: ["DE"] } } }, '$.routes[0].key.country.groups.EU: invalid group name "EU"'],
    ["other is a group name", { country: { groups: { eu: ["DE"] }, other: "Rest of World" } }, '$.routes[0].key.country.other: invalid group name "Rest of World"'],
    ["an empty group", { country: { groups: { eu: [] } } }, "$.routes[0].key.country.groups.eu: an empty group takes no country"],
    ["country is true, false or an object", { country: "DE" }, "$.routes[0].key.country: expected true, false or the country groups (an object), got string"],
    ["languages are tags", { language: ["en", "fr_FR"] }, '$.routes[0].key.language[1]: "fr_FR" is not a language tag'],
    ["languages are listed once", { language: ["en", "EN"] }, '$.routes[0].key.language[1]: "EN" is listed twice'],
    ["at least one language", { language: [] }, "$.routes[0].key.language: an empty list of languages offers none"],
  ])("%s", (_name, key, message) => {
    expect(errors(withKey(key))).toEqual([message]);
  });

  it("a route inherits the defaults' dimensions and may turn them off", () => {
    const rules = parseRules({
      version: 1,
      defaults: { key: { device: true, language: ["en", "de"] } },
      routes: [
        { name: "a", match: { path: "/a/*" } },
        { name: "b", match: { path: "/*" }, key: { device: false, country: true } },
      ],
    }).rules!;
    expect(rules.routes[0]!.key).toMatchObject({ device: true, country: null, language: ["en", "de"] });
    expect(rules.routes[1]!.key).toMatchObject({ device: false, country: { groups: null, other: null }, language: ["en", "de"] });
  });
});

describe("lint: keying assets on a dimension", () => {
  it("warns when a static-asset route keys on device, country or language", () => {
    const rules = parseRules({
      version: 1,
      routes: [
        { name: "assets", match: { path: "/assets/*" }, key: { device: true, language: ["en", "fr"] } },
        { name: "pages", match: { path: "/*" }, key: { device: true, country: true } },
      ],
    }).rules!;
    expect(lintRules(rules)).toEqual([
      {
        severity: "warning",
        path: "$.routes[0].key",
        message: 'route "assets" keys on device, language, but its path (/assets/*) names static assets, which an origin does not seem to vary on: each asset is stored and fetched up to once per value for the same bytes',
        hint: 'remove "device" from this route\'s "key" (set it on the page routes only), or name the route\'s path after what really differs',
      },
    ]);
  });
});
