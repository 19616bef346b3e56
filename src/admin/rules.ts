/**
 * `GET`, `PUT` and `DELETE /.edge-cache/rules`: the rules serving now, a new file
 * (validated, then kept in KV for every isolate to pick up), and going back to the
 * bundled file.
 */
import type { WorkerEnv } from "../env";
import { bundledRules, RULES_REFRESH_MS, type ActiveRules } from "../rules/active";
import { jsonResponse } from "../http/respond";
import { lintRules } from "../rules/lint";
import { parseRulesText } from "../rules/parse";
import type { CompiledRules, Problem } from "../rules/types";
import { readText } from "./body";
import type { AdminDeps, AdminHandler } from "./context";
import { uploadProblems } from "./origin-guard";

/** Rules files are small; a megabyte is a mistake, not a configuration. */
export const MAX_RULES_BODY = 512 * 1024;

export const PROPAGATION =
  `serving at once in the isolate that took it; other isolates re-read the KV copy within ${RULES_REFRESH_MS / 1000} s, ` +
  "and other locations see it when KV has propagated the write (typically within 60 s, not guaranteed)";

function describe(active: ActiveRules) {
  return {
    source: active.source,
    version: active.version,
    uploadedAt: active.uploadedAt === null ? null : new Date(active.uploadedAt).toISOString(),
    routes: active.rules.routes.map((r) => r.name),
    refused: active.refused,
  };
}

/** Why an upload is stored but not what serves here. */
function precedenceNote(active: ActiveRules): string[] {
  switch (active.source) {
    case "kv":
    case "bundled":
      return [];
    case "RULES_JSON":
      return ["RULES_JSON is set (a local run given --rules): the file given to npm start keeps serving; the upload is stored in KV for runs without it"];
    case "options":
      return ["this Worker was created with fixed rules: they keep serving; the upload is stored in KV"];
    default:
      return active.source satisfies never;
  }
}

export const getRules: AdminHandler = async ({ env, deps }) => {
  const active = await deps.rules.active(env);
  return {
    response: jsonResponse({ ...describe(active), refreshSeconds: RULES_REFRESH_MS / 1000, rules: active.rules.source }),
    result: "ok",
  };
};

/** The rules the deployment itself configured (their origins are allowed): fixed or RULES_JSON rules, else the bundled file (never an upload). */
async function deployedRules(env: WorkerEnv, deps: AdminDeps): Promise<CompiledRules> {
  const active = await deps.rules.active(env);
  if (active.source === "options" || active.source === "RULES_JSON") return active.rules;
  return (await bundledRules()).rules;
}

function refused(problems: Problem[]) {
  const errors = problems.filter((p) => p.severity === "error").length;
  return {
    response: jsonResponse(
      {
        error: "invalid-rules",
        message: `The rules were refused (${errors} error${errors === 1 ? "" : "s"}); nothing changed and the current rules keep serving. Fix every problem below (run \`edge-cache rules check FILE\` to see them locally).`,
        problems,
      },
      422,
    ),
    result: "invalid",
  };
}

export const putRules: AdminHandler = async ({ request, env, deps }) => {
  const text = await readText(request, MAX_RULES_BODY);
  if (!text.ok) return { response: text.response, result: "invalid" };
  const parsed = parseRulesText(text.value).rules;
  const origins = parsed ? uploadProblems(parsed, await deployedRules(env, deps), env.ALLOWED_ORIGINS) : [];
  if (origins.length > 0) return refused(origins);
  let result;
  try {
    result = await deps.rules.upload(env, text.value);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      response: jsonResponse({ error: "rules-not-stored", message: `The rules are valid but could not be written to KV (${why}); nothing changed. Try again in a few seconds.` }, 503, { "retry-after": "2" }),
      result: "kv-error",
    };
  }
  if (!result.ok) return refused(result.problems);
  const warnings = [...result.problems, ...lintRules(result.rules)];
  return {
    response: jsonResponse({
      stored: true,
      version: result.version,
      uploadedAt: new Date(result.uploadedAt).toISOString(),
      active: describe(result.active),
      warnings,
      notes: precedenceNote(result.active),
      propagation: PROPAGATION,
    }),
    targets: { version: result.version },
    result: "ok",
  };
};

export const deleteRules: AdminHandler = async ({ env, deps }) => {
  try {
    const active = await deps.rules.remove(env);
    return { response: jsonResponse({ removed: true, active: describe(active), propagation: PROPAGATION }), result: "ok" };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { response: jsonResponse({ error: "rules-not-removed", message: `The KV copy could not be deleted (${why}); try again.` }, 503), result: "kv-error" };
  }
};
