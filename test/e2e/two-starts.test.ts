/**
 * Two `npm start` in one checkout (docs/first-rules.md, "Local run"): each port has its own
 * local state, so a second run's rules never serve on the first, and a run that would
 * share another live run's state directory (`--state`) refuses to start, `--fresh`
 * included, leaving the other's state alone.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, npmStart, ROOT, stop, untilRunning, type Started } from "../support/local-server";

const RUN = `run=${Date.now().toString(36)}`;

async function serve(name: string): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=300" });
    res.end(`from ${name}`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function body(url: string): Promise<string> {
  const res = await request(url);
  return res.body.text();
}

describe("two npm start in one checkout", () => {
  const runs: Started[] = [];
  const origins: http.Server[] = [];
  let dir = "";
  let ports: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "edge-cache-two-"));
  });
  afterAll(async () => {
    for (const r of runs) await stop(r);
    for (const o of origins) await new Promise((r) => o.close(r));
    for (const port of ports) await rm(path.join(ROOT, ".wrangler", "state", `port-${port}`), { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  it("on two ports, each serves its own rules and origin", async () => {
    const a = await serve("origin A");
    const b = await serve("origin B");
    origins.push(a.server, b.server);
    ports = [await freePort(), await freePort()];
    const started = [a, b].map(({ url }, i) => {
      const s = npmStart(["--origin", url, "--port", String(ports[i])], {}, { defaultState: true });
      runs.push(s);
      return s;
    });
    // One after the other, as a user would: the second starts while the first serves.
    await untilRunning(started[0]!);
    expect(await body(`http://127.0.0.1:${ports[0]}/page?${RUN}`)).toBe("from origin A");
    await untilRunning(started[1]!);
    expect(started[1]!.output()).toContain(`.wrangler/state/port-${ports[1]}`);
    expect(await body(`http://127.0.0.1:${ports[1]}/other?${RUN}`)).toBe("from origin B");
    // The first still serves its own origin past a rules refresh (every 2 s), on a new URL
    // (no cached answer to hide behind); sharing one state, it served B's rules by now.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await body(`http://127.0.0.1:${ports[0]}/later?${RUN}`)).toBe("from origin A");
  });

  it("a second run on a state directory in use refuses to start, --fresh or not, and the first keeps serving", async () => {
    const origin = await serve("origin C");
    origins.push(origin.server);
    const state = path.join(dir, "state");
    const marker = path.join(state, "keep.txt");
    const port = await freePort();
    const first = npmStart(["--origin", origin.url, "--port", String(port), "--state", state]);
    runs.push(first);
    await untilRunning(first);
    await writeFile(marker, "mine");
    for (const extra of [[], ["--fresh"]]) {
      const second = npmStart(["--origin", origin.url, "--port", String(await freePort()), "--state", state, ...extra]);
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(/is in use by another npm start \(pid \d+, port \d+\); stop it, or give this run its own state with --state DIR/);
    }
    expect(await readFile(marker, "utf8")).toBe("mine");
    expect(await body(`http://127.0.0.1:${port}/still?${RUN}`)).toBe("from origin C");
  });
});
