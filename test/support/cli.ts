/**
 * Running the CLI as a user would (a real `node bin/edge-cache.mjs` process), and a
 * small HTTP server standing in for a deployed Worker that records what it was sent.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin/edge-cache.mjs");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `edge-cache ...args`; `env` adds to (or, with undefined, removes from) the environment. */
export function cli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", EDGE_CACHE_TOKEN: undefined, ...options.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

export interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

export interface Answer {
  status: number;
  body: string;
  contentType?: string;
}

/** A local server that answers every request with `answer(req)` and records it. */
export async function recordingServer(answer: (r: Recorded) => Answer) {
  const seen: Recorded[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = { method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body: Buffer.concat(chunks).toString("utf8") };
    seen.push(r);
    const a = answer(r);
    res.writeHead(a.status, { "content-type": a.contentType ?? "application/json" });
    res.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value) });
