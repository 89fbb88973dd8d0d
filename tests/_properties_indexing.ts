/**
 * @file The properties of the indexing ops (and `oneHot`, bit for bit, and `arange`) on tensors of rank 1 to 4, along any axis,
 * with indices of rank 0 to 2 (repeats and negative ones included): `gather` copies bit
 * for bit what the reference copies, and the reference puts each value where an
 * independent coordinate computation (written here, NumPy's `take`) says it goes;
 * `scatterAdd` is within the bound of its sums of the reference's (derived at
 * {@linkcode scatterAddBound}), is NumPy's `add.at` in float32 bit for bit (computed
 * here: the kernel adds in index order), and is bit-identical run to run.
 */
import fc from "fast-check";
import {
  arange,
  type Backend,
  gather,
  oneHot,
  scatterAdd,
  takeAlongAxis,
  type Tensor,
} from "../mod.ts";
import {
  assertBitwise,
  assertBitwiseOrFlushed,
  assertShape,
  assertWithin,
  coordinates,
  flushSubnormal,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  size,
  U,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A case of the indexing ops: x's shape, the axis, the indices' shape and values. */
export interface IndexingCase {
  shape: number[];
  axis: number;
  indexShape: number[];
  profile: Profile;
  seed: number;
}

/** x of rank 1…4 (dimensions 1, primes and others), an axis of it, indices of rank 0…2. */
const cases: fc.Arbitrary<IndexingCase> = fc.record({
  shape: fc.array(fc.oneof(fc.constantFrom(1, 2, 3, 7, 13), fc.integer({ min: 1, max: 24 })), {
    minLength: 1,
    maxLength: 4,
  }).filter((s) => size(s) <= 3000),
  axis: fc.nat(3),
  indexShape: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 2 }),
  profile,
  seed,
}).map((c) => ({ ...c, axis: c.axis % c.shape.length }));

/** Indices in [−n, n), repeats likely: the case's, drawn from its seed. */
function indicesOf({ shape, axis, indexShape, seed: s }: IndexingCase): number[] {
  const n = shape[axis];
  return Array.from({ length: size(indexShape) }, (_, j) => ((s >> 3) + 5 * j * j) % (2 * n) - n);
}

/** The axis's extent n, the elements after it, and the gathered shape. */
function layout({ shape, axis, indexShape }: IndexingCase) {
  const inner = size(shape.slice(axis + 1));
  const gathered = [...shape.slice(0, axis), ...indexShape, ...shape.slice(axis + 1)];
  return { n: shape[axis], inner, gathered };
}

/** gather: bit for bit the reference's copy, which holds x where NumPy's `take` reads it. */
export const gatherProperty: OpProperty<IndexingCase> = {
  name: "gather: GPU copies exactly what the reference takes, along any axis, N-d indices",
  cases,
  numRuns: 40,
  async check(backend, c) {
    const { shape, axis, indexShape } = c;
    const x = values(size(shape), c.profile, c.seed);
    const indices = indicesOf(c);
    const { n, gathered } = layout(c);
    const what = `gather of [${shape}] along ${axis} at [${indexShape}] seed=${c.seed}`;
    using gx = backend.tensor(x, shape);
    using gi = backend.tensor(indices, indexShape);
    using got = gather(gx, gi, { axis });
    using byList = gather(gx, indices, { axis });
    using want = gather(ref.tensor(x, shape), ref.tensor(indices, indexShape), { axis });
    assertShape(got.shape, gathered, what);
    const expected = await want.read();
    assertBitwise(await got.read(), expected, what);
    // A list is the flattened indices: the same values under a 1-D index shape.
    assertBitwise(await byList.read(), expected, `${what} (indices as a list)`);
    // Output coordinate (before, j…, after) reads x at (before, index, after).
    const rank = indexShape.length;
    const placed = Float32Array.from({ length: size(gathered) }, (_, o) => {
      const co = coordinates(o, gathered);
      const j = co.slice(axis, axis + rank).reduce((f, v, d) => f * indexShape[d] + v, 0);
      const source = [...co.slice(0, axis), (indices[j] + n) % n, ...co.slice(axis + rank)];
      return x[source.reduce((f, v, d) => f * shape[d] + v, 0)];
    });
    assertBitwise(expected, placed, `${what} (reference against take)`);
  },
};

/** A case of takeAlongAxis: x's shape and axis, the indices' extent along it, broadcasting. */
export interface AlongCase {
  shape: number[];
  axis: number;
  count: number;
  /** Bit d set: dimension d (off the axis) is 1 in x; bit d + 4: 1 in the indices. */
  ones: number;
  profile: Profile;
  seed: number;
}

