/**
 * Issue 10, item 14, as a user meets it under `npm start`: Node's own `http` client,
 * a new connection per request (`agent: false`), answers the Worker gives before it
 * has read the upload. Left half-read, such a body made wrangler dev's proxy stall the
 * next request for 15 s or answer 503; now the Worker reads it to the end first.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, npmStart, stop, untilRunning, type Started } from "../support/local-server";

const TOKEN = "early-answers-token-0123456789abcdef";
const RUN = `run=${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
/** Far above what a local answer takes, far below the 15 s stall it guards against. */
const ANSWER_WITHIN_MS = 5_000;

interface Answer {
  status: number;
  body: string;
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.setTimeout(ANSWER_WITHIN_MS, () => req.destroy(new Error(`no answer to ${method} ${path} within ${ANSWER_WITHIN_MS} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

const purge = (port: number, token: string, bytes: number) =>
  send(port, "POST", "/.edge-cache/purge", { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": String(bytes) }, Buffer.alloc(bytes, "a"));

describe("npm start: answers before the body is read leave the next request alone", () => {
  let s: Started | undefined;
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    s = npmStart(["--port", String(port), "--admin-token", TOKEN]);
    await untilRunning(s);
  });
  afterAll(() => stop(s));

  it("401 for a wrong token with a 200 KB body; 413 for a 5 MB purge; each next GET answers at once", async () => {
    const denied = await purge(port, "wrong-token", 200 * 1024);
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body)).toMatchObject({ error: "unauthorized" });

    const next = await send(port, "GET", `/pages/y?${RUN}`, {});
    // The demo origin has no such page: its 404 through the cache, not a stall or a 503.
    expect(next.status).toBe(404);
    expect(next.body).toContain("demo origin");

    const tooLarge = await purge(port, TOKEN, 5 * 1024 * 1024);
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body)).toMatchObject({ error: "too-large" });

    const after = await send(port, "GET", `/pages/y?${RUN}`, {});
    expect(after.status).toBe(404);
    expect(after.body).toContain("demo origin");
  });
});
