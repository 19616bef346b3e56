/**
 * Reading a rules file for a CLI command: validated exactly as the Worker will, an
 * unreadable file reported like any other problem.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseRulesText } from "../rules/parse";
import type { CompiledRules, Problem } from "../rules/types";
import { formatProblem } from "./rules-check";
import type { CliIo } from "./command";

interface LoadedRules {
  /** As named on the command line. */
  file: string;
  text: string | null;
  rules: CompiledRules | null;
  problems: Problem[];
}

/** Reads and validates `file` (relative to the current directory). */
export async function loadRulesFile(io: CliIo, file: string): Promise<LoadedRules> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a directory, not a file" : `cannot read the file: ${(e as Error).message}`;
    return { file, text: null, rules: null, problems: [{ severity: "error", path: "$", message, hint: "check the file name; paths are relative to the current directory" }] };
  }
  const result = parseRulesText(text);
  return { file, text, rules: result.rules, problems: result.problems };
}

/** Prints an invalid file's problems to stderr, the way `rules check` does; true when it is usable. */
export function reportInvalid(io: CliIo, loaded: LoadedRules): loaded is LoadedRules & { rules: CompiledRules; text: string } {
  if (loaded.rules !== null && loaded.text !== null) return true;
  for (const p of loaded.problems) io.err(`${formatProblem(p)}\n`);
  const errors = loaded.problems.filter((p) => p.severity === "error").length;
  io.err(`${loaded.file}: invalid (${errors} error${errors === 1 ? "" : "s"}); run "edge-cache rules check ${loaded.file}" for details\n`);
  return false;
}
