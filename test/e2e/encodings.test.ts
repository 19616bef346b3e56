/**
 * Content codings on the wire, through `npm start` (wrangler dev: workerd behind
 * Miniflare's entry Worker, which stands in for Cloudflare's front line): the bytes a
 * raw HTTP client receives, never decoded on the way by the test. A pre-compressed
 * answer keeps its bytes and length for a client that takes gzip and is decoded for
 * one that does not; an identity answer keeps its stored Content-Length for clients
 * that send no Accept-Encoding or `identity` (docs/encodings.md).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWithRules, type Local } from "../support/local-server";

const TEXT = "function precompressed() { return 42; }\n".repeat(300);
const GZ = zlib.gzipSync(TEXT);
const RUN = `run=${Date.now().toString(36)}`;

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: Buffer;
}

/** One GET whose body is read as it arrives: no client-side decoding. */
function raw(url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

describe("content codings through npm start", () => {
  let local: Local | undefined;
  let origin: http.Server | undefined;
  const hits = new Map<string, number>();

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://o").pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (path === "/app.js") {
        // gzip_static: the stored file, compressed, whatever the request asked.
        res.writeHead(200, { "content-type": "application/javascript", "content-encoding": "gzip", "content-length": GZ.length, etag: '"js1"', "cache-control": "max-age=300" });
        res.end(GZ);
      } else {
        res.writeHead(200, { "content-type": "text/plain", "content-length": 10, "cache-control": "max-age=300" });
        res.end("ten bytes!");
      }
    });
    await new Promise<void>((r) => origin!.listen(0, "127.0.0.1", () => r()));
    const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    local = await startWithRules(originUrl, { version: 1, routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 300 } }] });
  });
  afterAll(async () => {
    await local?.close();
    await new Promise((r) => origin?.close(r));
  });

  it("a pre-compressed answer: the origin's bytes and length to a gzip client, on the miss and the hit", async () => {
    for (const round of [1, 2]) {
      const got = await raw(`${local!.base}/app.js?${RUN}`, { "accept-encoding": "gzip, deflate, br" });
      expect(got.status).toBe(200);
      expect(got.headers["content-encoding"]).toBe("gzip");
      expect(got.headers["content-length"]).toBe(String(got.bytes.length));
      expect(zlib.gunzipSync(got.bytes).toString()).toBe(TEXT);
      expect(String(got.headers["cache-status"])).toMatch(round === 1 ? /fwd=uri-miss; stored/ : /hit/);
    }
    expect(hits.get("/app.js")).toBe(1);
  });

  it("the same answer decoded for a client that sends no Accept-Encoding, or identity", async () => {
    for (const headers of [{}, { "accept-encoding": "identity" }] as Record<string, string>[]) {
      const got = await raw(`${local!.base}/app.js?${RUN}`, headers);
      expect(got.status).toBe(200);
      expect(got.headers["content-encoding"]).toBeUndefined();
      expect(got.bytes.toString()).toBe(TEXT);
      expect(String(got.headers["cache-status"])).toMatch(/hit/);
    }
  });

  it("an identity answer: the stored bytes and Content-Length to a client without Accept-Encoding or with identity", async () => {
    await raw(`${local!.base}/ten.txt?${RUN}`);
    for (const headers of [{}, { "accept-encoding": "identity" }] as Record<string, string>[]) {
      const got = await raw(`${local!.base}/ten.txt?${RUN}`, headers);
      expect(got.bytes.toString()).toBe("ten bytes!");
      expect(got.headers["content-length"]).toBe("10");
      expect(got.headers["content-encoding"]).toBeUndefined();
      expect(String(got.headers["cache-status"])).toMatch(/hit/);
    }
  });
});
