/**
 * Validation of what `defaults` and each route may set (`RouteSettings`). The shapes
 * are typed by the keys of the interfaces in types.ts, so a field added there and
 * not here (or the reverse) fails the typecheck.
 */
import {
  bool, checkObject, cookieGlob, cookieName, headerName, integer, isObject, methodName, oneOf,
  positiveSeconds, queryGlob, seconds, stringList, type Checker, type ItemTest,
} from "./check";
import { HEALTH_COUNTS, MAX_COOL_OFF_MS, type HealthCount } from "../policy/origin-health";
import { MAX_TAG_LENGTH, tagProblem } from "../policy/tags";
import { at, jsonType } from "./report";
import type { BypassConditions, CountryGroups, KeySettings, KvSettings, OriginHealthSettings, RouteSettings, SizeSettings, TtlSettings } from "./types";

type ShapeOf<T> = Readonly<Record<keyof Required<T>, Checker>>;
type QuerySettings = NonNullable<KeySettings["query"]>;

/** `log`: "all", "errors", or a sampling rate from 0 to 1. */
const logSetting: Checker = (value, path, report) => {
  if (typeof value === "number") {
    if (!(value >= 0 && value <= 1)) report.error(path, `a sampling rate must be from 0 to 1, got ${value}`, "e.g. 0.01 logs one request in a hundred (and every failure)");
    return;
  }
  oneOf(["all", "errors"], () => 'use "all", "errors", or a rate from 0 to 1 such as 0.01')(value, path, report);
};

const kvSeconds: Checker = (value, path, report) => {
  if (typeof value === "number" && Number.isInteger(value) && value > 0 && value < 60) {
    report.error(path, `KV TTL must be 0 or at least 60, got ${value}`, "KV needs at least 60 s; use 0 to skip KV");
  } else seconds()(value, path, report);
};

export const TTL_SHAPE: ShapeOf<TtlSettings> = { edge: seconds(), kv: kvSeconds, browser: seconds() };

const BYTES_HINT = "write bytes as a plain number, e.g. 52428800 for 50 MiB";

/** A size in bytes, at least 1 (a tier is turned off by its TTL, not by a size of 0). */
const bytes: Checker = (value, path, report) => {
  if (typeof value !== "number") {
    report.error(path, `expected a whole number of bytes, got ${typeof value === "string" ? `the string ${JSON.stringify(value)}` : jsonType(value)}`, BYTES_HINT);
  } else if (!Number.isSafeInteger(value)) {
    report.error(path, `must be a whole number of bytes, got ${value}`, BYTES_HINT);
  } else if (value < 1) {
    report.error(path, `must be at least 1 byte, got ${value}`, 'to keep a route out of the edge tier, set "ttl": { "edge": 0 }');
  }
};

export const SIZE_SHAPE: ShapeOf<SizeSettings> = { edge: bytes };

// A status code (100-599) or a class ("4xx").
const STATUS_KEY = /^[1-5]([0-9]{2}|xx)$/;

const statusMap: Checker = (value, path, report) => {
  if (!isObject(value)) {
    report.error(path, `expected an object of status codes to seconds, got ${jsonType(value)}`, 'e.g. { "404": 60, "5xx": 0 }');
    return;
  }
  for (const [code, ttl] of Object.entries(value)) {
    if (!STATUS_KEY.test(code)) {
      const hint = /^[1-5]XX$/.test(code) ? `write "${code.toLowerCase()}"` : 'use a status code from 100 to 599 ("404") or a class ("4xx")';
      report.error(at(path, code), `${JSON.stringify(code)} is not a status code or class`, hint);
    }
    seconds()(ttl, at(path, code), report);
  }
};

export const QUERY_SHAPE: ShapeOf<QuerySettings> = {
  ignore: stringList(queryGlob),
  allow: stringList(queryGlob),
  sort: bool,
};

const query: Checker = (value, path, report) => {
  if (!checkObject(value, path, report, QUERY_SHAPE, { what: "the query key settings" })) return;
  if (Object.hasOwn(value, "ignore") && Object.hasOwn(value, "allow")) {
    report.error(
      at(path, "allow"),
      'cannot set both "ignore" and "allow"',
      'use "allow" to keep only the listed parameters, or "ignore" to drop the listed ones, not both',
    );
  }
};

// What CF-IPCountry carries: ISO 3166-1 alpha-2 codes and Cloudflare's own XX (unknown) and T1 (Tor).
const COUNTRY_CODE = /^[A-Z][A-Z0-9]$/;
// A group's name is sent as CF-IPCountry: a short token that no real code can be mistaken for.
const GROUP_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const GROUP_HINT = "use 1 to 32 lower-case letters, digits, '_' or '-' (e.g. \"eu\", \"row\"): lower case, so a group never looks like a country code";

