/**
 * @file The scans' GPU-versus-reference properties: `cumsum` and `cumprod` along any axis
 * (negative or not), exclusive or not, reversed or not, on the backend and the reference
 * against float64 prefix sums and products computed here from coordinates. Lines run up
 * to 5,000 values: one chunk of 16 or up to four levels of chunks (`kernels/scan.ts`).
 */
import fc from "fast-check";
import { type Backend, cumprod, cumsum } from "../mod.ts";
import { scanRoundings } from "../kernels/scan.ts";
import {
  assertShape,
  assertWithin,
  flushSubnormal,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  U,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";
import { factor } from "./_properties_reduce.ts";

/** A scan's case: a shape, the axis and how it is given, the options, values. */
export interface ScanCase {
  shape: number[];
  axis: number;
  negative: boolean;
  exclusive: boolean;
  reverse: boolean;
  profile: Profile;
  seed: number;
}

const scanCases: fc.Arbitrary<ScanCase> = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom(1, 2, 3, 7, 16, 33), fc.integer({ min: 1, max: 40 })), {
    minLength: 1,
    maxLength: 3,
  }).filter((s) => s.reduce((a, b) => a * b, 1) <= 20_000),
  // Long lines, of one line or a few, along either axis; multiples of 16, whose threads
  // read and write whole mat4x4 chunks (kernels/scan.ts).
  fc.tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.oneof(fc.integer({ min: 900, max: 5_000 }), fc.constantFrom(1_024, 1_040, 2_048, 4_096)),
  ),
  fc.tuple(fc.integer({ min: 1_025, max: 3_000 }), fc.integer({ min: 1, max: 3 })),
).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: 0, max: shape.length - 1 }),
    negative: fc.boolean(),
    exclusive: fc.boolean(),
    reverse: fc.boolean(),
    profile,
    seed,
  })
);

/**
 * For each element, its line and its place k in scan order (from the axis' end when
 * reversed): independently of the library, from coordinates.
 */
function scanOrder(shape: readonly number[], axis: number, reverse: boolean) {
  const n = shape.reduce((a, b) => a * b, 1);
  const line = new Int32Array(n), place = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let rest = i, l = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const coordinate = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      if (d === axis) place[i] = reverse ? shape[d] - 1 - coordinate : coordinate;
      else l = l * shape[d] + coordinate;
    }
    line[i] = l;
  }
  // Elements of a line in scan order.
  const lines = n / shape[axis];
  const order = Array.from({ length: lines }, () => new Int32Array(shape[axis]));
  for (let i = 0; i < n; i++) order[line[i]][place[i]] = i;
  return { order, place };
}

/** The case's call and its description. */
function describeCase(c: ScanCase) {
  const axis = c.negative ? c.axis - c.shape.length : c.axis;
  const options = { axis, exclusive: c.exclusive, reverse: c.reverse };
  return {
    options,
    what: `[${c.shape}] ${JSON.stringify(options)} ${c.profile} seed=${c.seed}`,
  };
}

/**
 * cumsum within γ(R)·Σ|terms| of the exact prefix sum (R: `scanRoundings` of the line's
 * length, the longest chain of roundings the scan runs), plus MIN_NORMAL per term
 * for a GPU that flushes subnormal terms or results.
 */
export const cumsumProperty: OpProperty<ScanCase> = {
  name: "cumsum along an axis (exclusive, reverse): GPU and reference vs float64, " +
    "within the scan's rounding chain",
  cases: scanCases,
  numRuns: 40,
  async check(backend, c) {
    const { options, what } = describeCase(c);
    const n = c.shape.reduce((a, b) => a * b, 1), length = c.shape[c.axis];
    const x = values(n, c.profile, c.seed);
    const { order } = scanOrder(c.shape, c.axis, c.reverse);
    const sums = new Float64Array(n), scale = new Float64Array(n);
    for (const line of order) {
      let s = -0, a = 0; // −0: IEEE addition's identity, as the kernel's
      for (const i of line) {
        if (c.exclusive) [sums[i], scale[i]] = [s, a];
        s += x[i];
        a += Math.abs(x[i]);
        if (!c.exclusive) [sums[i], scale[i]] = [s, a];
      }
    }
    const R = scanRoundings(length);
    for (const t of [backend, ref] as Backend[]) {
      using y = cumsum(t.tensor(x, c.shape), options);
      assertShape(y.shape, c.shape, `cumsum ${what}`);
      assertWithin(
        await y.read(),
        sums,
        (i) => gamma(R) * scale[i] + length * MIN_NORMAL,
        `cumsum ${what} on ${t.kind}`,
      );
    }
  },
};

/**
 * cumprod of factors in [1, 1 + 2⁻⁸) (and the profile's zeros and special values, see
 * `factor`): the k-th product in scan order is a tree of k multiplications, whatever
 * the chunks, each rounding once relatively, so it is within γ(k)·|p| while no partial
 * product is subnormal; one with a subnormal factor can be, each of its roundings off
 * by at most u·MIN_NORMAL, scaled by the later factors (≤ Π max(1, |x|)). A GPU that
 * flushes subnormals gives the product of the flushed factors instead.
 */
export const cumprodProperty: OpProperty<ScanCase> = {
  name: "cumprod along an axis (exclusive, reverse): GPU and reference vs float64, " +
    "within γ(k) relatively",
  cases: scanCases,
  numRuns: 30,
  async check(backend, c) {
    const { options, what } = describeCase(c);
    const n = c.shape.reduce((a, b) => a * b, 1);
    const x = values(n, c.profile, c.seed).map(factor);
    const { order, place } = scanOrder(c.shape, c.axis, c.reverse);
    const products = new Float64Array(n), flushed = new Float64Array(n);
    const growth = new Float64Array(n);
    for (const line of order) {
      let p = 1, f = 1, m = 1;
      for (const i of line) {
        if (c.exclusive) [products[i], flushed[i], growth[i]] = [p, f, m];
        p *= x[i];
        f *= flushSubnormal(x[i]);
        m *= Math.max(1, Math.abs(x[i]));
        if (!c.exclusive) [products[i], flushed[i], growth[i]] = [p, f, m];
      }
    }
    const bound = (i: number) =>
      gamma(place[i]) * Math.abs(products[i]) + place[i] * U * MIN_NORMAL * growth[i];
    for (const t of [backend, ref] as Backend[]) {
      using y = cumprod(t.tensor(x, c.shape), options);
      assertShape(y.shape, c.shape, `cumprod ${what}`);
      assertWithin(await y.read(), products, bound, `cumprod ${what} on ${t.kind}`, flushed);
    }
  },
};
