/**
 * Cache-Control parsing (RFC 9111 §5.2) and the choice of which field governs our
 * cache (RFC 9213 targeted fields). Pure: headers in, directives out.
 */

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

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** Splits a comma-separated field value, keeping commas inside quoted strings (RFC 9110 §5.6.4). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted && ch === "\\" && i + 1 < value.length) {
      current += ch + value[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      if (current.trim()) out.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
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
export const TARGETED_FIELDS = ["cloudflare-cdn-cache-control", "cdn-cache-control"] as const;

/**
 * The directives our cache obeys: the first targeted field present wins and
 * Cache-Control is then ignored for our decisions (RFC 9213 §2.1); otherwise
 * Cache-Control. `field` says which one, for explanations.
 */
export function governingDirectives(headers: Headers): { field: string; directives: Directives } {
  for (const field of TARGETED_FIELDS) {
    const value = headers.get(field);
    if (value !== null) {
      const directives = parseDirectives(value);
      // §2.1: an invalid (empty) targeted field is ignored.
      if (directives.size > 0) return { field, directives };
    }
  }
  return { field: "cache-control", directives: parseDirectives(headers.get("cache-control")) };
}
