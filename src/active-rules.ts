/**
 * Which rules run: the `RULES_JSON` binding when set (local runs: the file given to
 * `npm start -- --rules`), else the bundled config/routes.json. Compiled once per
 * isolate; an invalid source is refused with its problems logged, and the bundled
 * rules serve instead (invariant 6): a bad file can never take the site down.
 */
import bundled from "../config/routes.json";
import { parseRules, parseRulesText } from "./rules/parse";
import type { CompiledRules } from "./rules/types";

/** No routes: every request passes through uncached. The last resort when nothing valid exists. */
const PASS_THROUGH: CompiledRules = {
  version: 1,
  origin: null,
  routes: [],
  source: { version: 1, routes: [] },
};

let bundledCompiled: CompiledRules | null = null;
let fromVar: { text: string; rules: CompiledRules | null } | null = null;

function logProblems(source: string, problems: { severity: string; path: string; message: string }[]): void {
  console.error(JSON.stringify({ msg: "rules-invalid", source, problems }));
}

export function bundledRules(): CompiledRules {
  if (!bundledCompiled) {
    const result = parseRules(bundled);
    if (!result.rules) logProblems("config/routes.json", result.problems);
    bundledCompiled = result.rules ?? PASS_THROUGH;
  }
  return bundledCompiled;
}

export function activeRules(env: { RULES_JSON?: string }): CompiledRules {
  const text = env.RULES_JSON;
  if (!text) return bundledRules();
  if (fromVar?.text !== text) {
    const result = parseRulesText(text);
    if (!result.rules) logProblems("RULES_JSON", result.problems);
    fromVar = { text, rules: result.rules };
  }
  return fromVar.rules ?? bundledRules();
}
