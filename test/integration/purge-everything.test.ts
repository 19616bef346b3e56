import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { origin } from "../support/origin";

// In a file of its own: a purge of everything reaches every entry this file's KV holds.
describe("purge everything", () => {
  const routes = [
    { name: "edge-only", match: { path: "/e/*" }, ttl: { edge: 600, kv: 0 } },
    { name: "kv-only", match: { path: "/k/*" }, ttl: { edge: 0, kv: 3600 } },
    { name: "both", match: { path: "/*" }, ttl: { edge: 600, kv: 3600 } },
  ];
  const headers = { "cache-control": "max-age=600" };

  it("soft, then hard: stale first (revalidated), then gone, in every tier", async () => {
    const h = adminHarness({ routes });
    const id = crypto.randomUUID().slice(0, 8);
    const paths = [`/e/${id}`, `/k/${id}`, `/${id}/both`];
    for (const p of paths) {
      await origin.script(p, { body: "v{n}", headers: { ...headers, etag: '"same"' } }, { status: 304, headers: { ...headers, etag: '"same"' } });
      await h.get(p);
      expect((await h.get(p)).cacheStatus).toMatch(/^edge-cache; hit;/);
    }

    h.clock.advance(1);
    const soft = await h.purge({ everything: true, soft: true });
    expect(soft.status).toBe(200);
    expect(soft.json).toMatchObject({ purged: { kind: "everything", soft: true }, deleted: 0, warnings: [] });
    h.clock.advance(1);
    for (const p of paths) {
      const res = await h.get(p);
      expect(res.cacheStatus).toMatch(/^edge-cache; fwd=stale; fwd-status=304/);
      expect(res.text).toBe("v1");
    }

    h.clock.advance(1);
    await origin.script(`/e/${id}`, { body: "new", headers });
    await origin.script(`/k/${id}`, { body: "new", headers });
    await origin.script(`/${id}/both`, { body: "new", headers });
    const hard = await h.purge({ everything: true });
    expect(hard.json).toMatchObject({ purged: { kind: "everything", soft: false } });
    h.clock.advance(1);
    for (const p of paths) {
      const res = await h.get(p);
      expect(res.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
      expect(res.text).toBe("new");
      expect((await h.get(p)).cacheStatus).toMatch(/^edge-cache; hit;/);
    }
  });
});
