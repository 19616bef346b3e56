import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, json, recordingServer, ROOT, type Answer, type Recorded } from "../support/cli";

let dir: string;
const TOKEN = "push-token-123";
const GOOD = { version: 1, routes: [{ name: "all", match: { path: "/*" }, stripSetCookie: true }] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cache-push-"));
  await writeFile(join(dir, "good.json"), JSON.stringify(GOOD, null, 2));
  await writeFile(join(dir, "bad.json"), '{"version": 1, "routes": [{"name": "a", "match": {}, "ttl": {"kv": 5}}]}');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withServer(answer: (r: Recorded) => Answer, body: (url: string, seen: Recorded[]) => Promise<void>) {
  const server = await recordingServer(answer);
  try {
    await body(server.url, server.seen);
  } finally {
    await server.close();
  }
}

const OK = json(200, {
  stored: true,
  version: "0123456789abcdef",
  sequence: 7,
  uploadedAt: "2026-01-01T00:00:00.000Z",
  active: { source: "coordinator" },
  warnings: [],
  notes: [],
  propagation: "recorded by the coordinator; serving at once in the isolate that took it, and in every other isolate within 5 s",
});

describe("edge-cache rules push", () => {
  it("uploads the file as written, with the token, and reports the version and the propagation bound", async () => {
    await withServer(() => OK, async (url, seen) => {
      const run = await cli(["rules", "push", "good.json", "--site", url], { cwd: dir, env: { EDGE_CACHE_TOKEN: TOKEN } });
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        `good.json: pushed to ${url}, version 0123456789abcdef, sequence 7\nrecorded by the coordinator; serving at once in the isolate that took it, and in every other isolate within 5 s\n`,
      );
      expect(run.stderr).toMatch(/^warning {2}\$\.routes\[0\]\.stripSetCookie {2}route "all" stores answers that set cookies/);
      expect(seen).toEqual([{ method: "PUT", url: "/.edge-cache/rules", authorization: `Bearer ${TOKEN}`, body: await readFile(join(dir, "good.json"), "utf8") }]);
    });
  });

  it("accepts --url for the site, and pushes config/routes.json by default", async () => {
    await withServer(() => OK, async (url, seen) => {
      const run = await cli(["rules", "push", "--url", url], { env: { EDGE_CACHE_TOKEN: TOKEN } });
      expect(run.code).toBe(0);
      expect(seen[0]?.body).toBe(await readFile(join(ROOT, "config/routes.json"), "utf8"));
    });
  });

  it("never sends an invalid file: exits 1 with its problems", async () => {
    await withServer(() => OK, async (url, seen) => {
      const run = await cli(["rules", "push", "bad.json", "--site", url], { cwd: dir, env: { EDGE_CACHE_TOKEN: TOKEN } });
      expect(run).toEqual({
        code: 1,
        stdout: "",
        stderr: 'error  $.routes[0].ttl.kv  KV TTL must be 0 or at least 60, got 5  (hint: KV needs at least 60 s; use 0 to skip KV)\nbad.json: invalid (1 error); run "edge-cache rules check bad.json" for details\n',
      });
      expect(seen).toEqual([]);
    });
  });

  it("explains each way the Worker can refuse, and exits 1", async () => {
    const cases: [Answer, string][] = [
      [json(401, { error: "unauthorized", message: "..." }), "refused the token (401): EDGE_CACHE_TOKEN does not match the Worker's ADMIN_TOKEN"],
      [json(403, { error: "admin-disabled", message: "The admin API is disabled because no ADMIN_TOKEN is configured." }), "answered 403: The admin API is disabled because no ADMIN_TOKEN is configured."],
      [{ status: 404, body: "<html>not found</html>", contentType: "text/html" }, "(404): is the Worker deployed on this site's route?"],
      [json(422, { error: "invalid-rules", message: "The rules were refused (1 error).", problems: [{ severity: "error", path: "$.x", message: "bad x" }] }), "answered 422: The rules were refused (1 error)."],
      [json(503, { error: "rules-not-stored", message: "could not be written to KV" }), "answered 503: could not be written to KV"],
    ];
    for (const [answer, message] of cases) {
      await withServer(() => answer, async (url) => {
        const run = await cli(["rules", "push", "good.json", "--site", url], { cwd: dir, env: { EDGE_CACHE_TOKEN: TOKEN } });
        expect(run.code).toBe(1);
        expect(run.stdout).toBe("");
        expect(run.stderr).toContain(message);
        if (answer.status === 422) expect(run.stderr).toContain("error  $.x  bad x\n");
      });
    }
  });

  it("exits 1 when the site cannot be reached", async () => {
    const server = await recordingServer(() => OK);
    await server.close();
    const run = await cli(["rules", "push", "good.json", "--site", server.url], { cwd: dir, env: { EDGE_CACHE_TOKEN: TOKEN } });
    expect(run).toEqual({ code: 1, stdout: "", stderr: `error: could not reach ${server.url}: ECONNREFUSED\n` });
  });

  it.each([
    [["rules", "push", "good.json"], { EDGE_CACHE_TOKEN: TOKEN }, "error: name the site with --site https://www.example.com"],
    [["rules", "push", "good.json", "--site", "https://x.test"], {}, "error: set EDGE_CACHE_TOKEN to the Worker's ADMIN_TOKEN (it is read from the environment only, never from the command line)"],
    [["rules", "push", "--site", "http://example.com"], { EDGE_CACHE_TOKEN: TOKEN }, "error: --site uses plain http to example.com: the admin token would cross the network in clear; use https"],
    [["rules", "push", "--site", "https://example.com/blog"], { EDGE_CACHE_TOKEN: TOKEN }, "error: --site must be the site alone (https://example.com), without a path: the admin API lives at https://example.com/.edge-cache/"],
    [["rules", "push", "--site", "nope"], { EDGE_CACHE_TOKEN: TOKEN }, 'error: --site must be the site\'s URL, such as https://www.example.com, got "nope"'],
    [["rules", "push", "--site", "https://a.test", "--url", "https://b.test"], { EDGE_CACHE_TOKEN: TOKEN }, "error: give the site once: --site or --url, not both"],
  ])("exits 2 on a usage error: %j", async (args, env, start) => {
    const run = await cli(args, { cwd: dir, env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.startsWith(`${start}\n\nUsage: edge-cache rules push`)).toBe(true);
  });
});
