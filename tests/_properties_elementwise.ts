/**
 * @file The elementwise ops' GPU-versus-reference properties. The functions (`exp`, `log`,
 * `sqrt`, `tanh`, `sigmoid`, `div`, `pow`, and the second wave's `log1p`, `expm1`,
 * `rsqrt`, `sin`, `cos`, `softplus`, `logSigmoid`, `gelu`, `elu`) on the GPU against their exact values (float64),
 * within WGSL's documented accuracy — or, for the functions the library composes from
 * WGSL's (`sigmoid`, `tanh`, `pow`'s sign), within the bound derived from the formula in
 * `kernels/expression.ts` — and the reference equal to the exact value rounded once. Exact
 * ops (`neg`, `abs`, `relu`, `maximum`, `minimum`, and `add`, `sub`, `mul`, `scale`,
 * `square`, one correctly rounded operation each) are compared bit for bit.
 *
 * ULP(x) is WGSL's (tests/_numerics.ts); u = 2⁻²⁴; ε = 2⁻²³ = 2u (one ULP relative, for a
 * normal result). Every bound adds MIN_NORMAL where WGSL lets the GPU flush a subnormal.
 *
 * Special values (the `special` profile: NaN, ±Inf, ±0, ±subnormal) pass through every
 * domain unchanged and into every input; where the exact value is NaN or ±Inf, or an input
 * is infinite, the result must be exact (README, "Special values"), and a result may
 * instead be exactly the value of the flushed inputs, flushed, as WGSL allows.
 */
