/**
 * `edge-cache rules check [FILE]`: validates a rules file exactly as the Worker
 * will, and lists every problem with its JSON path and a hint, plus the warnings of
 * src/rules/lint.ts for rules that are valid but risky.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { lintRules } from "../rules/lint";
import { parseRulesText } from "../rules/parse";
import type { ParseResult, Problem } from "../rules/types";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";

/** The rules file used when none is named. */
export const DEFAULT_RULES_FILE = "config/routes.json";

const USAGE = `Usage: edge-cache rules check [FILE] [--json]

Validates a rules file (default: ${DEFAULT_RULES_FILE}) and prints every problem
with its JSON path and a hint, then warns about rules that are valid but risky:
overriding origin TTLs on pages without a session-cookie bypass, cacheAuthorized,
stripSetCookie, keying on a per-user header, a route that hides a later one.
Exits 0 when the file is usable (warnings allowed), 1 when it has errors or cannot
be read, 2 on a usage error.

Options:
  --json      print {"file", "valid", "problems"} as JSON instead of text
  -h, --help  show this help
`;

/** `rules check`. */
export const rulesCheck: Command = {
  name: "rules check",
  summary: "validate a rules file and list every problem",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, { json: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new CliUsageError(`expected at most one FILE, got ${positionals.length}`);
    const file = positionals[0] ?? DEFAULT_RULES_FILE;
    const checked = await checkFile(resolve(io.cwd, file));
    // Valid but risky (src/rules/lint.ts): warnings, so the file still passes.
    const result = checked.rules ? { ...checked, problems: [...checked.problems, ...lintRules(checked.rules)] } : checked;
    const valid = result.rules !== null;
    if (values.json) {
      io.out(`${JSON.stringify({ file, valid, problems: result.problems }, null, 2)}\n`);
    } else {
      for (const p of result.problems) io.out(`${formatProblem(p)}\n`);
      io.out(`${summary(file, result)}\n`);
    }
    return valid ? EXIT.ok : EXIT.failed;
  },
};

/** Reads and validates one file; an unreadable file is a problem like any other. */
async function checkFile(path: string): Promise<ParseResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a directory, not a file" : `cannot read the file: ${(e as Error).message}`;
    return { rules: null, problems: [{ severity: "error", path: "$", message, hint: "check the file name; paths are relative to the current directory" }] };
  }
  return parseRulesText(text);
}

/** `error  $.routes[1].ttl.kv  KV TTL must be 0 or at least 60  (hint: ...)` */
export function formatProblem(p: Problem): string {
  return `${p.severity}  ${p.path}  ${p.message}${p.hint === undefined ? "" : `  (hint: ${p.hint})`}`;
}

function summary(file: string, result: ParseResult): string {
  const errors = result.problems.filter((p) => p.severity === "error").length;
  const warnings = result.problems.length - errors;
  const counts = [plural(errors, "error"), plural(warnings, "warning")].join(", ");
  if (result.rules === null) return `${file}: invalid (${counts})`;
  return `${file}: ok, ${plural(result.rules.routes.length, "route")} (${counts})`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
