/**
 * Talking to a deployed Worker's admin API from the CLI: the site URL checked, the
 * token from EDGE_CACHE_TOKEN (never from the command line, where shell history and
 * `ps` would keep it), and every way a call can fail turned into one clear sentence.
 */
import { ADMIN_PREFIX } from "../admin/prefix";
import { CliUsageError } from "./command";

export const TOKEN_ENV = "EDGE_CACHE_TOKEN";
const TIMEOUT_MS = 30_000;
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A failed admin call: printed as `error: <message>`, exit 1. */
export class AdminCallError extends Error {
  override name = "AdminCallError";
  constructor(message: string, readonly body: unknown = null) {
    super(message);
  }
}

/** The site's origin from `--site`; a usage error says what is wrong with it. */
export function parseSite(value: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliUsageError(`${flag} must be the site's URL, such as https://www.example.com, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new CliUsageError(`${flag} must be an http(s) URL, got ${url.protocol}`);
  if (url.protocol === "http:" && !LOCAL_HOSTS.has(url.hostname)) {
    throw new CliUsageError(`${flag} uses plain http to ${url.hostname}: the admin token would cross the network in clear; use https`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new CliUsageError(`${flag} must be the site alone (${url.origin}), without a path: the admin API lives at ${url.origin}${ADMIN_PREFIX}`);
  }
  return url;
}

/** The admin token from the environment. */
export function adminToken(env: NodeJS.ProcessEnv = process.env): string {
  const token = env[TOKEN_ENV];
  if (!token || token.trim() === "") {
    throw new CliUsageError(`set ${TOKEN_ENV} to the Worker's ADMIN_TOKEN (it is read from the environment only, never from the command line)`);
  }
  return token.trim();
}

/** Calls `method {site}/.edge-cache/{path}`; resolves with the JSON answer of a 2xx, else throws AdminCallError. */
export async function callAdmin(site: URL, token: string, method: string, path: string, body?: string): Promise<Record<string, unknown>> {
  const url = new URL(`${ADMIN_PREFIX}${path}`, site);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = (e as Error).name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : cause?.code ?? cause?.message ?? (e as Error).message;
    throw new AdminCallError(`could not reach ${site.origin}: ${why}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = null;
  }
  if (res.ok && json !== null) return json;
  const message = typeof json?.message === "string" ? json.message : null;
  switch (res.status) {
    case 401:
      throw new AdminCallError(`${site.origin} refused the token (401): ${TOKEN_ENV} does not match the Worker's ADMIN_TOKEN`, json);
    case 404:
      if (json?.error === undefined) {
        throw new AdminCallError(`no edge-cache admin API at ${url.href} (404): is the Worker deployed on this site's route?`, json);
      }
      break;
    default:
      break;
  }
  if (json === null) {
    throw new AdminCallError(`unexpected answer from ${url.href}: ${res.status} ${res.headers.get("content-type") ?? "without a content type"}, not edge-cache's JSON: is the Worker deployed on this site's route?`);
  }
  throw new AdminCallError(`${site.origin} answered ${res.status}: ${message ?? JSON.stringify(json)}`, json);
}
