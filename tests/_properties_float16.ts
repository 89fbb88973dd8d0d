/**
 * @file The properties of float16 (docs/architecture.md#types): kernels load float16
 * into f32, compute in f32 and round once to float16 on store; matmul and reductions
 * accumulate in f32 and round once. Each result is held to {@linkcode float16Bound} —
 * the op's float32 bound plus the result's one rounding (u₁₆ = 2⁻¹¹), with WGSL's
 * conversion free to round either way — against the reference, which computes in
 * float64 and rounds once; and the reference of `add`, `sub` and `mul` is checked exactly
 * against `Math.f16round` of the float64 value (float16 inputs make it exact). Values are
 * drawn as float32 (special profile included) and rounded to float16 first: the large and
 * tiny profiles become ±Inf and zeros, which the specials must survive too. A jitted
 * chain of maps, and a float32 matmul cast to float16, give the eager ops' values bit for
 * bit (fused float16 terms are rounded as the ops' stores round them).
 */
import fc from "fast-check";
import {
  add,
  astype,
  type Backend,
  exp,
  jit,
  matmul,
  mean,
  mul,
  relu,
  sub,
  sum,
  type Tensor,
} from "../mod.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import {
  assertBitwise,
  assertEqualValues,
  assertShape,
  assertWithinFloat16,
  dim,
  dot,
  expBound,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  U,
  values,
} from "./_numerics.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** Values of a profile rounded to float16 (what a float16 tensor of them holds). */
function halves(n: number, kind: Profile, s: number): Float16Array {
  return Float16Array.from(values(n, kind, s));
}

/** Reads a tensor that must be float16. */
async function readHalves(t: Tensor, what: string): Promise<Float16Array> {
  const v = await t.read();
  if (t.dtype !== "float16" || !(v instanceof Float16Array)) {
    throw new Error(`${what}: expected a float16 result, got ${t.dtype}`);
  }
  return v;
}

/** An elementwise case: a length, values of two operands, their seed. */
export interface Float16ElementwiseCase {
  n: number;
  profile: Profile;
  seed: number;
}

/** The binary ops, with their float64 value and one float32 rounding as their bound. */
const BINARY = [
  { name: "add", op: add, exact: (a: number, b: number) => a + b },
  { name: "sub", op: sub, exact: (a: number, b: number) => a - b },
  { name: "mul", op: mul, exact: (a: number, b: number) => a * b },
] as const;

/**
 * add, sub, mul, exp and relu of float16 tensors: float16 results within the bound, and
 * the reference's arithmetic exactly f16round of the float64 value.
 */
export const float16ElementwiseProperty: OpProperty<Float16ElementwiseCase> = {
  name: "float16 add, sub, mul, exp, relu: within the f32 bound plus one f16 rounding",
  numRuns: 40,
  needs: "float16",
  cases: fc.record({ n: dim(2000), profile, seed }),
  async check(backend: Backend, c: Float16ElementwiseCase) {
    const a = halves(c.n, c.profile, c.seed);
    const b = halves(c.n, c.profile, c.seed + 1);
    const what = (op: string) => `float16 ${op} ${JSON.stringify(c)} on ${backend.kind}`;
    using ga = backend.tensor(a);
    using gb = backend.tensor(b);
    using ra = ref.tensor(a);
    using rb = ref.tensor(b);
    for (const { name, op, exact } of BINARY) {
      using g = op(ga, gb);
      using r = op(ra, rb);
      const expected = await readHalves(r, what(name));
      // The reference rounds the float64 value once (exact here: float16 operands).
      assertBitwise(expected, a.map((v, i) => Math.f16round(exact(v, b[i]))), what(name));
      // The kernel: one float32 rounding (u|x|; a flushed subnormal is off by < 2⁻¹²⁶).
      const bound32 = (i: number) => U * Math.abs(exact(a[i], b[i])) + MIN_NORMAL;
      assertWithinFloat16(await readHalves(g, what(name)), expected, bound32, what(name));
    }
    using ge = exp(ga);
    using re = exp(ra);
    const expected = await readHalves(re, what("exp"));
    assertWithinFloat16(
      await readHalves(ge, what("exp")),
      expected,
      (i) => expBound(a[i], Math.exp(a[i]), backend),
      what("exp"),
    );
    using gr = relu(ga);
    using rr = relu(ra);
    assertWithinFloat16(await readHalves(gr, what("relu")), await rr.read(), () => 0, what("relu"));
  },
};

