/**
 * The KV tier: global, slower, survives eviction. An entry's metadata rides in KV's
 * own metadata when it fits (KV caps that at 1024 bytes), so the value is the raw
 * body and a hit streams it straight through, untouched by JavaScript. Larger
 * metadata (many headers, a long key) goes in an envelope in the value instead
 * (metadata then body, see entry.ts). Both are read and written as streams.
 */
import { remember } from "../bounded-map";
import { byteLimit } from "../http/byte-limit";
import { systemClock, within, type Clock } from "../clock";
import { checkMeta, envelope, openEnvelope, type EntryMeta } from "./entry";
import { consoleLog, logTierError, type StorageKey, type Tier, type TierLog } from "./tier";

/** KV's value limit is 25 MiB; the envelope's metadata needs a little of it. */
export const KV_MAX_BODY = 25 * 1024 * 1024 - 64 * 1024;
/** KV's cap on a key's metadata, as serialized JSON. */
const KV_METADATA_MAX = 1024;

/**
 * Versioned KV metadata: `m` is the entry's metadata when it fits; without it the
 * value is an envelope. `w` names the put that wrote the value, so a failed put can
 * tell its own leftovers from another writer's entry (absent in values written
 * before it existed).
 */
interface KvMetadata {
  v: 1;
  m?: unknown;
  w?: string;
}

/** KV refuses expirationTtl under 60 s. */
const KV_MIN_TTL = 60;

export function kvName(at: StorageKey): string {
  return `e:${at.hash}`;
}

/** How long a read may take before it counts as a miss (KV can be slow far from its data). */
const KV_READ_TIMEOUT_MS = 1500;

/** KV accepts one write per second per key; more gets 429. */
export const KV_WRITE_INTERVAL_MS = 1000;

/**
 * Per isolate: whether a write (a put or a delete) to `name` may go now, at most one
 * per key per write interval. A later one is dropped: the write just made is as good.
 */
export function kvWriteGate(clock: Clock): (name: string) => boolean {
  const last = new Map<string, number>();
  return (name) => {
    const now = clock.now();
    const at = last.get(name);
    if (at !== undefined && now - at < KV_WRITE_INTERVAL_MS && now >= at) return false;
    remember(last, name, now, 10_000);
    return true;
  };
}

export function kvTier(kv: KVNamespace, clock: Clock = systemClock, log: TierLog = consoleLog): Tier {
  const writeDue = kvWriteGate(clock);
  /**
   * After a failed put: a streamed write cut off part-way may leave a partial value
   * (the local simulator does; KV itself commits a put whole or not at all), and a
   * partial value must never be read as an entry. But the put may have failed because
   * another writer got there first (429: one write a second per key), and what is
   * there then is that writer's complete entry, or a Vary index with every variant
   * behind it. So only a value this very put wrote is deleted; a read costs less
   * than a lost entry, and happens only on failures.
   */
  async function deleteIfOwn(name: string, writer: string): Promise<void> {
    try {
      const { value, metadata } = await kv.getWithMetadata<KvMetadata>(name, { type: "stream" });
      await value?.cancel();
      if (metadata?.w === writer) await kv.delete(name);
    } catch (err) {
      logTierError(log, "kv", "delete", err);
    }
  }

  return {
    name: "kv",
    async get(at) {
      try {
        const read = kv.getWithMetadata<KvMetadata>(kvName(at), { type: "stream" });
        const got = await within(clock, KV_READ_TIMEOUT_MS, read, "timeout" as const);
        if (got === "timeout") {
          logTierError(log, "kv", "get", new Error(`no answer in ${KV_READ_TIMEOUT_MS} ms`));
          void read.then((v) => v.value?.cancel()).catch(() => {});
          return null;
        }
        const { value, metadata } = got;
        if (!value) return null;
        if (metadata?.v === 1 && metadata.m !== undefined) {
          const meta = checkMeta(metadata.m, at.key);
          if (!meta || meta.kind === "vary") {
            await value.cancel();
            return meta ? { meta, body: null } : null;
          }
          return { meta, body: value };
        }
        return await openEnvelope(value, at.key);
      } catch (err) {
        logTierError(log, "kv", "get", err);
        return null;
      }
    },
    async put(at, meta: EntryMeta, body, retentionSeconds) {
      const writer = crypto.randomUUID().slice(0, 13);
      try {
        if (meta.kind === "response" && meta.size !== null && meta.size > KV_MAX_BODY) {
          await body?.cancel();
          return false;
        }
        const name = kvName(at);
        if (!writeDue(name)) {
          await body?.cancel();
          return false;
        }
        // An unknown length is counted on the way, so a body too large for KV aborts the write.
        const bounded = body && (meta.kind === "response" && meta.size !== null ? body : byteLimit(body, KV_MAX_BODY, `body over ${KV_MAX_BODY} bytes: too large for KV`).body);
        const inline: KvMetadata = { v: 1, w: writer, m: meta };
        const fits = new TextEncoder().encode(JSON.stringify(inline)).byteLength <= KV_METADATA_MAX;
        await kv.put(name, fits ? (bounded ?? "") : envelope(meta, bounded), {
          expirationTtl: Math.max(KV_MIN_TTL, Math.ceil(retentionSeconds)),
          metadata: fits ? inline : ({ v: 1, w: writer } satisfies KvMetadata),
        });
        return true;
      } catch (err) {
        logTierError(log, "kv", "put", err);
        await body?.cancel().catch(() => {});
        await deleteIfOwn(kvName(at), writer);
        return false;
      }
    },
    async delete(at) {
      try {
        await kv.delete(kvName(at));
      } catch (err) {
        logTierError(log, "kv", "delete", err);
      }
    },
  };
}