import fc from "fast-check";
import {
  abs,
  add,
  type Backend,
  cos,
  div,
  elu,
  exp,
  expm1,
  gelu,
  greaterEqual,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  logicalOr,
  logicalXor,
  logSigmoid,
  maximum,
  minimum,
  mod,
  mul,
  neg,
  notEqual,
  pow,
  relu,
  rsqrt,
  scale,
  sigmoid,
  sin,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
  type Tensor,
} from "../mod.ts";
import {
  type Allowance,
  allowanceOn,
  assertBitwise,
  assertBitwiseOrFlushed,
  assertShape,
  assertWithin,
  dim,
  divBound,
  EXP_ALLOWANCE,
  expBound,
  expm1Bound,
  flushing,
  flushSubnormal,
  GELU_CONSTANTS,
  geluBound,
  keepingSpecials,
  log1pBound,
  MIN_NORMAL,
  powBound,
  powC,
  type Profile,
  profile,
  seed,
  sigmoidBound,
  size,
  softplusBound,
  trigBound,
  U,
  ulp,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

export { expBound, sigmoidBound } from "./_numerics.ts";

const EPS = 2 ** -23;

/** Profile values folded into [−limit, limit] (JavaScript's %: the sign is kept). */
function foldInto(x: Float32Array, limit: number): Float32Array {
  return x.map((v) => (Math.abs(v) > limit ? Math.fround(v % limit) : v));
}

/** A length, a value profile and a seed: the case of most elementwise properties. */
export interface ValuesCase {
  n: number;
  profile: Profile;
  seed: number;
}

/** Lengths up to `max`, profiles and seeds. */
function valuesCases(max: number): fc.Arbitrary<ValuesCase> {
  return fc.record({ n: dim(max), profile, seed });
}

/**
 * sqrt's bound at exact value r: WGSL's sqrt inherits 1/inverseSqrt(x), 2 ULP then a
 * division's 2.5 ULP, so the relative error is at most (1 + 2.5ε)/(1 − 2ε) − 1 ≤
 * 4.5ε + 10ε²; sqrt(0) = 0 exactly (WGSL leaves it to inverseSqrt(0); Adam's first step
 * needs it).
 */
export function sqrtBound(r: number): number {
  return (4.5 * EPS + 10 * EPS * EPS) * r;
}

/**
 * tanh's bound on `backend` at input x, exact value r. The kernel computes
 * sign(x)·(1 − t)/(1 + t) with t = exp(−2|x|) (kernels/expression.ts), τ its exact value:
 * t is within δ = expBound(−2|x|, τ) of τ, absolute — WGSL's ULPs of τ, subnormal τ
 * included (at |x| = 10³⁰, δ ≈ 5.6·10⁻¹⁵), and a flush. f(t) = (1 − t)/(1 + t) has
 * |f′| = 2/(1 + t)², so f(t) is within d = 2δ/(1 + τ − δ)² of tanh (δ < 1 + τ). The
 * subtraction and the addition (u each) and the division (2.5 ULP ≤ 5u of the quotient)
 * move f(t) by (7u + 5u²)/(1 − u) ≤ 8u of |f(t)| ≤ |r| + d; a subnormal quotient, flushed,
 * by < 2·MIN_NORMAL. Valid at every finite x, saturated ones included.
 */
export function tanhBound(x: number, r: number, backend: Backend): number {
  const tau = Math.exp(-2 * Math.abs(x)), delta = expBound(-2 * Math.abs(x), tau, backend);
  const d = 2 * delta / (1 + tau - delta) ** 2;
  return d + 8 * U * (Math.abs(r) + d) + 2 * MIN_NORMAL;
}

/** A unary function: its op, its exact value, the values it is tested on, and its bound. */
interface Unary {
  readonly op: (x: Tensor) => Tensor;
  readonly exact: (x: number) => number;
  /** The inputs, from profile values. */
  readonly domain: (x: Float32Array) => Float32Array;
  /** |gpu − exact| allowed on `backend` at input x, exact value r. */
  readonly bound: (x: number, r: number, backend: Backend) => number;
  /** Where the bound comes from, for the test's name. */
  readonly source: string;
}

/**
 * SwiftShader's log (Chromium's WebGPU without a GPU; its adapter names SwiftShader)
 * exceeds WGSL's 3 ULP: measured over every float32 of [0.25, 0.5), its worst is 4.06 ULP
 * at x = 0.48649 (an absolute error of 2.4·10⁻⁷, as if [0.5, 2]'s absolute bound reached
 * past 0.5); every float32 of [0.0625, 0.25) and [2, 16) is within 2.5. llvmpipe keeps
 * WGSL's bound (2²² points of [0.25, 0.5]: 2.904 ULP at worst, `scripts/measure_accuracy.ts
 * log 0.25 0.5 4194304`), and so does every adapter not measured.
 */
export const LOG_ALLOWANCE: Allowance = { ulps: 1.1, adapter: /swiftshader/i };

const UNARY: Record<string, Unary> = {
  // WGSL: exp within 3 + 2|x| ULP (+ EXP_ALLOWANCE). Inputs down to −100 reach
  // subnormal results (flushable).
  exp: {
    op: exp,
    exact: Math.exp,
    domain: keepingSpecials((x) => foldInto(x, 88).map((v) => Math.max(v, -100))),
    bound: expBound,
    source: `WGSL: 3 + 2|x| ULP (+ ${EXP_ALLOWANCE.ulps} for llvmpipe, SwiftShader)`,
  },
  // WGSL: log within 3 ULP outside [0.5, 2], 2⁻²¹ absolute inside (+ LOG_ALLOWANCE);
  // positive inputs. A subnormal x is computed as log(x·2²⁴) − c, c = 24·ln 2 rounded
  // (kernels/expression.ts): 3 ULP (+ LOG_ALLOWANCE) of L = log(x·2²⁴), half an ULP of c,
  // half an ULP of the result for the subtraction.
  log: {
    op: log,
    exact: Math.log,
    domain: keepingSpecials((x) => x.map((v) => (v === 0 ? 1 : Math.abs(v)))),
    bound: (x, r, backend) => {
      const allowance = allowanceOn(LOG_ALLOWANCE, backend);
      if (x < MIN_NORMAL) {
        const c = Math.fround(24 * Math.LN2), l = Math.log(x * 2 ** 24);
        return (3 + allowance) * ulp(l) + ulp(c) / 2 + ulp(r) / 2;
      }
      return x >= 0.5 && x <= 2 ? 2 ** -21 : (3 + allowance) * ulp(r);
    },
    source: `WGSL: 3 ULP (+ ${LOG_ALLOWANCE.ulps} for SwiftShader), 2⁻²¹ absolute in [0.5, 2]`,
  },
  // WGSL: sqrt inherits 1/inverseSqrt(x) (sqrtBound); sqrt(0) = 0 is checked exactly.
  sqrt: {
    op: sqrt,
    exact: Math.sqrt,
    domain: keepingSpecials((x) => x.map(Math.abs)),
    bound: (_x, r) => sqrtBound(r),
    source: "WGSL: 1/inverseSqrt, 4.5 ULP",
  },
  // tanh = sign(x)·(1 − t)/(1 + t), t = exp(−2|x|): exp's error through f′ (tanhBound).
  tanh: {
    op: tanh,
    exact: Math.tanh,
    domain: (x) => x,
    bound: tanhBound,
    source: "derived: 2δ/(1 + τ − δ)² + 8u|tanh|, δ exp's bound at −2|x|",
  },
  // sigmoid = 1/(1 + e) or e/(1 + e), e = exp(−|x|): exp's error through f′ (sigmoidBound).
  sigmoid: {
    op: sigmoid,
    exact: (x) => 1 / (1 + Math.exp(-x)),
    domain: (x) => x,
    bound: sigmoidBound,
    source: "derived: δ/(1 + η − δ)² + 7uσ, δ exp's bound at −|x|",
  },
  // kernels/special_math_wgsl.ts; bounds derived in tests/_numerics.ts. Inputs below −1
  // folded into (−1, −0.5] (x ↦ −1 − 1/x).
  log1p: {
    op: log1p,
    exact: Math.log1p,
    domain: keepingSpecials((x) => x.map((v) => (v < -1 ? Math.fround(-1 - 1 / v) : v))),
    bound: (x, r) => log1pBound(x, r),
    source: "derived: 10u on [−0.5, 1.5), WGSL's log elsewhere",
  },
  expm1: {
    op: expm1,
    exact: Math.expm1,
    domain: keepingSpecials((x) => foldInto(x, 88).map((v) => Math.max(v, -100))),
    bound: expm1Bound,
    source: "derived: 4.1u on [−0.5, 0.5], WGSL's exp elsewhere",
  },
  // WGSL: inverseSqrt within 2 ULP; a subnormal x scaled by 2²⁴ exactly.
  rsqrt: {
    op: rsqrt,
    exact: (x) => 1 / Math.sqrt(x),
    domain: keepingSpecials((x) => x.map(Math.abs)),
    bound: (_x, r) => 2 * ulp(r),
    source: "WGSL: inverseSqrt, 2 ULP",
  },
  sin: {
    op: sin,
    exact: Math.sin,
    domain: (x) => x,
    bound: (x) => trigBound(x),
    source: "WGSL: 2⁻¹¹ absolute after a reduction by 2π (trigBound)",
  },
  cos: {
    op: cos,
    exact: Math.cos,
    domain: (x) => x,
    bound: (x) => trigBound(x),
    source: "WGSL: 2⁻¹¹ absolute after a reduction by 2π (trigBound)",
  },
  softplus: {
    op: softplus,
    exact: softplus64,
    domain: (x) => x,
    bound: softplusBound,
    source: "derived: exp's bound through log1p (softplusBound)",
  },
  // logSigmoid(x) = −softplus(−x), computed so.
  logSigmoid: {
    op: logSigmoid,
    exact: (x) => -softplus64(-x),
    domain: (x) => x,
    bound: (x, r, backend) => softplusBound(-x, -r, backend),
    source: "derived: softplus's bound at −x",
  },
  gelu: {
    op: gelu,
    exact: (x) => x / (1 + Math.exp(-GELU_CONSTANTS.C * (x + GELU_CONSTANTS.K * x ** 3))),
    domain: (x) => x,
    bound: geluBound,
    source: "derived: the argument's γ(5) and sigmoid's bound (geluBound)",
  },
  // x above 0 (exact), expm1 at and below.
  elu: {
    op: elu,
    exact: (x) => (x > 0 ? x : Math.expm1(x)),
    domain: (x) => x,
    bound: (x, r, backend) => (x > 0 ? 0 : expm1Bound(x, r, backend)),
    source: "derived: expm1's bound below 0, exact above",
  },
};

/** log(1 + eˣ) in float64, accurate for every x. */
function softplus64(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** A unary function's property: GPU within its bound of the exact value, reference rounded once. */
function unaryProperty(name: string, f: Unary): OpProperty<ValuesCase> {
  return {
    name: `${name}: GPU within ${f.source} of the exact value`,
    cases: valuesCases(5000),
    numRuns: 40,
    async check(backend, { n, profile: kind, seed: s }) {
      const x = f.domain(values(n, kind, s));
      using gx = backend.tensor(x);
      using out = f.op(gx);
      using expected = f.op(ref.tensor(x));
      const exact = Array.from(x, f.exact);
      const what = `${name} n=${n} ${kind} seed=${s}`;
      // The bound is on |gpu − exact|; WGSL measures in ULPs of the exact result. At an
      // infinite input the function's limit is exact (README, "Special values").
      const bound = (i: number) => Number.isFinite(x[i]) ? f.bound(x[i], exact[i], backend) : 0;
      const flushed = Array.from(x, flushing(f.exact));
      assertWithin(await out.read(), exact, bound, `${what} (GPU)`, flushed);
      assertBitwise(await expected.read(), Float32Array.from(exact), `${what} (reference)`);
    },
  };
}

/**
 * exp, log, sqrt, tanh, sigmoid, and log1p, expm1, rsqrt, sin, cos, softplus,
 * logSigmoid, gelu, elu, each within its bound of the exact value.
 */
export const UNARY_PROPERTIES: readonly OpProperty<ValuesCase>[] = Object.entries(UNARY).map((
  [name, f],
) => unaryProperty(name, f));

/** neg, abs, relu, maximum and minimum bit for bit (zeros by their sign, as NumPy). */
export const exactOpsProperty: OpProperty<ValuesCase> = {
  name: "exact elementwise ops: neg, abs, relu, maximum, minimum bit for bit",
  cases: valuesCases(5000),
  numRuns: 30,
  async check(backend, { n, profile: kind, seed: s }) {
    const [a, b] = [values(n, kind, s), values(n, kind, s + 1)];
    const run = (on: Backend) => {
      const [x, y] = [on.tensor(a), on.tensor(b)];
      const out = [neg(x), abs(x), relu(x), maximum(x, y), minimum(x, y)];
      x.dispose();
      y.dispose();
      return out;
    };
    const [got, want] = [run(backend), run(ref)];
    // The reference's meaning, independently and as NumPy's: −x, |x|, maximum(x, 0), the
    // larger, the smaller, where NaN wins and a tie (+0 with −0) gives the second operand.
    // A GPU that flushes compares flushed values and moves the chosen operand's bits
    // (`view` flushes the compared values).
    const choosing = (view: (v: number) => number) => {
      const larger = (x: number, y: number) => (view(x) > view(y) || Number.isNaN(x) ? x : y);
      const smaller = (x: number, y: number) => (view(x) < view(y) || Number.isNaN(x) ? x : y);
      return [(x: number) => -x, Math.abs, (x: number) => larger(x, 0), larger, smaller];
    };
    const exact = choosing((v) => v), daz = choosing(flushSubnormal);
    try {
      for (const [k, name] of ["neg", "abs", "relu", "maximum", "minimum"].entries()) {
        const what = `${name} n=${n} ${kind}`;
        const flushed = a.map((v, i) => daz[k](v, b[i]));
        assertBitwiseOrFlushed(await got[k].read(), await want[k].read(), flushed, what);
        const values = a.map((v, i) => exact[k](v, b[i]));
        assertBitwise(await want[k].read(), values, `${what} (reference)`);
      }
    } finally {
      [...got, ...want].forEach((t) => t.dispose());
    }
  },
};

/** A div case: a length, the profiles of numerator and divisor, and a seed. */
export interface DivCase {
  n: number;
  numerators: Profile;
  divisors: Profile;
  seed: number;
}

/**
 * div: WGSL's 2.5 ULP of the exact quotient (a zero divisor is replaced by 1, except in
 * the `special` profile, whose ±0 divisors give ±Inf or NaN exactly).
 */
export const divProperty: OpProperty<DivCase> = {
  name: "div: GPU within 2.5 ULP (WGSL) of the exact quotient",
  cases: fc.record({ n: dim(5000), numerators: profile, divisors: profile, seed }),
  numRuns: 40,
  async check(backend, { n, numerators: ka, divisors: kb, seed: s }) {
    const a = values(n, ka, s);
    const b = values(n, kb, s + 1).map((v) => (v === 0 && kb !== "special" ? 1 : v));
    using ga = backend.tensor(a);
    using gb = backend.tensor(b);
    using q = div(ga, gb);
    using rq = div(ref.tensor(a), ref.tensor(b));
    const exact = Array.from(a, (v, i) => v / b[i]);
    const what = `div n=${n} ${ka}/${kb} seed=${s}`;
    const flushed = Array.from(a, (v, i) => flushing((x, y) => x / y)(v, b[i]));
    assertWithin(await q.read(), exact, (i) => divBound(exact[i]), what, flushed);
    assertBitwise(await rq.read(), Float32Array.from(exact), `${what} (reference)`);
  },
};

/**
 * pow within `powBound` (tests/_numerics.ts: WGSL's log2 and exp2 composed). Bases |a|
 * in [2⁻¹⁰, 2¹⁰], exponents in [−8, 8] (whole numbers for negative bases): |P| ≤ 80.
 * Special bases and exponents stay as drawn: with a zero or infinite base or exponent the
 * result is exact (0, 1 or ±Inf); a subnormal base takes powBound's scaled log2 and, for a
 * subnormal result, MIN_NORMAL.
 */
export const powProperty: OpProperty<ValuesCase> = {
  name: "pow: GPU within the bound of exp2(b·log2|a|) from WGSL's log2 and exp2",
  cases: valuesCases(3000),
  numRuns: 40,
  async check(backend, { n, profile: kind, seed: s }) {
    const base = keepingSpecials((x) =>
      x.map((v) => {
        const m = Math.min(Math.max(Math.abs(v), 2 ** -10), 2 ** 10);
        return v < 0 ? -m : m;
      })
    )(values(n, kind, s));
    const drawn = values(n, kind === "special" ? kind : "unit", s + 1);
    const exponent = keepingSpecials((x) =>
      x.map((v, i) => (base[i] < 0 ? Math.round(v * 8) : Math.fround(v * 8)))
    )(drawn);
    using ga = backend.tensor(base);
    using gb = backend.tensor(exponent);
    using out = pow(ga, gb);
    using expected = pow(ref.tensor(base), ref.tensor(exponent));
    const exact = Array.from(base, (a, i) => powC(a, exponent[i]));
    const edge = (v: number) => v === 0 || !Number.isFinite(v);
    const bound = (i: number) =>
      edge(base[i]) || edge(exponent[i])
        ? 0
        : powBound(base[i], exponent[i]) + (Math.abs(exact[i]) < MIN_NORMAL ? MIN_NORMAL : 0);
    const flushed = Array.from(base, (a, i) => flushing(powC)(a, exponent[i]));
    assertWithin(await out.read(), exact, bound, `pow n=${n} ${kind} seed=${s}`, flushed);
    assertBitwise(await expected.read(), Float32Array.from(exact), "pow (reference)");
  },
};

/** A matrix shape and one that broadcasts over it, on either side. */
export interface BroadcastPairCase {
  large: number[];
  small: number[];
  swap: boolean;
  profile: Profile;
  seed: number;
}

/** A shape and one that broadcasts over it: equal, a row, a scalar, or with leading 1s. */
const broadcastPairs: fc.Arbitrary<BroadcastPairCase> = fc.tuple(dim(300), dim(40)).chain((
  [m, n],
) =>
  fc.record({
    large: fc.constant([m, n]),
    small: fc.constantFrom([m, n], [n], [1, n], [], [1], [1, 1]),
    swap: fc.boolean(),
    profile,
    seed,
  })
);

/**
 * add, sub, mul, or an exact op: one correctly rounded operation per element, so bit for
 * bit with the reference, and the reference with `f64` (the op's meaning, rounded once).
 */
function arithmeticProperty(
  name: string,
  op: (a: Tensor, b: Tensor) => Tensor,
  f64: (a: number, b: number) => number,
): OpProperty<BroadcastPairCase> {
  return {
    name: `${name}: GPU equals the reference bit for bit, with broadcasting`,
    cases: broadcastPairs,
    numRuns: 40,
    async check(backend, c) {
      const a = values(size(c.large), c.profile, c.seed);
      const b = values(size(c.small), c.profile, c.seed + 1);
      const [sa, sb, va, vb] = c.swap ? [c.small, c.large, b, a] : [c.large, c.small, a, b];
      using ga = backend.tensor(va, sa);
      using gb = backend.tensor(vb, sb);
      using out = op(ga, gb);
      using expected = op(ref.tensor(va, sa), ref.tensor(vb, sb));
      assertShape(out.shape, c.large, name);
      // One correctly rounded operation per element on both sides: bit for bit, or the
      // operation on flushed subnormals, flushed.
      const flushed = (await expected.read()).map((_, i) =>
        flushing(f64)(
          va[va.length === 1 ? 0 : i % va.length],
          vb[vb.length === 1 ? 0 : i % vb.length],
        )
      );
      const what = `${name} ${JSON.stringify(c)}`;
      assertBitwiseOrFlushed(await out.read(), await expected.read(), flushed, what);
      // The reference's meaning, written independently (NumPy's, in float64 rounded once).
      const exact = (await expected.read()).map((_, i) =>
        f64(va[va.length === 1 ? 0 : i % va.length], vb[vb.length === 1 ? 0 : i % vb.length])
      );
      assertBitwise(await expected.read(), exact, `${what} (reference)`);
    },
  };
}

/**
 * Python's float `%` (NumPy's `mod`) of float32 a and b, rounded to float32: C's fmod (`%`,
 * exact), plus b where the two differ in sign (one rounding), a zero of b's sign for 0.
 */
function pythonMod(a: number, b: number): number {
  const r = a % b;
  if (r === 0) return b < 0 || Object.is(b, -0) ? -0 : 0;
  return (r < 0) !== (b < 0) ? Math.fround(r + b) : r;
}

/** NumPy's truth of a float: nonzero, NaN included. */
const truth = (v: number) => v !== 0;

/**
 * add, sub and mul, and the second wave's exact binary ops — mod (Python's `%`), the
 * comparisons notEqual, greaterEqual, lessEqual and the logical and, or, xor (0 or 1) —
 * bit for bit, with broadcasting.
 */
export const ARITHMETIC_PROPERTIES: readonly OpProperty<BroadcastPairCase>[] = [
  arithmeticProperty("add", add, (a, b) => a + b),
  arithmeticProperty("sub", sub, (a, b) => a - b),
  arithmeticProperty("mul", mul, (a, b) => a * b),
  arithmeticProperty("mod", mod, pythonMod),
  arithmeticProperty("notEqual", notEqual, (a, b) => +(a !== b)),
  arithmeticProperty("greaterEqual", greaterEqual, (a, b) => +(a >= b)),
  arithmeticProperty("lessEqual", lessEqual, (a, b) => +(a <= b)),
  arithmeticProperty("logicalAnd", logicalAnd, (a, b) => +(truth(a) && truth(b))),
  arithmeticProperty("logicalOr", logicalOr, (a, b) => +(truth(a) || truth(b))),
  arithmeticProperty("logicalXor", logicalXor, (a, b) => +(truth(a) !== truth(b))),
];

/** A scale case: values and the factor. */
export interface ScaleCase extends ValuesCase {
  c: number;
}

/** scale and square bit for bit, up to flushed subnormals. */
export const scaleSquareProperty: OpProperty<ScaleCase> = {
  name: "scale and square: GPU equals the reference bit for bit, up to flushed subnormals",
  cases: fc.record({
    n: dim(5000),
    profile,
    seed,
    c: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  }),
  numRuns: 40,
  async check(backend, { n, profile: kind, seed: s, c }) {
    const x = values(n, kind, s);
    const run = (t: Tensor) => [scale(t, c), square(t)];
    using gx = backend.tensor(x);
    const [gs, gq] = run(gx);
    const [rs, rq] = run(ref.tensor(x));
    try {
      // c may be subnormal in float32 (fast-check finds such doubles): a GPU may then
      // use 0, and it may flush subnormal results.
      const factor = flushSubnormal(Math.fround(c));
      const flushedScale = x.map((v) => flushing((y) => y * factor)(v));
      const flushedSquare = x.map((v) => flushing((y) => y * y)(v));
      assertBitwiseOrFlushed(await gs.read(), await rs.read(), flushedScale, `scale by ${c}`);
      assertBitwiseOrFlushed(await gq.read(), await rq.read(), flushedSquare, "square");
    } finally {
      for (const t of [gs, gq, rs, rq]) t.dispose();
    }
  },
};
