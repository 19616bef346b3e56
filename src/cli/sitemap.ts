/**
 * The page URLs of a sitemap (sitemaps.org): `<loc>` of a `<urlset>`, and of each
 * sitemap a `<sitemapindex>` lists (one level, as search engines read them). A
 * gzipped sitemap (`sitemap.xml.gz`) is read too.
 */
import { gunzipSync } from "node:zlib";

const TIMEOUT_MS = 30_000;

/** Up to `limit` URLs, in document order; throws an Error that says what went wrong. */
export async function sitemapUrls(sitemap: URL, limit: number): Promise<URL[]> {
  const text = await fetchXml(sitemap);
  const out: URL[] = [];
  if (/<sitemapindex[\s>]/.test(text)) {
    for (const child of locs(text, sitemap)) {
      if (out.length >= limit) break;
      out.push(...locs(await fetchXml(child), child).slice(0, limit - out.length));
    }
  } else out.push(...locs(text, sitemap).slice(0, limit));
  if (out.length === 0) throw new Error(`${sitemap.href} lists no URLs (no <loc> in a <urlset>)`);
  return out;
}

async function fetchXml(url: URL): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new Error(`cannot fetch the sitemap ${url.href}: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
  }
  if (!res.ok) throw new Error(`the sitemap ${url.href} answered ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // A .gz file is served as application/gzip, not Content-Encoding: fetch leaves it compressed.
  return new TextDecoder().decode(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes);
}

/** The absolute http(s) URLs in `<loc>` elements, XML entities decoded. */
function locs(xml: string, base: URL): URL[] {
  const out: URL[] = [];
  for (const [, raw] of xml.matchAll(/<loc>\s*(?:<!\[CDATA\[)?([\s\S]*?)(?:\]\]>)?\s*<\/loc>/g)) {
    const text = raw!.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" })[e]!);
    try {
      const url = new URL(text, base);
      if (url.protocol === "http:" || url.protocol === "https:") out.push(url);
    } catch {
      // A malformed <loc> is skipped, as crawlers do.
    }
  }
  return out;
}
