/**
 * Field-value syntax shared by every part that reads headers: lists, tokens, cookies.
 * Pure (no I/O), so rules/ and policy/ may use it as well as the pipeline.
 */

/** RFC 9110 §5.6.2 token: field names, methods, directive and cookie names. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Splits a comma-separated field value, keeping commas inside quoted strings (RFC 9110 §5.6.1, §5.6.4). */
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

/** The cookies of a request, first value wins (RFC 6265 §5.4 orders the more specific first). */
export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name && !out.has(name)) out.set(name, eq < 0 ? "" : part.slice(eq + 1).trim());
  }
  return out;
}
