/**
 * The list of every shared property (tests/_all_properties.ts), which the browser test
 * runs: it holds each property that a `tests/_properties*.ts` file exports, alone or in a
 * list or record, exactly once, under a name no other property has.
 */
import assert from "node:assert/strict";
import { PROPERTIES } from "./_all_properties.ts";
import type { OpProperty } from "./_properties.ts";

/** Whether an exported value is an OpProperty. */
function isProperty(value: unknown): value is OpProperty<unknown> {
  return typeof value === "object" && value !== null && "cases" in value && "check" in value &&
    "numRuns" in value;
}

/** The properties a module exports: alone, in an array, or as a record's values. */
function exported(module: Record<string, unknown>): OpProperty<unknown>[] {
  return Object.values(module).flatMap((value) => {
    if (isProperty(value)) return [value];
    if (typeof value !== "object" || value === null) return [];
    return Object.values(value).filter(isProperty);
  });
}

Deno.test("PROPERTIES lists every exported property once, each under its own name", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(".", import.meta.url))) {
    if (/^_properties.*\.ts$/.test(entry.name)) files.push(entry.name);
  }
  assert.ok(files.length >= 9, `found only ${files}`);
  // By URL, not a template string, which Deno would expand to every file below tests/.
  const modules = await Promise.all(
    files.map((file) => import(new URL(file, import.meta.url).href)),
  );
  const all = new Set(modules.flatMap(exported));
  const missing = [...all].filter((p) => !PROPERTIES.includes(p)).map((p) => p.name);
  assert.deepEqual(missing, [], "exported but not in PROPERTIES");
  assert.equal(new Set(PROPERTIES).size, PROPERTIES.length, "a property listed twice");
  const names = PROPERTIES.map((p) => p.name);
  assert.equal(new Set(names).size, names.length, "two properties under one name");
  for (const p of PROPERTIES) {
    assert.ok(Number.isInteger(p.numRuns) && p.numRuns >= 1, `${p.name}: numRuns ${p.numRuns}`);
  }
});
