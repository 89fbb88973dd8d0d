/**
 * The reductions: the shared properties (tests/_properties_reduce.ts) on the test device
 * and a folded dispatch grid, and known values and refused arguments on the reference.
 */
import assert from "node:assert/strict";
import {
  abs,
  add,
  all,
  any,
  argmax,
  argmin,
  astype,
  broadcastTo,
  exp,
  jit,
  logicalNot,
  max,
  mean,
  min,
  mul,
  neg,
  prod,
  scale,
  sum,
  sumToShape,
  type Tensor,
} from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import {
  axesProperty,
  broadcastSumProperty,
  prodProperty,
  sumMeanProperty,
} from "./_properties_reduce.ts";
import { assertBitwise, folded, gpuTest, ref, runs, values } from "./_harness.ts";
import { assertWithin, gamma, MIN_NORMAL, U } from "./_numerics.ts";
import { generateReduce, reductionRoundings } from "../kernels/reduce_kernel.ts";
import { generateMap } from "../kernels/map_kernel.ts";
import { broadcastView, bufferTerm, mapTerm } from "../kernels/term.ts";
import { call, input } from "../kernels/expression.ts";

gpuTest(sumMeanProperty.name, async (dev) => {
  await assertProperty(sumMeanProperty, dev, runs(sumMeanProperty.numRuns));
  await assertProperty(sumMeanProperty, folded!, runs(15));
});

gpuTest(
  broadcastSumProperty.name,
  (dev) => assertProperty(broadcastSumProperty, dev, runs(broadcastSumProperty.numRuns)),
);

Deno.test("broadcast ops: reference values and refused shapes", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  using total = sumToShape(x, [1]);
  assert.deepEqual([...await total.read()], [21]);
  assert.throws(
    () => broadcastTo(x, [2, 3]),
    /broadcastTo: expected a shape that \[3, 2\] broadcasts to, got \[2, 3\]/,
  );
  assert.throws(
    () => sumToShape(x, [3]),
    /sumToShape: expected a shape that broadcasts to \[3, 2\], got \[3\]/,
  );
});

gpuTest(axesProperty.name, async (dev) => {
  await assertProperty(axesProperty, dev, runs(axesProperty.numRuns));
  // A row longer than 32 takes a workgroup per output, and the folded grid holds 7³ = 343
  // workgroups (a real device's holds 65,535³): on it, the cases with at most that many
  // outputs (a longer row, split in chunks, has few outputs). The device above runs all.
  const capacity = folded!.runtime.maxWorkgroupsPerDimension ** 3;
  const fitting = axesProperty.cases.filter(({ shape, axes }) =>
    shape.reduce((n, d, axis) => (axes.includes(axis) ? n : n * d), 1) <= capacity
  );
  await assertProperty({ ...axesProperty, cases: fitting }, folded!, runs(15));
});

gpuTest(prodProperty.name, async (dev) => {
  await assertProperty(prodProperty, dev, runs(prodProperty.numRuns));
  // The folded grid, as for the other reductions over axes: the cases that fit it.
  const capacity = folded!.runtime.maxWorkgroupsPerDimension ** 3;
  const fitting = prodProperty.cases.filter(({ shape, axes }) =>
    shape.reduce((n, d, axis) => (axes.includes(axis) ? n : n * d), 1) <= capacity
  );
  await assertProperty({ ...prodProperty, cases: fitting }, folded!, runs(10));
});

