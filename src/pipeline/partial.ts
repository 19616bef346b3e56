/**
 * Partial content (RFC 9111 §3.3, §3.4). A range request that finds no whole entry
 * is answered from the URL's stored pieces when they hold every byte of it; else the
 * client's range is asked of the origin and its 206 kept as one more piece of the set
 * with its validator; a set that holds every byte becomes the whole entry. What to do
 * is decided in policy/partial.ts; here it is read, streamed and written.
 *
 * Where: the set (`PartialMeta`) at `<primary>\npartial`, each piece (a 206
 * `response` entry) at `<primary>\npartial:<validator>:<start>-<end>`, in the tiers
 * the route uses; a new validator names new keys, so no piece of an older set is ever
 * read with it.
 */
import { clientAcceptEncoding } from "../http/content-coding";
import { declaredLength } from "../http/headers";
import { freshness } from "../policy/freshness";
import { admitPiece, complete, cover, parseContentRange, rangePlan, singleRange, strongValidator, type PieceMark, type RangePlan, type Segment } from "../policy/partial";
import { requestWantsValidation } from "../policy/request-directives";
import { responseTags } from "../policy/tags";
import { varyNames } from "../policy/vary";
import { ENTRY_VERSION, type PartialMeta, type ResponseMeta, type VaryMeta } from "../tiers/entry";
import { KV_MAX_BODY } from "../tiers/kv";
import type { StorageKey, Tier, TierName } from "../tiers/tier";
import { storageKey } from "../tiers/two-tier";
import type { Ctx } from "./context";
import { deliverFromOrigin, deliverPieces } from "./deliver";
import { answerOf, store, verdictFor, type Fetched, type StoreOutcome } from "./store";

/** Answered from the whole entry (RFC 9110 §13.2.2 evaluates them first): such a request takes the usual miss. */
const CONDITIONALS = ["if-range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since"];

/**
 * The Range a request would be answered from pieces for, or null: a GET for one byte
 * range, without conditionals, of a URL with no Vary index (pieces are never variants).
 */
export function rangeAsked(c: Ctx, index: VaryMeta | null): string | null {
  const h = c.request.headers;
  if (c.request.method !== "GET" || index || CONDITIONALS.some((n) => h.has(n))) return null;
  return singleRange(h.get("range"));
}

/** The URL's set of pieces, and where it lives. */
export interface PieceSet {
  at: StorageKey;
  meta: PartialMeta | null;
}

/** What a range miss does: answered from pieces, or the range asked of the origin, or the usual whole miss. */
export type PartialStep = { kind: "hit"; response: Response } | { kind: "forward"; range: string; set: PieceSet } | { kind: "whole" };

export async function partialStep(c: Ctx, range: string): Promise<PartialStep> {
  const set = await readSet(c);
  const plan = rangePlan(set.meta, range, c.deps.clock.now() / 1000, (length) => wholeFits(c, length));
  if (plan.kind === "whole") return plan;
  if (plan.kind === "serve") {
    const response = await serve(c, set.meta!, plan);
    if (response) return { kind: "hit", response };
  }
  return { kind: "forward", range, set };
}

/** The route's tiers, in lookup order. */
function routeTiers(c: Ctx): Tier[] {
  return [...(c.route.tiers.edge ? [c.deps.tiers.edge] : []), ...(c.route.tiers.kv ? [c.deps.tiers.kv] : [])];
}

function wholeFits(c: Ctx, length: number): boolean {
  const max = c.route.maxObjectSize.edge;
  return (c.route.tiers.edge && (max === null || length <= max)) || (c.route.tiers.kv && length <= KV_MAX_BODY);
}

const pieceKey = (primary: string, validator: string, p: PieceMark) => `${primary}\npartial:${JSON.stringify(validator)}:${p[0]}-${p[1]}`;

async function readSet(c: Ctx): Promise<PieceSet> {
  const at = await storageKey(`${c.primary.key}\npartial`, c.primary.host);
  for (const tier of routeTiers(c)) {
    const got = await tier.get(at);
    await got?.body?.cancel();
    if (got?.meta.kind !== "partial") continue;
    // Dated by its oldest piece's request: a purge since then covers the whole set.
    const purged = c.deps.purges && (await c.deps.purges.verdict(got.meta, c.target, (p) => c.exec.waitUntil(p))) !== null;
    return { at, meta: purged ? null : got.meta };
  }
  return { at, meta: null };
}

