/**
 * What a rules change does to a list of requests: for each, the decision under the
 * old and the new rules, and the aspects (route, key, TTLs, bypass verdict) that
 * differ. Pure; shared by `rules diff` and the dashboard's "try a rules file".
 */
import type { CompiledRules } from "../rules/types";
import { decide, type Decision } from "./decide";

/** One aspect that differs, old and new, as short text. */
export type Aspect = "route" | "key" | "ttl" | "bypass";
export interface UrlChange {
  method: string;
  url: string;
  changes: Partial<Record<Aspect, { old: string; new: string }>>;
}

/** The requests among `list` whose decision changes, in list order. */
export function diffRequests(oldRules: CompiledRules, newRules: CompiledRules, list: readonly { method: string; url: URL }[], headers: Headers = new Headers()): UrlChange[] {
  const changed: UrlChange[] = [];
  for (const { method, url } of list) {
    const changes = compare(decide(oldRules, url, method, headers), decide(newRules, url, method, headers));
    if (Object.keys(changes).length > 0) changed.push({ method, url: url.href, changes });
  }
  return changed;
}

/** The aspects in which two decisions differ. */
export function compare(a: Decision, b: Decision): UrlChange["changes"] {
  const out: UrlChange["changes"] = {};
  const aspects: [Aspect, (d: Decision) => string][] = [
    ["route", (d) => d.route?.name ?? "(none)"],
    ["bypass", bypassText],
    ["key", (d) => d.key?.key.replace("\n", " ") ?? "(not cached)"],
    ["ttl", ttlText],
  ];
  for (const [aspect, text] of aspects) {
    const [x, y] = [text(a), text(b)];
    if (x !== y) out[aspect] = { old: x, new: y };
  }
  return out;
}

function bypassText(d: Decision): string {
  switch (d.outcome) {
    case "cache":
      return "cached";
    case "no-rule":
      return "pass through (no route)";
    case "bypass":
      return `bypass: ${d.bypass!.reason}${d.bypass!.detail ? ` (${d.bypass!.detail})` : ""}`;
    default:
      return d.outcome satisfies never;
  }
}

function ttlText(d: Decision): string {
  if (d.outcome !== "cache" || !d.settings) return "(not cached)";
  const s = d.settings;
  const status = Object.entries(s.status).map(([c, t]) => ` ${c}=${t}`).join("");
  return `edge=${s.ttl.edge ?? "origin"} kv=${s.ttl.kv} browser=${s.ttl.browser ?? "origin"} origin=${s.origin} swr=${s.staleWhileRevalidate} sie=${s.staleIfError}${status}`;
}
