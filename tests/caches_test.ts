/**
 * @file The caches keyed by structure stay bounded while a process meets hundreds of
 * shapes, and the results stay right: the generated kernels' templates
 * (`kernels/kernel_plan.ts`), the program kernels (`kernels/program_kernel.ts`), both
 * seen through `dev.stats()`, and a jitted function's programs (`step.programs`).
 * Inputs are small integers, so every sum below is exact in float32 and the results
 * are compared exactly.
 */
import assert from "node:assert/strict";
import { add, type GpuBackend, jit, max, mul, sum, type Tensor } from "../mod.ts";
import { TEMPLATE_CAPACITY } from "../kernels/kernel_plan.ts";
import { PROGRAM_TEMPLATE_CAPACITY } from "../kernels/program_kernel.ts";
import { JIT_SIGNATURES } from "../jit/jit.ts";
import { gpuTest, readFloat32 } from "./_harness.ts";

/** Distinct lengths met: more than the kernel template cache holds. */
const SHAPES = 300;
/**
 * Distinct lengths a jitted program kernel meets: each is two program kernels (one
 * measured, one run) and a signature, more than either cache holds.
 */
const PROGRAM_SHAPES = 100;

/** n small integers in [−3, 3]: squares and their sums are exact in float32. */
function integers(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 5) % 7 - 3);
}

/** The sum of squares of `xs`, exactly. */
function sumOfSquares(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x * x, 0);
}

gpuTest("caches: eager kernels' templates are keyed by structure, not shape", async (dev) => {
  // Eager kernels keep shapes in uniform words: lengths 1…150 meet every structure of
  // add (scalar and vec4 maps) and of max over an axis (sequential and workgroup), so
  // lengths 151…300 add no template — the cache holds what it held.
  const run = async (from: number, to: number) => {
    for (let n = from; n <= to; n++) {
      const xs = integers(n);
      using x = dev.tensor(xs);
      using rows = dev.tensor([...xs, ...xs.map((v) => -v)], [2, n]);
      using doubled = add(x, x);
      using largest = max(rows, { axis: 1 });
      assert.deepStrictEqual([...await doubled.read()], xs.map((v) => 2 * v), `add at ${n}`);
      assert.deepStrictEqual(
        [...await largest.read()],
        [Math.max(...xs), Math.max(...xs.map((v) => -v))],
        `max at ${n}`,
      );
    }
  };
  await run(1, SHAPES / 2);
  const held = dev.stats().templates;
  await run(SHAPES / 2 + 1, SHAPES);
  assert.deepStrictEqual(dev.stats().templates, held);
});

/**
 * `step` called at lengths 1…`shapes`, each result checked by `check`, the caches
 * checked against their bounds; returns the live buffers after each call's tensors are
 * freed.
 */
async function meetShapes(
  dev: GpuBackend,
  shapes: number,
  step: ((x: Tensor) => Tensor) & { readonly programs: number; readonly traces: number },
  check: (xs: readonly number[], got: Float32Array) => void,
): Promise<number[]> {
  const live: number[] = [];
  for (let n = 1; n <= shapes; n++) {
    const xs = integers(n);
    const x = dev.tensor(xs);
    const y = step(x);
    check(xs, await readFloat32(y));
    x.dispose();
    y.dispose();
    live.push(dev.runtime.memory().liveBuffers);
    const { templates, programTemplates } = dev.stats();
    assert(templates <= TEMPLATE_CAPACITY, `${templates} templates at length ${n}`);
    assert(
      programTemplates <= PROGRAM_TEMPLATE_CAPACITY,
      `${programTemplates} program kernels at length ${n}`,
    );
    assert.deepStrictEqual(step.programs, Math.min(n, JIT_SIGNATURES), `programs at ${n}`);
  }
  assert.deepStrictEqual(step.traces, shapes);
  return live;
}

gpuTest(
  "caches: a jitted function's fused kernels fill the template cache, no more",
  async (dev) => {
    // Inline constants: each length is a new template (at least the sum's), 300 > 256.
    const step = jit((x: Tensor) => sum(mul(x, x)), { kernels: "fused" });
    await meetShapes(dev, SHAPES, step, (xs, got) => {
      assert.deepStrictEqual([...got], [sumOfSquares(xs)], `Σx² at ${xs.length}`);
    });
    assert.deepStrictEqual(dev.stats().templates, TEMPLATE_CAPACITY);
    step.dispose();
    assert.deepStrictEqual(step.programs, 0);
  },
);

gpuTest("caches: program kernels and a jitted function's programs stay bounded", async (dev) => {
  // x + Σx²: a reduction and a map that reads it everywhere, two fused kernels, so the
  // default runs each length as one program kernel of its own.
  const step = jit((x: Tensor) => add(x, sum(mul(x, x))));
  const live = await meetShapes(dev, PROGRAM_SHAPES, step, (xs, got) => {
    const s = sumOfSquares(xs);
    assert.deepStrictEqual([...got], xs.map((v) => v + s), `x + Σx² at ${xs.length}`);
  });
  assert.deepStrictEqual(dev.stats().programTemplates, PROGRAM_TEMPLATE_CAPACITY);
  // A program of length ≥ 2 keeps one buffer, Σx² (at length 1 the add reads Σx² at the
  // element it writes and joins the sum's epilogue: no intermediate). From length 17 on
  // the programs held are 16 such, each new one freeing the least recently used one's
  // buffer: the live buffers stay at 16.
  assert.deepStrictEqual(new Set(live.slice(JIT_SIGNATURES)), new Set([JIT_SIGNATURES]));
  step.dispose();
});