/** A reduction case: rows, columns, the axis (none: everything), values. */
export interface Float16ReduceCase {
  rows: number;
  cols: number;
  axis: 0 | 1 | null;
  profile: Profile;
  seed: number;
}

/**
 * sum and mean of float16 tensors over an axis or everything: accumulated in f32 (the
 * float32 kernels' rounding chains) and rounded once to float16.
 */
export const float16ReduceProperty: OpProperty<Float16ReduceCase> = {
  name: "float16 sum, mean: f32 accumulation within its bound plus one f16 rounding",
  numRuns: 30,
  needs: "float16",
  cases: fc.record({
    rows: dim(40),
    cols: fc.oneof(dim(60), fc.integer({ min: 2000, max: 9000 })),
    axis: fc.constantFrom(0 as const, 1 as const, null),
    profile,
    seed,
  }),
  async check(backend: Backend, c: Float16ReduceCase) {
    const x = halves(c.rows * c.cols, c.profile, c.seed);
    const shape = [c.rows, c.cols];
    const axes = c.axis === null ? [0, 1] : [c.axis];
    const count = axes.reduce((n, a) => n * shape[a], 1);
    const outputs = (c.rows * c.cols) / count;
    const abs = new Float64Array(outputs);
    x.forEach((v, i) => {
      const o = c.axis === null ? 0 : c.axis === 0 ? i % c.cols : Math.floor(i / c.cols);
      abs[o] += Math.abs(v);
    });
    // The whole sum runs the tree of kernels/reduce.ts, others the generated kernel.
    const whole = shape.every((d, a) => d === 1 || axes.includes(a));
    const R = whole ? treeSumRoundings(count) : reductionRoundings(count, outputs);
    const options = c.axis === null ? {} : { axis: c.axis };
    const what = (op: string) => `float16 ${op} ${JSON.stringify(c)} on ${backend.kind}`;
    using gx = backend.tensor(x, shape);
    using rx = ref.tensor(x, shape);
    using gs = sum(gx, options);
    using rs = sum(rx, options);
    using gm = mean(gx, options);
    using rm = mean(rx, options);
    assertShape(gs.shape, rs.shape, what("sum"));
    assertWithinFloat16(
      await readHalves(gs, what("sum")),
      await readHalves(rs, what("sum")),
      (o) => gamma(R) * abs[o] + count * MIN_NORMAL,
      what("sum"),
    );
    // The mean: the sum times fl(1/count), two roundings more.
    assertWithinFloat16(
      await readHalves(gm, what("mean")),
      await readHalves(rm, what("mean")),
      (o) => (gamma(R + 2) * abs[o]) / count + count * MIN_NORMAL,
      what("mean"),
    );
  },
};

/** A matmul case: sizes and values. */
export interface Float16MatmulCase {
  m: number;
  k: number;
  n: number;
  profile: Profile;
  seed: number;
}

