/**
 * The test's handle on the scripted origin (test/support/origin-server.ts), usable
 * from inside workerd: every call is an HTTP request to its control API.
 */
import { inject } from "vitest";
import type { RecordedRequest, ScriptedResponse } from "./scripted";

export type { ScriptedResponse, RecordedRequest };
export { patternBytes } from "./scripted";

let counter = 0;

export const origin = {
  get url(): string {
    return inject("originUrl");
  },
  /** A path no other test uses, so that tests never share cache entries or counts. */
  path(name = "p"): string {
    return `${this.prefix()}/${name}`;
  },
  /** A first path segment no other test uses (`/t…`), for tests that need several paths under one prefix. */
  prefix(): string {
    counter += 1;
    return `/t${Date.now().toString(36)}${crypto.randomUUID().slice(0, 8)}-${counter}`;
  },
  async script(path: string, ...responses: ScriptedResponse[]): Promise<void> {
    const r = await fetch(`${this.url}/__control/script`, {
      method: "POST",
      body: JSON.stringify({ path, responses }),
    });
    if (!r.ok) throw new Error(`origin script failed: ${r.status}`);
    await r.body?.cancel();
  },
  async requests(path: string): Promise<RecordedRequest[]> {
    const r = await fetch(`${this.url}/__control/requests?path=${encodeURIComponent(path)}`);
    return ((await r.json()) as { requests: RecordedRequest[] }).requests;
  },
  async count(path: string): Promise<number> {
    return (await this.requests(path)).length;
  },
  /** How many responses for `path` are waiting for `release`. */
  async held(path: string): Promise<number> {
    const r = await fetch(`${this.url}/__control/held?path=${encodeURIComponent(path)}`);
    return ((await r.json()) as { count: number }).count;
  },
  async release(path: string): Promise<void> {
    const r = await fetch(`${this.url}/__control/release?path=${encodeURIComponent(path)}`, { method: "POST" });
    await r.body?.cancel();
  },
};
