/**
 * Answers given before the request body is read (401, 413, 429, 405, 414) still read
 * the upload to its end, up to a bound: a body left half-read on the connection makes
 * `wrangler dev`'s proxy stall or 503 the next request, and an HTTP/1.1 client still
 * sending sees a reset instead of our answer (test/e2e/early-answers.test.ts shows it
 * under `npm start`). Here the body is a stream that counts what was pulled from it.
 */
import { describe, expect, it } from "vitest";
import { DISCARD_MAX_BYTES } from "../../src/http/discard";
import { adminHarness, TOKEN } from "../support/admin-harness";

const CHUNK = 64 * 1024;

/** A body of `bytes`, handed out chunk by chunk; `read` is how much the Worker took, `cancelled` whether it gave up. */
function countedBody(bytes: number) {
  const state = { read: 0, cancelled: false };
  const chunk = new Uint8Array(CHUNK).fill(0x61);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const n = Math.min(CHUNK, bytes - state.read);
      if (n <= 0) return controller.close();
      state.read += n;
      controller.enqueue(n === CHUNK ? chunk : chunk.subarray(0, n));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { body, state };
}

async function post(h: ReturnType<typeof adminHarness>, path: string, bytes: number, headers: Record<string, string>) {
  const { body, state } = countedBody(bytes);
  const res = await h.request(path, { method: "POST", headers, body });
  return { res, state, json: JSON.parse(res.text) as Record<string, unknown> };
}

describe("early answers read the rest of the upload", () => {
  it("a wrong token: 401 with the JSON error, and all 200 KB were read", async () => {
    const h = adminHarness();
    const { res, state, json } = await post(h, "/.edge-cache/purge", 200 * 1024, { authorization: "Bearer wrong" });
    expect(res.status).toBe(401);
    expect(json.error).toBe("unauthorized");
    expect(state).toEqual({ read: 200 * 1024, cancelled: false });
  });

  it("a purge body over the limit: 413 with the JSON error, and all 5 MB were read", async () => {
    const h = adminHarness();
    const { res, state, json } = await post(h, "/.edge-cache/purge", 5 * 1024 * 1024, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(413);
    expect(json.error).toBe("too-large");
    expect(state).toEqual({ read: 5 * 1024 * 1024, cancelled: false });
    // Nothing was purged on the way: the purge log is empty.
    expect((await h.admin("GET", "purges")).json).toMatchObject({ purges: [] });
  });

  it("the same with a lying Content-Length: the 413 comes at once, the rest is still read", async () => {
    const h = adminHarness();
    const { res, state } = await post(h, "/.edge-cache/purge", 1024 * 1024, { authorization: `Bearer ${TOKEN}`, "content-length": String(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(state.read).toBe(1024 * 1024);
  });

  it("a method an endpoint does not take: 405, body read", async () => {
    const h = adminHarness();
    const { res, state } = await post(h, "/.edge-cache/explain", 100 * 1024, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(405);
    expect(state).toEqual({ read: 100 * 1024, cancelled: false });
  });

  it("a URL too long for the proxy: 414, body read", async () => {
    const h = adminHarness();
    const { body, state } = countedBody(100 * 1024);
    const res = await h.request(`/x?${"a".repeat(9000)}`, { method: "POST", body });
    expect(res.status).toBe(414);
    expect(state).toEqual({ read: 100 * 1024, cancelled: false });
  });

  it("past the bound, the upload is cancelled rather than read on", async () => {
    const h = adminHarness();
    const { state } = await post(h, "/.edge-cache/purge", DISCARD_MAX_BYTES + 4 * CHUNK, { authorization: "Bearer wrong" });
    expect(state.cancelled).toBe(true);
    expect(state.read).toBeLessThanOrEqual(DISCARD_MAX_BYTES + 2 * CHUNK);
  });
});
