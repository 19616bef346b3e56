/**
 * The `edge-cache` command line (Node only): finds the command named by the first
 * one or two arguments in `COMMANDS` and runs it. Each command lives in its own
 * file; adding one is adding it to the table.
 */
// Node 20 has no global URLPattern; rule validation needs it (no-op where it exists).
import "urlpattern-polyfill";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";
import { closest } from "../rules/report";
import { audit } from "./audit";
import { purge } from "./purge";
import { rulesCheck } from "./rules-check";
import { rulesDiff } from "./rules-diff";
import { rulesExplain } from "./rules-explain";
import { rulesPush } from "./rules-push";
import { setup } from "./setup";
import { stats } from "./stats";

/** Every command, in the order `--help` lists them. */
const COMMANDS: readonly Command[] = [setup, audit, rulesCheck, rulesExplain, rulesDiff, rulesPush, purge, stats];

function usage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: edge-cache <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun "edge-cache <command> --help" for a command's options.\n`;
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === "-h" || first === "--help") {
    (first === undefined ? io.err : io.out)(usage(COMMANDS));
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
  if (command === undefined) return unknownCommand(first, second, io);
  const rest = argv.slice(command.name.split(" ").length);
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.err(`error: ${e.message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failed;
  }
}

/** `edge-cache rules` or `edge-cache rules --help` lists that noun's commands; anything else unknown is a usage error. */
function unknownCommand(first: string, second: string | undefined, io: CliIo): number {
  const family = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (family.length > 0 && (second === "-h" || second === "--help")) {
    io.out(usage(family));
    return EXIT.ok;
  }
  const wanted = family.length > 0 && second !== undefined && !second.startsWith("-") ? `${first} ${second}` : first;
  const guess = closest(wanted, COMMANDS.map((c) => c.name));
  const problem = family.length > 0 && wanted === first ? `"${first}" needs a command` : `unknown command "${wanted}"${guess === null ? "" : ` (did you mean "${guess}"?)`}`;
  io.err(`error: ${problem}\n\n${usage(family.length > 0 ? family : COMMANDS)}`);
  return EXIT.usage;
}

function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
  };
}
