/**
 * Cache-Control parsing (RFC 9111 §5.2) and the choice of which field governs our
 * cache (RFC 9213 targeted fields). Pure: headers in, directives out.
 */
import { parseDictionary, Token } from "structured-headers";
import { splitList, TOKEN } from "../http/fields";

/** Directive name (lower-case) → argument, or `true` for a directive without one. */
export type Directives = ReadonlyMap<string, string | true>;

/**
 * Parses a Cache-Control-style field. Unknown directives are kept (callers ignore
 * them, §5.2.3); a quoted argument is unquoted; the first occurrence of a directive
 * wins, as duplicates are invalid and the first is the conservative reading for
 * the directives we act on.
 */
export function parseDirectives(value: string | null): Directives {
  const out = new Map<string, string | true>();
  if (!value) return out;
  // RFC 9110 §5.6.1.2: empty list elements are ignored; commas inside a quoted
  // argument (`no-cache="set-cookie, foo"`) do not end the directive.
  for (const element of splitList(value)) {
    const eq = element.indexOf("=");
    const name = (eq < 0 ? element : element.slice(0, eq)).trim().toLowerCase();
    // A directive name is a token (RFC 9110 §5.6.2); anything else is not a directive.
    if (!TOKEN.test(name) || out.has(name)) continue;
    if (eq < 0) {
      out.set(name, true);
      continue;
    }
    const raw = element.slice(eq + 1).trim();
    out.set(name, raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw);
  }
  return out;
}

/** A delta-seconds argument (§1.2.2), or null when absent or malformed. */
export function deltaSeconds(d: Directives, name: string): number | null {
  const v = d.get(name);
  if (typeof v !== "string" || !/^\d+$/.test(v)) return null;
  // §1.2.2: values too large are taken as 2^31, "effectively infinite".
  return Math.min(Number(v), 2 ** 31);
}

/** The fields that may govern a shared cache, most specific first (RFC 9213 §2.1). */
const TARGETED_FIELDS = ["cloudflare-cdn-cache-control", "cdn-cache-control"] as const;

/** Directives whose argument is delta-seconds: an sf-integer in a targeted field (RFC 9213 §2.1). */
const INTEGER_DIRECTIVES = new Set(["max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"]);
/** Directives that may name fields (`no-cache`, `private`): a Boolean, or a String or Token of names. */
const NAMING_DIRECTIVES = new Set(["no-cache", "private"]);
/** Directives without an argument: a Boolean. */
const FLAG_DIRECTIVES = new Set(["no-store", "public", "must-revalidate", "proxy-revalidate", "must-understand", "no-transform", "immutable"]);

/**
 * A targeted field, an RFC 8941 Dictionary (RFC 9213 §2.1), as directives; null when
 * it does not parse or a directive we act on has a value of the wrong type
 * (`max-age="3600"`, `max-age=1.5`, `no-store=5`): §2.1 says such values are not to
 * be consumed, and a field we cannot trust whole is ignored whole. `?0` is a
 * directive's Boolean false: absent. Parameters are ignored.
 */
export function parseTargetedField(value: string): Directives | null {
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(value);
  } catch {
    return null;
  }
  // The library reads `1.0` and `1` both as the number 1; the text tells an Integer from a Decimal.
  const raw = new Map(splitList(value).map((m) => [m.split(/[=;]/, 1)[0]!.trim(), m]));
  const out = new Map<string, string | true>();
  for (const [name, [item]] of dictionary) {
    if (INTEGER_DIRECTIVES.has(name)) {
      const text = /^[^=;]*=\s*([^;\s]*)/.exec(raw.get(name) ?? "")?.[1] ?? "";
      if (typeof item !== "number" || !/^\d+$/.test(text)) return null;
      out.set(name, text);
    } else if (NAMING_DIRECTIVES.has(name) || FLAG_DIRECTIVES.has(name)) {
      const names = NAMING_DIRECTIVES.has(name) && (typeof item === "string" || item instanceof Token);
      if (item === true || names) out.set(name, names ? String(item) : true);
      else if (item !== false) return null;
    } else {
      // Unknown directives are ignored (RFC 9111 §5.2.3) whatever their type.
      out.set(name, typeof item === "string" || typeof item === "number" || item instanceof Token ? String(item) : true);
    }
  }
  return out;
}

/**
 * The directives our cache obeys: the first targeted field present and valid wins
 * and Cache-Control is then ignored for our decisions (RFC 9213 §2.1); otherwise
 * Cache-Control. `field` says which one, for explanations.
 */
export function governingDirectives(headers: Headers): { field: string; directives: Directives } {
  for (const field of TARGETED_FIELDS) {
    const value = headers.get(field);
    // §2.1: an empty field, or one with a parsing error, is ignored: the next one decides.
    const directives = value === null ? null : parseTargetedField(value);
    if (directives && directives.size > 0) return { field, directives };
  }
  return { field: "cache-control", directives: parseDirectives(headers.get("cache-control")) };
}
