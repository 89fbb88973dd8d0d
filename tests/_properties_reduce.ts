/**
 * @file The reductions' GPU-versus-reference properties: `sum` and `mean` of a whole
 * tensor within the tree reduction's bound (kernels/reduce.ts); `broadcastTo` exact and
 * `sumToShape` within γ(rows) per column; and `sum`, `mean`, `max`, `argmax` over axes
 * (negative, lists, keepDims) on the backend and the reference against float64 computed
 * here from coordinates, within the bound of the generated kernel's rounding chain.
 */
import fc from "fast-check";
import {
  all,
  any,
  argmax,
  argmin,
  type Backend,
  broadcastTo,
  max,
  mean,
  min,
  prod,
  sum,
  sumToShape,
} from "../mod.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  assertBitwise,
  assertShape,
  assertWithin,
  dim,
  flushSubnormal,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  specialKind,
  treeSum,
  U,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A whole-tensor sum's case: a length, values and a seed. */
export interface SumCase {
  n: number;
  profile: Profile;
  seed: number;
}

/** sum and mean of a whole tensor within the tree reduction's bound. */
export const sumMeanProperty: OpProperty<SumCase> = {
  name: "sum and mean: GPU agrees with the reference within the tree reduction's bound",
  cases: fc.record({
    n: fc.oneof(dim(5000), fc.integer({ min: 1025, max: 200_000 })),
    profile,
    seed,
  }),
  numRuns: 50,
  async check(backend, { n, profile: kind, seed: s }) {
    const x = values(n, kind, s);
    const absSum = x.reduce((acc, v) => acc + Math.abs(v), 0);
    using gx = backend.tensor(x);
    using rx = ref.tensor(x);
    using gs = sum(gx);
    using gm = mean(gx);
    using rs = sum(rx);
    using rm = mean(rx);
    assertShape(gs.shape, [], "sum");
    // Tree reduction: γ(12·passes) (bounds.treeSum); the mean's scale 1/n costs two more
    // roundings.
    const bound = treeSum(n, absSum) + U * absSum;
    assertWithin(await gs.read(), await rs.read(), () => bound, `sum n=${n} ${kind}`);
    const meanBound = (gamma(treeSumRoundings(n) + 2) + U) * absSum / n + n * MIN_NORMAL;
    assertWithin(await gm.read(), await rm.read(), () => meanBound, `mean n=${n} ${kind}`);
  },
};

/** A matrix's case: rows, columns, values and a seed. */
export interface MatrixCase {
  m: number;
  n: number;
  profile: Profile;
  seed: number;
}

/** broadcastTo bit for bit; sumToShape within γ(rows) per column. */
export const broadcastSumProperty: OpProperty<MatrixCase> = {
  name: "broadcastTo is exact; sumToShape agrees within γ(rows) per column",
  cases: fc.record({ m: dim(500), n: dim(60), profile, seed }),
  numRuns: 30,
  async check(backend, { m, n, profile: kind, seed: s }) {
    const row = values(n, kind, s);
    using grow = backend.tensor(row);
    using batch = broadcastTo(grow, [m, n]);
    using expected = broadcastTo(ref.tensor(row), [m, n]);
    assertBitwise(await batch.read(), await expected.read(), "broadcastTo");
    const x = values(m * n, kind, s + 1);
    using gx = backend.tensor(x, [m, n]);
    using columns = sumToShape(gx, [n]);
    using rcolumns = sumToShape(ref.tensor(x, [m, n]), [n]);
    const scale = (j: number) => x.reduce((acc, v, i) => i % n === j ? acc + Math.abs(v) : acc, 0);
    const bound = (j: number) => (gamma(m) + U) * scale(j) + m * MIN_NORMAL;
    assertWithin(
      await columns.read(),
      await rcolumns.read(),
      bound,
      `sumToShape [${m}, ${n}] → [${n}]`,
    );
  },
};

/** A reduction over axes: a shape, the axes and how they are given, keepDims, values. */
export interface AxisCase {
  shape: number[];
  axes: number[];
  negative: boolean;
  asNumber: boolean;
  keepDims: boolean;
  profile: Profile;
  seed: number;
}