/** takeAlongAxis: bit for bit the reference's, which takes where NumPy's definition says. */
export const takeAlongAxisProperty: OpProperty<AlongCase> = {
  name: "takeAlongAxis: GPU copies exactly what the reference takes, broadcasting as NumPy",
  cases: fc.record({
    shape: fc.array(fc.oneof(fc.constantFrom(1, 2, 3, 7), fc.integer({ min: 1, max: 12 })), {
      minLength: 1,
      maxLength: 4,
    }).filter((s) => size(s) <= 2000),
    axis: fc.nat(3),
    count: fc.integer({ min: 1, max: 9 }),
    ones: fc.nat(255),
    profile,
    seed,
  }).map((c) => ({ ...c, axis: c.axis % c.shape.length })),
  numRuns: 40,
  async check(backend, { shape, axis, count, ones, profile: kind, seed: s }) {
    const n = shape[axis];
    const xShape = shape.map((d, i) => (i !== axis && ones & (1 << i) ? 1 : d));
    const indexShape = shape.map((d, i) =>
      i === axis ? count : ones & (1 << (i + 4)) && !(ones & (1 << i)) ? 1 : d
    );
    const out = shape.map((_, i) => (i === axis ? count : Math.max(xShape[i], indexShape[i])));
    const x = values(size(xShape), kind, s);
    const indices = Array.from(
      { length: size(indexShape) },
      (_, j) => ((s >> 2) + 3 * j * j) % (2 * n) - n,
    );
    const what = `takeAlongAxis of [${xShape}] at [${indexShape}] along ${axis} seed=${s}`;
    using gx = backend.tensor(x, xShape);
    using gi = backend.tensor(indices, indexShape);
    using got = takeAlongAxis(gx, gi, { axis });
    using want = takeAlongAxis(ref.tensor(x, xShape), ref.tensor(indices, indexShape), { axis });
    assertShape(got.shape, out, what);
    const expected = await want.read();
    assertBitwise(await got.read(), expected, what);
    // out[c] = x[c with c[axis] = indices[c]], each read at its broadcast coordinate.
    const at = (c: number[], dims: number[]) =>
      c.reduce((f, v, d) => f * dims[d] + (dims[d] === 1 ? 0 : v), 0);
    const placed = Float32Array.from({ length: size(out) }, (_, o) => {
      const c = coordinates(o, out);
      const r = (indices[at(c, indexShape)] + n) % n;
      return x[at(c.map((v, d) => (d === axis ? r : v)), xShape)];
    });
    assertBitwise(expected, placed, `${what} (reference against take_along_axis)`);
  },
};

/** A case of oneHot: the indices' shape, the depth, and the seed the ids come from. */
export interface OneHotCase {
  indexShape: number[];
  depth: number;
  seed: number;
}

/** oneHot: bit for bit the reference's, 1 exactly where the id is and 0 elsewhere. */
export const oneHotProperty: OpProperty<OneHotCase> = {
  name: "oneHot: GPU rows equal the reference's, 1 at each id and 0 elsewhere",
  // At most 20,000 outputs: the folded test device (tests/_harness.ts, 7 workgroups a
  // dimension) dispatches at most 343 workgroups; 9·12·12 ids of depth 272 needed 345.
  cases: fc.record({
    indexShape: fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
    depth: fc.oneof(fc.constantFrom(1, 2, 3, 7, 10), fc.integer({ min: 1, max: 300 })),
    seed,
  }).filter((c) => size(c.indexShape) * c.depth <= 20_000),
  numRuns: 30,
  noSpecialValues: "its input is class ids: whole numbers in [0, depth), checked on the host",
  async check(backend, { indexShape, depth, seed: s }) {
    const ids = Array.from({ length: size(indexShape) }, (_, j) => (s + 13 * j * j) % depth);
    const what = `oneHot of [${indexShape}] ids, depth ${depth}, seed=${s}`;
    using gi = backend.tensor(ids, indexShape);
    using got = oneHot(gi, depth);
    using want = oneHot(ref.tensor(ids, indexShape), depth);
    assertShape(got.shape, [...indexShape, depth], what);
    const expected = await want.read();
    assertBitwise(await got.read(), expected, what);
    const rows = Float32Array.from(
      { length: ids.length * depth },
      (_, o) => ids[Math.floor(o / depth)] === o % depth ? 1 : 0,
    );
    assertBitwise(expected, rows, `${what} (reference against the definition)`);
  },
};

/** A case of arange: start, step and a length (stop is placed from them). */
export interface ArangeCase {
  start: number;
  step: number;
  length: number;
  /** Where stop falls in the last step: a fraction of it. */
  past: number;
}

/**
 * arange: NumPy's length ⌈(stop − start)/step⌉, the reference's values start + i·step
 * rounded once, the GPU's within u·(1 + u)·|i·step| + 2u·|start + i·step| of them (it
 * rounds the product and the sum: |fl(fl(i·s) + a) − (i·s + a)| ≤ u·|i·s| +
 * u·(|i·s + a| + u·|i·s|), and the reference is within u·|i·s + a|), exact for whole
 * numbers. A GPU that flushes subnormals (SwiftShader) moves every value by |a| < MIN_NORMAL
 * when the start is subnormal, and a subnormal value by < MIN_NORMAL: MIN_NORMAL more there
 * (|step| ≥ 10⁻³ here, never subnormal).
 */
