/**
 * Every relative link and #anchor in the Markdown pages (README.md, docs/, and the
 * root pages ARCHITECTURE.md and SECURITY.md) leads to a file that exists and, for an
 * anchor, to a heading of that page, by GitHub's anchor rules; and the README links
 * to every page under docs/.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cli";

/** GitHub's anchor for a heading: lower case, punctuation dropped (not `-` or `_`), each space a `-`. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The page without its fenced code blocks (links and headings there are examples). */
function prose(text: string): string[] {
  let fenced = false;
  return text.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line;
  });
}

/** The anchors of a page's headings; a repeated heading gets -1, -2, … as on GitHub. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every link target of a page outside code: Markdown links and images, and HTML href/src. */
function links(text: string): string[] {
  const found: string[] = [];
  for (const line of prose(text)) {
    const bare = line.replace(/``.+?``|`[^`]*`/g, "");
    for (const m of bare.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g)) found.push(m[1]!);
    for (const m of bare.matchAll(/\b(?:href|src)="([^"]+)"/g)) found.push(m[1]!);
  }
  return found;
}

/** The broken links of the pages `files` (paths relative to `root`), as "page: target (why)". */
function brokenLinks(root: string, files: string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    for (const target of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path, anchor] = target.split("#", 2) as [string, string | undefined];
      const to = path === "" ? join(root, file) : resolve(dirname(join(root, file)), decodeURIComponent(path));
      if (!to.startsWith(root) || !existsSync(to)) {
        broken.push(`${file}: ${target} (no such file)`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!statSync(to).isFile() || !to.endsWith(".md")) broken.push(`${file}: ${target} (an anchor into a file that is not a page)`);
      else if (!anchors(readFileSync(to, "utf8")).has(anchor)) broken.push(`${file}: ${target} (no such heading in ${relative(root, to)})`);
    }
  }
  return broken;
}

const docsPages = (readdirSync(join(ROOT, "docs"), { recursive: true }) as string[])
  .filter((f) => f.endsWith(".md"))
  .map((f) => `docs/${f}`)
  .sort();

describe("links between the pages", () => {
  it("takes GitHub's anchors from headings", () => {
    expect(slug("Reading `Cache-Status`")).toBe("reading-cache-status");
    expect(slug("Deploy, from zero")).toBe("deploy-from-zero");
    expect(slug("How fast changes reach every location (honestly)")).toBe("how-fast-changes-reach-every-location-honestly");
    expect(slug("`GET`, `PUT`, `DELETE /.edge-cache/rules`")).toBe("get-put-delete-edge-cacherules");
    expect(slug("Settings (in `defaults` or a route)")).toBe("settings-in-defaults-or-a-route");
    expect(slug("kv_min uses: [the guide](x.md)")).toBe("kv_min-uses-the-guide");
    expect([...anchors("# A\n## A\n```\n# not a heading\n```\n### B!")]).toEqual(["a", "a-1", "b"]);
  });

  it("reports a missing page, a missing heading, and nothing that resolves", () => {
    const root = mkdtempSync(join(tmpdir(), "docs-links-"));
    writeFileSync(join(root, "a.md"), "# Top\n## Two words\n");
    writeFileSync(
      join(root, "b.md"),
      [
        "[ok](a.md) [ok](a.md#two-words) [ok](#here) [web](https://example.com/x#y) `[code](gone.md)`",
        "[gone](gone.md) [bad anchor](a.md#three) [bad here](#nowhere)",
        "```",
        "[in a fence](gone.md)",
        "```",
        "## Here",
      ].join("\n"),
    );
    expect(brokenLinks(root, ["a.md", "b.md"])).toEqual([
      "b.md: gone.md (no such file)",
      "b.md: a.md#three (no such heading in a.md)",
      "b.md: #nowhere (no such heading in b.md)",
    ]);
  });

  it("every relative link and anchor in README.md, docs/ and the root pages resolves", () => {
    expect(docsPages.length).toBeGreaterThan(0);
    expect(brokenLinks(ROOT, ["README.md", "ARCHITECTURE.md", "SECURITY.md", ...docsPages])).toEqual([]);
  });

  it("the README links to every page under docs/", () => {
    const linked = new Set(links(readFileSync(join(ROOT, "README.md"), "utf8")).map((t) => t.split("#")[0]));
    expect(docsPages.filter((page) => !linked.has(page))).toEqual([]);
  });
});
