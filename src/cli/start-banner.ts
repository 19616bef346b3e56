/**
 * What `npm start` prints once the Worker answers: where it runs, what it runs in front
 * of, and what to try. Text only; src/cli/start.ts decides everything it shows.
 */
import path from "node:path";
import { DEMO_PAGES } from "../demo/origin";
import type { CompiledRules } from "../rules/types";
import type { StartOptions } from "./args";

/** Relative to where the user stands when that is shorter, else absolute. */
export function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : path.resolve(file);
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

interface BannerInput {
  workerUrl: string;
  origin: string;
  demo: boolean;
  rulesPath: string;
  rules: CompiledRules;
  options: StartOptions;
  state: string;
}

export function banner({ workerUrl, origin, demo, rulesPath, rules, options, state }: BannerInput): string {
  const lines = [
    "",
    `edge-cache is running at ${workerUrl}`,
    `  origin  ${origin}${demo ? " (built-in demo)" : ""}`,
    `  rules   ${display(rulesPath)} (${plural(rules.routes.length, "route")}: ${rules.routes.map((r) => r.name).join(", ")})`,
    `  state   ${display(state)} (local Cache API, KV and coordinator; --fresh empties it)`,
    `  admin   ${options.adminToken ? "token set" : "no token (pass --admin-token TOKEN)"}`,
    "",
  ];
  if (demo) {
    const width = Math.max(...Object.keys(DEMO_PAGES).map((p) => p.length));
    lines.push("Demo pages:");
    for (const [p, page] of Object.entries(DEMO_PAGES)) lines.push(`  ${p.padEnd(width)}  ${page.shows}`);
    const tries = [
      [`curl -si ${workerUrl}/assets/app.js`, "fwd=uri-miss; stored, then hit"],
      [`curl -si ${workerUrl}/account`, "never a hit: the page sets a cookie"],
      [`curl -si -b session=x ${workerUrl}/blog/hello`, "fwd=bypass; detail=cookie"],
    ] as const;
    const cmdWidth = Math.max(...tries.map(([cmd]) => cmd.length));
    lines.push("", "Try (run each twice and watch Cache-Status):");
    for (const [cmd, note] of tries) lines.push(`  ${cmd.padEnd(cmdWidth)}  # ${note}`);
  } else {
    lines.push("Try (twice, and watch Cache-Status):", `  curl -si ${workerUrl}/`);
  }
  lines.push("", `Ctrl-C stops ${demo ? "the Worker and the demo origin" : "the Worker"}.`, "");
  return lines.join("\n");
}
