/**
 * Web cache deception armor (as Cloudflare's Cache Deception Armor): a URL that
 * looks like a static file (`/account/profile.css`, `/account;x.css`) must get an
 * answer of that file's type before it is stored, or a private page served there by
 * a lenient origin router would be cached for everyone. Pure.
 */

/** Extension → content types that fit it (a prefix match on the media type). */
const TYPES: Readonly<Record<string, readonly string[]>> = {
  css: ["text/css"],
  js: ["application/javascript", "text/javascript", "application/x-javascript"],
  mjs: ["application/javascript", "text/javascript"],
  map: ["application/json"],
  json: ["application/json", "application/ld+json", "application/manifest+json"],
  webmanifest: ["application/manifest+json", "application/json"],
  xml: ["application/xml", "text/xml"],
  txt: ["text/plain"],
  csv: ["text/csv", "text/plain"],
  png: ["image/png"],
  jpg: ["image/jpeg"],
  jpeg: ["image/jpeg"],
  gif: ["image/gif"],
  webp: ["image/webp"],
  avif: ["image/avif"],
  svg: ["image/svg+xml"],
  ico: ["image/x-icon", "image/vnd.microsoft.icon"],
  bmp: ["image/bmp"],
  woff: ["font/woff", "application/font-woff"],
  woff2: ["font/woff2", "application/font-woff2"],
  ttf: ["font/ttf", "application/x-font-ttf", "font/sfnt"],
  otf: ["font/otf", "application/x-font-opentype", "font/sfnt"],
  eot: ["application/vnd.ms-fontobject"],
  pdf: ["application/pdf"],
  zip: ["application/zip"],
  gz: ["application/gzip", "application/x-gzip"],
  wasm: ["application/wasm"],
  mp4: ["video/mp4"],
  webm: ["video/webm", "audio/webm"],
  mp3: ["audio/mpeg"],
  ogg: ["audio/ogg", "video/ogg"],
  wav: ["audio/wav", "audio/x-wav"],
};

/** Binary types a browser will not render as a page, so a generic binary type fits them too. */
const BINARY = new Set(["png", "jpg", "jpeg", "gif", "webp", "avif", "ico", "bmp", "woff", "woff2", "ttf", "otf", "eot", "pdf", "zip", "gz", "wasm", "mp4", "webm", "mp3", "ogg", "wav"]);

/** The static-file extension of a path's last segment, if it has a known one. */
function staticExtension(pathname: string): string | null {
  const last = pathname.slice(pathname.lastIndexOf("/") + 1);
  const dot = last.lastIndexOf(".");
  if (dot < 0) return null;
  const ext = last.slice(dot + 1).toLowerCase();
  return ext in TYPES ? ext : null;
}

/** True when the path claims a static type and the response's Content-Type does not fit it. */
export function deceptive(pathname: string, contentType: string | null): boolean {
  const ext = staticExtension(pathname);
  if (ext === null) return false;
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "") return true;
  if (type === "application/octet-stream" && BINARY.has(ext)) return false;
  return !(TYPES[ext] ?? []).some((t) => type === t);
}
