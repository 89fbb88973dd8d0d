/**
 * @file `checkKernel` (`@deno-gpu/kernels/testing`) as a user meets it: it passes a correct
 * computation on either backend, fails a deliberately wrong WGSL kernel with the minimal
 * counterexample and the seed and path that replay it, and refuses malformed options by
 * name. (The README's example, a correct custom kernel, runs in tests/readme_test.ts.)
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { add, type GpuBackend, GpuTensor } from "../mod.ts";
import type { Backend, Tensor } from "../mod.ts";
import {
  bounds,
  checkKernel,
  type CheckKernelOptions,
  floatTensor,
  type HostTensor,
  values,
} from "../testing.ts";
import { gpuTest, ref } from "./_harness.ts";

/** x + y[0] (a scalar broadcast), within one rounding of float64's sum. */
function checkAdd(backend: Backend): Promise<void> {
  return checkKernel({
    name: "add",
    backend,
    inputs: {
      x: floatTensor(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }))),
      y: floatTensor([1]),
    },
    run: (_, { x, y }) => add(x, y),
    reference: ({ x, y }) => Array.from(x.data, (v) => v + y.data[0]),
    // One rounding of the exact sum (a subnormal sum, which a GPU may flush, is exact).
    bound: ({ exact }) => bounds.U * Math.abs(exact),
    numRuns: 30,
  });
}

Deno.test("checkKernel: the library's add passes on the CPU reference", () => checkAdd(ref));

gpuTest("checkKernel: the library's add passes on the GPU", (dev) => checkAdd(dev));

gpuTest("checkKernel: without a backend, it runs on a GPU backend of its own", async (dev) => {
  const given = new Set<Backend>();
  await checkKernel({
    name: "add",
    inputs: { x: floatTensor([3]) },
    run: (backend, { x }) => (given.add(backend), add(x, x)),
    reference: ({ x }) => Array.from(x.data, (v) => 2 * v),
    bound: () => 0, // doubling is exact
    numRuns: 5,
  });
  assert.equal(given.size, 1);
  const [own] = given;
  assert.equal(own.kind, "webgpu");
  assert.notEqual(own, dev);
});

/**
 * y = 2x + 1 with a classic bug: x is read at the thread's index within its workgroup of
 * 64, not the global one, so every element from the 65th on is computed from the wrong x.
 */
function wrongAffine(dev: GpuBackend, x: Tensor): Tensor {
  const y = dev.runtime.allocate("wrongAffine", x.size);
  dev.runtime.dispatch({
    op: "wrongAffine",
    key: "check_kernel_test/wrongAffine",
    wgsl: () => `
      @group(0) @binding(0) var<uniform> n: u32;
      @group(0) @binding(1) var<storage, read> x: array<f32>;
      @group(0) @binding(2) var<storage, read_write> y: array<f32>;
      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x < n) { y[id.x] = 2.0 * x[id.x % 64u] + 1.0; }
      }`,
    uniforms: new Uint32Array([x.size, 0, 0, 0]).buffer,
    buffers: [(x as GpuTensor).array, y],
    workgroups: Math.ceil(x.size / 64),
  });
  return new GpuTensor(dev, y, x.shape);
}

/** checkKernel of {@linkcode wrongAffine} on lengths 1 to 1000; `replay` from a report. */
function checkWrongAffine(dev: GpuBackend, replay: { seed?: number; path?: string } = {}) {
  return checkKernel({
    name: "wrongAffine",
    backend: dev,
    inputs: { x: floatTensor(fc.tuple(fc.integer({ min: 1, max: 1000 }))) },
    run: (_, { x }) => wrongAffine(dev, x),
    reference: ({ x }) => Array.from(x.data, (v) => 2 * v + 1),
    bound: ({ exact }) => bounds.U * Math.abs(exact), // 2x is exact; + 1 rounds once
    numRuns: 50,
    ...replay,
  });
}

