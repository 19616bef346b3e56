/**
 * The bench origin: a real HTTP server on 127.0.0.1 that counts every request it
 * receives, by raw URL, so each case can say how many fetches reached the origin.
 *
 *   /hit/*, /kv/*, /o/*   200, a small HTML body, `Cache-Control: public, max-age=3600`
 *   /herd/*               the same after a delay (so a herd piles up behind the first miss)
 *   /big/<bytes>/*        a body of <bytes> streamed in 64 KiB chunks, with Content-Length
 *                         (chunked instead with `?chunked=1`)
 *   /stale/*              200, `Cache-Control: public, max-age=<staleMaxAge>`
 *
 * `stop()` closes the listener and every open connection (the "origin down" of the
 * stale case): from then on connections are refused.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface OriginOptions {
  /** Body size of the small pages, bytes. */
  pageBytes?: number;
  /** Delay before a /herd/* answer, ms. */
  herdDelayMs?: number;
  /** max-age of /stale/* answers, s. */
  staleMaxAge?: number;
}

export interface BenchOrigin {
  url: string;
  port: number;
  /** Requests received whose path starts with `prefix` (all when omitted). */
  count(prefix?: string): number;
  /** Raw request URLs (path and query) received under `prefix`, with their counts. */
  byUrl(prefix: string): Map<string, number>;
  /** Bytes of body sent so far. */
  readonly bytesSent: number;
  /** Closes the listener and every connection; later connections are refused. */
  stop(): Promise<void>;
}

const CHUNK = 64 * 1024;

function page(path: string, bytes: number): Buffer {
  const head = `<!doctype html><title>${path}</title><p>`;
  const filler = "lorem ipsum dolor sit amet ".repeat(Math.ceil(bytes / 27));
  return Buffer.from((head + filler).slice(0, Math.max(bytes, head.length)));
}

export async function startOrigin(options: OriginOptions = {}): Promise<BenchOrigin> {
  const pageBytes = options.pageBytes ?? 8 * 1024;
  const herdDelayMs = options.herdDelayMs ?? 300;
  const staleMaxAge = options.staleMaxAge ?? 2;
  const counts = new Map<string, number>();
  let bytesSent = 0;
  const pattern = Buffer.alloc(CHUNK, "0123456789abcdef");

  const server = http.createServer((req, res) => {
    const raw = req.url ?? "/";
    counts.set(raw, (counts.get(raw) ?? 0) + 1);
    const path = raw.split("?")[0] ?? "/";
    const send = (cacheControl: string, body: Buffer) => {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-length": String(body.length),
        "cache-control": cacheControl,
        date: new Date().toUTCString(),
      });
      bytesSent += body.length;
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (path.startsWith("/big/")) return void streamBig(path, res, raw.includes("chunked=1"));
    if (path.startsWith("/stale/")) return send(`public, max-age=${staleMaxAge}`, page(path, pageBytes));
    if (path.startsWith("/herd/")) {
      setTimeout(() => send("public, max-age=3600", page(path, pageBytes)), herdDelayMs);
      return;
    }
    if (path.startsWith("/hit/") || path.startsWith("/kv/") || path.startsWith("/o/")) {
      return send("public, max-age=3600", page(path, pageBytes));
    }
    res.writeHead(404, { "content-type": "text/plain", "cache-control": "no-store" });
    res.end("not found\n");
  });

  /** Streams `/big/<bytes>/...` with back-pressure, so the origin itself never buffers. */
  function streamBig(path: string, res: http.ServerResponse, chunked: boolean): void {
    const total = Number(path.split("/")[2]);
    if (!Number.isSafeInteger(total) || total <= 0) {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      ...(chunked ? {} : { "content-length": String(total) }),
      "cache-control": "public, max-age=3600",
    });
    let left = total;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(CHUNK, left);
        left -= n;
        bytesSent += n;
        const more = res.write(n === CHUNK ? pattern : pattern.subarray(0, n));
        if (!more) return void res.once("drain", pump);
      }
      res.end();
    };
    res.on("close", () => (left = 0));
    pump();
  }

  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get bytesSent() {
      return bytesSent;
    },
    count(prefix = "/") {
      let n = 0;
      for (const [url, c] of counts) if (url.startsWith(prefix)) n += c;
      return n;
    },
    byUrl(prefix) {
      const out = new Map<string, number>();
      for (const [url, c] of counts) if (url.startsWith(prefix)) out.set(url, c);
      return out;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
