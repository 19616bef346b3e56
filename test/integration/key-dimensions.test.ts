/**
 * `key.device`, `key.country` and `key.language` through the Worker: each splits the
 * cache into a few variants, and the origin receives the value under the header an
 * origin built for Cloudflare expects.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const PIXEL = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const IPAD = "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1";
const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const GOOGLEBOT_PHONE = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.60 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

const ua = (agent: string) => ({ headers: { "user-agent": agent } });

describe("key.device", () => {
  const h = harness({ defaults: { ttl: { edge: 600 } }, routes: [{ name: "pages", match: { path: "/*" }, key: { device: true } }] });

  it("keeps one entry per device class; the origin receives CF-Device-Type", async () => {
    const path = origin.path();
    await origin.script(path, { body: "{n}" }, { body: "{n}" }, { body: "{n}" }, { body: "{n}" });
    expect((await h.get(path, ua(IPHONE))).text).toBe("1");
    expect((await h.get(path, ua(CHROME))).text).toBe("2");
    expect((await h.get(path, ua(IPAD))).text).toBe("3");
    const pixel = await h.get(path, ua(PIXEL));
    expect(pixel.text).toBe("1");
    expect(pixel.cacheStatus).toMatch(/^edge-cache; hit;/);
    // A crawler claiming a phone gets the desktop page.
    expect((await h.get(path, ua(GOOGLEBOT_PHONE))).text).toBe("2");
    expect((await h.get(path)).text).toBe("2");
    const seen = await origin.requests(path);
    expect(seen.map((r) => r.headers["cf-device-type"])).toEqual(["mobile", "desktop", "tablet"]);
  });

  it("a client's own CF-Device-Type is replaced by the class of its User-Agent", async () => {
    const path = origin.path();
    await h.get(path, { headers: { "user-agent": CHROME, "cf-device-type": "mobile" } });
    const [seen] = await origin.requests(path);
    expect(seen?.headers["cf-device-type"]).toBe("desktop");
  });
});

describe("key.country", () => {
  const h = harness({
    defaults: { ttl: { edge: 600 } },
    routes: [
      { name: "grouped", match: { path: "/:t/grouped" }, key: { country: { groups: { eu: ["DE", "FR"], na: ["US", "CA"] }, other: "row" } } },
      { name: "plain", match: { path: "/*" }, key: { country: true } },
    ],
  });
  const from = (country?: string) => (country === undefined ? {} : { cf: { country } });

  it("splits by request.cf.country; XX where there is none; the origin receives CF-IPCountry", async () => {
    const path = origin.path();
    await origin.script(path, { body: "{n}" }, { body: "{n}" }, { body: "{n}" });
    expect((await h.get(path, from("DE"))).text).toBe("1");
    expect((await h.get(path, from("FR"))).text).toBe("2");
    expect((await h.get(path, from("DE"))).text).toBe("1");
    expect((await h.get(path)).text).toBe("3");
    const seen = await origin.requests(path);
    expect(seen.map((r) => r.headers["cf-ipcountry"])).toEqual(["DE", "FR", "XX"]);
  });

  it("grouped: one entry per group, the group's name sent as CF-IPCountry", async () => {
    const t = origin.prefix().slice(1);
    const path = `/${t}/grouped`;
    await origin.script(path, { body: "{n}" }, { body: "{n}" }, { body: "{n}" });
    expect((await h.get(path, from("DE"))).text).toBe("1");
    expect((await h.get(path, from("FR"))).text).toBe("1");
    expect((await h.get(path, from("CA"))).text).toBe("2");
    expect((await h.get(path, from("JP"))).text).toBe("3");
    expect((await h.get(path)).text).toBe("3");
    const seen = await origin.requests(path);
    expect(seen.map((r) => r.headers["cf-ipcountry"])).toEqual(["eu", "na", "row"]);
  });
});

describe("key.language", () => {
  const h = harness({ defaults: { ttl: { edge: 600 } }, routes: [{ name: "pages", match: { path: "/*" }, key: { language: ["en", "fr", "de"] } }] });
  const lang = (value: string) => ({ headers: { "accept-language": value } });

  it("at most one variant per offered language, whatever clients send, even when the origin sends Vary", async () => {
    const path = origin.path();
    const vary = { body: "{n}", headers: { vary: "Accept-Language" } };
    await origin.script(path, vary, vary, vary, vary);
    expect((await h.get(path, lang("fr-FR,fr;q=0.9,en;q=0.8"))).text).toBe("1");
    expect((await h.get(path, lang("de-AT, de;q=0.9"))).text).toBe("2");
    expect((await h.get(path, lang("fr"))).text).toBe("1");
    expect((await h.get(path, lang("es, fr;q=0.3"))).text).toBe("1");
    expect((await h.get(path, lang("ja"))).text).toBe("3");
    expect((await h.get(path)).text).toBe("3");
    expect((await h.get(path, lang("en-GB,en;q=0.9"))).text).toBe("3");
    const seen = await origin.requests(path);
    expect(seen.map((r) => r.headers["accept-language"])).toEqual(["fr", "de", "en"]);
  });
});
