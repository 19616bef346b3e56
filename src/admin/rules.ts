/**
 * `GET`, `PUT` and `DELETE /.edge-cache/rules`: the rules serving now (here, at the
 * coordinator, and in each isolate that reported), a new file (validated, then
 * recorded by the coordinator as the next version for every isolate to pick up), and
 * going back to the deployment's own rules.
 */
import type { WorkerEnv } from "../env";
import { RULES_BOUND_MS, RULES_REFRESH_MS, type ActiveRules } from "../rules/active";
import type { RulesStatus } from "../rules/versions";
import { jsonResponse } from "../http/respond";
import { lintRules } from "../rules/lint";
import { parseRulesText } from "../rules/parse";
import type { Problem } from "../rules/types";
import { readText } from "./body";
import type { AdminDeps, AdminHandler } from "./context";
import { uploadProblems } from "./origin-guard";

/** Rules files are small; a megabyte is a mistake, not a configuration. */
export const MAX_RULES_BODY = 512 * 1024;

export const PROPAGATION =
  `recorded by the coordinator; serving at once in the isolate that took it, and in every other isolate within ${RULES_BOUND_MS / 1000} s ` +
  "(when the coordinator cannot be reached, isolates read its KV copy: within about 60 s)";

function describe(active: ActiveRules) {
  return {
    source: active.source,
    version: active.version,
    sequence: active.sequence,
    uploadedAt: active.uploadedAt === null ? null : new Date(active.uploadedAt).toISOString(),
    routes: active.rules.routes.map((r) => r.name),
    refused: active.refused,
  };
}

/** Why an upload is stored but not what serves here. */
function precedenceNote(active: ActiveRules): string[] {
  switch (active.source) {
    case "coordinator":
    case "kv":
    case "bundled":
    case "RULES_JSON":
      return [];
    case "options":
      return ["this Worker was created with fixed rules: they keep serving; the upload is recorded for the others"];
    default:
      return active.source satisfies never;
  }
}

/**
 * The coordinator's newest version, and the version each isolate said it serves when
 * it last asked (newest report first); the answering isolate's own entry is what it
 * serves now.
 */
function coordinatorView(status: RulesStatus | null, self: { isolate: string; active: ActiveRules; now: number }) {
  if (status === null) return { coordinator: null, isolates: null };
  const at = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const own = { isolate: self.isolate, sequence: self.active.sequence, version: self.active.version, source: self.active.source, seenAt: self.now };
  const others = status.isolates.filter((r) => r.isolate !== self.isolate);
  return {
    coordinator: { sequence: status.sequence, version: status.version, recordedAt: at(status.at), seed: status.seed !== null },
    isolates: [own, ...others].map((r) => ({ isolate: r.isolate, sequence: r.sequence, version: r.version, source: r.source, seenAt: at(r.seenAt) })),
  };
}

export const getRules: AdminHandler = async ({ env, deps }) => {
  // In turn, not at once: the coordinator's view is then read after this isolate's own
  // load (which may be the seed of this start), so the two never contradict each other.
  const active = await deps.rules.active();
  const status = await deps.rules.status();
  return {
    response: jsonResponse({
      ...describe(active),
      isolate: deps.rules.isolate,
      refreshSeconds: RULES_REFRESH_MS / 1000,
      boundSeconds: RULES_BOUND_MS / 1000,
      ...coordinatorView(status, { isolate: deps.rules.isolate, active, now: deps.now() }),
      rules: active.rules.source,
    }),
    result: "ok",
  };
};

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
  const origins = parsed ? uploadProblems(parsed, (await deps.rules.own()).rules, env.ALLOWED_ORIGINS) : [];
  if (origins.length > 0) return refused(origins);
  let result;
  try {
    result = await deps.rules.upload(text.value);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      response: jsonResponse({ error: "rules-not-stored", message: `The rules are valid but the coordinator could not record them (${why}); nothing changed. Try again in a few seconds.` }, 503, { "retry-after": "2" }),
      result: "coordinator-error",
    };
  }
  if (!result.ok) return refused(result.problems);
  const warnings = [...result.problems, ...lintRules(result.rules)];
  return {
    response: jsonResponse({
      stored: true,
      version: result.version,
      sequence: result.sequence,
      uploadedAt: new Date(result.uploadedAt).toISOString(),
      active: describe(result.active),
      warnings,
      notes: precedenceNote(result.active),
      propagation: PROPAGATION,
    }),
    targets: { version: result.version, sequence: result.sequence },
    result: "ok",
  };
};

export const deleteRules: AdminHandler = async ({ env, deps }) => {
  try {
    const active = await deps.rules.remove();
    return { response: jsonResponse({ removed: true, active: describe(active), propagation: PROPAGATION }), result: "ok" };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { response: jsonResponse({ error: "rules-not-removed", message: `The removal could not be recorded (${why}); nothing changed. Try again.` }, 503), result: "coordinator-error" };
  }
};
