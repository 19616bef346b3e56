/**
 * The nginx contender: `proxy_cache` with `proxy_cache_lock on`, its default key
 * (`$scheme$proxy_host$request_uri`), `proxy_cache_use_stale` for origin failures
 * (nginx's counterpart of stale-if-error), keep-alive to the origin, one worker
 * process (workerd serves a Worker on one thread, too). Skipped with a note when
 * nginx is not installed (Debian/Ubuntu: `apt-get install nginx`).
 * Each instance has its own prefix directory (test/support/nginx.ts), removed when it closes.
 */
import { runNginx, type Nginx } from "../test/support/nginx";

export { findNginx } from "../test/support/nginx";

export const NGINX_INSTALL_HINT = "nginx is not installed: `apt-get install nginx` (Debian/Ubuntu) to add it";

function http(prefix: string, port: number, origin: string): string {
  return `
  access_log off;
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
  }`;
}

export function startNginx(origin: string): Promise<Nginx | null> {
  return runNginx("bench-nginx", (prefix, port) => http(prefix, port, origin));
}
