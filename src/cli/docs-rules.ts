/**
 * `npm run docs`: writes docs/reference/rules.md from config/routes.schema.json, so
 * the rules reference and what editors show from the schema can never disagree (the
 * descriptions live in the schema). test/cli/docs-rules.test.ts fails when the
 * committed page is not what this renders.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Schema {
  $ref?: string;
  $defs?: Record<string, Schema>;
  type?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  const?: unknown;
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  propertyNames?: Schema;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  uniqueItems?: boolean;
}

type Row = [field: string, type: string, dflt: string, allowed: string, description: string];

export const RULES_PAGE = "docs/reference/rules.md";
const SETTING_REF = "#/$defs/settings/properties/";

/** The page for `schema`, as `npm run docs` writes it. */
export function renderRulesReference(schema: Schema): string {
  const deref = (ref: string): Schema =>
    ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], schema) as Schema;
  // A `$ref` with siblings means both (draft 2020-12): the local keywords win.
  const resolve = (s: Schema): Schema => {
    if (s.$ref === undefined) return s;
    const { $ref, ...local } = s;
    return { ...resolve(deref($ref)), ...local };
  };
  const code = (text: string): string => (text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``);
  const json = (value: unknown): string => code(JSON.stringify(value));

  const typeOf = (raw: Schema): string => {
    const s = resolve(raw);
    const alternatives = s.oneOf ?? s.anyOf;
    if (alternatives && s.type === undefined) return [...new Set(alternatives.map(typeOf))].join(" or ");
    if (s.const !== undefined) return typeof s.const === "number" ? "integer" : typeof s.const;
    if (s.enum) return [...new Set(s.enum.map((v) => typeof v))].join(" or ");
    if (s.type === "array") return s.items ? `array of ${typeOf(s.items)}` : "array";
    if (s.type === "object" && !s.properties && typeof s.additionalProperties === "object") return "object (a map)";
    return s.type ?? "any";
  };

  const allowedOf = (raw: Schema): string => {
    const s = resolve(raw);
    const alternatives = s.oneOf ?? s.anyOf;
    if (alternatives) {
      return alternatives
        .map((alt) => {
          const r = resolve(alt);
          if (r.properties) return "an object (fields below)";
          if (r.type === "boolean") return "`true`, `false`";
          return allowedOf(alt) || typeOf(alt);
        })
        .join("; or ");
    }
    const parts: string[] = [];
    if (s.const !== undefined) parts.push(json(s.const));
    if (s.enum) parts.push(s.enum.map(json).join(", "));
    const low = s.minimum ?? s.exclusiveMinimum;
    if (low !== undefined && s.maximum !== undefined && s.exclusiveMinimum === undefined) parts.push(`${low} to ${s.maximum}`);
    else {
      if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
      if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
      if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
    }
    if (s.format === "uri") parts.push("an absolute URL");
    if (s.pattern !== undefined) parts.push(`matching ${code(s.pattern)}`);
    if (s.minLength !== undefined || s.maxLength !== undefined) {
      parts.push(s.maxLength === undefined ? `at least ${s.minLength} characters` : `${s.minLength ?? 0} to ${s.maxLength} characters`);
    }
    if (s.type === "array") {
      if (s.minItems !== undefined) parts.push(`at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`);
      if (s.uniqueItems) parts.push("no duplicates");
      if (s.items) {
        // A named type says what it is better than its pattern does.
        const item = s.items.$ref !== undefined && deref(s.items.$ref).description ? deref(s.items.$ref).description! : allowedOf(s.items);
        if (item) parts.push(`each: ${item.charAt(0).toLowerCase()}${item.slice(1).replace(/\.$/, "")}`);
      }
    }
    if (typeof s.additionalProperties === "object") {
      if (s.propertyNames?.pattern !== undefined) parts.push(`names matching ${code(s.propertyNames.pattern)}`);
      const value = allowedOf(s.additionalProperties);
      parts.push(`values: ${typeOf(s.additionalProperties)}${value ? ` ${value}` : ""}`);
    }
    return parts.join("; ");
  };

  const examplesOf = (s: Schema): unknown[] | undefined =>
    s.examples ?? (s.oneOf ?? s.anyOf)?.map(resolve).find((alt) => alt.examples)?.examples;

  /** The rows of one field and, for an object (or a choice that may be one), its fields after it. */
  const rows = (name: string, raw: Schema, required: boolean): Row[] => {
    const s = resolve(raw);
    const object = s.properties ? s : (s.oneOf ?? s.anyOf)?.map(resolve).find((alt) => alt.properties);
    let description = s.description ?? object?.description ?? "";
    const examples = examplesOf(s);
    if (!object && examples !== undefined) description += ` Example: ${examples.map(json).join(", ")}.`;
    const dflt = required ? "required" : "default" in s ? json(s.default) : "—";
    const own: Row = [code(name), typeOf(s), dflt, allowedOf(s), description.trim()];
    if (!object) return [own];
    const children = Object.entries(object.properties!).flatMap(([k, v]) => rows(`${name}.${k}`, v, object.required?.includes(k) ?? false));
    return [own, ...children];
  };

  const table = (list: Row[]): string[] => [
    "| Field | Type | Default | Allowed values | Description |",
    "| --- | --- | --- | --- | --- |",
    ...list.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];

  const fieldsOf = (s: Schema, keep: (name: string, field: Schema) => boolean): Row[] =>
    Object.entries(s.properties ?? {})
      .filter(([k, v]) => keep(k, v))
      .flatMap(([k, v]) => rows(k, v, s.required?.includes(k) ?? false));

  const route = deref("#/$defs/route");
  const settings = deref("#/$defs/settings");
  const shared = (field: Schema) => field.$ref?.startsWith(SETTING_REF) ?? false;
  return [
    "# The rules file: every field",
    "",
    "<!-- Generated from config/routes.schema.json by `npm run docs`: edit the schema's descriptions, not this page. -->",
    "",
    `${schema.description ?? ""} The schema, \`config/routes.schema.json\`, is what editors check and complete (the file's \`"$schema"\` line); this page is made from it. How to write a first file: [Your first rules](../first-rules.md).`,
    "",
    "## The file",
    "",
    ...table(fieldsOf(schema, (k) => k !== "defaults" && k !== "routes")),
    "",
    "## Routes",
    "",
    `${route.description ?? ""} The fields only a route has:`,
    "",
    ...table(fieldsOf(route, (_, v) => !shared(v))),
    "",
    "## Settings (in `defaults` or a route)",
    "",
    `${settings.description ?? ""} A route takes every one of them; what it omits comes from \`defaults\`, then the built-in default below.`,
    "",
    ...table(fieldsOf(settings, () => true)),
    "",
  ].join("\n");
}

