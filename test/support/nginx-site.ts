/**
 * A real static site behind a real nginx, configured as a site would be: on-the-fly
 * gzip with `Vary`, files compressed ahead of time beside some assets (gzip_static,
 * which answers `Content-Encoding: gzip` with the compressed `Content-Length`), ETags,
 * Last-Modified, byte ranges, a year's `expires` on assets, an `error_page`, and one
 * location that answers 500. The site is Start Bootstrap's SB Admin 2 (MIT, a
 * devDependency): 14 pages with Bootstrap, jQuery, Chart.js, DataTables, Font Awesome's
 * web fonts and SVG illustrations. It is copied to nginx's prefix (never written in
 * node_modules) with our one page added, which fetches byte ranges.
 */
import { createRequire } from "node:module";
import { cp, readFile, readdir, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { findNginx, runNginx, type Nginx } from "./nginx";

const require = createRequire(import.meta.url);
const SITE_PACKAGE = path.dirname(require.resolve("startbootstrap-sb-admin-2/package.json"));

/** Assets that get a `.gz` beside them, as a build step would make them. */
export const PRECOMPRESSED = [
  "/css/sb-admin-2.min.css",
  "/js/sb-admin-2.min.js",
  "/vendor/jquery/jquery.min.js",
  "/vendor/bootstrap/js/bootstrap.bundle.min.js",
  "/vendor/fontawesome-free/css/all.min.css",
  "/img/undraw_rocket.svg",
];

/** What nginx compresses on the fly (the usual list). */
export const GZIP_TYPES = [
  "text/plain", "text/css", "text/xml", "text/javascript", "application/javascript", "application/x-javascript",
  "application/json", "application/xml", "application/rss+xml", "image/svg+xml", "font/ttf", "application/vnd.ms-fontobject",
];

export const BROKEN_PATH = "/broken";
export const RANGE_PAGE = "/edge-cache-ranges.html";
/** A binary asset nginx never compresses, and a text one it compresses on the fly. */
export const RANGE_ASSETS = ["/vendor/fontawesome-free/webfonts/fa-solid-900.woff2", "/vendor/chart.js/Chart.min.js"];

/** What the range page finds for each asset and range (in its title, as JSON). */
export interface RangeResult {
  url: string;
  range: string;
  status: number;
  contentRange: string | null;
  same: boolean;
}

// Ours, not the fixture's: a Range fetch of each asset, checked against the same bytes
// of the whole. The page's query goes on the assets' URLs, so a test can start cold.
// Not from the browser's cache: Chromium sends a Range with `Accept-Encoding: identity`
// and would revalidate its stored gzip copy, and nginx's 304 (weak ETags match) makes
// Chromium fail the range with ERR_CONTENT_DECODING_FAILED, with or without us.
const RANGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>pending</title>
<script>
(async () => {
  const results = [];
  for (const url of ${JSON.stringify(RANGE_ASSETS)}) {
    const whole = new Uint8Array(await (await fetch(url + location.search, { cache: "no-store" })).arrayBuffer());
    for (const [range, from, to] of [["bytes=1000-1999", 1000, 2000], ["bytes=-500", whole.length - 500, whole.length]]) {
      const res = await fetch(url + location.search, { cache: "no-store", headers: { Range: range } });
      const part = new Uint8Array(await res.arrayBuffer());
      // A 206 is the range; a 200 (nginx ignores Range on what it compresses on the fly) is the whole.
      const want = res.status === 206 ? whole.subarray(from, to) : whole;
      const same = part.length === want.length && part.every((b, i) => b === want[i]);
      results.push({ url, range, status: res.status, contentRange: res.headers.get("content-range"), same });
    }
  }
  document.title = JSON.stringify(results);
})().catch((e) => (document.title = "error: " + e));
</script>
`;

export interface NginxSite extends Nginx {
  /** The site's pages, as paths: the package's HTML files and our range page. */
  pages: string[];
  /** Lines nginx has logged so far (one per request it answered). */
  accessLog(): Promise<string[]>;
}

export const NGINX_MISSING = "nginx is not installed: apt-get install -y nginx-light (.ci/run does it)";

export async function startNginxSite(): Promise<NginxSite> {
  const found = findNginx();
  if (!found) throw new Error(NGINX_MISSING);
  let root = "";
  const nginx = await runNginx("site-nginx", (prefix, port) => {
    root = path.join(prefix, "site");
    return http(prefix, port, root, found.confDir);
  });
  if (!nginx) throw new Error(NGINX_MISSING);
  try {
    // nginx looks files up per request: the site can be laid out after it starts.
    await cp(SITE_PACKAGE, root, { recursive: true, filter: (src) => !/^(scss|node_modules)(\/|$)/.test(path.relative(SITE_PACKAGE, src)) });
    for (const file of PRECOMPRESSED) {
      // As `gzip -k` leaves it: the original's mtime, so both answers have one Last-Modified.
      const [from, to] = [path.join(root, file), path.join(root, `${file}.gz`)];
      await writeFile(to, gzipSync(await readFile(from), { level: 9 }));
      const { atime, mtime } = await stat(from);
      await utimes(to, atime, mtime);
    }
    await writeFile(path.join(root, RANGE_PAGE), RANGE_HTML);
  } catch (e) {
    await nginx.close();
    throw e;
  }
  const pages = (await readdir(root)).filter((f) => f.endsWith(".html")).sort().map((f) => `/${f}`);
  const log = path.join(nginx.prefix, "access.log");
  return {
    ...nginx,
    pages,
    accessLog: async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean),
  };
}

function http(prefix: string, port: number, root: string, confDir: string): string {
  return `
  include ${confDir}/mime.types;
  default_type application/octet-stream;
  log_format edge '$request_method $request_uri $status $body_bytes_sent "$http_accept_encoding" "$http_if_none_match" "$http_range"';
  access_log ${prefix}/access.log edge;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  etag on;
  gzip on;
  gzip_vary on;
  gzip_proxied any;
  gzip_comp_level 6;
  gzip_min_length 256;
  gzip_types ${GZIP_TYPES.join(" ")};
  gzip_static on;
  server {
    listen 127.0.0.1:${port};
    server_name _;
    root ${root};
    index index.html;
    error_page 404 /404.html;
    location / {
      try_files $uri $uri/ =404;
    }
    location ~* \\.(?:css|js|svg|png|jpg|ico|woff2?|ttf|eot)$ {
      expires 1y;
    }
    location = ${BROKEN_PATH} {
      return 500;
    }
  }`;
}
