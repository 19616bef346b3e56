/**
 * A location's copy of the site's shared state, in the location's Cache API (per data
 * centre: `caches.default` in production, one namespace per simulated location
 * locally): the answer the last isolate of the location got from the coordinator, so
 * the other isolates, and every new one, read it here instead of asking.
 *
 * One entry (`https://<host>/.edge-cache/site/<site>`): what a reader needs in the
 * `x-edge-cache-site` header (JSON, `v: 1`), the purge rows (float64 triples) and the
 * rules text in the body. Kept by the Cache API for at most the bound (5 s); used
 * while younger than that, and refreshed by whoever finds it older than the refresh
 * interval. A second, empty entry (`.../lease`) says which isolate is asking the
 * coordinator for the location now, and until when; the others leave it the call.
 * The Cache API has no compare-and-set: two isolates that look at the same moment
 * may both ask (see ARCHITECTURE.md, "Coordination").
 *
 * A copy that is absent, of another version or malformed reads as none (the caller
 * asks the coordinator). Reads and writes never reject: a location copy that fails
 * costs a coordinator call, never a request.
 */
import type { RulesRecord } from "../rules/versions";
import { BOUND_MS } from "./timing";

export const LOCATION_COPY_VERSION = 1;
const META = "x-edge-cache-site";
const LEASE = "x-edge-cache-lease";

export interface LocationCopy {
  /** When the coordinator call it holds was sent (ms, the isolates' clock): its age counts from then. */
  at: number;
  /** The location of the isolate that wrote it (for what a reader reports). */
  location: string;
  purges: { sequence: number; everything: [number, number]; floor: number; horizonMs: number; rows: Float64Array };
  rules: { sequence: number; record: RulesRecord | null; seedId: string };
}

interface CopyMeta {
  v: typeof LOCATION_COPY_VERSION;
  site: string;
  location: string;
  at: number;
  purges: { sequence: number; everything: [number, number]; floor: number; horizonMs: number; rows: number };
  rules: { sequence: number; record: Omit<RulesRecord, "text"> | null; text: boolean; textBytes: number; seedId: string };
}

export interface LocationStore {
  /** The location's copy, or null. With `have` equal to its sequences the body is left unread (`rows` empty). */
  read(have?: { purges: number; rules: number }): Promise<LocationCopy | null>;
  write(copy: LocationCopy): Promise<void>;
  /** Removes the copy (it lacks a change this isolate made). */
  drop(): Promise<void>;
  /** Who is asking the coordinator for the location, and until when (ms), or null. */
  lease(): Promise<{ holder: string; until: number } | null>;
  take(holder: string, until: number): Promise<void>;
}

export interface LocationStoreOptions {
  cache: Cache;
  /** The host the isolate serves: the entries are kept under it, as edge entries are. */
  host: string;
  site: string;
  log(line: Record<string, unknown>): void;
}

export function locationStore(options: LocationStoreOptions): LocationStore {
  const { cache, site } = options;
  const base = `https://${options.host}/.edge-cache/site/${encodeURIComponent(site)}`;
  const copyKey = new Request(base);
  const leaseKey = new Request(`${base}/lease`);
  const keep = `max-age=${BOUND_MS / 1000}`;
  let failed = false;
  const failure = (what: string, err: unknown) => {
    if (failed) return;
    failed = true;
    options.log({ msg: "location-copy-unavailable", op: what, error: err instanceof Error ? err.message : String(err) });
  };

  return {
    async read(have) {
      try {
        const res = await cache.match(copyKey);
        if (!res) return null;
        const meta = parseMeta(res.headers.get(META), site);
        if (!meta || (have && have.purges === meta.purges.sequence && have.rules === meta.rules.sequence)) {
          await res.body?.cancel();
          return meta && fromMeta(meta, new Float64Array(0), null);
        }
        const body = await res.arrayBuffer();
        const rowBytes = meta.purges.rows * 24;
        if (body.byteLength !== rowBytes + meta.rules.textBytes) return null;
        const text = meta.rules.text ? new TextDecoder().decode(new Uint8Array(body, rowBytes)) : null;
        return fromMeta(meta, new Float64Array(body.slice(0, rowBytes)), text);
      } catch (err) {
        failure("read", err);
        return null;
      }
    },
    async write(copy) {
      try {
        const text = copy.rules.record?.text ?? null;
        const textBytes = text === null ? new Uint8Array(0) : new TextEncoder().encode(text);
        const body = new Uint8Array(copy.purges.rows.byteLength + textBytes.byteLength);
        body.set(new Uint8Array(copy.purges.rows.buffer, copy.purges.rows.byteOffset, copy.purges.rows.byteLength));
        body.set(textBytes, copy.purges.rows.byteLength);
        const { rows, ...purges } = copy.purges;
        const record = copy.rules.record && { sequence: copy.rules.record.sequence, version: copy.rules.record.version, at: copy.rules.record.at, seed: copy.rules.record.seed };
        const meta: CopyMeta = {
          v: LOCATION_COPY_VERSION,
          site,
          location: copy.location,
          at: copy.at,
          purges: { ...purges, rows: rows.length / 3 },
          rules: { sequence: copy.rules.sequence, record, text: text !== null, textBytes: textBytes.byteLength, seedId: copy.rules.seedId },
        };
        await cache.put(copyKey, new Response(body, { headers: { [META]: JSON.stringify(meta), "cache-control": keep } }));
      } catch (err) {
        failure("write", err);
      }
    },
    async drop() {
      try {
        await cache.delete(copyKey);
      } catch (err) {
        failure("drop", err);
      }
    },
    async lease() {
      try {
        const res = await cache.match(leaseKey);
        await res?.body?.cancel();
        const [holder, until] = (res?.headers.get(LEASE) ?? "").split(" ");
        return holder && Number.isFinite(Number(until)) ? { holder, until: Number(until) } : null;
      } catch (err) {
        failure("lease", err);
        return null;
      }
    },
    async take(holder, until) {
      try {
        await cache.put(leaseKey, new Response("", { headers: { [LEASE]: `${holder} ${until}`, "cache-control": keep } }));
      } catch (err) {
        failure("lease", err);
      }
    },
  };
}

function fromMeta(meta: CopyMeta, rows: Float64Array, text: string | null): LocationCopy {
  const { rows: _, ...purges } = meta.purges;
  return {
    at: meta.at,
    location: meta.location,
    purges: { ...purges, rows },
    rules: { sequence: meta.rules.sequence, record: meta.rules.record && { ...meta.rules.record, text }, seedId: meta.rules.seedId },
  };
}

const isNumber = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** The header of a copy of this site in this version, or null (absent, another version, malformed). */
function parseMeta(raw: string | null, site: string): CopyMeta | null {
  try {
    const m = raw === null ? null : (JSON.parse(raw) as CopyMeta | null);
    if (!m || m.v !== LOCATION_COPY_VERSION || m.site !== site || !isNumber(m.at) || typeof m.location !== "string") return null;
    const p = m.purges;
    const r = m.rules;
    if (!p || ![p.sequence, p.floor, p.horizonMs, p.rows].every(isNumber) || !Array.isArray(p.everything) || !p.everything.every(isNumber)) return null;
    if (!r || !isNumber(r.sequence) || !isNumber(r.textBytes) || typeof r.text !== "boolean" || typeof r.seedId !== "string") return null;
    if (r.record !== null && (typeof r.record !== "object" || !isNumber(r.record.sequence) || typeof r.record.version !== "string")) return null;
    return m;
  } catch {
    return null;
  }
}
