/**
 * The key dimensions a route may split on besides the URL: device class, country
 * (optionally grouped) and language. Each is reduced to a small set of values, and
 * that value is both a part of the key and the header the origin receives
 * (`CF-Device-Type`, `CF-IPCountry`, `Accept-Language`), so the origin can only see
 * what the key holds (rule zero, see forwarding.ts). Pure.
 */
import type { CompiledKey } from "../rules/types";
import { classifyDevice } from "./device";

export interface Dimensions {
  device?: string;
  country?: string;
  language?: string;
}

/** The header each dimension is sent to the origin as. */
export const DIMENSION_HEADERS = { device: "cf-device-type", country: "cf-ipcountry", language: "accept-language" } as const;

/** What Cloudflare sends when it does not know the country; locally `cf.country` is absent. */
export const UNKNOWN_COUNTRY = "XX";

/** Most Accept-Language items looked at: more cannot be a real browser's, and the cost stays bounded. */
const MAX_LANGUAGE_ITEMS = 32;

/** The dimensions the route keys on, for one request; `country` is `request.cf.country`. */
export function dimensionsOf(key: CompiledKey, headers: Headers, country: unknown): Dimensions {
  const out: Dimensions = {};
  if (key.device) out.device = classifyDevice(headers.get("user-agent"));
  if (key.country) out.country = countryValue(key.country, country);
  if (key.language) out.language = matchLanguage(headers.get("accept-language"), key.language);
  return out;
}

/** The request's country, or its group's name; an ungrouped one is `other` when set, else its own code. */
export function countryValue(setting: NonNullable<CompiledKey["country"]>, country: unknown): string {
  const code = typeof country === "string" && /^[A-Za-z][A-Za-z0-9]$/.test(country) ? country.toUpperCase() : UNKNOWN_COUNTRY;
  if (setting.groups === null) return code;
  return setting.groups.get(code) ?? setting.other ?? code;
}

/**
 * The offered language the client prefers (RFC 9110 §12.5.4 weights, RFC 4647 ranges),
 * or the first offered one when nothing matches. For each range by falling weight:
 * an offered tag equal to it, else one it is a prefix of (`en` takes `en-GB`), else
 * one that is a prefix of it (`de-AT` takes `de`, RFC 4647 §3.4 lookup). `*` takes the
 * first offered tag not refused with q=0.
 */
export function matchLanguage(header: string | null, offered: readonly string[]): string {
  const fallback = offered[0]!;
  if (!header) return fallback;
  const ranges: { tag: string; q: number; i: number }[] = [];
  for (const [i, item] of header.split(",", MAX_LANGUAGE_ITEMS).entries()) {
    const [rawTag, ...params] = item.split(";");
    const tag = rawTag!.trim().toLowerCase();
    if (!/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/.test(tag)) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Math.min(1, Number(m[1]));
    }
    ranges.push({ tag, q, i });
  }
  const lower = offered.map((o) => o.toLowerCase());
  const refused = new Set(ranges.filter((r) => r.q === 0).map((r) => r.tag));
  const usable = (j: number) => !refused.has(lower[j]!);
  ranges.sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag, q } of ranges) {
    if (q === 0) break;
    let j = -1;
    if (tag === "*") j = lower.findIndex((_, k) => usable(k));
    else {
      j = lower.indexOf(tag);
      if (j < 0) j = lower.findIndex((o, k) => o.startsWith(`${tag}-`) && usable(k));
      if (j < 0) j = lower.findIndex((o, k) => tag.startsWith(`${o}-`) && usable(k));
    }
    if (j >= 0) return offered[j]!;
  }
  return fallback;
}

/** `headers` with each dimension's header set to its value (what the origin is sent). */
export function withDimensionHeaders(headers: Headers, dims: Dimensions): Headers {
  for (const name of Object.keys(dims) as (keyof Dimensions)[]) headers.set(DIMENSION_HEADERS[name], dims[name]!);
  return headers;
}
