/**
 * The stored entry's envelope (4-byte length, metadata JSON, body): a round trip
 * keeps every byte whatever the chunking, anything unexpected is a miss (null), and
 * a corrupt length never makes us buffer.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkMeta, ENTRY_VERSION, envelope, openEnvelope, type ResponseMeta, type VaryMeta } from "../../src/tiers/entry";

const KEY = "https://x.test/p?a=1";

const responseMeta = (over: Partial<ResponseMeta> = {}): ResponseMeta => ({
  v: ENTRY_VERSION,
  kind: "response",
  key: KEY,
  storedAt: 1_705_320_000_000,
  route: "pages",
  tags: ["html", "product-7"],
  status: 200,
  headers: [
    ["content-type", "text/html; charset=utf-8"],
    ["etag", '"v1"'],
    ["x-note", "naïve \u2603 \"quoted\""],
  ],
  lifetimes: { lifetime: 60, initialAge: 2, staleWhileRevalidate: 30, staleIfError: 300, mustRevalidate: false },
  size: null,
  ...over,
});

const varyMeta = (over: Partial<VaryMeta> = {}): VaryMeta => ({
  v: ENTRY_VERSION,
  kind: "vary",
  key: KEY,
  storedAt: 1_705_320_000_000,
  route: "pages",
  tags: [],
  vary: ["accept-language"],
  epoch: 5,
  variants: 2,
  marks: [["0123456789ab", 1_705_320_900], ["ba9876543210", 1_705_321_000]],
  ...over,
});

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts bytes at the given offsets (sorted, deduplicated), as a network or KV might. */
function rechunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) chunks.push(bytes.slice(from, p));
    from = p;
  }
  return chunks;
}

/** A header declaring `length` bytes of metadata, followed by `json`. */
function rawEnvelope(length: number, json: string, body = new Uint8Array(0)): Uint8Array {
  const meta = new TextEncoder().encode(json);
  const out = new Uint8Array(4 + meta.length + body.length);
  new DataView(out.buffer).setUint32(0, length);
  out.set(meta, 4);
  out.set(body, 4 + meta.length);
  return out;
}

describe("envelope / openEnvelope round trip", () => {
  it("keeps metadata and body intact", async () => {
    const body = new TextEncoder().encode("hello, world");
    const meta = responseMeta({ size: body.length });
    const opened = await openEnvelope(envelope(meta, streamOf([body.slice(0, 5), body.slice(5)])), KEY);
    expect(opened?.meta).toEqual(meta);
    expect(new TextDecoder().decode(await readAll(opened?.body ?? null))).toBe("hello, world");
  });

  it("keeps every byte across any chunk boundaries, the 4-byte length and the metadata included", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.string({ unit: "binary", maxLength: 40 }),
        async (body, bodyChunks, cuts, note) => {
          // The body arrives from the origin in its own chunks; the envelope is read back in others.
          const sourceChunks = rechunk(body, bodyChunks.map((c) => c.length * 7));
          const meta = responseMeta({ size: body.length, headers: [["x-note", note]] });
          const stored = await readAll(envelope(meta, streamOf(sourceChunks)));
          const opened = await openEnvelope(streamOf(rechunk(stored, cuts)), KEY);
          expect(opened?.meta).toEqual(JSON.parse(JSON.stringify(meta)));
          expect(await readAll(opened?.body ?? null)).toEqual(body);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reads one byte at a time", async () => {
    const body = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const stored = await readAll(envelope(responseMeta(), streamOf([body])));
    const oneByOne = [...stored].map((b) => new Uint8Array([b]));
    const opened = await openEnvelope(streamOf(oneByOne), KEY);
    expect(opened?.meta.kind).toBe("response");
    expect(await readAll(opened?.body ?? null)).toEqual(body);
  });

  it("a response without a body opens with an empty body", async () => {
    const opened = await openEnvelope(envelope(responseMeta({ status: 204, size: 0 }), null), KEY);
    expect(opened?.meta).toMatchObject({ kind: "response", status: 204 });
    expect(await readAll(opened?.body ?? null)).toEqual(new Uint8Array(0));
  });

  it("a vary index opens with its metadata and no body", async () => {
    const meta = varyMeta();
    const opened = await openEnvelope(envelope(meta, null), KEY);
    expect(opened).toEqual({ meta, body: null });
  });

  it("a body that fails midway makes the envelope fail, never end as if complete", async () => {
    let sent = false;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(new Uint8Array([1, 2, 3]));
        } else controller.error(new Error("origin went away"));
      },
    });
    await expect(readAll(envelope(responseMeta(), failing))).rejects.toThrow();
  });
});

