/**
 * The admin API under the reserved prefix: authorize, find the endpoint, run it,
 * log one JSON line. Nothing here is cached and nothing reaches the origin.
 */
import type { WorkerEnv } from "../env";
import { discardBody } from "../http/discard";
import { jsonResponse } from "../http/respond";
import { authorize } from "./auth";
import type { AdminContext, AdminDeps, AdminHandler, AdminOutcome } from "./context";
import { explainEndpoint } from "./explain";
import { ADMIN_PREFIX } from "./prefix";
import { purgeEndpoint } from "./purge";
import { deleteRules, getRules, putRules } from "./rules";
import { statsEndpoint } from "./stats";
import { trafficEndpoint, tryRulesEndpoint } from "./traffic";
import { recentPurgesEndpoint } from "./recent-purges";
import { dashboardResponse, wantsDashboard } from "../dashboard/serve";
import { authThrottleOf, clientAddress } from "./throttle";

const ENDPOINTS: Readonly<Record<string, Readonly<Partial<Record<string, AdminHandler>>>>> = {
  "": { GET: index },
  purge: { POST: purgeEndpoint },
  purges: { GET: recentPurgesEndpoint },
  explain: { GET: explainEndpoint },
  rules: { GET: getRules, PUT: putRules, DELETE: deleteRules },
  stats: { GET: statsEndpoint },
  traffic: { GET: trafficEndpoint },
  "try-rules": { POST: tryRulesEndpoint },
};

async function index(): Promise<AdminOutcome> {
  return {
    response: jsonResponse({
      endpoints: [
        `POST ${ADMIN_PREFIX}purge  {"urls"|"prefixes"|"tags"|"routes": [...]} or {"everything": true}, optionally "soft": true`,
        `GET ${ADMIN_PREFIX}purges  (the most recent purges)`,
        `GET ${ADMIN_PREFIX}explain?url=URL&h=Name:value`,
        `GET ${ADMIN_PREFIX}rules`,
        `PUT ${ADMIN_PREFIX}rules  (a rules file)`,
        `DELETE ${ADMIN_PREFIX}rules  (back to the bundled rules)`,
        `GET ${ADMIN_PREFIX}stats?window=15m|1h|24h`,
        `GET ${ADMIN_PREFIX}traffic?limit=N  (the sampled recent requests)`,
        `POST ${ADMIN_PREFIX}try-rules  (a rules file: which sampled requests it would treat differently)`,
        `GET ${ADMIN_PREFIX}  with Accept: text/html: the dashboard`,
      ],
    }),
    result: "ok",
  };
}

/** Handles a request whose path `adminPath` recognized as `name`. */
export function createAdmin(deps: AdminDeps) {
  const throttle = authThrottleOf(deps);
  return async function admin(request: Request, name: string, env: WorkerEnv): Promise<Response> {
    const url = new URL(request.url);
    const action = Object.hasOwn(ENDPOINTS, name) ? name || "index" : "unknown";
    // The page holds no secret and no data (it asks the endpoints below with the token), so it needs none.
    if (wantsDashboard(request, name)) return dashboardResponse(request);
    const address = clientAddress(request);
    const throttled = throttle.check(address);
    if (throttled) {
      await discardBody(request.body);
      logLine(deps, { action, method: request.method, result: "throttled", status: 429, token: null });
      return throttled;
    }
    const auth = await authorize(request, url, env.ADMIN_TOKEN);
    if (!auth.ok) {
      // A deployment's own misconfiguration is not a guess.
      if (auth.reason !== "disabled" && auth.reason !== "weak-token") throttle.failed(address);
      await discardBody(request.body);
      logLine(deps, { action, method: request.method, result: auth.reason, status: auth.response.status, token: auth.fingerprint });
      return auth.response;
    }
    const outcome = await run(name, { request, url, env, deps });
    logLine(deps, {
      action,
      method: request.method,
      ...(outcome.targets === undefined ? {} : { targets: outcome.targets }),
      result: outcome.result,
      status: outcome.response.status,
      token: auth.fingerprint,
    });
    return outcome.response;
  };
}

async function run(name: string, c: AdminContext): Promise<AdminOutcome> {
  const methods = Object.hasOwn(ENDPOINTS, name) ? ENDPOINTS[name]! : null;
  if (methods === null) {
    await discardBody(c.request.body);
    const known = Object.keys(ENDPOINTS).filter(Boolean).map((n) => `${ADMIN_PREFIX}${n}`).join(", ");
    return { response: jsonResponse({ error: "not-found", message: `No admin endpoint "${name}": use ${known}.` }, 404), result: "not-found" };
  }
  const handler = Object.hasOwn(methods, c.request.method) ? methods[c.request.method] : undefined;
  if (!handler) {
    await discardBody(c.request.body);
    const allow = Object.keys(methods).join(", ");
    return {
      response: jsonResponse({ error: "method-not-allowed", message: `${ADMIN_PREFIX}${name} takes ${allow}, not ${c.request.method}.` }, 405, { allow }),
      result: "method-not-allowed",
    };
  }
  try {
    return await handler(c);
  } catch (err) {
    c.deps.log({ msg: "admin-error", error: err instanceof Error ? err.stack : String(err) });
    return { response: jsonResponse({ error: "internal", message: "The admin action failed on our side; nothing is known to have changed. The Worker's logs have the details." }, 500), result: "error" };
  }
}

function logLine(deps: AdminDeps, line: Record<string, unknown>): void {
  deps.log({ msg: "admin", ...line });
}
