/**
 * @file No library module takes part in a cycle of value imports: the layers import one
 * way (a backend runs ops without the op spine importing it back), so no module needs
 * to build its values lazily to survive the order in which modules load. Type-only
 * imports may point anywhere. The cycle finder is tested first on in-memory sources.
 */
import assert from "node:assert/strict";
import { findCycles, importGraph, valueImports } from "./_import_cycles.ts";

/** The library: what users import, and what it imports (not tests, demos or benches). */
const LIBRARY_ROOTS = [
  "mod.ts",
  "runtime.ts",
  "testing.ts",
  "ops",
  "kernels",
  "jit",
  "train",
  "testing",
];

const ROOT = new URL("../", import.meta.url);

/** The library's modules, path (relative to the repository) → source. */
async function librarySources(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  const add = async (path: string): Promise<void> => {
    const url = new URL(path, ROOT);
    if ((await Deno.stat(url)).isDirectory) {
      for await (const entry of Deno.readDir(url)) await add(`${path}/${entry.name}`);
    } else if (path.endsWith(".ts")) {
      sources.set(path, await Deno.readTextFile(url));
    }
  };
  for (const root of LIBRARY_ROOTS) await add(root);
  return sources;
}

Deno.test("valueImports reads value imports and skips type-only ones", () => {
  const source = [
    `/**`,
    ` * @example`,
    ` * import { gpu } from "./doc_example.ts";`,
    ` */`,
    `import { a } from "./a.ts";`,
    `import type { B } from "./b.ts";`,
    `import { type C, type D } from "./c.ts";`,
    `import {`,
    `  type E,`,
    `  e,`,
    `} from "./e.ts";`,
    `import * as f from "./f.ts";`,
    `import g, { type G } from "./g.ts";`,
    `import "./h.ts";`,
    `export { i } from "./i.ts";`,
    `export type { J } from "./j.ts";`,
    `export * from "./k.ts";`,
    `export { type L } from "./l.ts";`,
    "const wgsl = `import nothing from here`;",
    `export function m(): string[] { return Array.from("./m.ts"); }`,
  ].join("\n");
  assert.deepStrictEqual(valueImports(source), [
    "./a.ts",
    "./e.ts",
    "./f.ts",
    "./g.ts",
    "./h.ts",
    "./i.ts",
    "./k.ts",
  ]);
});

Deno.test("findCycles names every cycle of a synthetic set of modules", () => {
  const sources = new Map([
    ["x/a.ts", `import { b } from "./b.ts";`],
    ["x/b.ts", `import { c } from "../y/c.ts";\nimport type { A } from "./a.ts";`],
    ["y/c.ts", `import {\n  a,\n} from "../x/a.ts";`],
    ["y/d.ts", `export { e } from "./e.ts";`],
    ["y/e.ts", `export * from "./d.ts";`],
    ["y/f.ts", `import { f } from "./f.ts";`],
    ["y/g.ts", `import { a } from "../x/a.ts";\nimport type { G } from "./g2.ts";`],
    ["y/g2.ts", `import { g } from "./g.ts";`],
  ]);
  const graph = importGraph(sources);
  assert.deepStrictEqual(graph.get("x/b.ts"), ["y/c.ts"]); // the type import is no edge
  const cycles = findCycles(graph).map((cycle) => cycle.path.join(" → ")).sort();
  assert.deepStrictEqual(cycles, [
    "x/a.ts → x/b.ts → y/c.ts → x/a.ts",
    "y/d.ts → y/e.ts → y/d.ts",
    "y/f.ts → y/f.ts",
  ]);
  sources.set("y/e.ts", `export * from "./d.ts";\nimport { c } from "./c.ts";`);
  sources.set("y/c.ts", `import { a } from "../x/a.ts";\nimport { d } from "./d.ts";`);
  const merged = findCycles(importGraph(sources)).find((cycle) => cycle.modules.length > 1);
  assert.deepStrictEqual(merged?.modules, ["x/a.ts", "x/b.ts", "y/c.ts", "y/d.ts", "y/e.ts"]);
  sources.set("y/c.ts", `import type { A } from "../x/a.ts";`);
  sources.delete("y/d.ts");
  sources.delete("y/f.ts");
  assert.deepStrictEqual(findCycles(importGraph(sources)), []);
});

Deno.test("no library module takes part in a cycle of value imports", async () => {
  const sources = await librarySources();
  assert.ok(sources.has("ops/_op.ts") && sources.has("kernels/runtime.ts"), "library found");
  const cycles = findCycles(importGraph(sources));
  assert.deepStrictEqual(
    cycles.map((cycle) => `${cycle.path.join(" → ")} (of ${cycle.modules.join(", ")})`),
    [],
    `${cycles.length} cycle(s) of value imports among library modules`,
  );
});
