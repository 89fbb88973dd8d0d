import fc from "fast-check";
import assert from "node:assert/strict";
import { argmax, type Backend, broadcastTo, max, mean, sum, sumToShape } from "../mod.ts";
import { reductionRoundings } from "../kernels/codegen.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  assertBitwise,
  assertWithin,
  dim,
  folded,
  gamma,
  gpuTest,
  MIN_NORMAL,
  profile,
  ref,
  runs,
  seed,
  U,
  values,
} from "./_harness.ts";

const length = fc.oneof(dim(5000), fc.integer({ min: 1025, max: 200_000 }));

async function checkSums(
  backend: Backend,
  n: number,
  kind: Parameters<typeof values>[1],
  s: number,
) {
  const x = values(n, kind, s);
  const absSum = x.reduce((acc, v) => acc + Math.abs(v), 0);
  using gx = backend.tensor(x);
  using rx = ref.tensor(x);
  using gs = sum(gx);
  using gm = mean(gx);
  using rs = sum(rx);
  using rm = mean(rx);
  assert.deepEqual(gs.shape, []);
  // Tree reduction: γ(12·passes); the mean's scale 1/n costs two more roundings.
  const bound = (gamma(treeSumRoundings(n)) + U) * absSum + n * MIN_NORMAL;
  assertWithin(await gs.read(), await rs.read(), () => bound, `sum n=${n} ${kind}`);
  const meanBound = (gamma(treeSumRoundings(n) + 2) + U) * absSum / n + n * MIN_NORMAL;
  assertWithin(await gm.read(), await rm.read(), () => meanBound, `mean n=${n} ${kind}`);
}

gpuTest(
  "sum and mean: GPU agrees with the reference within the tree reduction's bound",
  async (dev) => {
    await fc.assert(
      fc.asyncProperty(length, profile, seed, (n, k, s) => checkSums(dev, n, k, s)),
      runs(50),
    );
    await fc.assert(
      fc.asyncProperty(length, profile, seed, (n, k, s) => checkSums(folded!, n, k, s)),
      runs(15),
    );
  },
);

gpuTest("broadcastTo is exact; sumToShape agrees within γ(rows) per column", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(500), dim(60), profile, seed, async (m, n, kind, s) => {
      const row = values(n, kind, s);
      using grow = dev.tensor(row);
      using batch = broadcastTo(grow, [m, n]);
      using expected = broadcastTo(ref.tensor(row), [m, n]);
      assertBitwise(await batch.read(), await expected.read(), "broadcastTo");
      const x = values(m * n, kind, s + 1);
      using gx = dev.tensor(x, [m, n]);
      using columns = sumToShape(gx, [n]);
      using rcolumns = sumToShape(ref.tensor(x, [m, n]), [n]);
      const scale = (j: number) =>
        x.reduce((acc, v, i) => i % n === j ? acc + Math.abs(v) : acc, 0);
      const bound = (j: number) => (gamma(m) + U) * scale(j) + m * MIN_NORMAL;
      assertWithin(
        await columns.read(),
        await rcolumns.read(),
        bound,
        `sumToShape [${m}, ${n}] → [${n}]`,
      );
    }),
    runs(30),
  );
});

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

/** A shape of rank 1…4 and axes of it, as a number or a list, negative or not. */
const axisCases = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom(1, 2, 3, 7, 13, 33), fc.integer({ min: 1, max: 70 })), {
    minLength: 1,
    maxLength: 4,
  }).filter((s) => s.reduce((a, b) => a * b, 1) <= 30_000),
  // Long rows: the workgroup tree (length > 32) and the two-pass reduction (> 4096, few rows).
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 33, max: 12_000 })),
).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axes: fc.subarray(shape.map((_, d) => d), { minLength: 1 }),
    negative: fc.boolean(),
    asNumber: fc.boolean(),
    keepDims: fc.boolean(),
    profile,
    seed,
  })
);

type AxisCase = typeof axisCases extends fc.Arbitrary<infer T> ? T : never;

/** The reductions over axes, against float64 computed here from coordinates. */
async function checkAxes(backend: Backend, c: AxisCase) {
  const { shape, keepDims } = c;
  const n = shape.reduce((a, b) => a * b, 1);
  const x = values(n, c.profile, c.seed);
  const given = c.axes.map((a) => (c.negative ? a - shape.length : a));
  const axis = c.asNumber && given.length === 1 ? given[0] : given;
  const outShape = keepDims
    ? shape.map((d, a) => (c.axes.includes(a) ? 1 : d))
    : shape.filter((_, a) => !c.axes.includes(a));
  const count = c.axes.reduce((p, a) => p * shape[a], 1), outputs = n / count;
  // Independently: each element's output index and position within its output.
  const sums = new Float64Array(outputs), abs = new Float64Array(outputs);
  const best = new Float64Array(outputs).fill(-Infinity), arg = new Float64Array(outputs);
  const seen = new Int32Array(outputs);
  for (let i = 0; i < n; i++) {
    let rest = i, o = 0, stride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const coordinate = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      if (!c.axes.includes(d)) {
        o += coordinate * stride;
        stride *= shape[d];
      }
    }
    sums[o] += x[i];
    abs[o] += Math.abs(x[i]);
    if (x[i] > best[o]) [best[o], arg[o]] = [x[i], seen[o]];
    seen[o]++;
  }
  const what = `[${shape}] axis ${
    JSON.stringify(axis)
  } keepDims ${keepDims} ${c.profile} seed=${c.seed}`;
  // The full sum runs the tree of kernels/reduce.ts; others the generated kernel.
  const all = shape.every((d, a) => d === 1 || c.axes.includes(a));
  const R = all ? treeSumRoundings(n) : reductionRoundings(count, outputs);
  const options = { axis, keepDims };
  for (const t of [backend, ref]) {
    using gx = t.tensor(x, shape);
    using s = sum(gx, options);
    using m = mean(gx, options);
    using mx = max(gx, options);
    assert.deepEqual([s.shape, m.shape, mx.shape], [outShape, outShape, outShape], what);
    const where = `${what} on ${t.kind}`;
    assertWithin(
      await s.read(),
      sums,
      (o) => (gamma(R) + U) * abs[o] + count * MIN_NORMAL,
      `sum ${where}`,
    );
    // The mean: the sum times fl(1/count), two roundings more.
    assertWithin(
      await m.read(),
      sums.map((v) => v / count),
      (o) => ((gamma(R + 2) + U) * abs[o]) / count + count * MIN_NORMAL,
      `mean ${where}`,
    );
    assertWithin(await mx.read(), best, () => 0, `max ${where}`);
    if (given.length === 1) {
      using am = argmax(gx, { axis: given[0], keepDims });
      assert.deepEqual(am.shape, outShape, what);
      assertWithin(await am.read(), arg, () => 0, `argmax (the first maximum) ${where}`);
    }
  }
}

gpuTest(
  "sum, mean, max, argmax over axes (negative, lists, keepDims): GPU and reference vs float64",
  async (dev) => {
    for (const backend of [dev, folded!]) {
      await fc.assert(
        fc.asyncProperty(axisCases, (c) => checkAxes(backend, c)),
        runs(backend === dev ? 60 : 15),
      );
    }
  },
);

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
