/**
 * `PURGE <url>`: the Varnish convention that CMS plugins (WordPress Proxy Cache Purge
 * and Nginx Helper, Drupal's Purge and Varnish modules) already speak. Handled before
 * the proxy, so a `PURGE` never reaches the origin or a cache; answered with the JSON
 * of `POST /.edge-cache/purge`, through the same execution.
 *
 * Who may: a token (`Authorization: Bearer <token>` or `X-Purge-Token: <token>`),
 * either PURGE_TOKEN (purges only, the one to give a CMS) or ADMIN_TOKEN; or a client
 * address in PURGE_ALLOW. Nothing configured: `PURGE` is not enabled here (405).
 * A wrong or missing token counts against the admin API's failed-login throttle
 * (src/admin/throttle.ts): one count per client, whichever door it knocks on.
 */
import type { WorkerEnv } from "../env";
import { discardBody } from "../http/discard";
import { jsonResponse } from "../http/respond";
import { parseVarnishPurge } from "../purge/varnish";
import { tokenFingerprint, tokenMatches } from "./auth";
import type { AdminDeps } from "./context";
import { allowed, parseAllowList, type AllowList } from "./ip-allow";
import { authThrottleOf, clientAddress } from "./throttle";
import { weakTokenMessage } from "./token-strength";
import { runPurge } from "./purge";

export function createPurgeMethod(deps: AdminDeps) {
  let allowList: { from: string | undefined; list: AllowList } | null = null;
  const throttle = authThrottleOf(deps);

  function allowListOf(env: WorkerEnv): AllowList {
    if (allowList === null || allowList.from !== env.PURGE_ALLOW) {
      allowList = { from: env.PURGE_ALLOW, list: parseAllowList(env.PURGE_ALLOW) };
      // Once per value: a typo must never widen the list, and must be visible.
      if (allowList.list.invalid.length > 0) deps.log({ msg: "purge-allow-invalid", ignored: allowList.list.invalid });
    }
    return allowList.list;
  }

  return async function purgeMethod(request: Request, env: WorkerEnv): Promise<Response> {
    await discardBody(request.body);
    const url = new URL(request.url);
    const log = (line: Record<string, unknown>) => deps.log({ msg: "admin", action: "PURGE", method: "PURGE", url: url.href, ...line });
    const tokens = usableTokens(env, deps);
    const list = allowListOf(env);
    if (tokens.length === 0 && list.ranges.length === 0) {
      log({ result: "disabled", status: 405 });
      return jsonResponse(
        {
          error: "purge-disabled",
          message: "PURGE is not enabled on this Worker: set a PURGE_TOKEN secret (sent as Authorization: Bearer or X-Purge-Token), or list the CMS's addresses in PURGE_ALLOW.",
        },
        405,
        { allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" },
      );
    }
    const ip = request.headers.get("cf-connecting-ip");
    // A listed address needs no token, so it guesses none: never throttled.
    const byAddress = allowed(list, ip);
    const client = clientAddress(request);
    const throttled = byAddress ? null : throttle.check(client);
    if (throttled) {
      log({ result: "throttled", status: 429, ip });
      return throttled;
    }
    const presented = presentedToken(request.headers);
    const byToken = presented !== null && (await anyMatches(presented, tokens));
    if (!byToken && !byAddress) {
      throttle.failed(client);
      log({ result: presented === null ? "missing" : "wrong", status: 401, token: presented && (await tokenFingerprint(presented)), ip });
      return jsonResponse(
        { error: "unauthorized", message: "Send the purge token as Authorization: Bearer <token> or X-Purge-Token: <token>, or purge from an address listed in PURGE_ALLOW." },
        401,
        { "www-authenticate": 'Bearer realm="edge-cache"' },
      );
    }
    const who = byToken ? { token: await tokenFingerprint(presented!) } : { ip };
    const parsed = parseVarnishPurge(url, request.headers);
    if (!parsed.ok) {
      log({ result: "invalid", status: 400, ...who });
      return jsonResponse({ error: "invalid-purge", message: parsed.message }, 400);
    }
    const outcome = await runPurge(parsed.purge, { request, url, env, deps });
    log({ targets: outcome.targets, result: outcome.result, status: outcome.response.status, ...who });
    return outcome.response;
  };
}

/** The configured tokens long enough to be used; a short one is ignored (as the admin API refuses it), and logged. */
function usableTokens(env: WorkerEnv, deps: AdminDeps): string[] {
  const out: string[] = [];
  for (const [name, token] of [["PURGE_TOKEN", env.PURGE_TOKEN], ["ADMIN_TOKEN", env.ADMIN_TOKEN]] as const) {
    if (typeof token !== "string" || token.trim() === "") continue;
    const weak = weakTokenMessage(token, name);
    if (weak === null) out.push(token);
    else deps.log({ msg: "purge-token-ignored", reason: weak });
  }
  return out;
}

function presentedToken(headers: Headers): string | null {
  const bearer = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.get("authorization") ?? "");
  if (bearer) return bearer[1]!;
  const token = headers.get("x-purge-token")?.trim();
  return token ? token : null;
}

async function anyMatches(presented: string, tokens: readonly string[]): Promise<boolean> {
  // Every token is compared, so the time taken says nothing about which one matched.
  const results = await Promise.all(tokens.map((t) => tokenMatches(presented, t)));
  return results.includes(true);
}
