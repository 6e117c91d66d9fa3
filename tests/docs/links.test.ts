// The README and docs/*.md: every relative link and #anchor resolves to a file and a heading
// (GitHub's anchor rules), and every page in docs/ can be reached from the README.
import { existsSync, readdirSync, readFileSync, statSync } from "fs";
import { dirname, join, relative, resolve } from "path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "..", "..");
const DOCS = join(ROOT, "docs");

/** The page's lines outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  const lines: string[] = [];
  for (const line of markdown.split("\n")) {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (marker && (!fence || marker.startsWith(fence))) fence = fence ? undefined : marker;
    else if (!fence) lines.push(line);
  }
  return lines;
}

/** GitHub's anchor for a heading's text: rendered text, lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[`*]/g, "")
    .replace(/(^|\s)_+|_+(\s|$)/g, "$1$2");
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a page offers: its headings' slugs (repeats get -1, -2, ...) and explicit ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
  }
  return anchors;
}

/** The targets of a page's inline links, outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  return proseLines(markdown).flatMap((line) =>
    [...line.replace(/`[^`]*`/g, "").matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]),
  );
}

/** What is wrong with a page's links, one line each; `read` returns a file's text or undefined when there is none. */
function brokenLinks(page: string, markdown: string, read: (file: string) => string | undefined): string[] {
  const problems: string[] = [];
  for (const link of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:: not checked offline
    const [path, anchor] = link.split("#", 2) as [string, string | undefined];
    const target = path === "" ? page : resolve(dirname(page), decodeURIComponent(path));
    const text = read(target);
    if (text === undefined) {
      problems.push(`${relative(ROOT, page)}: ${link}: no such file`);
      continue;
    }
    if (anchor !== undefined && target.endsWith(".md") && !anchorsOf(text).has(anchor))
      problems.push(`${relative(ROOT, page)}: ${link}: no heading with that anchor in ${relative(ROOT, target)}`);
  }
  return problems;
}

function readRepoFile(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return statSync(file).isDirectory() ? "" : readFileSync(file, "utf8");
}

const README = join(ROOT, "README.md");
const PAGES = [
  README,
  ...readdirSync(DOCS)
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(DOCS, name)),
];

describe("the README and docs/*.md", () => {
  it.each(PAGES.map((page) => [relative(ROOT, page), page]))(
    "%s: every relative link and anchor resolves",
    (_, page) => {
      expect(brokenLinks(page, readFileSync(page, "utf8"), readRepoFile)).toEqual([]);
    },
  );

  it("every page in docs/ can be reached from the README", () => {
    const reached = new Set([README]);
    const queue = [README];
    for (let page = queue.shift(); page; page = queue.shift())
      for (const link of linksOf(readFileSync(page, "utf8"))) {
        const target = resolve(dirname(page), link.split("#")[0]);
        if (PAGES.includes(target) && !reached.has(target)) {
          reached.add(target);
          queue.push(target);
        }
      }
    expect(PAGES.filter((page) => !reached.has(page)).map((page) => relative(ROOT, page))).toEqual([]);
  });

  it("the checker catches a missing file, a missing heading and a repeated heading's anchor", () => {
    const page = join(DOCS, "example.md");
    const files: Record<string, string> = {
      [join(DOCS, "other.md")]: "# Other\n\n## Step by step\n\n## Step by step\n\n```\n# not a heading\n```\n",
    };
    const read = (file: string) => files[file];
    const markdown = [
      "[ok](other.md#step-by-step) [repeat](other.md#step-by-step-1) [top](other.md)",
      "[gone](missing.md) [no heading](other.md#not-a-heading) [third](other.md#step-by-step-2)",
      "`[in code](missing.md)` [web](https://example.org/missing)",
    ].join("\n");
    expect(brokenLinks(page, markdown, read)).toEqual([
      "docs/example.md: missing.md: no such file",
      "docs/example.md: other.md#not-a-heading: no heading with that anchor in docs/other.md",
      "docs/example.md: other.md#step-by-step-2: no heading with that anchor in docs/other.md",
    ]);
  });

  it("anchors follow GitHub's rules: code spans, punctuation and links dropped, spaces to hyphens", () => {
    expect([
      ...anchorsOf("## What `pulumi destroy` keeps, and why\n## Operating a deployed stack (`openemr-ops`)"),
    ]).toEqual(["what-pulumi-destroy-keeps-and-why", "operating-a-deployed-stack-openemr-ops"]);
    expect(slug("On-prem (a clinic's own Debian 13 server)")).toBe("on-prem-a-clinics-own-debian-13-server");
    expect(slug("The `openemr_drill` database: [docs](x.md)")).toBe("the-openemr_drill-database-docs");
  });
});

describe("the README's test command", () => {
  it("is `sudo bash .ci/run`, the command the skipped host tests name", () => {
    const readme = readFileSync(README, "utf8");
    const command = /## Run the tests[\s\S]*?```sh\n([^\n]+)\n```/.exec(readme)?.[1];
    expect(command).toBe("sudo bash .ci/run");
    expect(readFileSync(join(ROOT, "vitest.config.mjs"), "utf8")).toContain(`run ${command}`);
  });
});