Deno.test("min, argmin, prod, any, all: known values (NumPy's) and refused arguments", async () => {
  using x = ref.tensor([4, 1, 3, 1, 0, -2], [2, 3]);
  const read = async (t: Tensor) => {
    using owned = t;
    return [...await owned.read()];
  };
  assert.deepEqual(await read(min(x, { axis: 1 })), [1, -2]);
  assert.deepEqual(await read(min(x)), [-2]);
  assert.deepEqual(await read(argmin(x, { axis: 0 })), [1, 1, 1]);
  assert.deepEqual(await read(argmin(x, { axis: -1, keepDims: true })), [1, 2]);
  assert.deepEqual(await read(prod(x, { axis: [-1] })), [12, -0]); // 1·0·(−2) is −0
  assert.deepEqual(await read(prod(x, { axis: 0, keepDims: true })), [4, 0, -6]);
  assert.deepEqual(await read(any(x, { axis: 1 })), [1, 1]);
  assert.deepEqual(await read(all(x, { axis: 1 })), [1, 0]);
  assert.deepEqual(await read(all(x, { axis: 0 })), [1, 0, 1]);
  using zeros = ref.tensor([0, -0, 0, 0], [2, 2]);
  assert.deepEqual(await read(any(zeros)), [0]);
  assert.throws(() => min(x, { axis: [1, 1] }), /min: expected distinct axes, got \[1, 1\]/);
  assert.throws(() => prod(x, { axis: -3 }), /prod: expected axes to be integers in \[-2, 2\)/);
  assert.throws(
    () => any(x, { keepDims: "yes" } as never),
    /any: expected keepDims to be a boolean/,
  );
  assert.throws(() => all(x, { axes: 0 } as never), /all: expected options among axis, keepDims/);
  assert.throws(
    () => argmin(x, { axis: [0] } as never),
    /argmin: expected axis to be an integer, got object/,
  );
  assert.throws(
    () => (argmin as (x: unknown) => unknown)(x),
    /argmin: expected an options object, got undefined/,
  );
  assert.throws(() => prod([1, 2] as never), /prod: expected x to be a tensor, got an array/);
});

Deno.test("reductions over axes: known values and refused axes", async () => {
  using x = ref.tensor([1, 5, 3, 9, 4, 9], [2, 3]);
  using rows = sum(x, { axis: -1, keepDims: true });
  assert.deepEqual([rows.shape, [...await rows.read()]], [[2, 1], [9, 22]]);
  using cols = max(x, { axis: [0] });
  assert.deepEqual([...await cols.read()], [9, 5, 9]);
  using first = argmax(x, { axis: 1 });
  assert.deepEqual([...await first.read()], [1, 0]);
  assert.throws(() => sum(x, { axis: 2 }), /sum: expected axes to be integers in \[-2, 2\)/);
  assert.throws(() => sum(x, { axis: [0, -2] }), /sum: expected distinct axes, got \[0, -2\]/);
  assert.throws(() => mean(x, { keepDims: 1 } as never), /mean: expected keepDims to be a boolean/);
  assert.throws(() => argmax(x, {} as never), /argmax: expected axis to be an integer, got none/);
  assert.throws(() => max(x, { axes: 0 } as never), /max: expected options among axis, keepDims/);
});

gpuTest(
  "jit: min, argmin, prod, any, all take what feeds and follows them into their kernel",
  async (dev) => {
    // Each is one kernel with its prologue and epilogue fused, bit for bit the eager ops'
    // results; a long row with few outputs takes two (chunks, then their results), except
    // argmin's, whose partials would lose their indices: one workgroup per output.
    const cases: [string, (t: Tensor) => Tensor, number][] = [
      ["min", (t) => scale(min(neg(t), { axis: 1 }), 3), 2],
      ["argmin", (t) => neg(argmin(abs(t), { axis: 1 })), 1], // an int32 epilogue
      ["prod", (t) => scale(prod(exp(scale(t, 2 ** -12)), { axis: 1 }), 0.5), 2],
      ["any", (t) => logicalNot(any(abs(t), { axis: 1 })), 2],
      ["all", (t) => scale(astype(all(exp(t), { axis: -1, keepDims: true }), "float32"), 4), 2],
    ];
    for (
      const [rows, columns, split] of [[20, 30, false], [40, 300, false], [3, 5000, true]] as const
    ) {
      using x = dev.tensor(values(rows * columns, "special", rows), [rows, columns]);
      for (const [name, f, twoPass] of cases) {
        const compiled = jit(f, { kernels: "fused" });
        compiled(x).dispose(); // compiles
        const before = dev.stats().dispatches;
        using got = compiled(x);
        const dispatches = dev.stats().dispatches - before;
        compiled.dispose();
        using eager = f(x);
        const what = `${name} of [${rows}, ${columns}]`;
        assert.equal(dispatches, split ? twoPass : 1, `${what}: kernels`);
        assertBitwise(await got.read(), await eager.read(), what);
      }
    }
  },
);

