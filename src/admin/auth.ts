/**
 * Who may use the admin API: whoever sends `Authorization: Bearer <ADMIN_TOKEN>`.
 * Fails closed (no token configured = disabled), compares in constant time (both
 * sides hashed to the same length first, then `timingSafeEqual`), and answers every
 * wrong or missing token with the very same 401, so a caller learns nothing but "no".
 */
import { jsonResponse } from "../http/respond";
import { weakTokenMessage } from "./token-strength";

/** Query parameters that look like a credential: refused, because URLs end up in logs and histories. */
const TOKEN_PARAMS = ["token", "access_token", "admin_token", "auth", "authorization", "bearer", "api_key", "apikey", "key", "secret", "password"];

export type AuthVerdict =
  | { ok: true; fingerprint: string }
  | { ok: false; response: Response; reason: "disabled" | "weak-token" | "token-in-query" | "missing" | "wrong"; fingerprint: string | null };

const encoder = new TextEncoder();

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/**
 * A short, stable name for a token, safe to log: it tells two tokens apart (which
 * client acted, whether the secret was rotated) without revealing either.
 */
export async function tokenFingerprint(token: string): Promise<string> {
  const digest = new Uint8Array(await sha256(`edge-cache admin token fingerprint\n${token}`));
  return [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The same answer for every wrong or missing token. */
export function unauthorized(): Response {
  return jsonResponse(
    { error: "unauthorized", message: "Send the admin token as \"Authorization: Bearer <token>\" (the ADMIN_TOKEN secret of this Worker)." },
    401,
    { "www-authenticate": 'Bearer realm="edge-cache"' },
  );
}

type Refusal = Extract<AuthVerdict, { ok: false }>;

/** A refusal that says what is wrong with the deployment or the request (not a guessed token). */
function refuse(reason: Refusal["reason"], status: number, error: string, message: string): Refusal {
  return { ok: false, reason, fingerprint: null, response: jsonResponse({ error, message }, status) };
}

/** Checks an admin request's credentials against the configured token. */
export async function authorize(request: Request, url: URL, configured: string | undefined): Promise<AuthVerdict> {
  if (!configured || configured.trim() === "") {
    return refuse(
      "disabled",
      403,
      "admin-disabled",
      "The admin API is disabled because no ADMIN_TOKEN is configured. Set one with `wrangler secret put ADMIN_TOKEN` (locally: `npm start -- --admin-token TOKEN`).",
    );
  }
  const weak = weakTokenMessage(configured);
  if (weak !== null) {
    return refuse("weak-token", 403, "admin-token-too-short", `The admin API is disabled: ${weak}. Set a longer one with \`wrangler secret put ADMIN_TOKEN\`.`);
  }
  const inQuery = [...url.searchParams.keys()].find((k) => TOKEN_PARAMS.includes(k.toLowerCase()));
  if (inQuery !== undefined) {
    return refuse(
      "token-in-query",
      400,
      "token-in-query",
      `Credentials are not accepted in the URL (parameter "${inQuery}"): URLs end up in logs and browser history. Send "Authorization: Bearer <token>" instead, and rotate the token if it was a real one.`,
    );
  }
  const header = request.headers.get("authorization") ?? "";
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) return { ok: false, reason: "missing", fingerprint: null, response: unauthorized() };
  const presented = match[1]!;
  const fingerprint = await tokenFingerprint(presented);
  if (!(await tokenMatches(presented, configured))) return { ok: false, reason: "wrong", fingerprint, response: unauthorized() };
  return { ok: true, fingerprint };
}

/** Constant-time comparison of a presented token with a configured one. */
export async function tokenMatches(presented: string, configured: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(presented), sha256(configured)]);
  return crypto.subtle.timingSafeEqual(a, b);
}
