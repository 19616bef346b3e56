import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, json, recordingServer } from "../support/cli";

const TOKEN = "diff-token-123";
const OLD = { version: 1, routes: [{ name: "pages", match: { path: "/*" }, ttl: { edge: 3600 } }] };
const NEW = { version: 1, routes: [{ name: "assets", match: { path: "/assets/*" }, ttl: { edge: 600 } }, { name: "pages", match: { path: "/*" }, ttl: { edge: 3600 } }] };

let dir: string;
let server: Awaited<ReturnType<typeof recordingServer>>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cache-diff-traffic-"));
  await writeFile(join(dir, "old.json"), JSON.stringify(OLD));
  await writeFile(join(dir, "new.json"), JSON.stringify(NEW));
  // Newest first, as the Worker answers.
  server = await recordingServer(() =>
    json(200, {
      scope: "site",
      requests: [
        { method: "HEAD", url: "https://www.example.com/assets/app.js", at: "2026-01-01T00:00:02.000Z" },
        { method: "GET", url: "https://www.example.com/blog/post", at: "2026-01-01T00:00:01.000Z" },
      ],
    }),
  );
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("edge-cache rules diff --traffic", () => {
  it("compares the two files over the requests the Worker sampled", async () => {
    const before = server.seen.length;
    const run = await cli(["rules", "diff", "old.json", "new.json", "--traffic", "--site", server.url, "--json"], { cwd: dir, env: { EDGE_CACHE_TOKEN: TOKEN } });
    expect(server.seen.slice(before).map((r) => [r.method, r.url, r.authorization])).toEqual([["GET", "/.edge-cache/traffic", `Bearer ${TOKEN}`]]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { compared: number; changed: { method: string; url: string; changes: Record<string, unknown> }[] };
    expect(out.compared).toBe(2);
    expect(out.changed).toEqual([
      {
        method: "HEAD",
        url: "https://www.example.com/assets/app.js",
        changes: { route: { old: "pages", new: "assets" }, ttl: { old: expect.stringContaining("edge=3600"), new: expect.stringContaining("edge=600") } },
      },
    ]);
  });

  it("refuses --traffic without --site, and --urls with --traffic", async () => {
    const a = await cli(["rules", "diff", "old.json", "new.json", "--traffic"], { cwd: dir, env: { EDGE_CACHE_TOKEN: TOKEN } });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("error: --traffic needs --site");
    const b = await cli(["rules", "diff", "old.json", "new.json", "--traffic", "--site", server.url, "--urls", "x.txt"], { cwd: dir, env: { EDGE_CACHE_TOKEN: TOKEN } });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("error: --urls and --traffic are two sources of requests: give one");
  });
});
