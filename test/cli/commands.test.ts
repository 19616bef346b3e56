import { describe, expect, it } from "vitest";
import { cli } from "../support/cli";

describe("edge-cache: the operating commands are listed", () => {
  it("--help lists every command with its summary", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        "Usage: edge-cache <command> [options]",
        "",
        "Commands:",
        "  setup          write the route into wrangler.jsonc and store a new ADMIN_TOKEN secret",
        "  audit          fetch URLs from the origin and show what the cache would do with each, and what to fix",
        "  rules check    validate a rules file and list every problem",
        "  rules explain  show the route, bypass, key and TTLs for one URL",
        "  rules diff     compare two rules files over a list of URLs (route, key, TTL, bypass)",
        "  rules push     validate a rules file and upload it to a running Worker",
        "  purge          purge URLs, prefixes, tags, routes or everything from a running Worker",
        "  stats          hit ratio per route and the top misses of a running Worker",
        "",
        'Run "edge-cache <command> --help" for a command\'s options.',
        "",
      ].join("\n"),
    );
  });

  it("`rules --help` lists the rules commands only", async () => {
    const run = await cli(["rules", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout.match(/^ {2}\S.*$/gm)?.map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(["rules check", "rules explain", "rules diff", "rules push"]);
  });

  it.each([["rules", "diff", "--help"], ["rules", "push", "--help"]])("%s %s %s shows that command's usage and exits 0", async (...args) => {
    const run = await cli(args);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(`Usage: edge-cache ${args[0]} ${args[1]} `)).toBe(true);
    expect(run.stderr).toBe("");
  });
});
