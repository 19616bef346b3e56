/**
 * The flags of `npm start`, parsed without side effects so the runner and its tests
 * share one reading. Built on the commands' parser (`parseCli`), which already rejects
 * unknown flags and missing values; we add the checks on values.
 */
import { parseCli } from "./cli-args";
import { CliUsageError } from "./command";
import { weakTokenMessage } from "../admin/token-strength";

export interface StartOptions {
  /** Absent: the built-in demo origin (unless the rules file names one). */
  origin?: string;
  rules?: string;
  port: number;
  adminToken?: string;
  /** Empty this run's local state (Cache API, KV, Durable Objects) before starting. */
  fresh: boolean;
  /** Where this run keeps its local state; absent: .wrangler/state/port-<port>, one per port. */
  state?: string;
  help: boolean;
}

const DEFAULT_PORT = 8787;

export const USAGE = `Usage: npm start -- [options]

Runs the Worker locally (wrangler dev, local Cache API and KV) in front of an origin.
With no options: a built-in demo origin and config/demo.routes.json.

Options:
  --origin URL          put the Worker in front of this origin (http or https)
  --rules FILE          rules file to run, validated first
                        (default: config/demo.routes.json, or config/routes.json with --origin)
  --port N              port of the Worker on 127.0.0.1 (default ${DEFAULT_PORT})
  --admin-token TOKEN   admin token for the Worker, at least 32 characters
                        (default: $ADMIN_TOKEN)
  --state DIR           keep the local cache, KV and coordinator in DIR
                        (default: .wrangler/state/port-N, one per port, so two runs
                        never share or empty each other's state)
  --fresh               empty this run's state directory first
  -h, --help            show this help

The origin is --origin, else the rules file's "origin", else the demo origin.
`;

/** Parses argv (without node and script); `env` supplies ADMIN_TOKEN. Throws CliUsageError. */
export function parseStartArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): StartOptions {
  const { values } = parseCli(
    argv,
    {
      origin: { type: "string" },
      rules: { type: "string" },
      port: { type: "string" },
      "admin-token": { type: "string" },
      fresh: { type: "boolean", default: false },
      state: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    false,
  );

  if (values["admin-token"]?.trim() === "") throw new CliUsageError("--admin-token must not be empty");
  // An empty ADMIN_TOKEN in the environment reads as unset, as shells tend to mean it.
  const adminToken = values["admin-token"] ?? (env.ADMIN_TOKEN || undefined);
  // The Worker would refuse it on every admin call; say so before anything starts.
  const weak = adminToken === undefined ? null : weakTokenMessage(adminToken, values["admin-token"] === undefined ? "ADMIN_TOKEN" : "--admin-token");
  if (weak !== null) throw new CliUsageError(weak);
  return {
    origin: values.origin === undefined ? undefined : parseOrigin(values.origin),
    rules: values.rules === "" ? emptyFlag("--rules") : values.rules,
    port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
    adminToken,
    fresh: values.fresh ?? false,
    state: values.state === "" ? emptyFlag("--state") : values.state,
    help: values.help ?? false,
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CliUsageError(`--port must be a whole number from 1 to 65535, got "${text}"`);
  }
  return port;
}

function parseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError(`--origin must be an absolute URL such as http://127.0.0.1:3000, got "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliUsageError(`--origin must be an http or https URL, got "${text}"`);
  }
  return text;
}

function emptyFlag(flag: string): never {
  throw new CliUsageError(`${flag} needs a value`);
}
