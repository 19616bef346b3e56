/**
 * The one argument parser of the `edge-cache` commands and `npm start`: node:util
 * `parseArgs` (strict: unknown flags and missing values are refused) with our usage
 * error. Its messages name the flag well in their first sentence; the rest is advice
 * for programmers.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliUsageError } from "./command";

export function parseCli<const O extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals, options });
  } catch (e) {
    throw new CliUsageError(String((e as Error).message).split(". ")[0] ?? "bad arguments");
  }
}