export const arangeProperty: OpProperty<ArangeCase> = {
  name: "arange: NumPy's length, start + i·step within two roundings, whole numbers exact",
  cases: fc.record({
    start: fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.double({ min: -1e4, max: 1e4, noNaN: true }),
    ),
    step: fc.oneof(
      fc.integer({ min: -50, max: 50 }).filter((v) => v !== 0),
      fc.double({ min: 1e-3, max: 100, noNaN: true }),
      fc.double({ min: -100, max: -1e-3, noNaN: true }),
    ),
    length: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 5000 })),
    past: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  }),
  numRuns: 40,
  noSpecialValues: "start, stop and step are finite numbers, checked at the boundary",
  async check(backend, { start, step, length, past }) {
    const stop = start + (length - 1 + past) * step;
    const what = `arange(${start}, ${stop}, ${step})`;
    using got = arange(backend, start, stop, step);
    using want = arange(ref, start, stop, step);
    const n = Math.ceil((stop - start) / step);
    assertShape(got.shape, [n], what);
    assertShape(want.shape, [n], `${what} (reference)`);
    const [a, st] = [Math.fround(start), Math.fround(step)];
    const expected = await want.read();
    assertBitwise(
      expected,
      Float32Array.from({ length: n }, (_, i) => a + i * st),
      `${what} (reference)`,
    );
    const actual = await got.read();
    if (Number.isInteger(a) && Number.isInteger(st)) assertBitwise(actual, expected, what);
    assertWithin(
      actual,
      expected,
      (i) =>
        U * ((1 + U) * Math.abs(i * st) + 2 * Math.abs(a + i * st)) +
        (Math.abs(a) < MIN_NORMAL || Math.abs(a + i * st) < MIN_NORMAL ? MIN_NORMAL : 0),
      what,
    );
  },
};

/**
 * The bound of one element of `scatterAdd` with h hits and A = |x| + Σ|updates hit|.
 * The kernel adds the h updates in some order (its reduction tree) and then x: the
 * error of any order of h additions is at most γ(h)·A. The reference sums in float64
 * (error ≤ h·2⁻⁵³·A) and rounds x + sum once (≤ u·A). Together
 * γ(h) + u + h·2⁻⁵³ ≤ γ(h + 1), since γ(h + 1) − γ(h) ≥ u·(1 + (2h + 1)·u). With no
 * hit the bound is 0: the result is x itself.
 */
export function scatterAddBound(hits: number, absSum: number): number {
  return hits === 0 ? 0 : gamma(hits + 1) * absSum;
}

/** scatterAdd: within its bound of the reference, np.add.at's bits, the same bits again. */
export const scatterAddProperty: OpProperty<IndexingCase> = {
  name:
    "scatterAdd: GPU is np.add.at in float32 bit for bit, within γ(h + 1)·Σ of the reference, rerun alike",
  cases,
  numRuns: 30,
  async check(backend, c) {
    const { shape, axis, indexShape } = c;
    const { n, inner, gathered } = layout(c);
    const x = values(size(shape), c.profile, c.seed);
    const u = values(size(gathered), c.profile, c.seed + 1);
    const indices = indicesOf(c);
    const what = `scatterAdd into [${shape}] along ${axis} at [${indexShape}] seed=${c.seed}`;
    const run = (b: Backend, xs: Float32Array, us: Float32Array): Tensor => {
      using tx = b.tensor(xs, shape);
      using ti = b.tensor(indices, indexShape);
      using tu = b.tensor(us, gathered);
      return scatterAdd(tx, ti, tu, { axis });
    };
    using got = run(backend, x, u);
    using again = run(backend, x, u);
    using want = run(ref, x, u);
    using flushed = run(ref, x.map(flushSubnormal), u.map(flushSubnormal));
    const actual = await got.read();
    assertBitwise(await again.read(), actual, `${what} (a second run)`);
    // Where each update goes, hits and absolute sums per element, from coordinates.
    const targets = Array.from(u, (_, o) => {
      const a = Math.floor(o / (indices.length * inner));
      const j = Math.floor(o / inner) % indices.length;
      return (a * n + (indices[j] + n) % n) * inner + (o % inner);
    });
    const hits = new Float64Array(x.length);
    const absSums = Float64Array.from(x, Math.abs);
    targets.forEach((e, o) => {
      hits[e]++;
      absSums[e] += Math.abs(u[o]);
    });
    assertWithin(
      actual,
      await want.read(),
      (i) => scatterAddBound(hits[i], absSums[i]),
      what,
      await flushed.read(),
    );
    // np.add.at in float32: x, then each update in index order, each sum rounded.
    const addAt = (flush: (v: number) => number) => {
      const out = Float32Array.from(x, flush);
      targets.forEach((e, o) => out[e] = flush(Math.fround(out[e] + flush(u[o]))));
      return out;
    };
    assertBitwiseOrFlushed(actual, addAt((v) => v), addAt(flushSubnormal), `${what} (np.add.at)`);
  },
};
