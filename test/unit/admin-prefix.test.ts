/**
 * The admin prefix is recognized in every spelling an origin might read as the same
 * path (case, percent-encoding, doubled slashes, dot segments, backslashes), and in
 * no other. A miss here means an admin path cached or sent to the origin.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADMIN_PREFIX, adminPath, canonicalPath } from "../../src/admin/prefix";

/** What the Worker passes in: the pathname as the URL parser leaves it. */
const viaUrl = (path: string) => adminPath(new URL(`https://x.test${path}`).pathname);

describe("adminPath: spellings that are admin", () => {
  it.each<[string, string, string]>([
    ["the plain prefix", "/.edge-cache/purge", "purge"],
    ["the prefix alone, with its slash", "/.edge-cache/", ""],
    ["the prefix alone, without its slash", "/.edge-cache", ""],
    ["a trailing slash", "/.edge-cache/purge/", "purge"],
    ["deeper paths", "/.edge-cache/explain/x", "explain/x"],
    ["any case", "/.EDGE-CACHE/purge", "purge"],
    ["any case, the route name too", "/.Edge-Cache/PURGE", "purge"],
    ["an encoded dot", "/%2eedge-cache/purge", "purge"],
    ["an encoded dot, upper-case hex", "/%2Eedge-cache/purge", "purge"],
    ["every character encoded", "/%2e%65%64%67%65%2d%63%61%63%68%65/purge", "purge"],
    ["a double-encoded dot", "/%252eedge-cache/", ""],
    ["a triple-encoded dot", "/%25252eedge-cache/purge", "purge"],
    ["an encoded slash after the prefix", "/.edge-cache%2fpurge", "purge"],
    ["an encoded slash before the prefix", "/%2f.edge-cache/purge", "purge"],
    ["doubled slashes", "//.edge-cache//purge", "purge"],
    ["many slashes", "///.edge-cache///purge//", "purge"],
    ["a dot segment", "/./.edge-cache/purge", "purge"],
    ["a dot-dot segment", "/x/../.edge-cache/purge", "purge"],
    ["encoded dot-dot segments", "/x/%2e%2e/.edge-cache/purge", "purge"],
    ["a backslash", "/.edge-cache\\purge", "purge"],
    ["backslashes only", "\\.edge-cache\\purge", "purge"],
    ["an encoded backslash", "/.edge-cache%5cpurge", "purge"],
    ["invalid UTF-8 elsewhere in the path does not hide it", "/%E9/../.edge-cache/purge", "purge"],
    // RFC 3986 §5.2.4: "/../g" resolves to "/g": a dot-dot at the root stays at the root.
    ["RFC 3986 §5.2.4 a dot-dot at the root", "/../.edge-cache/purge", "purge"],
    ["RFC 3986 §5.2.4 more dot-dots than segments", "/a/../../.edge-cache/purge", "purge"],
    ["RFC 3986 §5.2.4 an encoded dot-dot and slash at the root", "/%2e%2e%2f.edge-cache/purge", "purge"],
    ["RFC 3986 §5.2.4 a double-encoded dot-dot at the root", "/%252e%252e/.edge-cache/purge", "purge"],
    ["a ;parameter on the prefix (servlet containers drop it)", "/.edge-cache;x/purge", "purge"],
    ["a ;parameter on the prefix alone", "/.edge-cache;jsessionid=1", ""],
    ["an empty ;parameter", "/.edge-cache;/", ""],
    ["an encoded ;parameter", "/.edge-cache%3bx/purge", "purge"],
    ["a ;parameter on the endpoint", "/.edge-cache/purge;x", "purge"],
    ["a ..;parameter segment", "/x/..;y/.edge-cache/purge", "purge"],
    ["a ;parameter segment before the prefix", "/;x/.edge-cache/purge", "purge"],
  ])("%s: %s → %j", (_name, path, expected) => {
    expect(adminPath(path)).toBe(expected);
  });

  it.each([
    "/.EDGE-CACHE/purge",
    "/%2eedge-cache/purge",
    "/%252eedge-cache/",
    "//.edge-cache//purge",
    "/x/../.edge-cache/purge",
    "/.edge-cache",
    "/.edge-cache\\purge",
    "/%2e%2e%2f.edge-cache/purge",
    "/.edge-cache;x/purge",
    "/.EDGE-CACHE;a=b;c/rules",
  ])("through the URL parser too: %s", (path) => {
    expect(viaUrl(path)).not.toBeNull();
  });
});

describe("adminPath: near misses that are not admin", () => {
  it.each<[string, string]>([
    ["a longer first segment", "/.edge-cacheX/"],
    ["a longer first segment, no slash", "/.edge-cachex"],
    ["without the dot", "/edge-cache/"],
    ["without the dot, encoded", "/%65dge-cache/purge"],
    ["a suffix on the name", "/a/.edge-cache-not/"],
    ["a ;parameter that is not at a segment's end", "/.edge-cachex;/purge"],
    ["not at the root", "/a/.edge-cache/purge"],
    ["a different separator", "/.edge_cache/purge"],
    ["an ordinary page", "/blog/hello"],
    ["the root", "/"],
    ["empty", ""],
  ])("%s: %s", (_name, path) => {
    expect(adminPath(path)).toBeNull();
  });
});

describe("canonicalPath", () => {
  it.each<[string, string]>([
    ["/", "/"],
    ["", "/"],
    ["/A/B", "/a/b"],
    ["//a///b", "/a/b"],
    ["/a/./b/../c", "/a/c"],
    ["/a\\b", "/a/b"],
    ["/caf%C3%A9", "/café"],
    ["/%zz", "/%zz"],
  ])("%j → %j", (input, expected) => {
    expect(canonicalPath(input)).toBe(expected);
  });

  it("always starts with '/' and never holds '//', '\\', or a '.' or '..' segment", () => {
    const piece = fc.constantFrom("a", "B", ".", "..", "/", "\\", "%2e", "%2E", "%2f", "%5c", "%25", "%252e", "%E9", "", "x y");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const p = canonicalPath(`/${pieces.join("")}`);
        expect(p.startsWith("/")).toBe(true);
        expect(p).not.toMatch(/\/\/|\\/);
        expect(p.split("/")).not.toContain("..");
        expect(p.split("/")).not.toContain(".");
      }),
      { numRuns: 1000 },
    );
  });

  it("finds the prefix behind any mix of noise that resolves away", () => {
    // Noise that an origin would remove: dot segments, doubled slashes, x/.. pairs, encodings of them.
    const noise = fc.constantFrom("/.", "/", "/x/..", "/%2e", "/x/%2e%2e", "\\", "/../", "/%2e%2e");
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 5 }), fc.boolean(), (before, upper) => {
        const prefix = upper ? ADMIN_PREFIX.toUpperCase() : ADMIN_PREFIX;
        expect(adminPath(`${before.join("")}${prefix}purge`)).toBe("purge");
      }),
      { numRuns: 500 },
    );
  });
});
