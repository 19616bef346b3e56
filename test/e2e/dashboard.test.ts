/**
 * The dashboard in a real browser: Debian's Chromium, driven by playwright-core (which
 * downloads nothing), against `npm start` with the demo origin. The run has a site
 * name of its own, so the counters it reads are its own traffic's.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, npmStart, ROOT, stop, untilRunning, type Started } from "../support/local-server";

const TOKEN = "dashboard-test-token-0123456789abcdef";
const RUN = `run=${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const OUTPUT = path.join(ROOT, "test-results", "dashboard");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Everything the page's origin keeps where another page of the site could read it. */
const storage = (page: Page) =>
  page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage), cookie: document.cookie }));
const NOTHING_STORED = { session: [], local: [], cookie: "" };

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.headers.get("cache-status") ?? "";
}

describe("the dashboard in Chromium", () => {
  let s: Started | undefined;
  let base = "";
  let profile = "";
  let browser: BrowserContext | undefined;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (.ci/run does it), or set CHROMIUM_PATH`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    s = npmStart(["--port", String(port), "--admin-token", TOKEN], { SITE_NAME: `dashboard-${RUN}` });
    await untilRunning(s);
    profile = await mkdtemp(path.join(os.tmpdir(), "edge-cache-chromium-"));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1200, height: 1400 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    // The browser's own favicon request is no page's error (the demo site has none).
    page.on("console", (m) => m.type() === "error" && !m.location().url.endsWith("/favicon.ico") && consoleErrors.push(m.text()));
    page.on("pageerror", (e) => consoleErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await stop(s);
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it("loads without console errors, takes the token from the fragment, hides it, and keeps it in no storage", async () => {
    await page.goto(`${base}/.edge-cache/#token=${TOKEN}`);
    await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Updated"));
    expect(page.url()).toBe(`${base}/.edge-cache/`);
    expect(await storage(page)).toEqual(NOTHING_STORED);
    expect(await browser!.cookies()).toEqual([]);
    expect(await page.locator("#rules-routes li").allTextContents()).toEqual(["assets", "api", "slow", "pages"]);
    expect(consoleErrors).toEqual([]);
  });

  it("shows the numbers of the test's own traffic", async () => {
    // 3 of a stored asset (1 miss, 2 hits), 2 never stored (private, Set-Cookie), 2 bypassed (session cookie).
    expect(await get(`${base}/assets/app.js?${RUN}`)).toContain("stored");
    for (let i = 0; i < 2; i++) expect(await get(`${base}/assets/app.js?${RUN}`)).toMatch(/\bhit\b|collapsed/);
    expect(await get(`${base}/private?${RUN}`)).toContain("fwd=uri-miss");
    expect(await get(`${base}/account?${RUN}`)).toContain("fwd=uri-miss");
    for (let i = 0; i < 2; i++) expect(await get(`${base}/blog/hello?${RUN}`, { cookie: "session=abc" })).toContain("fwd=bypass");

    await page.click("#refresh");
    await page.waitForFunction(() => document.getElementById("total-requests")?.textContent === "7");
    const text = async (id: string) => (await page.locator(`#total-${id}`).textContent())?.trim();
    expect(await text("hits")).toBe("2 (2 / 0)");
    expect(await text("misses")).toBe("3");
    expect(await text("bypass")).toBe("2");
    expect(await text("errors")).toBe("0");
    expect(await page.locator('tr[data-route="assets"] td').first().textContent()).toBe("3");
    const misses = await page.locator("#misses tr").allTextContents();
    expect(misses.some((row) => row.includes(`/blog/hello?run`) && row.includes("cookie"))).toBe(true);
    expect(misses.join("\n")).not.toContain("session=abc");
    expect(consoleErrors).toEqual([]);
  });

  it("a purge from the form takes effect", async () => {
    const url = `${base}/assets/app.js?${RUN}`;
    expect(await get(url)).toContain("hit");
    await page.selectOption("#purge-kind", "urls");
    await page.fill("#purge-values", url);
    await page.click("#purge-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("purge-result")?.textContent?.startsWith("Purged at"));
    expect(await get(url)).toContain("fwd=uri-miss");
    await page.waitForFunction((u) => [...document.querySelectorAll("#purges li")].some((li) => li.textContent?.includes(u)), url);
    expect(consoleErrors).toEqual([]);
  });

  it("tries a rules file on the sampled traffic", async () => {
    const rules = JSON.parse(await readFile(path.join(ROOT, "config/demo.routes.json"), "utf8")) as { routes: { name: string; ttl?: { edge?: number } }[] };
    rules.routes.find((r) => r.name === "assets")!.ttl = { edge: 600 };
    await page.fill("#try-rules", JSON.stringify(rules));
    await page.click("#try-form button[type=submit]");
    await page.waitForFunction(() => / recent requests would change/.test(document.getElementById("try-result")?.textContent ?? ""));
    const rows = await page.locator("#try-changes tr").allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes("/assets/app.js") && r.includes("ttl"))).toBe(true);
    await page.fill("#try-rules", "{ not json");
    await page.click("#try-form button[type=submit]");
    await page.waitForFunction(() => /invalid/.test(document.getElementById("try-result")?.textContent ?? ""));
    expect(consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });

  it("a site page opened in the same tab finds no token; back on the dashboard it is typed again, and still not stored", async () => {
    // What a third-party tag or an XSS on any page of the site could read.
    await page.goto(`${base}/blog/hello?${RUN}`);
    expect(await storage(page)).toEqual(NOTHING_STORED);
    expect(await browser!.cookies()).toEqual([]);
    // The demo page's own errors are not the dashboard's.
    const before = consoleErrors.length;
    await page.goto(`${base}/.edge-cache/`);
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "Enter the admin token to see the statistics.");
    await page.fill("#token", TOKEN);
    await page.click("#token-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Updated"));
    expect(await page.inputValue("#token")).toBe("");
    expect(await storage(page)).toEqual(NOTHING_STORED);
    expect(await browser!.cookies()).toEqual([]);
    expect(consoleErrors.slice(before)).toEqual([]);
  });

  it("writes a screenshot to the test's output folder", async () => {
    await mkdir(OUTPUT, { recursive: true });
    const file = path.join(OUTPUT, "dashboard.png");
    await page.screenshot({ path: file, fullPage: true });
    expect(existsSync(file)).toBe(true);
  });
});
