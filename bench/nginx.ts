/**
 * The nginx contender: `proxy_cache` with `proxy_cache_lock on`, its default key
 * (`$scheme$proxy_host$request_uri`), `proxy_cache_use_stale` for origin failures
 * (nginx's counterpart of stale-if-error), keep-alive to the origin, one worker
 * process (workerd serves a Worker on one thread, too). Skipped with a note when
 * nginx is not installed (Debian/Ubuntu: `apt-get install nginx`).
 * Each instance has its own prefix directory (config, cache, temp files) under the
 * system's temporary directory, removed when it closes.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const NGINX_INSTALL_HINT = "nginx is not installed: `apt-get install nginx` (Debian/Ubuntu) to add it";

export interface Nginx {
  url: string;
  pid: number | undefined;
  version: string;
  close(): Promise<void>;
}

const CANDIDATES = ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

/** The nginx binary and its version, or null when there is none. */
export function findNginx(): { bin: string; version: string } | null {
  for (const bin of CANDIDATES) {
    const r = spawnSync(bin, ["-v"], { encoding: "utf8" });
    if (r.status === 0) return { bin, version: (r.stderr || r.stdout).trim().replace(/^nginx version: /, "") };
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function config(prefix: string, port: number, origin: string): string {
  return `
${process.getuid?.() === 0 ? "user root root;" : ""}
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy_temp;
  fastcgi_temp_path ${prefix}/fastcgi_temp;
  uwsgi_temp_path ${prefix}/uwsgi_temp;
  scgi_temp_path ${prefix}/scgi_temp;
  proxy_cache_path ${prefix}/cache levels=1:2 keys_zone=bench:32m max_size=4g inactive=2h use_temp_path=off;
  upstream origin { server ${new URL(origin).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_lock on;
      proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
}

export async function startNginx(origin: string): Promise<Nginx | null> {
  const found = findNginx();
  if (!found) return null;
  const prefix = await mkdtemp(path.join(os.tmpdir(), "edge-cache-bench-nginx-"));
  await mkdir(path.join(prefix, "logs"));
  const port = await freePort();
  const conf = path.join(prefix, "nginx.conf");
  await writeFile(conf, config(prefix, port, origin));
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