describe("openEnvelope refuses what it does not know (a miss, never a wrong hit)", () => {
  const open = (bytes: Uint8Array, key = KEY) => openEnvelope(streamOf([bytes]), key);
  const stored = (meta: unknown, body = new Uint8Array([9, 9])) => {
    const json = JSON.stringify(meta);
    return rawEnvelope(new TextEncoder().encode(json).length, json, body);
  };

  it("another key", async () => {
    expect(await open(stored(responseMeta()), "https://x.test/other")).toBeNull();
    expect(await open(stored(responseMeta()), `${KEY}&b=2`)).toBeNull();
  });

  it("another version, older or newer", async () => {
    expect(await open(stored({ ...responseMeta(), v: ENTRY_VERSION + 1 }))).toBeNull();
    expect(await open(stored({ ...responseMeta(), v: 0 }))).toBeNull();
    expect(await open(stored({ ...responseMeta(), v: String(ENTRY_VERSION) }))).toBeNull();
  });

  it("metadata that is not JSON, or not an object", async () => {
    expect(await open(rawEnvelope(5, "{nope"))).toBeNull();
    expect(await open(stored(null))).toBeNull();
    expect(await open(stored([1, 2]))).toBeNull();
    expect(await open(stored("response"))).toBeNull();
  });

  it("a stream that ends inside the length or the metadata", async () => {
    expect(await open(new Uint8Array([0, 0]))).toBeNull();
    expect(await open(new Uint8Array(0))).toBeNull();
    const whole = stored(responseMeta());
    expect(await open(whole.slice(0, 20))).toBeNull();
  });

  it("a huge declared metadata length, without buffering the stream", async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        // First the corrupt length (4 GiB - 1), then an endless body.
        controller.enqueue(pulled === 1 ? new Uint8Array([0xff, 0xff, 0xff, 0xff]) : new Uint8Array(64 * 1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await openEnvelope(endless, KEY)).toBeNull();
    expect(pulled).toBeLessThanOrEqual(2);
    expect(cancelled).toBe(true);
  });

  it("a declared length just over 1 MiB is refused before reading it", async () => {
    let pulled = 0;
    const over = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(pulled === 1 ? rawEnvelope((1 << 20) + 1, "") : new Uint8Array(64 * 1024));
      },
    });
    expect(await openEnvelope(over, KEY)).toBeNull();
    expect(pulled).toBeLessThanOrEqual(2);
  });
});

describe("checkMeta", () => {
  it.each<[string, unknown]>([
    ["a response", responseMeta()],
    ["a vary index", varyMeta()],
    ["a vary index written before its list of variants (a count only)", { ...varyMeta(), marks: undefined }],
  ])("accepts %s", (_name, meta) => {
    expect(checkMeta(meta, KEY)).toEqual(meta);
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["a string", "x"],
    ["a number", 1],
    ["another version", { ...responseMeta(), v: 2 }],
    ["no version", { ...responseMeta(), v: undefined }],
    ["another key", { ...responseMeta(), key: "https://x.test/q" }],
    ["a key differing only in case", { ...responseMeta(), key: KEY.toUpperCase() }],
    ["no storedAt", { ...responseMeta(), storedAt: undefined }],
    ["a storedAt that is not a number", { ...responseMeta(), storedAt: "1705320000000" }],
    ["an unknown kind", { ...responseMeta(), kind: "redirect" }],
    ["a response without a status", { ...responseMeta(), status: undefined }],
    ["a response whose headers are not a list", { ...responseMeta(), headers: { etag: "x" } }],
    ["a response without lifetimes", { ...responseMeta(), lifetimes: undefined }],
    ["a vary index without names", { ...varyMeta(), vary: undefined }],
    ["a vary index without an epoch", { ...varyMeta(), epoch: undefined }],
    ["a vary index without a variant count", { ...varyMeta(), variants: "2" }],
    ["a vary index whose variants are not a list", { ...varyMeta(), marks: { "0123456789ab": 1_705_320_900 } }],
    ["a vary index with a variant that is not [id, until]", { ...varyMeta(), marks: [["0123456789ab", "1705320900"]] }],
    ["a vary index with a variant of three parts", { ...varyMeta(), marks: [["0123456789ab", 1_705_320_900, 1]] }],
  ])("refuses %s", (_name, meta) => {
    expect(checkMeta(meta, KEY)).toBeNull();
  });
});