/** The rejection of `promise`: its message. */
async function failure(promise: Promise<void>): Promise<string> {
  let message = "";
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof Error);
    message = e.message;
    return true;
  });
  return message;
}

gpuTest(
  "checkKernel: a wrong kernel fails, shrunk to the shortest length that shows the bug, with the seed and path that replay it",
  async (dev) => {
    // The first wrong element is y[64] = 2·x[0] + 1 (for x[64]): values of seed 0 differ.
    const x = values(65, "unit", 0);
    assert.notEqual(x[0], x[64]);
    const report = await failure(checkWrongAffine(dev));
    const lines = report.split("\n");
    assert.match(lines[0], /^wrongAffine: failed after \d+ cases?, shrunk \d+ times? to$/, report);
    // Shrunk from up to 1,000 elements of any profile and seed to the least that fails:
    // 65 elements (one past the workgroup), unit values, seed 0.
    assert.equal(lines[1], '  counterexample: {"x":shape [65], unit values of seed 0}', report);
    assert.equal(
      lines[2],
      `  error: wrongAffine: element 64 is ${Math.fround(2 * x[0] + 1)}, reference ${
        2 * x[64] + 1
      }, error ${Math.abs(Math.fround(2 * x[0] + 1) - (2 * x[64] + 1))} exceeds the bound ${
        bounds.U * Math.abs(2 * x[64] + 1)
      }`,
    );
    const replay = lines[3].match(/^ {2}replay: \{ seed: (-?\d+), path: "([\d:]+)" \}$/);
    assert.ok(replay, report);
    // The seed and path replay the shrunk case alone: the same counterexample, at once.
    const again = await failure(checkWrongAffine(dev, { seed: +replay[1], path: replay[2] }));
    assert.match(again, /^wrongAffine: failed after 1 case, /);
    assert.deepEqual(again.split("\n").slice(1), lines.slice(1));
  },
);

Deno.test("checkKernel: refuses malformed options, naming itself", async () => {
  const good: CheckKernelOptions<{ x: HostTensor }> = {
    name: "add",
    backend: ref,
    inputs: { x: floatTensor([2]) },
    run: (_, { x }) => add(x, x),
    reference: ({ x }) => Array.from(x.data, (v) => 2 * v),
    bound: () => 0,
  };
  const refused: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ name: "" }, TypeError, /name to be a nonempty string, got string ""/],
    [{ backend: {} }, TypeError, /expected a backend from cpu\(\) or gpu\(\), got Object/],
    [{ inputs: { x: [2] } }, TypeError, /inputs\.x to be a fast-check arbitrary, got an array/],
    [{ run: 1 }, TypeError, /run to be a function, got number 1/],
    [{ numRuns: 0 }, RangeError, /numRuns to be an integer ≥ 1, got 0/],
    [
      { path: "0:1" },
      TypeError,
      /path to be a string, with the seed of the same report, got string "0:1" without a seed/,
    ],
    [{ seeds: 1 }, TypeError, /unknown option "seeds"/],
  ];
  for (const [change, type, message] of refused) {
    // deno-lint-ignore no-explicit-any
    await assert.rejects(checkKernel({ ...good, ...change } as any), (e: unknown) => {
      assert.ok(e instanceof type, `${JSON.stringify(change)}: ${e}`);
      assert.match((e as Error).message, /^checkKernel: /);
      assert.match((e as Error).message, message);
      return true;
    });
  }
  assert.throws(
    () => floatTensor([2, 0]),
    /^RangeError: floatTensor: expected shape\[1\] to be an integer ≥ 1, got 0$/,
  );
  assert.throws(
    () => floatTensor(3 as unknown as number[]),
    /^TypeError: floatTensor: expected shape to be a shape or a fast-check arbitrary, got number 3$/,
  );
  assert.throws(
    () => floatTensor([2], ["unit"] as never),
    /^TypeError: floatTensor: expected profiles to be a fast-check arbitrary, got an array$/,
  );
  // The options as given pass: the refusals come from the one change each.
  await checkKernel({ ...good, numRuns: 3 });
});