interface Opened {
  meta: ResponseMeta;
  body: ReadableStream<Uint8Array>;
  tier: TierName;
  /** The piece's first byte, and the bytes of it this answer takes (absolute, inclusive). */
  start: number;
  from: number;
  to: number;
}

/**
 * Opens the piece of each segment (streams, none read yet), each checked as a hit
 * is: a 206 of this set, no purge since it was fetched, and `usable`. Null, with
 * everything opened cancelled, when one is missing or fails.
 */
async function openPieces(c: Ctx, set: PartialMeta, segments: Segment[], usable: (meta: ResponseMeta) => boolean): Promise<Opened[] | null> {
  const opened: Opened[] = [];
  const fail = async () => {
    await Promise.all(opened.map((o) => o.body.cancel().catch(() => {})));
    return null;
  };
  for (const s of segments) {
    const at = await storageKey(pieceKey(c.primary.key, set.validator, s.piece), c.primary.host);
    let got = null;
    for (const tier of routeTiers(c)) {
      const entry = await tier.get(at);
      if (entry?.meta.kind === "response" && entry.meta.status === 206 && entry.body) {
        got = { meta: entry.meta, body: entry.body, tier: tier.name };
        break;
      }
      await entry?.body?.cancel();
    }
    if (!got) return fail();
    opened.push({ ...got, start: s.piece[0], from: s.from, to: s.to });
    const purged = c.deps.purges && (await c.deps.purges.verdict(got.meta, c.target, (p) => c.exec.waitUntil(p))) !== null;
    if (purged || !usable(got.meta)) return fail();
  }
  return opened;
}

/** The segments' bytes in order, one piece's stream after another: read as the client reads, never buffered. */
function joined(parts: Opened[]): ReadableStream<Uint8Array> {
  let i = 0;
  let offset = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (i < parts.length) {
        const part = parts[i]!;
        reader ??= part.body.getReader();
        const { done, value } = await reader.read();
        // A piece shorter than its range is never passed off as the bytes asked for.
        if (done) return controller.error(new Error("stored piece cut short"));
        const at = part.start + offset;
        offset += value.byteLength;
        const from = Math.max(0, part.from - at);
        const to = Math.min(value.byteLength, part.to + 1 - at);
        if (part.start + offset > part.to) {
          // Past this segment: the rest of the piece is not read.
          await reader.cancel().catch(() => {});
          [reader, offset, i] = [null, 0, i + 1];
        }
        if (from < to) return controller.enqueue(value.subarray(from, to));
      }
      controller.close();
    },
    async cancel(reason) {
      const rest = parts.slice(reader ? i + 1 : i);
      await reader?.cancel(reason).catch(() => {});
      await Promise.all(rest.map((p) => p.body.cancel(reason).catch(() => {})));
    },
  });
}

/** A range held by fresh pieces: a hit, aged and timed by its oldest piece. */
async function serve(c: Ctx, set: PartialMeta, plan: Extract<RangePlan, { kind: "serve" }>): Promise<Response | null> {
  if (c.route.clientCacheControl === "honor" && requestWantsValidation(c.request.headers)) return null;
  const now = c.deps.clock.now();
  const fresh = (m: ResponseMeta) => freshness(m.lifetimes, m.storedAt, now);
  const opened = await openPieces(c, set, plan.segments, (m) => fresh(m).state === "fresh");
  if (!opened) return null;
  const oldest = opened.reduce((a, b) => (b.meta.storedAt < a.meta.storedAt ? b : a));
  const ttl = Math.min(...opened.map((o) => fresh(o.meta).ttl));
  c.rec.tier = opened[0]!.tier;
  return deliverPieces(oldest.meta, joined(opened), plan.range, set.length, fresh(oldest.meta).age, {
    method: c.request.method,
    requestHeaders: c.request.headers,
    acceptEncoding: clientAcceptEncoding(c.request),
    status: { hit: true, ttl, detail: `${c.rec.tier}/partial` },
    browserTtl: c.route.ttl.browser,
  });
}

/**
 * The origin's 206 to a range we asked for: kept as a piece of the set with its
 * validator (a new set when it differs), or, when it is the whole representation,
 * as the whole entry; passed through (and why) when it cannot be kept.
 */
