/**
 * A collapse leader's client that stops reading, over real HTTP through `npm start`
 * (issue 21, item 7). In-process tests cannot show this: workerd's tee waits only for a
 * branch that goes out to a real client. Here the paused client's TCP backpressure
 * reaches the Worker, so a leader that paced the store would make the second client
 * wait for the route's originTimeout and then fetch for itself. The Worker
 * detaches the lagging client instead (src/http/lagging-client.ts): the store runs at
 * the origin's pace, the second client reads the stored entry, and the paused one
 * later gets the rest from the tier, byte for byte. Loopback only, bounded in time.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWithRules, type Local } from "../support/local-server";

const SIZE = 64 * 1024 * 1024;
const BODY = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) BODY.writeUInt32LE((i * 2654435761) >>> 0, i);
const DIGEST = createHash("sha256").update(BODY).digest("hex");
const RUN = `run=${Date.now().toString(36)}`;
/**
 * How long a client may take for the whole body: the local Cache API takes a few seconds
 * to store 64 MiB (and holds the process meanwhile); a follower of a leader that paced
 * the store would wait for the route's originTimeout (60 s) instead.
 */
const BOUND_MS = 45_000;

/** What a client got: its status, headers, byte count and digest. */
interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  length: number;
  digest: string;
}

function collect(res: http.IncomingMessage): Promise<Got> {
  const hash = createHash("sha256");
  let length = 0;
  return new Promise((resolve, reject) => {
    res.on("data", (c: Buffer) => {
      hash.update(c);
      length += c.length;
    });
    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, length, digest: hash.digest("hex") }));
    res.on("error", reject);
    res.on("aborted", () => reject(new Error(`response aborted after ${length} bytes`)));
  });
}

/** A GET on a connection of its own (no keep-alive: each client is its own connection, as phones are). */
function get(url: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => void http.get(url, { agent: false }, resolve).on("error", reject));
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe("a lagging client over real HTTP", () => {
  let local: Local | undefined;
  let origin: http.Server | undefined;
  let asked = 0;

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      asked++;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": SIZE, "cache-control": "max-age=300" });
      res.end(BODY);
    });
    await new Promise<void>((r) => origin!.listen(0, "127.0.0.1", () => r()));
    const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    // The edge only (64 MiB is over KV's 25 MiB anyway); originTimeout well past the bounded waits below.
    local = await startWithRules(originUrl, { version: 1, routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 300 }, originTimeout: 60 }] });
  });
  afterAll(async () => {
    await local?.close();
    await new Promise((r) => origin?.close(r));
  });

  it("a leader's client that stops after one chunk holds back neither the store nor a second client", async () => {
    // What the isolate holds meanwhile is measured in the bench (`cases.memory.slowReader`), not here.
    asked = 0;
    const url = `${local!.base}/big.bin?${RUN}`;

    // Client A: the collapse leader, reading one chunk and then nothing (TCP backpressure).
    const a = await within(10_000, "client A's headers", get(url));
    const aGot = collect(a);
    await new Promise<void>((r) => a.once("data", () => (a.pause(), r())));
    expect(a.isPaused()).toBe(true);

    // Client B: the same URL, whole and exact within the bound (the store's own time), the origin asked once.
    const bAsked = Date.now();
    const b = await within(BOUND_MS, "client B's whole body", get(url).then(collect));
    expect(b.status).toBe(200);
    expect(b.length).toBe(SIZE);
    expect(b.digest).toBe(DIGEST);
    expect(String(b.headers["cache-status"])).toMatch(/; collapsed|; hit/);
    expect(asked).toBe(1);
    expect(a.isPaused()).toBe(true);
    console.log(`lagging-client: B whole in ${((Date.now() - bAsked) / 1000).toFixed(1)} s with A paused`);
    // A resumes: the rest from the tier, byte for byte.
    a.resume();
    const got = await within(BOUND_MS, "client A's whole body", aGot);
    expect(got.length).toBe(SIZE);
    expect(got.digest).toBe(DIGEST);
    expect(asked).toBe(1);
  }, 240_000);
});
