/**
 * The reserved admin prefix, recognized in every spelling a client or an origin
 * might treat as the same path: any case, percent-encoded, with dot segments,
 * doubled slashes or `;` path parameters. Anything that could be read as admin is admin, so it is never
 * cached and never reaches the origin.
 */
export const ADMIN_PREFIX = "/.edge-cache/";

/**
 * The path as an origin might read it: decoded (repeatedly), `\` as `/`, `;…` path
 * parameters cut from each segment, slashes folded, dot segments resolved.
 */
export function canonicalPath(pathname: string): string {
  let p = pathname;
  for (let i = 0; i < 3; i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      decoded = p.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    }
    if (decoded === p) break;
    p = decoded;
  }
  // RFC 3986 §3.3 lets a segment carry `;` parameters, and servlet containers (Tomcat,
  // Jetty) drop them before routing: `/.edge-cache;x/purge` is `/.edge-cache/purge` there,
  // and `..;` is `..`. Cut them before dot segments are resolved.
  p = p.replace(/\\/g, "/").split("/").map((seg) => seg.replace(/;.*$/s, "")).join("/").replace(/\/{2,}/g, "/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    // RFC 3986 §5.2.4: `..` at the root stays at the root.
    if (seg === "..") {
      if (out.length > 1) out.pop();
    }
    else if (seg !== ".") out.push(seg);
  }
  return out.join("/").toLowerCase() || "/";
}

/** The admin route name (`purge`, `explain`, `rules`) when the path is under the prefix, else null. */
export function adminPath(pathname: string): string | null {
  // Runs on every request: a path with no escape, backslash or `;`, and no segment
  // starting with `.` reads the same in every spelling, so it is admin only if it
  // says so, and `/.` is how the prefix starts.
  if (!pathname.includes("/.") && !/[%\\;]/.test(pathname)) return null;
  const p = canonicalPath(pathname);
  const bare = ADMIN_PREFIX.slice(0, -1);
  if (p === bare) return "";
  if (!p.startsWith(ADMIN_PREFIX)) return null;
  return p.slice(ADMIN_PREFIX.length).replace(/\/$/, "");
}