export async function keepPiece(c: Ctx, fetched: Fetched, set: PieceSet): Promise<Response> {
  const { res } = fetched;
  const options = { method: c.request.method, requestHeaders: c.request.headers, acceptEncoding: clientAcceptEncoding(c.request), browserTtl: c.route.ttl.browser };
  const pass = (detail: string) => deliverFromOrigin(res, { ...options, cacheable: false, status: { fwd: "uri-miss", detail } });
  const got = parseContentRange(res.headers.get("content-range"));
  // One part of a known length, its body that long, stored bytes as sent (no coding, no variants).
  if (!got || declaredLength(res.headers) !== got.end - got.start + 1 || res.headers.has("content-encoding") || varyNames(res.headers)) return pass("partial-unusable");
  const validator = strongValidator(res.headers);
  if (validator === null) return pass("partial-no-validator");
  // Kept as the representation it is part of would be (a 206 as such never is: §3.3).
  const verdict = verdictFor(c, fetched, 200, res.headers);
  const delivered = (outcome: Extract<StoreOutcome, { stored: true }>) =>
    deliverFromOrigin(new Response(outcome.body, res), { ...options, cacheable: true, status: { fwd: "uri-miss", stored: true, ttl: outcome.ttl, detail: "partial" } });
  if (got.start === 0 && got.end === got.length - 1) {
    const headers = new Headers(res.headers);
    headers.delete("content-range");
    const outcome = await store(c, verdict, c.route.tiers, { ...answerOf(fetched), status: 200, headers }, { index: null });
    return outcome.stored ? delivered(outcome) : pass(outcome.reason);
  }
  if (!verdict.store) return pass(verdict.reason);
  const now = c.deps.clock.now() / 1000;
  // Listed while fresh: a stale piece is asked again (pieces are not revalidated), and the new one replaces it.
  const { lifetime, initialAge } = verdict.lifetimes;
  const piece: PieceMark = [got.start, got.end, Math.floor(fetched.responseTime / 1000 + lifetime - initialAge)];
  const same = set.meta && set.meta.validator === validator && set.meta.length === got.length ? set.meta : null;
  const admitted = admitPiece(same?.pieces ?? [], piece, now);
  if (!admitted.store) return pass("partial-cap");
  const at = await storageKey(pieceKey(c.primary.key, validator, piece), c.primary.host);
  const outcome = await store(c, verdict, c.route.tiers, answerOf(fetched), { at, vary: null });
  if (!outcome.stored) return pass(outcome.reason);
  const meta: PartialMeta = {
    v: ENTRY_VERSION,
    kind: "partial",
    key: set.at.key,
    storedAt: fetched.responseTime,
    requestedAt: Math.min(fetched.requestTime, same?.requestedAt ?? same?.storedAt ?? Infinity),
    route: c.route.name,
    tags: [...new Set([...(same?.tags ?? []), ...outcome.meta.tags])],
    validator,
    length: got.length,
    pieces: admitted.pieces,
  };
  c.exec.waitUntil(outcome.done.then((ok) => (ok ? listPiece(c, set.at, meta) : undefined)));
  return delivered(outcome);
}

/**
 * Writes the set with the piece just stored (last write wins: two pieces stored at
 * once in two places may leave one unlisted until it is fetched again), and, when the
 * set now holds every byte, the whole entry.
 */
async function listPiece(c: Ctx, at: StorageKey, set: PartialMeta): Promise<void> {
  const now = c.deps.clock.now() / 1000;
  const seconds = Math.max(...set.pieces.map((p) => p[2])) - now;
  await Promise.all(routeTiers(c).map((t) => t.put(at, set, null, seconds)));
  if (complete(set.pieces, set.length, now)) await assemble(c, set);
}

/**
 * A complete set stored as the whole entry, its pieces streamed one after another
 * into the store step. It is as old as its oldest piece, and dated by its request.
 */
async function assemble(c: Ctx, set: PartialMeta): Promise<void> {
  const segments = cover(set.pieces, { start: 0, end: set.length - 1 }, c.deps.clock.now() / 1000);
  const opened = segments && (await openPieces(c, set, segments, () => true));
  if (!opened) return;
  const oldest = opened.reduce((a, b) => (b.meta.storedAt < a.meta.storedAt ? b : a));
  const headers = new Headers(oldest.meta.headers);
  headers.delete("content-range");
  headers.set("content-length", String(set.length));
  const times = { requestTime: set.requestedAt ?? set.storedAt, responseTime: oldest.meta.storedAt };
  const body = joined(opened);
  const answer = { status: 200, headers, body, size: set.length, ...times };
  const outcome = await store(c, verdictFor(c, times, 200, headers), c.route.tiers, answer, { index: null });
  if (!outcome.stored) return body.cancel();
  // Nobody reads the client's branch: the store's goes on alone (http/tee.ts).
  await outcome.body?.cancel();
  await outcome.done;
}
