/**
 * Validation of what `defaults` and each route may set (`RouteSettings`). The shapes
 * are typed by the keys of the interfaces in types.ts, so a field added there and
 * not here (or the reverse) fails the typecheck.
 */
import {
  bool, checkObject, cookieGlob, cookieName, headerName, integer, isObject, methodName, oneOf,
  positiveSeconds, queryGlob, seconds, stringList, type Checker, type ItemTest,
} from "./check";
import { at, jsonType } from "./report";
import type { BypassConditions, KeySettings, RouteSettings, TtlSettings } from "./types";

type ShapeOf<T> = Readonly<Record<keyof Required<T>, Checker>>;
type QuerySettings = NonNullable<KeySettings["query"]>;

const kvSeconds: Checker = (value, path, report) => {
  if (typeof value === "number" && Number.isInteger(value) && value > 0 && value < 60) {
    report.error(path, `KV TTL must be 0 or at least 60, got ${value}`, "KV needs at least 60 s; use 0 to skip KV");
  } else seconds()(value, path, report);
};

export const TTL_SHAPE: ShapeOf<TtlSettings> = { edge: seconds(), kv: kvSeconds, browser: seconds() };

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

export const KEY_SHAPE: ShapeOf<KeySettings> = {
  query,
  headers: stringList(headerName),
  cookies: stringList(cookieName),
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

const tagName: ItemTest = (s) =>
  /^[^\s,]+$/.test(s) ? null : [`${JSON.stringify(s)} is not a valid tag`, "tags are non-empty and hold no spaces or commas"];

const originMode = oneOf(["respect", "override", "fallback"], (v) =>
  typeof v === "string" && /^https?:/i.test(v) ? 'the origin URL is set once, as "origin" at the top of the file; here "origin" is the mode' : undefined,
);

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
  originTimeout: positiveSeconds,
  maxVariants: integer(1),
  key: (v, p, r) => checkObject(v, p, r, KEY_SHAPE, { what: "the cache key settings", misplaced: { ignore: 'put it inside "query"', allow: 'put it inside "query"', sort: 'put it inside "query"' } }),
  bypass,
  tags: stringList(tagName),
  debug: bool,
};

/** Hints for settings written one level too high (`"edge": 60` instead of `"ttl": {"edge": 60}`). */
export const MISPLACED_SETTINGS: Readonly<Record<string, string>> = {
  edge: 'put it inside "ttl": { "edge": ... }',
  kv: 'put it inside "ttl": { "kv": ... }',
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
