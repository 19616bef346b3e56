/**
 * The rules file's front door: `parseRules` validates a parsed JSON value and, when
 * it has no errors, compiles it; `parseRulesText` does the same from the file's text.
 * Neither throws: every outcome, even a bug of ours, comes back as problems.
 */
import { compileRules } from "./compile";
import { Report } from "./report";
import type { ParseResult, Problem, RulesFile } from "./types";
import { validateRules } from "./validate";

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
  let input: unknown;
  try {
    input = JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
  } catch (e) {
    return { rules: null, problems: [jsonSyntaxProblem(text, e instanceof Error ? e.message : String(e))] };
  }
  return parseRules(input);
}

function jsonSyntaxProblem(text: string, message: string): Problem {
  if (text.trim() === "") {
    return { severity: "error", path: "$", message: "the file is empty", hint: 'start from { "version": 1, "routes": [] }' };
  }
  const offset = errorOffset(text, message);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  // V8 says "... in JSON at position 12 (line 2 column 3)"; we say it once, our way.
  const reason = message.replace(/\s*in JSON at position \d+.*$/s, "").replace(/\s*\(line \d+ column \d+\)/, "");
  return { severity: "error", path: "$", message: `not valid JSON: ${reason} at line ${line}, column ${column}`, hint: syntaxHint(text, offset) };
}

function errorOffset(text: string, message: string): number {
  const position = /position (\d+)/.exec(message);
  if (position) return Math.min(Number(position[1]), text.length);
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) {
    const lines = text.split("\n").slice(0, Number(lineColumn[1]) - 1);
    return Math.min(lines.reduce((n, l) => n + l.length + 1, 0) + Number(lineColumn[2]) - 1, text.length);
  }
  return text.length;
}

function syntaxHint(text: string, offset: number): string {
  const rest = text.slice(offset);
  if (rest.startsWith("//") || rest.startsWith("/*")) return "JSON has no comments: remove them";
  if (rest.startsWith("'")) return "JSON strings and names use double quotes";
  if (/,\s*$/.test(text.slice(0, offset)) && /^[}\]]/.test(rest)) return "remove the comma before this closing bracket (JSON allows no trailing commas)";
  if (offset >= text.length) return "the file ends too early: look for a missing } or ]";
  if (/^[A-Za-z_$]/.test(rest)) return "put field names and strings in double quotes";
  return "check the punctuation just before this spot: a missing comma, colon or quote";
}
