/**
 * @file The GPU-versus-reference properties of the second wave's elementwise ops that are
 * not a function within a bound of its exact value (those are in
 * `_properties_elementwise.ts`'s UNARY_PROPERTIES, the exact binary ones in its
 * ARITHMETIC_PROPERTIES): the exact unary ops (`floor`, `ceil`, `round`, `sign`, `isNaN`,
 * `isFinite`, `logicalNot`), `clip` and `leakyRelu` by random numbers, `floorDiv` (exact
 * where |a/b| < 2²¹), and `squaredDifference` (two roundings). Each compares the GPU with
 * the reference — bit for bit or within a bound derived here — and the reference with the
 * op's meaning written independently (NumPy's, checked against NumPy 2.4 in the README's
 * "Special values" rows).
 */
import fc from "fast-check";
import {
  type Backend,
  ceil,
  clip,
  floor,
  floorDiv,
  isFinite,
  isNaN,
  leakyRelu,
  logicalNot,
  round,
  sign,
  squaredDifference,
  type Tensor,
} from "../mod.ts";
import {
  assertBitwise,
  assertBitwiseOrFlushed,
  assertWithin,
  dim,
  flushing,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  ulp,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";
import type { ValuesCase } from "./_properties_elementwise.ts";

/** The nearest whole number, a tie to the even one, a zero with x's sign (NumPy's round). */
function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const lower = Math.floor(x), fraction = x - lower;
  const r = fraction > 0.5 || (fraction === 0.5 && lower % 2 !== 0) ? lower + 1 : lower;
  return r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
}

/** The exact unary ops and their meanings (NumPy's). */
const EXACT_UNARY: readonly [string, (x: Tensor) => Tensor, (x: number) => number][] = [
  ["floor", floor, Math.floor],
  ["ceil", ceil, Math.ceil],
  ["round", round, roundHalfEven],
  ["sign", sign, (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0)],
  ["isNaN", isNaN, (x) => +Number.isNaN(x)],
  ["isFinite", isFinite, (x) => +Number.isFinite(x)],
  ["logicalNot", logicalNot, (x) => +(x === 0)],
];

/** floor, ceil, round, sign, isNaN, isFinite and logicalNot bit for bit. */
export const exactUnaryProperty: OpProperty<ValuesCase> = {
  name: "exact unary ops: floor, ceil, round, sign, isNaN, isFinite, logicalNot bit for bit",
  cases: fc.record({ n: dim(5000), profile, seed }),
  numRuns: 30,
  async check(backend, { n, profile: kind, seed: s }) {
    // Halves and whole numbers where rounding decides: the values doubled or halved.
    const x = values(n, kind, s).map((v, i) => (i % 3 === 0 ? Math.round(v * 8) / 2 : v));
    using gx = backend.tensor(x);
    using rx = ref.tensor(x);
    for (const [name, op, meaning] of EXACT_UNARY) {
      using got = op(gx);
      using want = op(rx);
      const what = `${name} n=${n} ${kind} seed=${s}`;
      const flushed = x.map((v) => flushing(meaning)(v));
      assertBitwiseOrFlushed(await got.read(), await want.read(), flushed, what);
      assertBitwise(await want.read(), x.map(meaning), `${what} (reference)`);
    }
  },
};

/** A clip and leakyRelu case: values, bounds and a slope. */
export interface ClipCase extends ValuesCase {
  lo: number;
  hi: number;
  slope: number;
}

const number = fc.oneof(
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.constantFrom(0, -0, Infinity, -Infinity),
);

/**
 * clip(x, lo, hi) and leakyRelu(x, { slope }) bit for bit: clip is a choice, leakyRelu one
 * rounded product (slope·x of two float32 is exact in float64, so the reference rounds
 * once as the GPU does). Bounds in either order (lo > hi gives hi) and infinite.
 */
export const clipLeakyReluProperty: OpProperty<ClipCase> = {
  name: "clip and leakyRelu: GPU equals the reference bit for bit, up to flushed subnormals",
  cases: fc.record({
    n: dim(5000),
    profile,
    seed,
    lo: number,
    hi: number,
    slope: fc.double({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }),
  }),
  numRuns: 30,
  async check(backend, { n, profile: kind, seed: s, lo, hi, slope }) {
    const x = values(n, kind, s);
    const [l, h, k] = [lo, hi, slope].map(Math.fround);
    // NumPy's clip by numbers: lo where x < lo, then hi where that is > hi (a tie keeps x).
    const clipped = (v: number, [a, b] = [l, h]) => {
      const low = v < a ? a : v;
      return low > b ? b : low;
    };
    const leaky = (v: number, slope = k) => (v > 0 ? v : Math.fround(v * slope));
    using gx = backend.tensor(x);
    using rx = ref.tensor(x);
    const what = `n=${n} ${kind} seed=${s} lo=${lo} hi=${hi} slope=${slope}`;
    // A GPU that flushes compares flushed values and keeps the chosen operand's bits (the
    // README's "Special values": a choice), a bound's or x's.
    const view = flushing((w) => w);
    const chosen = (v: number) => {
      const low = view(v) < view(l) ? l : v;
      return view(low) > view(h) ? h : low;
    };
    using gc = clip(gx, lo, hi);
    using rc = clip(rx, lo, hi);
    assertBitwiseOrFlushed(await gc.read(), await rc.read(), x.map(chosen), `clip ${what}`);
    assertBitwise(await rc.read(), x.map((v) => clipped(v)), `clip ${what} (reference)`);
    using gl = leakyRelu(gx, { slope });
    using rl = leakyRelu(rx, { slope });
    const lFlushed = x.map((v) => flushing((w) => leaky(w, flushing((t) => t)(k)))(v));
    assertBitwiseOrFlushed(await gl.read(), await rl.read(), lFlushed, `leakyRelu ${what}`);
    assertBitwise(await rl.read(), x.map((v) => leaky(v)), `leakyRelu ${what} (reference)`);
  },
};