/**
 * One table cell: on one line, a `|` escaped (GitHub splits cells on it, code spans
 * included); outside code, `*` and `<` escaped (a glob is no emphasis, `<the match>`
 * no HTML tag) and the pages the schema names made links.
 */
function cell(text: string): string {
  const prose = (part: string) =>
    part
      .replace(/\*/g, "\\*")
      .replace(/</g, "&lt;")
      .replace(/(^|[\s(])docs\/([\w/-]+\.md)(#[\w-]+)?/g, (_, before: string, page: string, anchor = "") => `${before}[docs/${page}](../${page}${anchor})`);
  return text
    .replace(/\s*\n\s*/g, " ")
    .split(/(`` .+? ``|`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? part : prose(part)))
    .join("")
    .replace(/\|/g, "\\|");
}

/** Writes the page; `--check` only says whether the committed one is current (exit 1 when not). */
function main(argv: string[]): number {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const schema = JSON.parse(readFileSync(`${root}config/routes.schema.json`, "utf8")) as Schema;
  const page = renderRulesReference(schema);
  const file = `${root}${RULES_PAGE}`;
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {
    // Not written yet.
  }
  if (argv.includes("--check")) {
    process.stdout.write(current === page ? `${RULES_PAGE} is current\n` : `${RULES_PAGE} differs from the schema: run npm run docs\n`);
    return current === page ? 0 : 1;
  }
  if (current !== page) writeFileSync(file, page);
  process.stdout.write(`${RULES_PAGE} ${current === page ? "unchanged" : "written"}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
