/**
 * `GET /.edge-cache/explain?url=URL[&h=Name:value...][&method=GET][&country=DE]`: the proxy's whole
 * decision for that request (the pure part shared with `edge-cache rules explain`)
 * plus what each tier holds for it right now.
 */
import { decide, parseHeaderArgs } from "../explain/decide";
import { tierState } from "../explain/tier-state";
import { jsonResponse } from "../http/respond";
import { originRequestHeaders } from "../policy/forwarding";
import type { AdminHandler } from "./context";

/** Simulated request headers per explain: enough for any real request, few enough to stay cheap. */
export const MAX_EXPLAIN_HEADERS = 50;

export const explainEndpoint: AdminHandler = async ({ url, env, deps }) => {
  const bad = (message: string) => ({ response: jsonResponse({ error: "invalid-explain", message }, 400), result: "invalid" });
  const unknown = [...url.searchParams.keys()].find((k) => !["url", "h", "method", "country"].includes(k));
  if (unknown !== undefined) {
    return bad(`unknown parameter "${unknown}": explain takes url, h, method and country; percent-encode the URL you explain, e.g. curl -G --data-urlencode 'url=https://${url.host}/page?a=1&b=2'`);
  }
  const target = url.searchParams.get("url");
  if (!target) return bad(`say which request to explain: ?url=https://${url.host}/page (or ?url=/page), with request headers as &h=Name:value`);
  let requestUrl: URL;
  try {
    requestUrl = target.startsWith("/") && !target.startsWith("//") ? new URL(target, url.origin) : new URL(target);
  } catch {
    return bad(`"url" is not a URL: ${JSON.stringify(target)}; write an absolute URL or a path starting with /`);
  }
  if (requestUrl.protocol !== "http:" && requestUrl.protocol !== "https:") return bad(`"url" must be http or https, got ${requestUrl.protocol}`);
  const h = url.searchParams.getAll("h");
  if (h.length > MAX_EXPLAIN_HEADERS) return bad(`at most ${MAX_EXPLAIN_HEADERS} "h" parameters`);
  const headers = parseHeaderArgs(h);
  if (!headers.ok) return bad(`"h": ${headers.message}`);
  const method = url.searchParams.get("method") ?? "GET";
  if (!/^[A-Za-z]+$/.test(method)) return bad(`"method" must be a method name such as GET or HEAD, got ${JSON.stringify(method)}`);

  // The country Cloudflare would see for the client (request.cf.country); default: unknown.
  const country = url.searchParams.get("country") ?? undefined;
  if (country !== undefined && !/^[A-Za-z][A-Za-z0-9]$/.test(country)) return bad(`"country" must be a two-letter country code such as DE, got ${JSON.stringify(country)}`);

  const active = await deps.rules.active();
  const decision = decide(active.rules, requestUrl, method, headers.headers, country);
  const state =
    decision.outcome === "cache" && decision.key && decision.tiers
      ? await tierState(
          deps.tiers,
          { key: decision.key.key, url: new URL(decision.key.url), host: decision.key.parts.host },
          decision.tiers,
          // Variants are selected on what the origin is sent, as the proxy selects them.
          originRequestHeaders(headers.headers, active.rules.routes[decision.route!.index]!.key, decision.key.parts.dimensions),
          await deps.purges.current(),
          deps.now(),
        )
      : null;
  return {
    response: jsonResponse({ ...decision, rules: { source: active.source, version: active.version }, state }),
    targets: { url: requestUrl.href },
    result: "ok",
  };
};
