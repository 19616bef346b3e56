/**
 * docs/reference/rules.md is generated from config/routes.schema.json (`npm run docs`):
 * the committed page must be what the schema generates now, and it must show every
 * field of the schema, each with a description.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import schemaJson from "../../config/routes.schema.json";
import { renderRulesReference, RULES_PAGE } from "../../src/cli/docs-rules";
import { ROOT } from "../support/cli";

type Schema = Parameters<typeof renderRulesReference>[0];
const schema = schemaJson as unknown as Schema;

/** The table rows of a page, as cells (a `\|` is inside a cell). */
function rows(page: string): string[][] {
  return page
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => line.slice(2, -2).split(/(?<!\\) \| /));
}

/** Every field path of the schema, found on its own: the file's, a route's, the settings'. */
function fieldPaths(): string[] {
  const defs = schema.$defs!;
  const resolve = (s: Schema): Schema =>
    s.$ref ? resolve(s.$ref.split("/").slice(1).reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], schema) as Schema) : s;
  const walk = (props: Record<string, Schema>, prefix: string): string[] =>
    Object.entries(props).flatMap(([k, v]) => {
      const r = resolve(v);
      const object = [r, ...(r.oneOf ?? [])].map(resolve).find((o) => o.properties);
      return [prefix + k, ...(object ? walk(object.properties!, `${prefix}${k}.`) : [])];
    });
  const { defaults: _d, routes: _r, ...file } = schema.properties!;
  const settings = Object.keys(defs.settings!.properties!);
  const routeOnly = Object.fromEntries(Object.entries(defs.route!.properties!).filter(([k]) => !settings.includes(k)));
  return [...walk(file, ""), ...walk(routeOnly, ""), ...walk(defs.settings!.properties!, "")];
}

describe("docs/reference/rules.md", () => {
  it("is what config/routes.schema.json generates (run `npm run docs` after editing the schema)", async () => {
    const committed = await readFile(join(ROOT, RULES_PAGE), "utf8");
    expect(committed === renderRulesReference(schema), `${RULES_PAGE} differs from the schema: run npm run docs`).toBe(true);
  });

  it("has a row for every field of the schema, with five cells and a description", () => {
    const page = rows(renderRulesReference(schema));
    const fields = page.map((cells) => cells[0]!.replace(/`/g, ""));
    expect(fields.sort()).toEqual(fieldPaths().sort());
    for (const cells of page) {
      expect({ field: cells[0], cells: cells.length }).toEqual({ field: cells[0], cells: 5 });
      expect({ field: cells[0], described: cells[4]!.length > 20 }).toEqual({ field: cells[0], described: true });
    }
    expect(fields.length).toBeGreaterThan(50);
  });

  it("shows each field's type, default and allowed values from the schema", () => {
    const byField = new Map(rows(renderRulesReference(schema)).map((cells) => [cells[0], cells]));
    expect(byField.get("`origin`")?.slice(1, 4)).toEqual(["string", "`\"fallback\"`", '`"respect"`, `"override"`, `"fallback"`']);
    expect(byField.get("`ttl.kv`")?.slice(1, 4)).toEqual(["integer", "`0`", "`0`; or ≥ 60"]);
    expect(byField.get("`originHealth.failures`")?.slice(1, 4)).toEqual(["integer", "`5`", "1 to 1000"]);
    expect(byField.get("`name`")?.[2]).toBe("required");
    expect(byField.get("`key.country`")?.[1]).toBe("boolean or object");
  });

  it("follows the schema: a changed description changes the page", () => {
    const changed = structuredClone(schema);
    changed.$defs!.kvSettings!.properties!.minHits!.description = "Written to KV on the Nth request | see docs/kv-writes.md.";
    const page = renderRulesReference(changed);
    expect(page).not.toBe(renderRulesReference(schema));
    expect(page).toContain("| Written to KV on the Nth request \\| see [docs/kv-writes.md](../kv-writes.md). Example: `2`. |");
  });

  it("`npm run docs -- --check` says whether the committed page is current", async () => {
    const run = await new Promise<{ code: number; out: string }>((done) =>
      execFile(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "src/cli/docs-rules.ts", "--check"], { cwd: ROOT }, (error, stdout) =>
        done({ code: error ? Number(error.code ?? 1) : 0, out: stdout }),
      ),
    );
    expect(run).toEqual({ code: 0, out: `${RULES_PAGE} is current\n` });
  });
});
