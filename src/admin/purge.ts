/**
 * `POST /.edge-cache/purge`: one kind of target per request, JSON in, JSON out.
 */
import { executePurge } from "../purge/execute";
import { parsePurgeRequest, type PurgeRequest } from "../purge/request";
import { jsonResponse } from "../http/respond";
import { readJson } from "./body";
import type { AdminContext, AdminHandler, AdminOutcome } from "./context";

/** A purge body is a short list; anything bigger is a mistake. */
export const MAX_PURGE_BODY = 64 * 1024;

export const purgeEndpoint: AdminHandler = async ({ request, url, env, deps }) => {
  const body = await readJson(request, MAX_PURGE_BODY, '{"urls": ["https://example.com/page"]}');
  if (!body.ok) return { response: body.response, result: "invalid" };
  const parsed = parsePurgeRequest(body.value, url);
  if (!parsed.ok) return { response: jsonResponse({ error: "invalid-purge", message: parsed.message }, 400), result: "invalid" };
  return runPurge(parsed.purge, { request, url, env, deps });
};

/** Carries out a checked purge and answers as the purge endpoint does; `PURGE` requests share it. */
export async function runPurge(purge: PurgeRequest, { env, deps }: AdminContext): Promise<AdminOutcome> {
  const targets = purge.kind === "everything" ? { everything: true, soft: purge.soft } : { [purge.kind]: purge.values, soft: purge.soft };
  try {
    const answer = await executePurge(
      { store: deps.purges, tiers: deps.tiers, rules: await deps.rules.rules(), zone: env, now: deps.now, fetch: deps.fetch },
      purge,
    );
    return { response: jsonResponse(answer), targets, result: answer.warnings.length > 0 ? "ok-with-warnings" : "ok" };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      response: jsonResponse(
        {
          error: "purge-not-recorded",
          message: `The purge could not be recorded by the coordinator (${why}). It applies in this isolate only until it is: send the same request again in a second or two.`,
        },
        503,
        { "retry-after": "2" },
      ),
      targets,
      result: "coordinator-error",
    };
  }
}