/** matmul of float16 matrices: f32 dot products within γ(k)·Σ|ab|, rounded once. */
export const float16MatmulProperty: OpProperty<Float16MatmulCase> = {
  name: "float16 matmul: f32 accumulation within γ(k)·Σ|ab| plus one f16 rounding",
  numRuns: 30,
  needs: "float16",
  cases: fc.record({ m: dim(70), k: dim(200), n: dim(70), profile, seed }),
  async check(backend: Backend, c: Float16MatmulCase) {
    const a = halves(c.m * c.k, c.profile, c.seed);
    const b = halves(c.k * c.n, c.profile, c.seed + 1);
    const scale = new Float64Array(c.m * c.n);
    for (let i = 0; i < c.m; i++) {
      for (let j = 0; j < c.n; j++) {
        for (let p = 0; p < c.k; p++) {
          scale[i * c.n + j] += Math.abs(a[i * c.k + p] * b[p * c.n + j]);
        }
      }
    }
    const what = `float16 matmul ${JSON.stringify(c)} on ${backend.kind}`;
    using ga = backend.tensor(a, [c.m, c.k]);
    using gb = backend.tensor(b, [c.k, c.n]);
    using gc = matmul(ga, gb);
    using rc = matmul(ref.tensor(a, [c.m, c.k]), ref.tensor(b, [c.k, c.n]));
    assertShape(gc.shape, [c.m, c.n], what);
    assertWithinFloat16(
      await readHalves(gc, what),
      await readHalves(rc, what),
      (i) => dot(c.k, scale[i]),
      what,
    );
  },
};

/** A jit case: a length and values. */
export interface Float16JitCase {
  n: number;
  profile: Profile;
  seed: number;
}

/** The chain of maps jit fuses into one kernel: relu(exp(a·b) − a) + b. */
const chain = (a: Tensor, b: Tensor): Tensor => {
  using p = mul(a, b);
  using e = exp(p);
  using d = sub(e, a);
  using r = relu(d);
  return add(r, b);
};

/**
 * A float32 matmul whose result is rounded to float16 and added to a float16 tensor: the
 * epilogue a matmul kernel must not take (its hooks bind f32), as autodiff makes it when
 * it casts a float32 gradient to a float16 weight's type before the update.
 */
const castProduct = (a: Tensor, b: Tensor, c: Tensor): Tensor => {
  using wa = astype(a, "float32");
  using wb = astype(b, "float32");
  using p = matmul(wa, wb);
  using h = astype(p, "float16");
  return add(h, c);
};

/** A fused float16 chain gives the values of the same ops run one by one, bit for bit. */
export const float16JitProperty: OpProperty<Float16JitCase> = {
  name: "float16 jit: a fused chain of maps gives the eager ops' values exactly",
  numRuns: 20,
  needs: "float16",
  cases: fc.record({ n: dim(3000), profile, seed }),
  async check(backend: Backend, c: Float16JitCase) {
    const a = halves(c.n, c.profile, c.seed);
    const b = halves(c.n, c.profile, c.seed + 1);
    using ga = backend.tensor(a);
    using gb = backend.tensor(b);
    const fused = jit(chain);
    const product = jit(castProduct);
    try {
      using eager = chain(ga, gb);
      using compiled = fused(ga, gb);
      const what = `float16 jit ${JSON.stringify(c)} on ${backend.kind}`;
      assertBitwise(await readHalves(compiled, what), await readHalves(eager, what), what);
      // [r, k]·[k, r] + [r, r], from the same values.
      const r = 1 + (c.n % 9), k = 1 + (c.seed % 13);
      using pa = backend.tensor(halves(r * k, c.profile, c.seed + 2), [r, k]);
      using pb = backend.tensor(halves(k * r, c.profile, c.seed + 3), [k, r]);
      using pc = backend.tensor(halves(r * r, c.profile, c.seed + 4), [r, r]);
      using eagerProduct = castProduct(pa, pb, pc);
      using compiledProduct = product(pa, pb, pc);
      // Exactly, but for the sign of a zero sum, which matmul's kernels do not fix.
      assertEqualValues(
        await readHalves(compiledProduct, `${what} product`),
        await readHalves(eagerProduct, `${what} product`),
        `${what} product`,
      );
    } finally {
      fused.dispose();
      product.dispose();
    }
  },
};

/** Every float16 property. */
export const FLOAT16_PROPERTIES: readonly OpProperty<never>[] = [
  float16ElementwiseProperty,
  float16ReduceProperty,
  float16MatmulProperty,
  float16JitProperty,
] as OpProperty<never>[];