/** A binary case: a length, the profiles of the two operands, and a seed. */
export interface BinaryCase {
  n: number;
  first: Profile;
  second: Profile;
  seed: number;
}

const binaryCases: fc.Arbitrary<BinaryCase> = fc.record({
  n: dim(3000),
  first: profile,
  second: profile,
  seed,
});

/** NumPy's floor_divide of float32 a and b: ⌊a/b⌋ computed as NumPy does in float32. */
function numpyFloorDivide(a: number, b: number): number {
  const f = Math.fround, m = a % b;
  if (b === 0 || Number.isNaN(m)) return b === 0 ? a / b : NaN;
  let d = f(f(a - m) / b);
  if (m !== 0 && (m < 0) !== (b < 0)) d = f(d - 1);
  if (d === 0) return Object.is(a / b, -0) || a / b < 0 ? -0 : 0;
  const lower = Math.floor(d);
  return d - lower > 0.5 ? lower + 1 : lower;
}

/**
 * floorDiv: NumPy computes d = (a − fmod(a, b))/b, correctly rounded, where the GPU's
 * division is within 2.5 ULP (WGSL); both then floor d and move it to the nearest whole
 * number. Where |a/b| < 2²¹, (a − fmod) rounds by ≤ u·|a/b|·|b| and the division by
 * 2.5 ULP ≤ 2.5·2⁻³: the GPU's d is within 0.44 of the same whole number, so the two agree
 * bit for bit. Beyond, they may differ by the divisions' difference, 3 ULP of the quotient,
 * and 1 from the floor: 3·ULP(a/b) + 1.
 */
export const floorDivProperty: OpProperty<BinaryCase> = {
  name: "floorDiv: GPU equals NumPy's float32 value where |a/b| < 2²¹, else within 3 ULP + 1",
  cases: binaryCases,
  numRuns: 30,
  async check(backend, { n, first, second, seed: s }) {
    const a = values(n, first, s), b = values(n, second, s + 1);
    using ga = backend.tensor(a);
    using gb = backend.tensor(b);
    using got = floorDiv(ga, gb);
    using want = floorDiv(ref.tensor(a), ref.tensor(b));
    const what = `floorDiv n=${n} ${first}/${second} seed=${s}`;
    const exact = a.map((v, i) => numpyFloorDivide(v, b[i]));
    assertBitwise(await want.read(), exact, `${what} (reference)`);
    const flushed = Array.from(a, (v, i) => flushing(numpyFloorDivide)(v, b[i]));
    const bound = (i: number) => {
      const q = Math.abs(a[i] / b[i]);
      return q < 2 ** 21 ? 0 : 3 * ulp(q) + 1;
    };
    assertWithin(await got.read(), exact, bound, what, flushed);
  },
};

/**
 * squaredDifference: fl(fl(a − b)²), two roundings: within (1 + u)³ − 1 ≤ γ(3) of the
 * exact (a − b)², relative, and MIN_NORMAL where a subnormal difference or square may be
 * flushed; the reference is the exact value rounded once.
 */
export const squaredDifferenceProperty: OpProperty<BinaryCase> = {
  name: "squaredDifference: GPU within γ(3) of the exact (a − b)²",
  cases: binaryCases,
  numRuns: 30,
  async check(backend: Backend, { n, first, second, seed: s }) {
    const a = values(n, first, s), b = values(n, second, s + 1);
    using ga = backend.tensor(a);
    using gb = backend.tensor(b);
    using got = squaredDifference(ga, gb);
    using want = squaredDifference(ref.tensor(a), ref.tensor(b));
    const what = `squaredDifference n=${n} ${first}/${second} seed=${s}`;
    const exact = Array.from(a, (v, i) => (v - b[i]) ** 2);
    assertBitwise(await want.read(), Float32Array.from(exact), `${what} (reference)`);
    const flushed = Array.from(a, (v, i) => flushing((x, y) => (x - y) ** 2)(v, b[i]));
    const bound = (i: number) => gamma(3) * exact[i] + (exact[i] < 2 * MIN_NORMAL ? MIN_NORMAL : 0);
    assertWithin(await got.read(), exact, bound, what, flushed);
  },
};