/** A shape of rank 1…4 and axes of it, as a number or a list, negative or not. */
const axisCases: fc.Arbitrary<AxisCase> = fc.oneof(
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

/** An axis case's layout: sizes, the axis as given, the output's shape, each element's output. */
interface AxisLayout {
  n: number;
  /** The reduced axes as given (negative or not); `axis`: as passed (a number or a list). */
  given: number[];
  axis: number | number[];
  outShape: number[];
  /** Elements per output, and outputs. */
  count: number;
  outputs: number;
  /** Independently of the library: each element's output index, from its coordinates. */
  outputOf: Int32Array;
  /** The case, for messages. */
  what: string;
}

/** The layout of an axis case. */
function axisLayout(c: AxisCase): AxisLayout {
  const { shape, keepDims } = c;
  const n = shape.reduce((a, b) => a * b, 1);
  const given = c.axes.map((a) => (c.negative ? a - shape.length : a));
  const axis = c.asNumber && given.length === 1 ? given[0] : given;
  const outShape = keepDims
    ? shape.map((d, a) => (c.axes.includes(a) ? 1 : d))
    : shape.filter((_, a) => !c.axes.includes(a));
  const count = c.axes.reduce((p, a) => p * shape[a], 1);
  const outputOf = Int32Array.from({ length: n }, (_, i) => {
    let rest = i, o = 0, stride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const coordinate = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      if (!c.axes.includes(d)) {
        o += coordinate * stride;
        stride *= shape[d];
      }
    }
    return o;
  });
  const what = `[${shape}] axis ${JSON.stringify(axis)} keepDims ${keepDims} ${c.profile} ` +
    `seed=${c.seed}`;
  return { n, given, axis, outShape, count, outputs: n / count, outputOf, what };
}

/** The reductions over axes on the backend and the reference, against float64. */
export const axesProperty: OpProperty<AxisCase> = {
  name: "sum, mean, max, min, argmax, argmin, any, all over axes (negative, lists, keepDims): " +
    "GPU and reference vs float64",
  cases: axisCases,
  numRuns: 60,
  async check(backend, c) {
    const { shape, keepDims } = c;
    const { n, given, axis, outShape, count, outputs, outputOf, what } = axisLayout(c);
    const x = values(n, c.profile, c.seed);
    const sums = new Float64Array(outputs), abs = new Float64Array(outputs);
    outputOf.forEach((o, i) => {
      sums[o] += x[i];
      abs[o] += Math.abs(x[i]);
    });
    // The extremum and the first position of it, as NumPy's: the first NaN wins.
    // `view`: the values compared (a GPU that flushes subnormals compares them as zeros,
    // as WGSL allows, and moves the chosen value's bits).
    const extrema = (view: (v: number) => number, sign: 1 | -1) => {
      const best = new Float64Array(outputs).fill(-sign * Infinity);
      const arg = new Float64Array(outputs);
      const seen = new Int32Array(outputs);
      outputOf.forEach((o, i) => {
        const v = x[i];
        if (!Number.isNaN(best[o]) && (sign * view(v) > sign * view(best[o]) || Number.isNaN(v))) {
          [best[o], arg[o]] = [v, seen[o]];
        }
        seen[o]++;
      });
      return { best, arg };
    };
    // any and all: whether some or every value is nonzero (NaN is), seen through `view`.
    const truths = (view: (v: number) => number) => {
      const some = new Float64Array(outputs), every = new Float64Array(outputs).fill(1);
      outputOf.forEach((o, i) => {
        if (view(x[i]) !== 0) some[o] = 1;
        else every[o] = 0;
      });
      return { some, every };
    };
    const exact = { max: extrema((v) => v, 1), min: extrema((v) => v, -1), ...truths((v) => v) };
    const flushed = {
      max: extrema(flushSubnormal, 1),
      min: extrema(flushSubnormal, -1),
      ...truths(flushSubnormal),
    };
    // The full sum runs the tree of kernels/reduce.ts; others the generated kernel.
    const whole = shape.every((d, a) => d === 1 || c.axes.includes(a));
    const R = whole ? treeSumRoundings(n) : reductionRoundings(count, outputs);
    const options = { axis, keepDims };
    for (const t of [backend, ref] as Backend[]) {
      using gx = t.tensor(x, shape);
      using s = sum(gx, options);
      using m = mean(gx, options);
      using mx = max(gx, options);
      using mn = min(gx, options);
      using some = any(gx, options);
      using every = all(gx, options);
      const results = { sum: s, mean: m, max: mx, min: mn, any: some, all: every };
      for (const [name, r] of Object.entries(results)) {
        assertShape(r.shape, outShape, `${name} ${what}`);
      }
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
      for (const [name, r] of [["max", mx], ["min", mn]] as const) {
        // A flushing GPU's tree may keep any of the values tied with the extremum once
        // flushed.
        const got = await r.read();
        const tied = Float64Array.from(
          got,
          (v, o) =>
            flushSubnormal(v) === flushSubnormal(flushed[name].best[o]) ? v : flushed[name].best[o],
        );
        assertWithin(got, exact[name].best, () => 0, `${name} ${where}`, tied);
      }
      assertWithin(await some.read(), exact.some, () => 0, `any ${where}`, flushed.some);
      assertWithin(await every.read(), exact.every, () => 0, `all ${where}`, flushed.every);
      if (given.length === 1) {
        for (
          const [name, f, kind] of [["argmax", argmax, "max"], ["argmin", argmin, "min"]] as const
        ) {
          using am = f(gx, { axis: given[0], keepDims });
          assertShape(am.shape, outShape, `${name} ${what}`);
          const first = `${name} (the first ${kind}imum) ${where}`;
          assertWithin(await am.read(), exact[kind].arg, () => 0, first, flushed[kind].arg);
        }
      }
    }
  },
};

