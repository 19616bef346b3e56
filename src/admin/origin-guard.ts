/**
 * Whether an uploaded rules file may send traffic where it says. Whoever holds the
 * admin token could otherwise point `origin` at a host of theirs, and every bypassed
 * request (cookies, `Authorization` and all) would go there. So an upload keeps the
 * deployment's own origin host, or names one the deployment allows in ALLOWED_ORIGINS,
 * a variable set with the deployment (wrangler.jsonc `vars`, the dashboard), which the
 * token cannot change.
 */
import type { CompiledRules, Problem } from "../rules/types";

/**
 * ALLOWED_ORIGINS as a list: comma- or space-separated entries, each an origin
 * (`https://api.example.com`, scheme and port must match) or a bare host (any scheme).
 */
export function allowedOrigins(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter(Boolean);
}

function allows(entry: string, url: URL): boolean {
  if (!entry.includes("://")) return entry.toLowerCase() === url.host;
  try {
    return new URL(entry).origin === url.origin;
  } catch {
    return false;
  }
}

/**
 * A refusal when `uploaded` (the file's `origin`) is another host than the deployment's
 * own origin (`deployed`) and not allowed. `null` (send each request to its own URL,
 * the zone's origin on a DNS route) never leaves the site, so it is always allowed.
 */
export function originProblem(uploaded: string | null, deployed: string | null, allowList: string | undefined): Problem | null {
  if (uploaded === null) return null;
  const url = new URL(uploaded);
  if (deployed !== null && new URL(deployed).origin === url.origin) return null;
  const allowed = allowedOrigins(allowList);
  if (allowed.some((entry) => allows(entry, url))) return null;
  return {
    severity: "error",
    path: "$.origin",
    message: `an uploaded file may not send requests to ${url.origin}: it is not the deployment's origin (${deployed === null ? "each request's own host" : new URL(deployed).origin}) and ALLOWED_ORIGINS does not list it`,
    hint: `add ${url.host} to the Worker's ALLOWED_ORIGINS variable (comma-separated hosts or origins) and deploy, or upload a file without "origin"`,
  };
}

/**
 * Every origin an uploaded file may send requests to: its `origin` (above) and each
 * route's `fallbackOrigin`, which may name the deployment's own origin or fallbacks,
 * or a host ALLOWED_ORIGINS lists.
 */
export function uploadProblems(uploaded: CompiledRules, deployed: CompiledRules, allowList: string | undefined): Problem[] {
  const problems: Problem[] = [];
  const own = originProblem(uploaded.origin, deployed.origin, allowList);
  if (own) problems.push(own);
  const deployedOrigins = new Set([deployed.origin, ...deployed.routes.map((r) => r.fallbackOrigin)].filter((o): o is string => o !== null).map((o) => new URL(o).origin));
  const allowed = allowedOrigins(allowList);
  for (const route of uploaded.routes) {
    if (route.fallbackOrigin === null) continue;
    const url = new URL(route.fallbackOrigin);
    if (deployedOrigins.has(url.origin) || allowed.some((entry) => allows(entry, url))) continue;
    problems.push({
      severity: "error",
      path: `$.routes[${route.index}].fallbackOrigin`,
      message: `an uploaded file may not send requests to ${url.origin}: it is none of the deployment's origins and ALLOWED_ORIGINS does not list it`,
      hint: `add ${url.host} to the Worker's ALLOWED_ORIGINS variable (comma-separated hosts or origins) and deploy, or remove "fallbackOrigin"`,
    });
  }
  return problems;
}
