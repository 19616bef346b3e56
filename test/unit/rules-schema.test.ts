/**
 * The JSON Schema (what editors show) and the validator (what the Worker enforces)
 * must describe the same file: the same field names everywhere, a file using every
 * schema field validates, and the schema's defaults are the built-in ones.
 */
import { describe, expect, it } from "vitest";
import routesJson from "../../config/routes.json";
import schemaJson from "../../config/routes.schema.json";
import { parseRules } from "../../src/rules/parse";
import { FIELD_NAMES } from "../../src/rules/validate";
import type { CompiledRoute } from "../../src/rules/types";

type Schema = { [key: string]: unknown } & {
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  additionalProperties?: boolean | Schema;
  examples?: unknown[];
  not?: { required?: string[] };
  type?: string;
  description?: string;
};
const schema = schemaJson as unknown as Schema;

/** The schema a local `$ref` points to (one step). */
function deref(s: Schema): Schema {
  return s
    .$ref!.replace(/^#\//, "")
    .split("/")
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], schema) as Schema;
}

function resolve(s: Schema): Schema {
  return s.$ref === undefined ? s : resolve(deref(s));
}

/** Every subschema, each once, with the JSON path where it sits. */
function walk(s: Schema, where: string, visit: (s: Schema, where: string) => void, seen = new Set<Schema>()): void {
  if (seen.has(s)) return;
  seen.add(s);
  visit(s, where);
  for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${where}.${k}`, visit, seen);
  for (const [k, v] of Object.entries((s.$defs as Record<string, Schema> | undefined) ?? {})) walk(v, `#/$defs/${k}`, visit, seen);
  if (s.items) walk(s.items, `${where}[]`, visit, seen);
  s.oneOf?.forEach((v, i) => walk(v, `${where}|${i}`, visit, seen));
  s.anyOf?.forEach((v, i) => walk(v, `${where}|${i}`, visit, seen));
  if (typeof s.additionalProperties === "object") walk(s.additionalProperties, `${where}{}`, visit, seen);
  if (s.$ref) walk(resolve(s), s.$ref, visit, seen);
}

const OBJECTS: Record<keyof typeof FIELD_NAMES, Schema> = {
  file: schema,
  settings: resolve({ $ref: "#/$defs/settings" }),
  route: resolve({ $ref: "#/$defs/route" }),
  match: resolve({ $ref: "#/$defs/match" }),
  ttl: resolve({ $ref: "#/$defs/ttl" }),
  maxObjectSize: resolve({ $ref: "#/$defs/maxObjectSize" }),
  key: resolve({ $ref: "#/$defs/key" }),
  keyQuery: resolve({ $ref: "#/$defs/keyQuery" }),
  keyCountry: resolve({ $ref: "#/$defs/keyCountry" }),
  bypass: resolve({ $ref: "#/$defs/bypassConditions" }),
  originHealth: resolve({ $ref: "#/$defs/originHealth" }),
  kv: resolve({ $ref: "#/$defs/kvSettings" }),
};

/** A value for `s` that uses every property; `drop` leaves out one field of each exclusive pair. */
function sample(s: Schema, drop: 0 | 1): unknown {
  // Alternatives: take the object one, so its fields get used too.
  if (s.oneOf) return sample(s.oneOf.find((o) => resolve(o).properties) ?? s.oneOf[0]!, drop);
  if (s.examples !== undefined) return s.examples[0];
  if (s.$ref !== undefined) return sample(deref(s), drop);
  const r = s;
  if (r.properties) {
    const exclusive = r.not?.required ?? [];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.properties)) if (k !== exclusive[drop]) out[k] = sample(v, drop);
    return out;
  }
  if (r.type === "array" && r.items) return [sample(r.items, drop)];
  throw new Error(`no example for ${JSON.stringify(r)}`);
}

describe("config/routes.schema.json", () => {
  it("is a draft 2020-12 schema that config/routes.json points to", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(routesJson.$schema).toBe("./routes.schema.json");
  });

  it("allows exactly the field names the validator allows, object by object", () => {
    for (const [name, s] of Object.entries(OBJECTS)) {
      expect({ name, fields: Object.keys(s.properties ?? {}).sort() }).toEqual({ name, fields: [...FIELD_NAMES[name as keyof typeof FIELD_NAMES]].sort() });
    }
  });

  it("has no object with fields the validator does not know of", () => {
    const known = new Set(Object.values(OBJECTS));
    const unknown: string[] = [];
    walk(schema, "$", (s, where) => {
      if (s.properties && !known.has(s)) unknown.push(where);
    });
    expect(unknown).toEqual([]);
  });

  it("closes every object (additionalProperties: false) except maps, whose names it constrains", () => {
    const open: string[] = [];
    walk(schema, "$", (s, where) => {
      if (s.properties && s.additionalProperties !== false) open.push(where);
      if (s.type === "object" && !s.properties && s.propertyNames === undefined) open.push(where);
    });
    expect(open).toEqual([]);
  });

  it("describes every field, so editors can show it", () => {
    const undescribed: string[] = [];
    walk(schema, "$", (s, where) => {
      for (const [k, v] of Object.entries(s.properties ?? {})) {
        if (typeof v.description !== "string" && typeof resolve(v).description !== "string") undescribed.push(`${where}.${k}`);
      }
    });
    expect(undescribed).toEqual([]);
  });

  it("accepts, through the validator, a file that uses every field of the schema", () => {
    for (const drop of [0, 1] as const) {
      const file = sample(schema, drop);
      expect({ drop, problems: parseRules(file).problems }).toEqual({ drop, problems: [] });
    }
  });

  it("states the built-in defaults: writing a schema default changes nothing", () => {
    const base = { version: 1, routes: [{ name: "r", match: {} }] };
    // The compiled matchers are closures made per compile; `match.path`/`host` say what they test.
    const comparable = (r: CompiledRoute | undefined) => r && { ...r, match: { ...r.match, testPath: null, testHost: null } };
    const plain = comparable(parseRules(base).rules!.routes[0]);
    const defaults: [string[], unknown][] = [];
    const collect = (s: Schema, path: string[]): void => {
      if ("default" in s) defaults.push([path, s.default]);
      if (s.$ref !== undefined) return collect(deref(s), path);
      for (const [k, v] of Object.entries(s.properties ?? {})) collect(v, [...path, k]);
    };
    collect(OBJECTS.route, []);
    for (const [path, value] of defaults) {
      const file = structuredClone(base) as { routes: Record<string, unknown>[] };
      let node = file.routes[0]!;
      for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      node[path.at(-1)!] = value;
      const result = parseRules(file);
      const where = path.join(".");
      expect({ where, problems: result.problems }).toEqual({ where, problems: [] });
      expect({ where, route: comparable(result.rules!.routes[0]) }).toEqual({ where, route: plain });
    }
    expect(defaults.length).toBeGreaterThanOrEqual(10);
  });
});