Deno.test("kernels: a long sum over rows of four reads vec4 blocks; a broadcast over pixels splats", () => {
  // Batch norm's shapes: a per-channel sum over [N, H, W] of x · b[c] (b broadcast over
  // N, H, W), and the bias add x + b[c]. llvmpipe pays per storage access, so both read
  // x four values a load where each block of four is aligned, and b once per block where
  // a block shares one channel ("s" in the key); with odd planes, the add still reads x
  // as vec4 but b element by element ("e"), and the sum reads one value at a time.
  const plans = (shape: number[]) => {
    const x = bufferTerm(0, shape);
    const b = broadcastView(bufferTerm(1, [1, shape[1], 1, 1]), shape);
    const product = mapTerm(call("mul", input(0), input(1)), [x, b], shape);
    return {
      reduce: generateReduce(
        { kind: "reduce", reducer: "sum", source: product, axes: [0, 2, 3] },
        "uniform",
      ),
      map: generateMap([mapTerm(call("add", input(0), input(1)), [x, b], shape)], "uniform"),
    };
  };
  const even = plans([8, 3, 24, 24]), odd = plans([8, 3, 25, 23]);
  assert.equal(even.reduce.kernels.length, 2, "two passes");
  assert.match(even.reduce.kernels[0].key, /\/blocks\|s$/);
  assert.match(even.reduce.kernels[0].wgsl, /array<vec4<f32>>/);
  assert.doesNotMatch(odd.reduce.kernels[0].key, /\/blocks/);
  assert.match(even.map.key, /\|map4\[.*\|s$/);
  assert.match(odd.map.key, /\|map4\[.*\|e$/);
});

Deno.test("kernels: sums up to 256 long are a loop per output where there are 256 outputs or more", () => {
  // A bias gradient (sum over a batch of 64 for 256 units) is a thread per output; 10
  // units keep a workgroup's lanes and tree; the bounds count the chain each takes.
  const strategy = (rows: number, columns: number) =>
    generateReduce(
      { kind: "reduce", reducer: "sum", source: bufferTerm(0, [rows, columns]), axes: [0] },
      "uniform",
    ).kernels[0].key.split("|").at(-2);
  assert.equal(strategy(64, 256), "sequential");
  assert.equal(strategy(256, 256), "sequential");
  assert.equal(strategy(257, 256), "workgroup");
  assert.equal(strategy(64, 10), "workgroup");
  assert.equal(strategy(32, 10), "sequential");
  assert.equal(reductionRoundings(64, 256), 63);
  assert.equal(reductionRoundings(64, 10), 6);
});

gpuTest(
  "batch norm's shapes: the vec4 sum and the splatted broadcast against float64",
  async (dev) => {
    // The blocks' sum within its bound (γ(R) + u)·Σ|x·b| (u: the product's rounding), R the
    // two-pass chain reductionRoundings counts; the add bit for bit (one rounding each).
    const shape = [8, 3, 24, 24], n = 8 * 3 * 24 * 24, length = n / 3;
    const xs = values(n, "unit", 11), bs = values(3, "unit", 12);
    using x = dev.tensor(xs, shape);
    using b = dev.tensor(bs, [3, 1, 1]);
    const channel = (i: number) => Math.floor(i / (24 * 24)) % 3;
    const exact = [0, 0, 0], size = [0, 0, 0];
    xs.forEach((v, i) => {
      exact[channel(i)] += v * bs[channel(i)];
      size[channel(i)] += Math.abs(v * bs[channel(i)]);
    });
    const fused = jit((x: Tensor, b: Tensor) => sum(mul(x, b), { axis: [0, 2, 3] }));
    using got = fused(x, b);
    fused.dispose();
    const R = reductionRoundings(length, 3);
    assertWithin(
      await got.read(),
      exact,
      (j) => (gamma(R) + U) * size[j] + length * MIN_NORMAL,
      "sum",
    );
    using added = add(x, b);
    assertBitwise(
      await added.read(),
      xs.map((v, i) => v + bs[channel(i)]),
      "add",
    );
  },
);
