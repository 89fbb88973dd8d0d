/**
 * float16 (docs/architecture.md#types; issue 20): the properties of
 * tests/_properties_float16.ts on the reference and on the GPU; the generated WGSL
 * enabling f16 only where a binding stores it; a float16 tensor taking half the bytes
 * of a float32 one. On an adapter without shader-f16 (the GL stack) the GPU tests are
 * ignored with "skipped: this adapter has no shader-f16" in their names, and the refusal
 * is tested instead (tests/types_test.ts).
 */
import assert from "node:assert/strict";
import { add, type DType } from "../mod.ts";
import { call, input } from "../kernels/expression.ts";
import { generateMap } from "../kernels/map_kernel.ts";
import { bufferTerm, mapTerm } from "../kernels/term.ts";
import { assertProperty } from "./_properties.ts";
import { FLOAT16_PROPERTIES } from "./_properties_float16.ts";
import { float16Test, ref, runs } from "./_harness.ts";

for (const property of FLOAT16_PROPERTIES) {
  Deno.test(`${property.name} (reference)`, async () => {
    await assertProperty(property, ref, runs(property.numRuns));
  });
  float16Test(`${property.name} (GPU)`, async (dev) => {
    await assertProperty(property, dev, runs(property.numRuns));
  });
}

float16Test("float16: half the bytes of float32 on the device, padded to 4", async (dev) => {
  const before = dev.memory().liveBytes;
  using h = dev.tensor(new Float16Array(1000).fill(1.5));
  const half = dev.memory().liveBytes - before;
  using f = dev.tensor(new Float32Array(1000).fill(1.5));
  const full = dev.memory().liveBytes - before - half;
  assert.equal(half * 2, full);
  // An odd count is padded to whole 4-byte words, and reads back without the padding.
  using odd = dev.tensor(new Float16Array([1, 2, 3]));
  using sum = add(odd, odd);
  assert.deepEqual([...await sum.read()], [2, 4, 6]);
  assert.deepEqual([...await h.read()].slice(0, 2), [1.5, 1.5]);
  assert.equal((await f.read())[0], 1.5);
});

Deno.test("float16: generated kernels enable f16 where a binding stores it, and only there", () => {
  const wgsl = (a: DType, b: DType) => {
    const x = bufferTerm(0, [5], a), y = bufferTerm(1, [5], b);
    return generateMap([mapTerm(call("add", input(0), input(1)), [x, y], [5])], "uniform").wgsl;
  };
  const pairs: [DType, DType][] = [["float16", "float16"], ["float16", "float32"], [
    "float32",
    "float32",
  ]];
  for (const [a, b] of pairs) {
    const code = wgsl(a, b);
    const stores = /array<(vec4<)?f16>/.test(code);
    assert.equal(stores, a === "float16" || b === "float16", `${a}, ${b}`);
    assert.equal(code.startsWith("enable f16;\n"), stores, code);
  }
});
