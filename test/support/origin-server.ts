/**
 * A real HTTP origin on 127.0.0.1 that tests script and inspect over HTTP, so that
 * code running inside workerd (which cannot share memory with Node) can drive it.
 *
 *   POST /__control/script   {"path": "/p", "responses": [ScriptedResponse, ...]}
 *        each request to /p takes the next response; the last one repeats.
 *   GET  /__control/requests?path=/p   {"count": n, "requests": [{method, url, headers}]}
 *   POST /__control/release?path=/p    lets every held response to /p go.
 *   POST /__control/reset              forgets every script and count.
 *
 * An unscripted path answers 200 `origin:<path>` with no caching headers.
 */
import http from "node:http";
import zlib from "node:zlib";
import type { AddressInfo } from "node:net";
import { patternBytes, type RecordedRequest, type ScriptedResponse } from "./scripted";

export interface OriginServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startOriginServer(port = 0): Promise<OriginServer> {
  const scripts = new Map<string, ScriptedResponse[]>();
  const log = new Map<string, RecordedRequest[]>();
  const held = new Map<string, (() => void)[]>();

  const release = (path: string) => {
    for (const go of held.get(path) ?? []) go();
    held.delete(path);
  };
  const waitRelease = (path: string) =>
    new Promise<void>((resolve) => held.set(path, [...(held.get(path) ?? []), resolve]));

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://origin.test");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");

    if (url.pathname.startsWith("/__control/")) {
      return control(url, body, res);
    }
    const path = url.pathname;
    const seen = [...(log.get(path) ?? []), { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body }];
    log.set(path, seen);
    const n = seen.length;
    const queue = scripts.get(path);
    const step: ScriptedResponse = (queue && (queue.length > 1 ? queue.shift() : queue[0])) ?? {};

    if (step.hold) await waitRelease(path);
    if (step.reset) {
      req.socket.destroy();
      return;
    }
    const plain = step.bodyBytes !== undefined
      ? Buffer.from(patternBytes(step.bodyBytes))
      : Buffer.from((step.body ?? `origin:${path}`).replaceAll("{n}", String(n)));
    const whole = step.encoding === "gzip" ? zlib.gzipSync(plain) : step.encoding === "deflate" ? zlib.deflateSync(plain) : plain;
    const range = step.ranges ? byteRange(req.headers.range, whole.length) : null;
    const payload = range && range !== "unsatisfiable" ? whole.subarray(range.start, range.end + 1) : range ? Buffer.alloc(0) : whole;
    // Tests move a clock instead of waiting; they send it along so Date agrees with it.
    const testNow = Number(req.headers["x-test-now"]);
    const date = new Date(Number.isFinite(testNow) && testNow > 0 ? testNow : Date.now()).toUTCString();
    const headers: Record<string, string | string[]> = { "content-type": "text/plain", date, ...step.headers };
    if (step.encoding) headers["content-encoding"] = step.encoding;
    if (!step.chunked && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
      headers["content-length"] = String(payload.length);
    }
    if (range === "unsatisfiable") headers["content-range"] = `bytes */${whole.length}`;
    else if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${whole.length}`;
    res.writeHead(range === "unsatisfiable" ? 416 : range ? 206 : (step.status ?? 200), headers);
    if (req.method === "HEAD" || step.status === 304 || step.status === 204) return res.end();
    if (step.truncateAt !== undefined) {
      res.write(payload.subarray(0, step.truncateAt), () => res.socket?.destroy());
      return;
    }
    if (step.holdBody) {
      res.flushHeaders();
      await waitRelease(path);
    }
    res.end(payload);
  });

  /** A single byte range of a body of `size` bytes (RFC 9110 §14.1.2), as `ranges` answers it. */
  function byteRange(value: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | null {
    const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
    if (!m || (m[1] === "" && m[2] === "")) return null;
    const start = m[1] === "" ? Math.max(0, size - Number(m[2])) : Number(m[1]);
    const end = m[1] === "" || m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    return start >= size || start > end ? "unsatisfiable" : { start, end };
  }

  function control(url: URL, body: string, res: http.ServerResponse) {
    const json = (value: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const path = url.searchParams.get("path") ?? "";
    switch (url.pathname) {
      case "/__control/script": {
        const { path: p, responses } = JSON.parse(body) as { path: string; responses: ScriptedResponse[] };
        scripts.set(p, [...responses]);
        return json({ ok: true });
      }
      case "/__control/requests": {
        const requests = log.get(path) ?? [];
        return json({ count: requests.length, requests });
      }
      case "/__control/release":
        release(path);
        return json({ ok: true });
      case "/__control/held":
        return json({ count: held.get(path)?.length ?? 0 });
      case "/__control/reset":
        scripts.clear();
        log.clear();
        for (const p of [...held.keys()]) release(p);
        return json({ ok: true });
      default:
        res.writeHead(404).end();
    }
  }

  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of [...held.keys()]) release(p);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
