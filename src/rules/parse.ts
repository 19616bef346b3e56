/**
 * The rules file's front door: `parseRules` validates a parsed JSON value and, when
 * it has no errors, compiles it; `parseRulesText` does the same from the file's text.
 * Neither throws: every outcome, even a bug of ours, comes back as problems.
 */
import { compileRules } from "./compile";
import { findJsonSyntaxError } from "./json-syntax";
import { Report } from "./report";
import type { ParseResult, Problem, RulesFile } from "./types";
import { validateRules } from "./validate";

export { compileRules };

/** Validates and compiles a parsed rules file; `rules` is null when any problem is an error. */
export function parseRules(input: unknown): ParseResult {
  const report = new Report();
  try {
    validateRules(input, report);
    if (report.errorCount > 0) return { rules: null, problems: report.problems };
    return { rules: compileRules(input as RulesFile), problems: report.problems };
  } catch (e) {
    const problem: Problem = {
      severity: "error",
      path: "$",
      message: `internal error while checking the rules: ${e instanceof Error ? e.message : String(e)}`,
      hint: "this is a bug in edge-cache, not in your file; please report it with the file attached",
    };
    return { rules: null, problems: [...report.problems, problem] };
  }
}

/** Like `parseRules`, from JSON text; a syntax error is one problem at `$` with its line and column. */
export function parseRulesText(text: string): ParseResult {
  // Editors on Windows may save a byte-order mark, which JSON.parse refuses.
  const json = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch (e) {
    return { rules: null, problems: [jsonSyntaxProblem(json, e instanceof Error ? e.message : String(e))] };
  }
  return parseRules(input);
}

function jsonSyntaxProblem(text: string, engineMessage: string): Problem {
  if (text.trim() === "") {
    return { severity: "error", path: "$", message: "the file is empty", hint: 'start from { "version": 1, "routes": [] }' };
  }
  const found = findJsonSyntaxError(text);
  if (found === null) return { severity: "error", path: "$", message: `not valid JSON: ${engineMessage}`, hint: "check the JSON syntax" };
  const { offset, line, column, expected, hint } = found;
  const got = offset >= text.length ? "the end of the file" : JSON.stringify(String.fromCodePoint(text.codePointAt(offset)!));
  return {
    severity: "error",
    path: "$",
    message: `not valid JSON at line ${line}, column ${column}: expected ${expected}, got ${got}`,
    hint,
  };
}