const groupName: Checker = (value, path, report) => {
  if (typeof value !== "string") report.error(path, `expected a group name (a string), got ${jsonType(value)}`, GROUP_HINT);
  else if (!GROUP_NAME.test(value)) report.error(path, `invalid group name ${JSON.stringify(value)}`, GROUP_HINT);
};

const countryGroups: Checker = (value, path, report) => {
  if (!isObject(value)) {
    report.error(path, `expected an object of group names to country lists, got ${jsonType(value)}`, 'e.g. { "eu": ["DE", "FR", "IT"], "na": ["US", "CA"] }');
    return;
  }
  const seen = new Map<string, string>();
  for (const [name, codes] of Object.entries(value)) {
    groupName(name, at(path, name), report);
    stringList((s) => (COUNTRY_CODE.test(s) ? null : [`${JSON.stringify(s)} is not a country code`, 'write two-letter ISO 3166 codes in capitals, e.g. "DE"; "XX" is an unknown country']), {
      nonEmpty: ["an empty group takes no country", "list its countries or remove the group"],
    })(codes, at(path, name), report);
    if (!Array.isArray(codes)) continue;
    codes.forEach((code, i) => {
      if (typeof code !== "string") return;
      const first = seen.get(code);
      if (first !== undefined) report.error(at(at(path, name), i), `${code} is already in group "${first}"`, "put each country in one group only");
      else seen.set(code, name);
    });
  }
};

export const COUNTRY_SHAPE: ShapeOf<CountryGroups> = { groups: countryGroups, other: groupName };

const country: Checker = (value, path, report) => {
  if (typeof value === "boolean") return;
  checkObject(value, path, report, COUNTRY_SHAPE, {
    what: "true, false or the country groups",
    wrongTypeHint: () => 'write true, or { "groups": { "eu": ["DE", "FR"] }, "other": "row" }',
    required: ["groups"],
  });
};

// RFC 5646 language tags as Accept-Language carries them (`en`, `pt-BR`, `zh-Hant`).
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

const language: Checker = (value, path, report) => {
  stringList((s) => (LANGUAGE_TAG.test(s) ? null : [`${JSON.stringify(s)} is not a language tag`, 'write tags such as "en", "fr" or "pt-BR"']), {
    nonEmpty: ["an empty list of languages offers none", 'list the languages the site has, the default first, e.g. ["en", "fr", "de"]'],
  })(value, path, report);
  if (!Array.isArray(value)) return;
  const lower = value.map((v) => (typeof v === "string" ? v.toLowerCase() : v));
  lower.forEach((v, i) => {
    if (lower.indexOf(v) < i) report.error(at(path, i), `${JSON.stringify(value[i])} is listed twice`, "list each language once");
  });
};

export const KEY_SHAPE: ShapeOf<KeySettings> = {
  query,
  headers: stringList(headerName),
  cookies: stringList(cookieName),
  device: bool,
  country,
  language,
};

export const BYPASS_SHAPE: ShapeOf<BypassConditions> = {
  cookies: stringList(cookieGlob),
  headers: stringList(headerName),
  query: stringList(queryGlob),
  methods: stringList(methodName),
};

const bypass: Checker = (value, path, report) => {
  if (typeof value === "boolean") return;
  if (!isObject(value)) {
    report.error(path, `expected true, false or an object of conditions, got ${jsonType(value)}`, 'e.g. true, or { "cookies": ["session*"], "headers": ["authorization"] }');
    return;
  }
  checkObject(value, path, report, BYPASS_SHAPE, { what: "the bypass conditions" });
};

const TAG_HINT = `tags are 1 to ${MAX_TAG_LENGTH} visible ASCII characters, without spaces or commas (as Cloudflare's Cache-Tag takes them)`;

/** What policy/tags.ts calls a tag: route tags go into the entry's headers, where nothing else fits. */
const tagName: ItemTest = (s) => {
  const problem = tagProblem(s);
  if (problem === null) return null;
  if (problem.kind === "too-long") return [`a tag is at most ${MAX_TAG_LENGTH} characters, got ${s.length}`, `${TAG_HINT}; shorten it`];
  if (problem.kind === "not-ascii") return [`${JSON.stringify(s)} is not a valid tag: ${JSON.stringify(problem.char)} is not visible ASCII`, `${TAG_HINT}; spell it in ASCII`];
  return [`${JSON.stringify(s)} is not a valid tag`, "tags are non-empty and hold no spaces or commas"];
};

const originMode = oneOf(["respect", "override", "fallback"], (v) =>
  typeof v === "string" && /^https?:/i.test(v) ? 'the origin URL is set once, as "origin" at the top of the file; here "origin" is the mode' : undefined,
);

