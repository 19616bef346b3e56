/**
 * `edge-cache rules push [FILE] --site https://site`: validates a rules file here, then
 * uploads it to the running Worker (PUT /.edge-cache/rules), which validates it again
 * and serves it without a redeploy.
 */
import { lintRules } from "../rules/lint";
import type { Problem } from "../rules/types";
import { AdminCallError, adminToken, callAdmin, parseSite, TOKEN_ENV } from "./admin-client";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";
import { DEFAULT_RULES_FILE, formatProblem } from "./rules-check";
import { loadRulesFile, reportInvalid } from "./rules-file";

const USAGE = `Usage: edge-cache rules push [FILE] --site https://www.example.com [--json]

Validates a rules file (default: ${DEFAULT_RULES_FILE}), then uploads it to the
Worker serving the site. The Worker keeps it in KV: the location that takes the
upload serves it at once, other isolates within 10 s, other locations once KV has
propagated it (typically within 60 s). An invalid file is never sent.

The admin token is read from ${TOKEN_ENV} (the Worker's ADMIN_TOKEN secret).

Options:
  --site URL   the site the Worker serves (--url is accepted too)
  --json       print the Worker's answer as JSON
  -h, --help   show this help

Exits 0 when uploaded (warnings allowed), 1 when the file is invalid or the upload
fails, 2 on a usage error.
`;

export const rulesPush: Command = {
  name: "rules push",
  summary: "validate a rules file and upload it to a running Worker",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, {
      site: { type: "string" },
      url: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new CliUsageError(`expected at most one FILE, got ${positionals.length}`);
    if (values.site !== undefined && values.url !== undefined) throw new CliUsageError("give the site once: --site or --url, not both");
    const siteValue = values.site ?? values.url;
    if (siteValue === undefined) throw new CliUsageError("name the site with --site https://www.example.com");
    const site = parseSite(siteValue, values.site !== undefined ? "--site" : "--url");
    const token = adminToken();

    const loaded = await loadRulesFile(io, positionals[0] ?? DEFAULT_RULES_FILE);
    if (!reportInvalid(io, loaded)) return EXIT.failed;
    let answer;
    try {
      answer = await callAdmin(site, token, "PUT", "rules", loaded.text);
    } catch (e) {
      // The Worker may be another version than this CLI: show its own list of what is wrong.
      const problems = e instanceof AdminCallError ? (e.body as { problems?: Problem[] } | null)?.problems : undefined;
      for (const p of problems ?? []) io.err(`${formatProblem(p)}\n`);
      throw e;
    }
    if (values.json) {
      io.out(`${JSON.stringify(answer, null, 2)}\n`);
      return EXIT.ok;
    }
    const warnings = [...loaded.problems, ...lintRules(loaded.rules)];
    for (const w of warnings) io.err(`${formatProblem(w)}\n`);
    const active = answer.active as { source?: string } | undefined;
    // `sequence`: the coordinator's number for this upload (a Worker before the coordinator has none).
    const sequence = typeof answer.sequence === "number" ? `, sequence ${answer.sequence}` : "";
    io.out(`${loaded.file}: pushed to ${site.origin}, version ${String(answer.version)}${sequence}\n`);
    for (const note of (answer.notes as string[] | undefined) ?? []) io.out(`note: ${note}\n`);
    if (active?.source !== "options" && typeof answer.propagation === "string") io.out(`${answer.propagation}\n`);
    return EXIT.ok;
  },
};
