/**
 * What every `edge-cache` command is: a name of one or two words ("purge",
 * "rules check"), its help text, and a `run` that returns the exit code. Commands
 * write through `CliIo` so tests can run them without spawning a process.
 */

/** Where a command reads and writes. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Relative file names resolve against this. */
  cwd: string;
}

/** One command of the CLI. */
export interface Command {
  /** Noun and verb, e.g. "rules check". */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text. */
  usage: string;
  /** Runs with the arguments after the command's name; resolves to the exit code. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** Exit codes: warnings alone still succeed. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in the command line: reported with the command's usage, exit 2. */
export class CliUsageError extends Error {
  override name = "CliUsageError";
}
