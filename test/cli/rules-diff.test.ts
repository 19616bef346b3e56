import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli";

let dir: string;
const OLD = {
  version: 1,
  defaults: { ttl: { edge: 3600, kv: 0 }, bypass: { cookies: ["session*"] } },
  routes: [
    { name: "admin", match: { path: "/admin/*" }, bypass: true },
    { name: "assets", match: { path: "/assets/*" }, ttl: { edge: 86400 } },
    { name: "pages", match: { path: "/*" } },
  ],
};
const NEW = {
  version: 1,
  defaults: { ttl: { edge: 3600, kv: 0 }, bypass: { cookies: ["session*"] } },
  routes: [
    { name: "assets", match: { path: "/assets/*" }, ttl: { edge: 600 } },
    { name: "blog", match: { path: "/blog/*" }, key: { headers: ["accept-language"] } },
    { name: "pages", match: { path: "/*" } },
  ],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cache-diff-"));
  await writeFile(join(dir, "old.json"), JSON.stringify(OLD));
  await writeFile(join(dir, "new.json"), JSON.stringify(NEW));
  await writeFile(join(dir, "bad.json"), '{"version": 2, "routes": []}');
  await writeFile(
    join(dir, "urls.txt"),
    ["# a sample of real traffic", "https://www.example.com/", "https://www.example.com/assets/a.js", "", "HEAD https://www.example.com/blog/post", "https://www.example.com/admin/x"].join("\n"),
  );
  await writeFile(join(dir, "bad-urls.txt"), "https://www.example.com/\n/relative\nGET https://x/ extra\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("edge-cache rules diff", () => {
  it("lists the URLs whose route, key, TTL or bypass change, and how", async () => {
    const run = await cli(["rules", "diff", "old.json", "new.json", "--urls", "urls.txt"], { cwd: dir });
    expect(run).toEqual({
      code: 0,
      stdout: [
        "GET https://www.example.com/assets/a.js",
        "  ttl     edge=86400 kv=0 browser=origin origin=fallback swr=0 sie=0",
        "          -> edge=600 kv=0 browser=origin origin=fallback swr=0 sie=0",
        "HEAD https://www.example.com/blog/post",
        "  route   pages",
        "          -> blog",
        "  key     https://www.example.com/blog/post",
        '          -> https://www.example.com/blog/post [["h","accept-language",null]]',
        "GET https://www.example.com/admin/x",
        "  route   admin",
        "          -> pages",
        "  bypass  bypass: route",
        "          -> cached",
        "  key     (not cached)",
        "          -> https://www.example.com/admin/x",
        "  ttl     (not cached)",
        "          -> edge=3600 kv=0 browser=origin origin=fallback swr=0 sie=0",
        "3 of 4 URLs would change (route 2, key 2, ttl 2, bypass 1)",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("applies -H to every URL, and prints JSON with --json", async () => {
    const run = await cli(["rules", "diff", "old.json", "new.json", "--urls", "urls.txt", "-H", "Accept-Language: fr", "--json"], { cwd: dir });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { compared: number; changed: { url: string; changes: Record<string, unknown> }[] };
    expect(out.compared).toBe(4);
    expect(out.changed.find((c) => c.url === "https://www.example.com/blog/post")?.changes.key).toEqual({
      old: "https://www.example.com/blog/post",
      new: 'https://www.example.com/blog/post [["h","accept-language","fr"]]',
    });
  });

  it("says so when nothing changes", async () => {
    const run = await cli(["rules", "diff", "old.json", "old.json", "--urls", "urls.txt"], { cwd: dir });
    expect(run).toEqual({ code: 0, stdout: "0 of 4 URLs would change (route 0, key 0, ttl 0, bypass 0)\n", stderr: "" });
  });

  it("exits 1 on an invalid rules file or a bad URL line, naming the line", async () => {
    const bad = await cli(["rules", "diff", "old.json", "bad.json", "--urls", "urls.txt"], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error  $.version  unsupported version 2");
    expect(bad.stderr).toContain('bad.json: invalid (1 error); run "edge-cache rules check bad.json" for details\n');
    const badUrls = await cli(["rules", "diff", "old.json", "new.json", "--urls", "bad-urls.txt"], { cwd: dir });
    expect(badUrls).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'error: bad-urls.txt:2: not "[METHOD] URL" with an absolute http(s) URL: "/relative"\n' +
        'error: bad-urls.txt:3: not "[METHOD] URL" with an absolute http(s) URL: "GET https://x/ extra"\n',
    });
    const missing = await cli(["rules", "diff", "old.json", "new.json", "--urls", "nope.txt"], { cwd: dir });
    expect(missing).toEqual({ code: 1, stdout: "", stderr: "error: nope.txt: file not found\n" });
  });

  it.each([
    [["rules", "diff", "old.json", "new.json"], "error: --urls FILE is required: the URLs to compare, one per line\n"],
    [["rules", "diff", "old.json", "--urls", "urls.txt"], "error: expected the OLD and NEW rules files, got 1 file\n"],
  ])("exits 2 on a usage error: %j", async (args, start) => {
    const run = await cli(args, { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr.startsWith(`${start}\nUsage: edge-cache rules diff OLD NEW --urls FILE`)).toBe(true);
  });
});
