/**
 * An nginx of our own, unprivileged, for the benchmark's contender and the real-origin
 * tests: its prefix directory (config, pid, logs, temp files) under the system's
 * temporary directory, its own port on 127.0.0.1, one worker process, in the
 * foreground as our child; the prefix is removed when it closes. The caller writes
 * the inside of the `http {}` block.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./local-server";

export interface Nginx {
  url: string;
  pid: number | undefined;
  version: string;
  /** Its own directory: nginx.conf, error.log, and whatever the http block puts there. */
  prefix: string;
  close(): Promise<void>;
}

export interface NginxBinary {
  bin: string;
  version: string;
  /** The directory of the installed configuration (Debian: /etc/nginx, with its mime.types). */
  confDir: string;
}

const CANDIDATES = ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

/** The nginx binary, its version and configuration directory, or null when there is none. */
export function findNginx(): NginxBinary | null {
  for (const bin of CANDIDATES) {
    const r = spawnSync(bin, ["-V"], { encoding: "utf8" });
    if (r.status !== 0) continue;
    const out = `${r.stderr}${r.stdout}`;
    const version = /nginx version: (\S+)/.exec(out)?.[1] ?? "unknown";
    const conf = /--conf-path=(\S+)/.exec(out)?.[1] ?? "/etc/nginx/nginx.conf";
    return { bin, version, confDir: path.dirname(conf) };
  }
  return null;
}

/**
 * Starts nginx with `http(prefix, port)` as its http block; null when nginx is not
 * installed. Ready (listening) when it returns.
 */
export async function runNginx(name: string, http: (prefix: string, port: number) => string): Promise<Nginx | null> {
  const found = findNginx();
  if (!found) return null;
  const prefix = await mkdtemp(path.join(os.tmpdir(), `edge-cache-${name}-`));
  await mkdir(path.join(prefix, "logs"));
  const port = await freePort();
  const conf = path.join(prefix, "nginx.conf");
  await writeFile(conf, config(prefix, http(prefix, port)));
  const child: ChildProcess = spawn(found.bin, ["-p", prefix, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitListening(port, 10_000, () => child.exitCode !== null);
  } catch (e) {
    child.kill("SIGKILL");
    await rm(prefix, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${(e as Error).message}\n${stderr}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    version: found.version,
    prefix,
    async close() {
      if (child.exitCode === null) {
        child.kill("SIGQUIT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(prefix, { recursive: true, force: true }).catch(() => {});
    },
  };
}

function config(prefix: string, http: string): string {
  // As root (CI), nginx's workers would switch to `nobody`, who cannot read our 0700 prefix.
  return `
${process.getuid?.() === 0 ? "user root root;" : ""}
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy_temp;
  fastcgi_temp_path ${prefix}/fastcgi_temp;
  uwsgi_temp_path ${prefix}/uwsgi_temp;
  scgi_temp_path ${prefix}/scgi_temp;
${http}
}
`;
}

async function waitListening(port: number, timeoutMs: number, dead: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (dead()) throw new Error("nginx exited");
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}
