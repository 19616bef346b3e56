/**
 * What happened to one request, read back from the Cache-Status entry the pipeline
 * wrote (RFC 9211): the decision is already data there, so counting it costs a short
 * parse and nothing in the pipeline has to report twice. Pure.
 */
import { CACHE_NAME } from "../http/cache-status";

export type OutcomeKind = "hit" | "miss-stored" | "miss" | "bypass" | "stale" | "error";

export interface Outcome {
  kind: OutcomeKind;
  /** Where a cached answer came from. */
  tier?: "edge" | "kv";
  /** Why: the not-stored reason, the bypass reason, the kind of stale, the error. */
  reason?: string;
}

/** Our own entry (the last one named edge-cache), its parameters as name -> value ("" for a bare flag). */
export function parseOurEntry(header: string | null): Map<string, string> | null {
  if (!header) return null;
  // Ours is appended last (RFC 9211 §2); a member starts the header or follows a comma.
  let start = header.lastIndexOf(CACHE_NAME);
  while (start > 0 && !/,\s*$/.test(header.slice(Math.max(0, start - 4), start))) start = header.lastIndexOf(CACHE_NAME, start - 1);
  if (start < 0) return null;
  const params = new Map<string, string>();
  for (const part of header.slice(start + CACHE_NAME.length).split(";")) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf("=");
    if (eq < 0) params.set(p, "");
    else params.set(p.slice(0, eq), unquote(p.slice(eq + 1)));
  }
  return params;
}

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(["\\])/g, "$1") : v;
}

function tierOf(detail: string | undefined): "edge" | "kv" | undefined {
  const t = detail?.split("/")[0];
  return t === "edge" || t === "kv" ? t : undefined;
}

/** Classifies a response by its status and Cache-Status header. */
export function classify(status: number, cacheStatus: string | null): Outcome {
  const p = parseOurEntry(cacheStatus);
  // No entry of ours: a protocol switch (101) passed straight through.
  if (p === null) return status >= 500 ? { kind: "error", reason: `status-${status}` } : { kind: "bypass", reason: "upgrade" };
  const detail = p.get("detail");
  const tier = tierOf(detail);
  const fwd = p.get("fwd");
  if (p.has("hit")) {
    // RFC 5861 §3: served stale while a refresh runs in the background.
    if (detail?.endsWith("/stale-while-revalidate")) return { kind: "stale", tier, reason: "while-revalidate" };
    return { kind: "hit", tier: tier ?? "edge" };
  }
  if (fwd === "stale" && tier !== undefined) {
    // RFC 9111 §4.3.4: a 304 freshened the stored answer, which is what was served.
    if (p.get("fwd-status") === "304") return { kind: "hit", tier };
    // RFC 5861 §4: the origin failed and the stored answer stood in.
    return { kind: "stale", tier, reason: "if-error" };
  }
  // Collapsed onto another request's fetch, then served from what it stored.
  if (fwd === "uri-miss" && p.has("collapsed") && tier !== undefined) return { kind: "hit", tier };
  if (status >= 500) return { kind: "error", reason: p.has("fwd-status") ? `origin-${p.get("fwd-status")}` : `status-${status}` };
  if (fwd === "bypass" || fwd === "method") return { kind: "bypass", reason: detail ?? fwd };
  if (p.has("stored")) return { kind: "miss-stored" };
  return { kind: "miss", reason: detail ?? "not-stored" };
}

/** Whether the body came out of a cache tier (else from the origin). */
export function fromCache(o: Outcome): boolean {
  return o.kind === "hit" || o.kind === "stale";
}
