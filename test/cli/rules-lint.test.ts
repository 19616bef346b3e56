import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cache-lint-"));
  await writeFile(
    join(dir, "risky.json"),
    JSON.stringify({
      version: 1,
      routes: [
        { name: "pages", match: { path: "/*" }, origin: "override", cacheAuthorized: true, key: { headers: ["cookie"] } },
      ],
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("edge-cache rules check: warnings for valid but risky rules", () => {
  it("prints each warning with its path and hint, counts them, and still exits 0", async () => {
    const run = await cli(["rules", "check", "risky.json"], { cwd: dir });
    expect(run).toEqual({
      code: 0,
      stdout: [
        "warning  $.routes[0].origin  route \"pages\" overrides the origin's Cache-Control on what may be HTML pages, and no cookie bypasses it: a page rendered for a logged-in user can be stored and shown to everyone  (hint: add \"bypass\": { \"cookies\": [\"session*\", ...] } with your session cookie names, or use \"origin\": \"fallback\" so the origin's private/no-store still count)",
        "warning  $.routes[0].cacheAuthorized  route \"pages\" stores answers to requests with Authorization even when the origin did not mark them public: one user's answer can be served to another  (hint: remove \"cacheAuthorized\" unless every answer on this route is the same for every user; an origin can allow it per response with Cache-Control: public or s-maxage)",
        "warning  $.routes[0].key  route \"pages\" keys on \"cookie\", which differs per user or per request: almost every request is a miss, and each stores another copy  (hint: key on a coarse header the origin really varies on (e.g. accept-language), or let the origin send Vary)",
        "risky.json: ok, 1 route (0 errors, 3 warnings)",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("lists them in --json too", async () => {
    const run = await cli(["rules", "check", "risky.json", "--json"], { cwd: dir });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { valid: boolean; problems: { severity: string; path: string }[] };
    expect(out.valid).toBe(true);
    expect(out.problems.map((p) => `${p.severity} ${p.path}`)).toEqual(["warning $.routes[0].origin", "warning $.routes[0].cacheAuthorized", "warning $.routes[0].key"]);
  });
});
