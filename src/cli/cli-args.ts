/**
 * node:util `parseArgs` with our usage errors: its messages name the flag well in
 * their first sentence; the rest is advice for programmers.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliUsageError } from "./command";

export function parseCli<const O extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: true, options });
  } catch (e) {
    throw new CliUsageError(String((e as Error).message).split(". ")[0] ?? "bad arguments");
  }
}