/** The cool-off doubles up to this while the origin stays down (docs/origin-health.md). */
export const MAX_COOL_OFF_SECONDS = MAX_COOL_OFF_MS / 1000;

export const ORIGIN_HEALTH_SHAPE: ShapeOf<OriginHealthSettings> = {
  failures: (v, p, r) => {
    integer(1)(v, p, r);
    if (typeof v === "number" && v > 1000) r.error(p, `at most 1000 failures, got ${v}`, "the default is 5; a few connection failures with no answer between them already mean the origin is down");
  },
  coolOff: (v, p, r) => {
    positiveSeconds(v, p, r);
    if (typeof v === "number" && v > MAX_COOL_OFF_SECONDS) r.error(p, `at most ${MAX_COOL_OFF_SECONDS} seconds, got ${v}`, `the cool-off doubles up to ${MAX_COOL_OFF_SECONDS} s while the origin stays down; start lower, e.g. 30`);
  },
  count: stringList((s) =>
    HEALTH_COUNTS.includes(s as HealthCount) ? null
    : [`${JSON.stringify(s)} is not something origin health can count`, `use "timeout" (no response headers within originTimeout) or "5xx" (an error answer); a connection failure always counts`],
  ),
};

const originHealth: Checker = (value, path, report) => {
  if (value === false) return;
  checkObject(value, path, report, ORIGIN_HEALTH_SHAPE, {
    what: "false or the origin health settings",
    wrongTypeHint: () => 'write { "failures": 5, "coolOff": 30 } (the defaults; any field may be left out), or false to turn it off',
  });
};

const buildHeader: Checker = (value, path, report) => {
  if (value === false) return;
  if (typeof value !== "string") {
    report.error(path, `expected a response header name (a string) or false, got ${jsonType(value)}`, 'e.g. "x-build-id"; false turns it off for this route');
    return;
  }
  const bad = headerName(value);
  if (bad) report.error(path, bad[0], bad[1]);
};

export const KV_SHAPE: ShapeOf<KvSettings> = {
  minHits: (v, p, r) => {
    integer(1)(v, p, r);
    if (typeof v === "number" && v > 1000) r.error(p, `at most 1000, got ${v}`, "2 or 3 already keeps one-off URLs out of KV");
  },
};

const kvSettings: Checker = (value, path, report) =>
  void checkObject(value, path, report, KV_SHAPE, {
    what: "the KV settings",
    wrongTypeHint: (v) => (typeof v === "number" ? `a KV TTL goes inside "ttl": { "kv": ${v} }` : 'write { "minHits": 2 }'),
  });

export const SETTINGS_SHAPE: ShapeOf<RouteSettings> = {
  ttl: (v, p, r) => checkObject(v, p, r, TTL_SHAPE, { what: "the ttl settings" }),
  status: statusMap,
  origin: originMode,
  staleWhileRevalidate: seconds(),
  staleIfError: seconds(),
  heuristic: bool,
  clientCacheControl: oneOf(["ignore", "honor"]),
  stripSetCookie: bool,
  cacheAuthorized: bool,
  storePostAnswers: bool,
  originTimeout: positiveSeconds,
  maxVariants: integer(1),
  maxObjectSize: (v, p, r) => checkObject(v, p, r, SIZE_SHAPE, { what: "the size limits per tier", wrongTypeHint: () => 'write { "edge": 52428800 } (bytes)' }),
  key: (v, p, r) => checkObject(v, p, r, KEY_SHAPE, { what: "the cache key settings", misplaced: { ignore: 'put it inside "query"', allow: 'put it inside "query"', sort: 'put it inside "query"' } }),
  bypass,
  tags: stringList(tagName),
  debug: bool,
  log: logSetting,
  shield: bool,
  originHealth,
  buildHeader,
  kv: kvSettings,
};

/** Hints for settings written one level too high (`"edge": 60` instead of `"ttl": {"edge": 60}`). */
export const MISPLACED_SETTINGS: Readonly<Record<string, string>> = {
  edge: 'put it inside "ttl": { "edge": ... }',
  browser: 'put it inside "ttl": { "browser": ... }',
  query: 'put it inside "key" (cache key) or "bypass"',
  cookies: 'put it inside "key" (cache key) or "bypass"',
  headers: 'put it inside "key" (cache key) or "bypass"',
  path: 'put it inside "match": { "path": ... }',
  host: 'put it inside "match": { "host": ... }',
  methods: 'put it inside "match" (which methods the route takes) or "bypass"',
  swr: 'did you mean "staleWhileRevalidate"?',
  sie: 'did you mean "staleIfError"?',
};
