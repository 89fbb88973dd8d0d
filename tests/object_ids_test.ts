/** @file The numbering of objects that jit's cache keys use. */
import assert from "node:assert/strict";
import { objectIds } from "../jit/object_ids.ts";

Deno.test("objectIds gives each object one number, in the order first asked", () => {
  const id = objectIds<object>();
  const [a, b] = [{}, {}];
  assert.deepStrictEqual([id(a), id(b), id(a), id({}), id(b)], [0, 1, 0, 2, 1]);
  const other = objectIds<object>();
  assert.deepStrictEqual(other(b), 0); // each numbering counts on its own
});
