import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin/edge-cache.mjs");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cache-rules-check-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("edge-cache rules check", () => {
  it("checks config/routes.json by default and exits 0", async () => {
    expect(await cli(["rules", "check"])).toEqual({ code: 0, stdout: "config/routes.json: ok, 6 routes (0 errors, 0 warnings)\n", stderr: "" });
  });

  it("exits 0 with warnings, printing each", async () => {
    const path = await file("warn.json", { version: 1, routes: [] });
    expect(await cli(["rules", "check", path])).toEqual({
      code: 0,
      stdout:
        'warning  $.routes  no routes: every request passes through uncached  (hint: add a route, e.g. { "name": "all", "match": { "path": "/*" } })\n' +
        `${path}: ok, 0 routes (0 errors, 1 warning)\n`,
      stderr: "",
    });
  });

  it("prints every problem with its path and hint, then a summary, and exits 1", async () => {
    const path = await file("bad.json", {
      version: 1,
      routes: [
        { name: "all", match: { path: "/*" }, ttl: { kv: 30 } },
        { name: "late", match: { path: "/x" }, tagz: ["a"] },
      ],
    });
    const run = await cli(["rules", "check", path], dir);
    expect(run).toEqual({
      code: 1,
      stdout: [
        "error  $.routes[0].ttl.kv  KV TTL must be 0 or at least 60, got 30  (hint: KV needs at least 60 s; use 0 to skip KV)",
        'error  $.routes[1].tagz  unknown field "tagz"  (hint: did you mean "tags"?)',
        'error  $.routes[1].match  this route can never match: route "all" ($.routes[0]) matches every request it would  (hint: move it above route "all", or narrow route "all"\'s match)',
        `${path}: invalid (3 errors, 0 warnings)`,
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("resolves a relative FILE against the current directory", async () => {
    await file("rel.json", { version: 1, routes: [{ name: "all", match: {} }] });
    expect(await cli(["rules", "check", "rel.json"], dir)).toEqual({ code: 0, stdout: "rel.json: ok, 1 route (0 errors, 0 warnings)\n", stderr: "" });
  });

  it("reports a JSON syntax error by line and column", async () => {
    const path = await file("syntax.json", '{\n  "version": 1,\n  "routes": [],\n}\n');
    expect(await cli(["rules", "check", path])).toEqual({
      code: 1,
      stdout:
        'error  $  not valid JSON at line 4, column 1: expected a field name in double quotes, got "}"  (hint: remove the comma before this closing bracket (JSON allows no trailing commas))\n' +
        `${path}: invalid (1 error, 0 warnings)\n`,
      stderr: "",
    });
  });

  it("exits 1 when the file cannot be read", async () => {
    const run = await cli(["rules", "check", "missing.json"], dir);
    expect(run).toEqual({
      code: 1,
      stdout: "error  $  file not found  (hint: check the file name; paths are relative to the current directory)\nmissing.json: invalid (1 error, 0 warnings)\n",
      stderr: "",
    });
  });

  it("prints the problems as JSON with --json", async () => {
    const path = await file("json.json", { version: 3, routes: [] });
    const run = await cli(["rules", "check", "--json", path]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      file: path,
      valid: false,
      problems: [
        { severity: "error", path: "$.version", message: "unsupported version 3", hint: 'this edge-cache reads version 1 files only; write "version": 1 and check the fields against the docs' },
        { severity: "warning", path: "$.routes", message: "no routes: every request passes through uncached", hint: 'add a route, e.g. { "name": "all", "match": { "path": "/*" } }' },
      ],
    });
  });

  it("shows its help with --help and exits 0", async () => {
    const run = await cli(["rules", "check", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: edge-cache rules check \[FILE\] \[--json\]\n/);
    expect(run.stderr).toBe("");
  });

  it.each([
    [["rules", "check", "a.json", "b.json"], "error: expected at most one FILE, got 2\n\nUsage: edge-cache rules check"],
    [["rules", "check", "--jsn"], "error: Unknown option '--jsn'\n\nUsage: edge-cache rules check"],
  ])("exits 2 on a usage error: %j", async (args, start) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.startsWith(start)).toBe(true);
  });
});

describe("edge-cache", () => {
  it("lists its commands with --help and exits 0", async () => {
    const run = await cli(["--help"]);
    expect(run).toEqual({ code: 0, stdout: expect.stringMatching(/^Usage: edge-cache <command>[^]*\n  rules check +validate a rules file/), stderr: "" });
  });

  it.each([
    [[], "Usage: edge-cache <command>"],
    [["rules"], 'error: "rules" needs a command'],
    [["rules", "chek"], 'error: unknown command "rules chek" (did you mean "rules check"?)'],
    [["purgee"], 'error: unknown command "purgee"'],
  ])("exits 2 on an unknown or missing command: %j", async (args, start) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.startsWith(start)).toBe(true);
  });

  it("lists a noun's commands with `rules --help`", async () => {
    const run = await cli(["rules", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\n  rules check +validate a rules file and list every problem\n/);
  });
});
