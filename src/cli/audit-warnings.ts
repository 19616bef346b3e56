/**
 * What `edge-cache audit` tells a site owner to fix: one small check per finding, each
 * reading an audited URL (audit-url.ts) and saying what happens and what to change.
 * Pure. `error` is reserved for a URL that could not be audited at all.
 */
import { governingDirectives } from "../policy/cache-control";
import { deceptive } from "../policy/deception";
import { parseCookies } from "../http/fields";
import type { AuditResult } from "./audit-url";

export type WarningCode =
  | "unreachable"
  | "origin-error"
  | "set-cookie"
  | "asset-not-cacheable"
  | "vary-user-agent"
  | "vary-cookie"
  | "html-no-validators"
  | "content-type-mismatch"
  | "fingerprint-not-immutable"
  | "redirect-chain"
  | "conditional-ignored";

export interface Finding {
  code: WarningCode;
  severity: "error" | "warning";
  message: string;
  fix: string;
}

/** An hour: HTML kept at least this long should be revalidated cheaply. */
const LONG_LIVED_HTML = 3600;

/** Page extensions (and none at all): everything else with an extension is an asset. */
const PAGE_EXTENSIONS = new Set(["", "html", "htm", "xhtml", "php", "asp", "aspx", "jsp", "cgi", "pl", "shtml"]);
const ASSET_TYPE = /^(image|font|audio|video)\/|^text\/css|javascript|^application\/(wasm|pdf|font)/;

/** `app.3f9a2c1b.js`, `main-BXk29_aQ.css`, `chunk.5e1f0c2d9a.mjs`: a content hash in the name. */
const FINGERPRINT = /[.-](?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[a-zA-Z])[A-Za-z0-9_]{8,}\.[a-z0-9]+$|[.-][0-9a-f]{8,}\.[a-z0-9]+$/;

type Check = (r: AuditResult & { origin: NonNullable<AuditResult["origin"]> }, h: Headers) => Finding | null;

const warning = (code: WarningCode, message: string, fix: string): Finding => ({ code, severity: "warning", message, fix });

