/**
 * The body of `POST /.edge-cache/purge`, checked and normalized. Pure. Exactly one
 * kind of target per request; every mistake comes back as a message that says what
 * to write instead.
 */
import { MAX_TAG_LENGTH } from "../policy/tags";
import type { PurgeKind } from "./records";

/** Most targets in one purge request (Cloudflare's own API takes 30 to 100 per call). */
export const MAX_PURGE_ITEMS = 100;

export type PurgeRequest =
  | { kind: PurgeKind; values: string[]; soft: boolean }
  | { kind: "everything"; soft: boolean };

const FIELDS = ["urls", "prefixes", "tags", "routes", "everything"] as const;
const EXAMPLE = '{"urls": ["https://example.com/page"]}, {"prefixes": ["https://example.com/blog/"]}, {"tags": ["product-42"]}, {"routes": ["pages"]} or {"everything": true}';

export type ParsedPurge = { ok: true; purge: PurgeRequest } | { ok: false; message: string };

/**
 * Reads a purge body. URLs and prefixes may be absolute (http or https) or a path,
 * which is taken on `base` (the site the admin request was sent to).
 */
export function parsePurgeRequest(body: unknown, base: URL): ParsedPurge {
  const fail = (message: string): ParsedPurge => ({ ok: false, message });
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return fail(`expected a JSON object, one of ${EXAMPLE}, optionally with "soft": true`);
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => k !== "soft" && !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    return fail(`unknown field ${JSON.stringify(unknown[0])}: use one of ${FIELDS.map((f) => `"${f}"`).join(", ")}, and optionally "soft"`);
  }
  const given = FIELDS.filter((f) => Object.hasOwn(b, f));
  if (given.length === 0) return fail(`say what to purge: ${EXAMPLE}`);
  if (given.length > 1) return fail(`one kind of target per request, got ${given.map((g) => `"${g}"`).join(" and ")}: send one request per kind`);
  if (b.soft !== undefined && typeof b.soft !== "boolean") return fail('"soft" must be true or false');
  const soft = b.soft === true;
  const kind = given[0]!;
  if (kind === "everything") {
    return b.everything === true ? { ok: true, purge: { kind, soft } } : fail('"everything" must be true (write {"everything": true})');
  }
  const list = b[kind];
  if (!Array.isArray(list) || list.length === 0) {
    return fail(`"${kind}" must be a non-empty list of strings, e.g. ${kindExample(kind)}`);
  }
  if (list.length > MAX_PURGE_ITEMS) {
    return fail(`"${kind}" has ${list.length} items; at most ${MAX_PURGE_ITEMS} per request: split it into several requests`);
  }
  const values: string[] = [];
  for (const [i, item] of list.entries()) {
    if (typeof item !== "string" || item.trim() === "") return fail(`"${kind}"[${i}] must be a non-empty string`);
    const normalized = normalizeItem(kind, item.trim(), base);
    if (typeof normalized !== "string") return fail(`"${kind}"[${i}] ${normalized.error}`);
    if (!values.includes(normalized)) values.push(normalized);
  }
  return { ok: true, purge: { kind, values, soft } };
}

function normalizeItem(kind: PurgeKind, item: string, base: URL): string | { error: string } {
  switch (kind) {
    case "urls":
    case "prefixes": {
      const url = toUrl(item, base);
      if (url === null) {
        return { error: `is not a URL: ${JSON.stringify(item)}; write an absolute URL such as "https://${base.host}/page" or a path such as "/page"` };
      }
      if (url.hash) return { error: `must not have a #fragment (caches never see it): ${JSON.stringify(item)}` };
      return url.href;
    }
    case "tags":
      if (item.length > MAX_TAG_LENGTH) return { error: `is longer than ${MAX_TAG_LENGTH} characters, so no entry can carry it` };
      if (/[\s,]/.test(item)) return { error: `must not contain spaces or commas (one tag per item): ${JSON.stringify(item)}` };
      return item;
    case "routes":
      return item;
    default:
      return kind satisfies never;
  }
}

function toUrl(item: string, base: URL): URL | null {
  try {
    if (item.startsWith("/") && !item.startsWith("//")) return new URL(item, base.origin);
    const url = new URL(item);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

function kindExample(kind: PurgeKind): string {
  switch (kind) {
    case "urls":
      return '["https://example.com/page", "/other-page"]';
    case "prefixes":
      return '["https://example.com/blog/"]';
    case "tags":
      return '["product-42"]';
    case "routes":
      return '["pages"]';
    default:
      return kind satisfies never;
  }
}