/**
 * A factor for `prod`: the profile's zeros and special values as they are, any other value
 * v as sign(v)·(1 + frac|v|/256), in [1, 1 + 2⁻⁸): so no product of normal factors leaves
 * the normal range (12,000 of them stay below e⁴⁷), and one with a subnormal factor is
 * never smaller than it.
 */
export function factor(v: number): number {
  return specialKind(v) === null ? Math.fround(Math.sign(v) * (1 + (Math.abs(v) % 1) / 256)) : v;
}

/**
 * `prod` over axes on the backend and the reference against float64. Every one of the
 * n − 1 multiplications of n factors rounds once, relatively, whatever the tree's order
 * (a product's error, unlike a sum's, does not shrink with the tree's depth): the result
 * is within γ(n − 1)·|p| while no partial product is subnormal. Only a partial product
 * with a subnormal factor can be (the others have magnitudes ≥ 1): each rounding of one errs
 * by at most half the subnormal spacing, 2⁻¹⁵⁰ = u·MIN_NORMAL, absolutely, which the later
 * factors scale by at most M = Π max(1, |x|); so the bound adds (n − 1)·u·MIN_NORMAL·M. A
 * GPU that flushes subnormals gives the product of the flushed factors (0, or NaN with an
 * infinity) instead.
 */
export const prodProperty: OpProperty<AxisCase> = {
  name: "prod over axes (negative, lists, keepDims): GPU and reference vs float64",
  cases: axisCases,
  numRuns: 40,
  async check(backend, c) {
    const { shape, keepDims } = c;
    const { n, axis, outShape, count, outputs, outputOf, what } = axisLayout(c);
    const x = values(n, c.profile, c.seed).map(factor);
    const products = new Float64Array(outputs).fill(1);
    const flushedProducts = new Float64Array(outputs).fill(1);
    const growth = new Float64Array(outputs).fill(1);
    outputOf.forEach((o, i) => {
      products[o] *= x[i];
      flushedProducts[o] *= flushSubnormal(x[i]);
      growth[o] *= Math.max(1, Math.abs(x[i]));
    });
    const bound = (o: number) =>
      gamma(count - 1) * Math.abs(products[o]) + (count - 1) * U * MIN_NORMAL * growth[o];
    for (const t of [backend, ref] as Backend[]) {
      using p = prod(t.tensor(x, shape), { axis, keepDims });
      assertShape(p.shape, outShape, `prod ${what}`);
      assertWithin(await p.read(), products, bound, `prod ${what} on ${t.kind}`, flushedProducts);
    }
  },
};