const CHECKS: readonly Check[] = [
  function originError({ origin }) {
    return origin.status >= 500 ? warning("origin-error", `the origin answered ${origin.status}`, "fix the page at the origin before it goes live; the cache serves errors as the origin sends them") : null;
  },
  function setCookie({ decision, storage }, h) {
    if (decision.outcome !== "cache" || !h.has("set-cookie")) return null;
    const names = h.getSetCookie().map((c) => [...parseCookies(c.split(";")[0] ?? "").keys()][0]).filter(Boolean).join(", ");
    if (storage?.reason === "set-cookie") {
      return warning(
        "set-cookie",
        `answers with Set-Cookie (${names}) on route "${decision.route!.name}", which stores: never stored, every request goes to the origin`,
        "set no cookie for anonymous visitors on this URL; bypass the route for visitors who carry the cookie (bypass.cookies); or, if the cookie is the same for everyone, stripSetCookie",
      );
    }
    return storage?.stored
      ? warning("set-cookie", `answers with Set-Cookie (${names}); stored without it (stripSetCookie): visitors served from the cache never get the cookie`, "make sure the cookie is not needed per visitor, or bypass this route for visitors without it")
      : null;
  },
  function assetNotCacheable(r, h) {
    if (!isAsset(r, h) || r.origin.status !== 200) return null;
    const cc = h.get("cache-control") ?? "";
    const { directives } = governingDirectives(h);
    const said = ["private", "no-store", "no-cache"].filter((d) => directives.has(d));
    if (directives.get("max-age") === "0" || directives.get("s-maxage") === "0") said.push("max-age=0");
    if (said.length === 0) return null;
    const effect = r.storage?.stored ? "the cache stores it anyway (its rule decides), but browsers ask again every time" : `not stored (${r.storage?.reason ?? "bypass"}): every request goes to the origin`;
    return warning("asset-not-cacheable", `an asset sent with Cache-Control "${cc}" (${said.join(", ")}): ${effect}`, "serve static assets with Cache-Control: public, max-age=31536000, immutable when their names carry a content hash, or a max-age that fits how often they change");
  },
  function varyUserAgent({ vary, decision }) {
    if (!vary?.some((v) => v.name === "user-agent")) return null;
    const cap = decision.settings?.maxVariants;
    return warning(
      "vary-user-agent",
      `Vary: User-Agent: one stored copy per browser version${cap ? `, ${cap} at most (maxVariants), then requests pass to the origin` : ""}; the hit ratio collapses`,
      "drop User-Agent from Vary; if the page differs by device, key the route on key.device (mobile, tablet, desktop) and have the origin read CF-Device-Type",
    );
  },
  function varyCookie({ vary }) {
    if (!vary?.some((v) => v.name === "cookie")) return null;
    return warning("vary-cookie", "Vary: Cookie: one stored copy per cookie string, in effect one per visitor", "drop Cookie from Vary; bypass the route for the cookies that change the page (bypass.cookies), or key on the one cookie that matters (key.cookies)");
  },
  function htmlNoValidators({ storage, validators }, h) {
    if (!isHtml(h) || !storage?.stored || (storage.lifetime?.lifetime ?? 0) < LONG_LIVED_HTML || validators.etag || validators.lastModified) return null;
    return warning("html-no-validators", `a page kept fresh ${storage.lifetime!.lifetime} s with neither ETag nor Last-Modified: once stale it is downloaded whole again, never confirmed with a 304`, "send an ETag or Last-Modified with pages (most servers and frameworks can)");
  },
  function contentTypeMismatch({ decision, origin }, h) {
    if (origin.status !== 200) return null;
    const path = new URL(decision.key?.url ?? decision.request.url).pathname;
    const type = h.get("content-type");
    if (!deceptive(path, type)) return null;
    return warning(
      "content-type-mismatch",
      `the path ends in .${path.slice(path.lastIndexOf(".") + 1)} but the answer is ${type ?? "without a Content-Type"}: never stored (cache deception armor); an origin that answers pages under static-looking paths lets a visitor's private page be cached`,
      "serve the file with its own Content-Type; if no such file exists, have the origin answer 404 for it rather than a page",
    );
  },
  function fingerprintNotImmutable({ decision, origin }, h) {
    const path = new URL(decision.request.url).pathname;
    if (origin.status !== 200 || !FINGERPRINT.test(path) || governingDirectives(h).directives.has("immutable") || /\bimmutable\b/i.test(h.get("cache-control") ?? "")) return null;
    return warning("fingerprint-not-immutable", "a fingerprinted asset (its name carries a content hash) without immutable: browsers revalidate it on every reload", "add immutable to its Cache-Control (with max-age=31536000): a new build has a new name anyway");
  },
  function redirectChain({ redirects, origin }) {
    if (redirects.length < 2) return null;
    const hops = [origin, ...redirects].map((f) => `${f.status} ${f.url}`).join(" -> ");
    const final = redirects[redirects.length - 1]!;
    return warning("redirect-chain", `${redirects.length} redirects in a row: ${hops}`, `link to ${final.url} directly, or redirect there in one step`);
  },
  function conditionalIgnored({ conditional, validators, origin }) {
    // RFC 9110 §13.2.1: conditionals are ignored for an answer other than 2xx, as they should be.
    if (!conditional || conditional.accepted || origin.status < 200 || origin.status > 299) return null;
    const sent = [validators.etag && "If-None-Match", validators.lastModified && "If-Modified-Since"].filter(Boolean).join(" and ");
    if (conditional.status === 304) {
      const got = conditional.etag === null ? "no ETag" : `ETag ${conditional.etag}`;
      return warning(
        "conditional-ignored",
        `the 304 to ${sent} carries ${got}, the page ${validators.etag === null ? "none" : validators.etag}: they do not select the same response (RFC 9111 §4.3.4), so the cache will not take it and fetches the page whole`,
        "send the 304 with the very ETag of the 200 (a weak W/ one stays weak: a server that compresses on the fly often weakens it in the 200 only)",
      );
    }
    return warning(
      "conditional-ignored",
      `the origin sends validators but answers ${sent} with ${conditional.status}, not 304: every revalidation downloads the whole body`,
      "answer a matching If-None-Match / If-Modified-Since with 304 Not Modified and the same ETag",
    );
  },
];

/** The findings for one audited URL, in a stable order. */
export function findings(r: AuditResult): Finding[] {
  if (!r.origin) return [{ code: "unreachable", severity: "error", message: r.error ?? "no answer", fix: "check the URL and that the origin answers from here (--origin URL names it when the rules do not)" }];
  const origin = r.origin;
  const headers = new Headers(origin.headers);
  return CHECKS.map((check) => check({ ...r, origin }, headers)).filter((f): f is Finding => f !== null);
}

function isHtml(h: Headers): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)/i.test(h.get("content-type") ?? "");
}

function isAsset(r: AuditResult, h: Headers): boolean {
  const last = new URL(r.decision.request.url).pathname.split("/").pop() ?? "";
  const dot = last.lastIndexOf(".");
  const ext = dot < 0 ? "" : last.slice(dot + 1).toLowerCase();
  return !PAGE_EXTENSIONS.has(ext) || ASSET_TYPE.test(h.get("content-type") ?? "");
}
