/**
 * @file The design lives in the repository (docs/architecture.md#the-design-lives-in-the-repository):
 * no file cites the design document of the team that wrote the library, or any path
 * outside the repository, and every section of `docs/architecture.md` that a file cites
 * by its anchor is a heading of that page, as is every `#anchor` link inside it.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
/** Folders that are not the repository's text: git's, packages, build and demo output. */
const SKIPPED = new Set([".git", "node_modules", "dist", "out", ".gl", ".whl"]);
/** Files read as text: sources, docs, configuration, and CI's scripts (no extension). */
const TEXT = /\.(ts|js|md|json|html|rst)$|^\.ci\/[a-z]+$/;

/** Every text file of the repository, as a path relative to its root. */
async function textFiles(dir = root): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && !SKIPPED.has(entry.name)) files.push(...await textFiles(path));
    else if (entry.isFile && TEXT.test(relative(root, path))) files.push(relative(root, path));
  }
  return files;
}

const files = await textFiles();
const texts = new Map(
  await Promise.all(files.map(async (f) => [f, await Deno.readTextFile(join(root, f))] as const)),
);

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

const architecture = texts.get(join("docs", "architecture.md")) ?? "";
const anchors = new Set(
  [...architecture.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])),
);

/** `file:line: text` for each match of `pattern` in the repository's text files. */
function citations(pattern: RegExp): { where: string; match: RegExpMatchArray }[] {
  return [...texts].flatMap(([file, text]) =>
    [...text.matchAll(pattern)].map((match) => ({
      where: `${file}:${text.slice(0, match.index).split("\n").length}`,
      match,
    }))
  );
}

Deno.test("docs: the design is cited from the repository, never from outside it", async (t) => {
  await t.step("the repository has the page and its sections", () => {
    assert.ok(files.length > 100, `read ${files.length} files`);
    for (const section of ["layers", "invariants", "adding-an-elementwise-op"]) {
      assert.ok(anchors.has(section), `docs/architecture.md has no section #${section}`);
    }
  });

  await t.step("no file cites the team's design document", () => {
    // Spelled in two pieces, so that this file does not cite it either.
    const design = new RegExp(`${"DESIGN"}(\\.md|,? principles?)`, "g");
    assert.deepStrictEqual(citations(design).map((c) => `${c.where}: ${c.match[0]}`), []);
  });

  await t.step("no relative path leads out of the repository", () => {
    const outside = citations(/(?:\.\.\/)+[\w.-]*/g).filter(({ where, match }) => {
      const file = where.slice(0, where.lastIndexOf(":"));
      const target = resolve(root, dirname(file), match[0]);
      return relative(root, target).startsWith("..");
    });
    assert.deepStrictEqual(outside.map((c) => `${c.where}: ${c.match[0]}`), []);
  });

  await t.step("every cited section of docs/architecture.md is a heading there", () => {
    const cited = citations(/docs\/architecture\.md#([\w-]+)/g);
    assert.ok(cited.length > 0, "no file cites a section of docs/architecture.md");
    const links = [...architecture.matchAll(/\]\(#([\w-]+)\)/g)];
    const missing = [
      ...cited.filter((c) => !anchors.has(c.match[1])).map((c) => `${c.where}: #${c.match[1]}`),
      ...links.filter((m) => !anchors.has(m[1])).map((m) => `docs/architecture.md: #${m[1]}`),
    ];
    assert.deepStrictEqual(missing, []);
  });
});
