/**
 * The demo origin that `npm start` puts behind the Worker: a handful of pages, one per
 * caching case, each answering with a per-page count of the requests that reached it,
 * so a user sees with their own eyes when the origin was hit and when the cache answered.
 * Node only; never bundled into the Worker.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseHttpDate } from "../policy/http-date";

export interface DemoOrigin {
  url: string;
  close(): Promise<void>;
}

interface Page {
  title: string;
  /** What the page shows about the cache, for the index and the banner. */
  shows: string;
  answer(n: number): { headers: Record<string, string>; body: string; delayMs?: number };
}

// Fixed for the life of the server so that revalidation (If-None-Match /
// If-Modified-Since) can answer 304 and show it.
const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
const ASSET_ETAG = '"app-js-v1"';

const HTML = "text/html; charset=utf-8";

/** The demo pages, in the order the index and the banner list them. */
export const DEMO_PAGES: Record<string, Page> = {
  "/assets/app.js": {
    title: "A long-lived asset",
    shows: "miss then hit, kept a year at the edge and a day in KV",
    answer: (n) => ({
      headers: {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "public, max-age=31536000, immutable",
        etag: ASSET_ETAG,
      },
      body: `// edge-cache demo: /assets/app.js, origin request #${n}\nconsole.log("hello from the demo asset");\n`,
    }),
  },
  "/blog/hello": {
    title: "An HTML page",
    shows: "fresh for 60 s, then revalidated with If-Modified-Since",
    answer: (n) => ({
      headers: { "content-type": HTML, "cache-control": "max-age=60", "last-modified": startedAt.toUTCString() },
      body: html("Hello, blog", `<p>An HTML page, fresh for 60 seconds. Origin request #${n}.</p>`),
    }),
  },
  "/api/time.json": {
    title: "A JSON API answer",
    shows: "fresh for 5 s, then served stale while it revalidates",
    answer: (n) => ({
      headers: { "content-type": "application/json", "cache-control": "max-age=5" },
      body: JSON.stringify({ page: "/api/time.json", now: new Date().toISOString(), originRequest: n }) + "\n",
    }),
  },
  "/account": {
    title: "A page that sets a cookie",
    shows: "never stored: the answer carries Set-Cookie",
    answer: (n) => ({
      headers: {
        "content-type": HTML,
        "set-cookie": `session=demo-${n}; Path=/; HttpOnly; SameSite=Lax`,
      },
      body: html("Your account", `<p>Signed in as visitor #${n}. Origin request #${n}.</p>`),
    }),
  },
  "/private": {
    title: "A private page",
    shows: "never stored: Cache-Control: private",
    answer: (n) => ({
      headers: { "content-type": HTML, "cache-control": "private, max-age=60" },
      body: html("Private", `<p>For one user only. Origin request #${n}.</p>`),
    }),
  },
  "/slow": {
    title: "A slow page (2 s)",
    shows: "concurrent misses collapse into one origin request; stale served at once after 10 s",
    answer: (n) => ({
      headers: { "content-type": HTML, "cache-control": "max-age=10" },
      body: html("Slow", `<p>This took the origin 2 seconds. Origin request #${n}.</p>`),
      delayMs: 2000,
    }),
  },
};

/** Starts the demo origin on 127.0.0.1; port 0 (the default) picks a free one. */
export async function startDemoOrigin(port = 0): Promise<DemoOrigin> {
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://demo.invalid").pathname;
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const page = path === "/" ? indexPage() : DEMO_PAGES[path];
    if (!page) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "max-age=30" });
      res.end(`demo origin: no page at ${path} (origin request #${n})\n`);
      return;
    }
    const { headers, body, delayMs } = page.answer(n);
    const send = () => {
      timers.delete(timer);
      if (notModified(req, headers)) {
        res.writeHead(304, withoutBodyHeaders(headers));
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, "content-length": String(Buffer.byteLength(body)) });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    const timer = setTimeout(send, delayMs ?? 0);
    timers.add(timer);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        // Keep-alive sockets from workerd would otherwise hold close() open.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function indexPage(): Page {
  return {
    title: "Index",
    shows: "",
    answer: (n) => ({
      headers: { "content-type": HTML, "cache-control": "max-age=60" },
      body: html(
        "edge-cache demo origin",
        `<p>Each page counts the requests that reached the origin. Origin request #${n}.</p><ul>` +
          Object.entries(DEMO_PAGES)
            .map(([path, p]) => `<li><a href="${path}">${path}</a>: ${p.title} (${p.shows})</li>`)
            .join("") +
          "</ul>",
      ),
    }),
  };
}

// RFC 9110 §13.1.2 / §13.1.3: If-None-Match wins over If-Modified-Since.
function notModified(req: http.IncomingMessage, headers: Record<string, string>): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const inm = req.headers["if-none-match"];
  if (inm !== undefined) {
    return headers.etag !== undefined && inm.split(",").some((t) => t.trim().replace(/^W\//, "") === headers.etag);
  }
  const ims = req.headers["if-modified-since"];
  const lm = headers["last-modified"];
  const [since, modified] = [parseHttpDate(ims), parseHttpDate(lm)];
  return since !== null && modified !== null && modified <= since;
}

function withoutBodyHeaders(headers: Record<string, string>): Record<string, string> {
  const { "content-type": _type, "set-cookie": _cookie, ...rest } = headers;
  return rest;
}

function html(title: string, content: string): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1>${content}</body></html>\n`;
}
