/**
 * Serving the dashboard: `GET /.edge-cache/` from a browser. The page is static; its
 * Content-Security-Policy names the hashes of its own style and script, so nothing
 * else can run in it and it can talk to no one but this site.
 */
import { PAGE, STYLE } from "./page";
import { SCRIPT } from "./script";

/** A browser asking for the admin root: the page; everyone else gets the JSON index. */
export function wantsDashboard(request: Request, name: string): boolean {
  if (name !== "" || (request.method !== "GET" && request.method !== "HEAD")) return false;
  return (request.headers.get("accept") ?? "").toLowerCase().includes("text/html");
}

async function hash(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

let policy: Promise<string> | null = null;

function contentSecurityPolicy(): Promise<string> {
  policy ??= Promise.all([hash(STYLE), hash(SCRIPT)]).then(
    ([style, script]) =>
      `default-src 'none'; style-src ${style}; script-src ${script}; connect-src 'self'; img-src data:; ` +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  return policy;
}

export async function dashboardResponse(request: Request): Promise<Response> {
  const headers = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": await contentSecurityPolicy(),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  };
  return new Response(request.method === "HEAD" ? null : PAGE, { headers });
}
