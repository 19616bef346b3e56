/**
 * Rules tried on real traffic. `GET /.edge-cache/traffic` lists the sampled recent
 * requests (method and URL, never a header; the URL cleaned by its route as the
 * statistics keep it, src/stats/clean-url.ts); `POST /.edge-cache/try-rules` takes a
 * rules file and answers which of them it would treat differently from the rules
 * serving now (route, key, TTLs, bypass verdict). Nothing is changed by either.
 */
import { diffRequests } from "../explain/diff";
import { jsonResponse } from "../http/respond";
import { parseRulesText } from "../rules/parse";
import { SAMPLE_SIZE } from "../stats/coordinator";
import { readText } from "./body";
import type { AdminHandler } from "./context";
import { MAX_RULES_BODY } from "./rules";

function parseLimit(value: string | null): number | null {
  if (value === null) return SAMPLE_SIZE;
  return /^\d{1,5}$/.test(value) && Number(value) >= 1 ? Math.min(Number(value), SAMPLE_SIZE) : null;
}

export const trafficEndpoint: AdminHandler = async ({ url, deps }) => {
  const limit = parseLimit(url.searchParams.get("limit"));
  if (limit === null) return { response: jsonResponse({ error: "invalid-limit", message: `limit must be a whole number from 1 to ${SAMPLE_SIZE}.` }, 400), result: "invalid" };
  const sample = deps.stats ? await deps.stats.traffic(limit) : { scope: "isolate" as const, requests: [] };
  return { response: jsonResponse({ scope: sample.scope, requests: sample.requests.map((r) => ({ ...r, at: new Date(r.at).toISOString() })) }), result: "ok" };
};

export const tryRulesEndpoint: AdminHandler = async ({ request, env, deps }) => {
  const text = await readText(request, MAX_RULES_BODY);
  if (!text.ok) return { response: text.response, result: "invalid" };
  const parsed = parseRulesText(text.value);
  if (!parsed.rules) {
    return { response: jsonResponse({ error: "invalid-rules", message: "The rules file is invalid; nothing was compared.", problems: parsed.problems }, 400), result: "invalid" };
  }
  const [active, sample] = await Promise.all([deps.rules.rules(), deps.stats ? deps.stats.traffic(SAMPLE_SIZE) : { scope: "isolate" as const, requests: [] }]);
  const list = sample.requests.flatMap((r) => {
    try {
      return [{ method: r.method, url: new URL(r.url) }];
    } catch {
      return [];
    }
  });
  const changed = diffRequests(active, parsed.rules, list);
  return { response: jsonResponse({ scope: sample.scope, compared: list.length, changed }), targets: { compared: list.length, changed: changed.length }, result: "ok" };
};
