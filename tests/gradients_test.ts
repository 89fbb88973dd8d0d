/**
 * The gradient of every differentiable op of the model op set, on both backends, against
 * central differences of a float64 implementation of the op written here.
 *
 * For f(x) = Σᵢ cᵢ·op(x)ᵢ with random c, each element j of each input gets
 * (f(x + h·eⱼ) − f(x − h·eⱼ))/2h in float64 with h = 2⁻¹⁷: the truncation error is at
 * most h²/6·Σ|cᵢ|·M₃ with M₃ ≤ 60 the largest third derivative on the domains used
 * (each case says its domain), i.e. below 2⁻³⁰·Σ|cᵢ|, and float64 rounding adds at most
 * 2⁻⁵²·Σ|cᵢ·opᵢ|/h < 2⁻³⁴·Σ|cᵢ·opᵢ|; τ = 2⁻³⁰·Σ|cᵢ|(1 + |opᵢ|) covers both. The same
 * perturbations give the Jacobian's column Jᵢⱼ, so the size of the terms the gradient
 * sums is Sⱼ = Σᵢ|cᵢ·Jᵢⱼ| (or, where the chain rule adds terms that cancel, the case's
 * own `magnitude`). The float32 gradient from valueAndGrad must be within
 * γ(K)·Sⱼ + τ, with K = the roundings (in u) of one term as the op's vector-Jacobian
 * product computes it on the GPU (stated per case) + the number of outputs (the longest
 * sum there can be) + 2.
 *
 * Kinks (abs, relu, maximum, max) are kept more than 2h away from every input.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  abs,
  add,
  avgPool2d,
  type Backend,
  batchNorm,
  broadcastTo,
  ceil,
  clip,
  concat,
  conv2d,
  cos,
  crossEntropy,
  cumprod,
  cumsum,
  div,
  einsum,
  elu,
  exp,
  expandDims,
  expm1,
  floor,
  floorDiv,
  gather,
  gelu,
  grad,
  greaterEqual,
  isFinite,
  layerNorm,
  leakyRelu,
  lessEqual,
  log,
  log1p,
  logicalNot,
  logicalXor,
  logSigmoid,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  maximum,
  maxPool2d,
  mean,
  min,
  minimum,
  mod,
  mul,
  neg,
  notEqual,
  oneHot,
  pad,
  pad2d,
  pow,
  prod,
  relu,
  reshape,
  reverse,
  round,
  rsqrt,
  scale,
  scatterAdd,
  scope,
  sigmoid,
  sign,
  sin,
  slice,
  softmax,
  softplus,
  sort,
  sqrt,
  square,
  squaredDifference,
  squeeze,
  stack,
  stopGradient,
  sub,
  sum,
  sumToShape,
  takeAlongAxis,
  takeRows,
  tanh,
  type Tensor,
  tile,
  topK,
  transpose,
  valueAndGrad,
  where,
} from "../mod.ts";
import { GELU_CONSTANTS } from "./_numerics.ts";
import { gamma, gpuTest, ref, runs, seed, values } from "./_harness.ts";
import { type Conv2dCase, conv2dOptions, conv2dShapes } from "./_properties_conv2d.ts";
import { batchedCases, batchedShapes, numpyMatmul } from "./_properties_batched.ts";
import { einsum64, einsumCases, einsumShapes, einsumSpec } from "./_properties_einsum.ts";

const H = 2 ** -17;
type Shape = readonly number[];
const size = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

function coordinates(i: number, shape: Shape): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}
/** Index into an operand of `shape` that NumPy broadcasting reads at output coordinate c. */
const operandIndex = (c: readonly number[], shape: Shape) => {
  const lead = c.length - shape.length;
  return shape.reduce((i, d, k) => i * d + (d === 1 ? 0 : c[lead + k]), 0);
};

/**
 * NumPy's `np.pad` in float64, written from its definition: along each axis, index −k
 * before the data reads k (reflect) or 0 (edge), after it the mirror image; a number fills.
 */
function pad64(
  x: Float64Array,
  shape: Shape,
  widths: readonly (readonly [number, number])[],
  mode: "reflect" | "edge" | number,
): { values: Float64Array; shape: Shape } {
  const to = shape.map((d, i) => d + widths[i][0] + widths[i][1]);
  const values = Float64Array.from({ length: size(to) }, (_, o) => {
    let source = 0;
    for (const [d, c] of coordinates(o, to).entries()) {
      const [n, j] = [shape[d], c - widths[d][0]];
      if ((j < 0 || j >= n) && typeof mode === "number") return mode;
      const k = j >= 0 && j < n
        ? j
        : mode === "edge"
        ? (j < 0 ? 0 : n - 1)
        : j < 0
        ? -j
        : 2 * (n - 1) - j;
      source = source * n + k;
    }
    return x[source];
  });
  return { values, shape: to };
}

/** A case: the op, its float64 twin, input shapes and values. */
interface Case {
  readonly op: (...xs: Tensor[]) => Tensor;
  readonly f64: (xs: readonly Float64Array[]) => Float64Array;
  readonly shapes: readonly Shape[];
  /** Roundings (in u) of one gradient term on the GPU. */
  readonly roundings: number;
  /** Input values from unit values in [−1, 1] (default: as they are). */
  readonly domain?: (x: Float32Array, input: number) => Float32Array;
  /** Size of the terms summed into ∂/∂xⱼ, if larger than Σᵢ|cᵢJᵢⱼ| (cancellation). */
  readonly magnitude?: (
    xs: readonly Float64Array[],
    c: Float64Array,
    input: number,
    j: number,
  ) => number;
  /** Whether the inputs keep a gap > 2h from the op's kinks. */
  readonly smooth?: (xs: readonly Float64Array[]) => boolean;
}

/** An elementwise op over broadcast operands, by its scalar float64 function. */
function elementwise(
  op: (...xs: Tensor[]) => Tensor,
  f: (...v: number[]) => number,
  shapes: readonly Shape[],
  roundings: number,
  extra: Partial<Case> = {},
): Case {
  const out = shapes.reduce((o, s) => {
    const rank = Math.max(o.length, s.length);
    return Array.from(
      { length: rank },
      (_, d) => Math.max(o[o.length - rank + d] ?? 1, s[s.length - rank + d] ?? 1),
    );
  }, [] as number[]);
  return {
    op,
    shapes,
    roundings,
    f64: (xs) =>
      Float64Array.from({ length: size(out) }, (_, i) => {
        const c = coordinates(i, out);
        return f(...xs.map((x, k) => x[operandIndex(c, shapes[k])]));
      }),
    ...extra,
  };
}

const interval = (lo: number, hi: number) => (x: Float32Array) =>
  x.map((v) => Math.fround(lo + (hi - lo) * (v + 1) / 2));
/** Values at least `gap` away from 0. */
const awayFromZero = (gap: number) => (x: Float32Array) =>
  x.map((v) => Math.fround(v < 0 ? v - gap : v + gap));

/** Shapes: a matrix and operands broadcasting to it. */
const matrix = fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 9 }));
const broadcastPairs = matrix.chain(([m, n]) =>
  fc.constantFrom<Shape[]>([[m, n], [m, n]], [[m, n], [n]], [[m, 1], [m, n]], [[], [m, n]], [
    [m, n],
    [1, n],
  ])
);
const vector = fc.integer({ min: 1, max: 40 }).map((n) => [[n]] as Shape[]);

const sigmoid64 = (v: number) => 1 / (1 + Math.exp(-v));
const softmaxRows = (x: Float64Array, [m, n]: Shape) => {
  const out = new Float64Array(x.length);
  for (let r = 0; r < m; r++) {
    const row = x.subarray(r * n, (r + 1) * n), top = Math.max(...row);
    const e = row.map((v) => Math.exp(v - top)), s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, k) => out[r * n + k] = v / s);
  }
  return out;
};

/**
 * conv2d in float64, straight from PyTorch's definition: the image padded with zeros,
 * then each output the sum over its group's channels and the dilated taps.
 */
function conv2d64(c: Conv2dCase, [x, w]: readonly Float64Array[]): Float64Array {
  const { x: [n, ch, h, wd], w: [o, cg, kh, kw], y: [, , oh, ow] } = conv2dShapes(c);
  // The zeros above and to the left; those below and to the right only bound H′ and W′.
  const [top, left] = [[kh, c.dilation[0]], [kw, c.dilation[1]]].map(([k, dil], d) => {
    const p = c.padding;
    if (p === "same") return Math.floor(dil * (k - 1) / 2);
    if (p === "valid") return 0;
    if (typeof p === "number") return p;
    const side = p[d];
    return typeof side === "number" ? side : side[0];
  });
  const y = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const group = Math.floor(oc / (o / c.groups));
      for (let p = 0; p < oh; p++) {
        for (let q = 0; q < ow; q++) {
          let total = 0;
          for (let ci = 0; ci < cg; ci++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const r = p * c.stride[0] + i * c.dilation[0] - top;
                const col = q * c.stride[1] + j * c.dilation[1] - left;
                if (r < 0 || r >= h || col < 0 || col >= wd) continue;
                total += x[((b * ch + group * cg + ci) * h + r) * wd + col] *
                  w[((oc * cg + ci) * kh + i) * kw + j];
              }
            }
          }
          y[((b * o + oc) * oh + p) * ow + q] = total;
        }
      }
    }
  }
  return y;
}

/** Small convolutions: every padding form, strides past the kernel, dilation, groups. */
const convolutions: fc.Arbitrary<Conv2dCase> = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  groups: fc.constantFrom(1, 2),
  cg: fc.integer({ min: 1, max: 2 }),
  og: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 6 }),
  w: fc.integer({ min: 1, max: 6 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  stride: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.oneof(
    fc.constantFrom<Conv2dCase["padding"]>("valid", "same", 1),
    fc.tuple(fc.tuple(fc.nat(2), fc.nat(2)), fc.tuple(fc.nat(2), fc.nat(2))),
  ),
  profile: fc.constant("unit" as const),
  seed: fc.constant(0),
}).map((c) => c.padding === "same" ? { ...c, stride: [1, 1] as [number, number] } : c)
  .filter((c) => {
    const { y } = conv2dShapes(c);
    return y[2] >= 1 && y[3] >= 1; // the dilated kernel fits the padded image
  });
/** A pooling case: images [n, c, h, w] and a window that fits them. */
const pooling = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 3, max: 6 }),
  w: fc.integer({ min: 3, max: 6 }),
  kernel: fc.integer({ min: 2, max: 3 }),
  stride: fc.integer({ min: 1, max: 3 }),
  padding: fc.integer({ min: 0, max: 1 }),
});
type Pooling =
  & { n: number; c: number; h: number; w: number }
  & Record<
    "kernel" | "stride" | "padding",
    number
  >;
/** The pooling options of a case. */
const windowOf = ({ kernel, stride, padding }: Pooling) => ({ kernel, stride, padding });
/** Each window's cells inside the image (flat indices), window by window, row-major. */
const poolWindows = (p: Pooling): number[][] => {
  const [oh, ow] = [p.h, p.w].map((d) => Math.floor((d + 2 * p.padding - p.kernel) / p.stride) + 1);
  const windows: number[][] = [];
  for (let plane = 0; plane < p.n * p.c; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const cells: number[] = [];
        for (let i = 0; i < p.kernel; i++) {
          for (let j = 0; j < p.kernel; j++) {
            const [r, col] = [oy * p.stride + i - p.padding, ox * p.stride + j - p.padding];
            if (r >= 0 && r < p.h && col >= 0 && col < p.w) {
              cells.push((plane * p.h + r) * p.w + col);
            }
          }
        }
        windows.push(cells);
      }
    }
  }
  return windows;
};

/**
 * A normalisation's gradient case over groups of x (each a list of flat indices), with
 * γ and β of `paramShape` taken at `paramOf(i)`. x spans [−2, 2] and every group keeps
 * σ² ≥ 1/4: the third derivatives of (x − μ)/σ are then below 3.5 (measured over 20,000
 * random groups of 2…8), inside M₃ ≤ 60.
 *
 * x̂ = (x − μ)/σ is computed from μ rounded, which is off by up to (γ(R + 2) + u)·Σ|x|/m
 * (R ≤ m − 1 additions and the scale by fl(1/m): tests/_properties_norm.ts): an error
 * of the size of μ's terms, not of x − μ, which cancels to near 0 where x is near μ.
 * So x̂ is within its roundings of ξ = (|x − μ| + Σ|x|/m)/σ, the size of its terms,
 * rather than of |x̂|: dγ_k = Σ c·x̂ over γ_k's cells has the magnitude Σ|c|·ξ. (Seed
 * 646894258 on [1, 4]: x₃ − μ = 0.0086 with μ = −1.2 rounded by 3.2·10⁻⁸, so x̂₃ is off
 * by 3.7·10⁻⁶ relative, 62u, and dγ₃ by c₃ times that, beyond γ(K)·|c₃·x̂₃|.) In dx
 * a shift of μ cancels (it moves x̂_j and mean(x̂) alike) except in the variance's path,
 * whose sum Σ a·x̂ is therefore off by its roundings of Σ|a|·ξ. The vjp's terms cancel
 * (dx sums to 0 over a group), so dx's magnitude is that of the terms the chain adds,
 * with a = c·γ: (|a_j| + Σ|a|/m + (|x̂_j| + Σ|x̂|/m)·Σ|a|ξ/m)/σ. dβ sums the c: its
 * terms. Roundings: μ's R + 3 ≤ m + 2, inside the outputs (≥ m) + 2 that K adds; σ
 * carries the variance's chain, sqrt's 9u and a division's 5u; the backward pass as many
 * again and its products: 40.
 */
const normalisation = (
  op: (x: Tensor, g: Tensor, b: Tensor) => Tensor,
  shape: Shape,
  paramShape: Shape,
  groups: number[][],
  paramOf: (i: number) => number,
): Case => {
  const stats = (x: Float64Array) =>
    groups.map((cells) => {
      const mu = cells.reduce((a, i) => a + x[i], 0) / cells.length;
      const variance = cells.reduce((a, i) => a + (x[i] - mu) ** 2, 0) / cells.length;
      const meanTerms = cells.reduce((a, i) => a + Math.abs(x[i]), 0) / cells.length;
      return { mu, sigma: Math.sqrt(variance + 1e-5), variance, meanTerms };
    });
  const groupOf = new Int32Array(size(shape));
  groups.forEach((cells, k) => cells.forEach((i) => groupOf[i] = k));
  return {
    op,
    shapes: [shape, paramShape, paramShape],
    roundings: 40,
    domain: (x, k) => (k === 0 ? x.map((v) => 2 * v) : x),
    smooth: ([x]) => stats(x).every((s) => s.variance >= 0.25),
    f64: ([x, g, b]) => {
      const st = stats(x);
      return x.map((v, i) => {
        const { mu, sigma } = st[groupOf[i]];
        return g[paramOf(i)] * (v - mu) / sigma + b[paramOf(i)];
      });
    },
    magnitude: ([x, g], c, input, j) => {
      if (input === 2) return 0;
      const st = stats(x);
      const xhat = (i: number) => Math.abs(x[i] - st[groupOf[i]].mu) / st[groupOf[i]].sigma;
      const xi = (i: number) => xhat(i) + st[groupOf[i]].meanTerms / st[groupOf[i]].sigma;
      if (input === 1) {
        let total = 0;
        for (let i = 0; i < groupOf.length; i++) {
          if (paramOf(i) === j) total += Math.abs(c[i]) * xi(i);
        }
        return total;
      }
      const cells = groups[groupOf[j]], m = cells.length, { sigma } = st[groupOf[j]];
      const a = (i: number) => Math.abs(c[i] * g[paramOf(i)]);
      const sumA = cells.reduce((t, i) => t + a(i), 0);
      const sumX = cells.reduce((t, i) => t + xhat(i), 0);
      const sumAXi = cells.reduce((t, i) => t + a(i) * xi(i), 0);
      return (a(j) + sumA / m + (xhat(j) + sumX / m) * sumAXi / m) / sigma;
    },
  };
};

/** Every case, as an arbitrary of its shapes. */
const CASES: Record<string, fc.Arbitrary<Case>> = {
  // conv2d is bilinear (M₃ = 0): dx sums (O/groups)·kh·kw products g·w, dw N·H′·W′ products
  // g·x, each after the product c·1 of sum∘mul; every sum is no longer than the terms.
  conv2d: convolutions.map((c) => {
    const { x, w } = conv2dShapes(c);
    return {
      op: (a: Tensor, b: Tensor) => conv2d(a, b, conv2dOptions(c)),
      f64: (xs) => conv2d64(c, xs),
      shapes: [x, w],
      roundings: c.og * c.kh * c.kw + 2,
    };
  }),
  // Batched matmul, its batch dimensions broadcast (NumPy's matmul), 1-d operands too:
  // bilinear (M₃ = 0); a term of dA or dB is one product g·b or a·g, summed over n (or m)
  // and the broadcast batch — no more terms than outputs.
  "matmul (batched, broadcast)": batchedCases.map((c) => ({
    ...c,
    m: c.vectorA ? 1 : 1 + c.m % 5,
    k: 1 + c.k % 6,
    n: c.vectorB ? 1 : 1 + c.n % 5,
  })).map(
    (c) => {
      const shapes = batchedShapes(c);
      const flags = { transposeA: c.transposeA, transposeB: c.transposeB };
      return {
        op: (a: Tensor, b: Tensor) => matmul(a, b, flags),
        f64: ([a, b]) => numpyMatmul(c, a, b).exact,
        shapes: [shapes.a, shapes.b],
        roundings: 1,
      };
    },
  ),
  // einsum's random specs (diagonals, sums, products of up to three operands), sides up
  // to 4: multilinear (M₃ = 0); a term of an operand's gradient is c times the other
  // operands' elements, p products. An element of that gradient sums one term per
  // assignment of the indices it does not fix, the summed-out ones included — more terms
  // than there are outputs where the spec sums (ijk,-> : 8 terms, 1 output; a CI run
  // found it at 1.2 times the bound that counted outputs only) — at most T = the product
  // of every index's size, so T − 1 more roundings. Those terms can cancel inside one
  // Jacobian entry (a summed-out index), so Σᵢ|cᵢJᵢⱼ| understates them (scale 30 found
  // shapes [4], [], [2, 2, 4] at 5 times the bound): their size is Σ|c|·|x|·… over every assignment, the
  // einsum of |c| and the other operands' |x| with this operand set to eⱼ (it is linear
  // in each operand).
  einsum: einsumCases.map((c) => {
    const small = {
      ...c,
      sizes: Object.fromEntries(Object.entries(c.sizes).map(([l, n]) => [l, 1 + n % 4])),
    };
    const terms = Object.values(small.sizes).reduce((a, b) => a * b, 1);
    return {
      op: (...xs: Tensor[]) => einsum(einsumSpec(small), ...xs),
      f64: (xs: readonly Float64Array[]) => einsum64(small, xs).exact,
      shapes: einsumShapes(small),
      roundings: small.inputs.length + terms - 1,
      magnitude: (xs, c, input, j) => {
        const unit = xs.map((x, k) =>
          k === input ? Float64Array.from(x, (_, i) => i === j ? 1 : 0) : x.map(Math.abs)
        );
        return einsum64(small, unit).scale.reduce((t, v, i) => t + Math.abs(c[i]) * v, 0);
      },
    };
  }),
  // Copies: each gradient term is a c, summed.
  "neg, add, sub (broadcast)": broadcastPairs.map((s) =>
    elementwise((a, b) => sub(add(neg(a), b), a), (a, b) => -a + b - a, s, 1)
  ),
  // g·y: one product per term.
  "mul (broadcast)": broadcastPairs.map((s) => elementwise(mul, (a, b) => a * b, s, 1)),
  // g/y: a division (5u); −g·x/(y·y): two products and a division. |y| ≥ 3/4: M₃ ≤ 19.
  "div (broadcast)": broadcastPairs.map((s) =>
    elementwise(div, (a, b) => a / b, s, 7, {
      domain: (x, k) => (k === 1 ? awayFromZero(0.75)(x.map((v) => v / 4)) : x),
    })
  ),
  // g·share, share ∈ {0, 1}: exact; operands more than 2h apart.
  "maximum, minimum (broadcast)": broadcastPairs.map((s) =>
    elementwise(
      (a, b) => add(maximum(a, b), scale(minimum(a, b), 3)),
      (a, b) => Math.max(a, b) + 3 * Math.min(a, b),
      s,
      2,
      { smooth: ([a, b]) => a.every((v) => b.every((w) => Math.abs(v - w) > 4 * H)) },
    )
  ),
  // pow on bases in [2.5, 4] (log and log2 outside [0.5, 2]: 3 ULP relative), exponents in
  // [−1.5, 1.5]: M₃ ≤ 21. pow itself is exp2(b·log2 a): with |b − 1| ≤ 2.5 its relative
  // error is below 30u (powBound), the terms add a log (6u) and two products: 40.
  "pow (broadcast)": broadcastPairs.map((s) =>
    elementwise(pow, Math.pow, s, 40, {
      domain: (x, k) => (k === 0 ? interval(2.5, 4)(x) : x.map((v) => Math.fround(1.5 * v))),
    })
  ),
  // g·exp(x), x ∈ [−1, 1]: exp's 5.5 ULP (≤ 11u) and a product.
  exp: vector.map((s) => elementwise(exp, Math.exp, s, 12)),
  // g·(1/x), x ∈ [0.5, 2]: a division and a product.
  log: vector.map((s) => elementwise(log, Math.log, s, 6, { domain: interval(0.5, 2) })),
  // g·(0.5/√x), x ∈ [0.5, 2]: sqrt's 4.5 ULP (9u), a division (5u), a product.
  sqrt: vector.map((s) => elementwise(sqrt, Math.sqrt, s, 15, { domain: interval(0.5, 2) })),
  "square and scale": vector.map((s) =>
    elementwise((x) => scale(square(x), -1.5), (x) => -1.5 * x * x, s, 3)
  ),
  // Kinks at 0: inputs at least 2⁻⁶ from it.
  "abs and relu": vector.map((s) =>
    elementwise((x) => add(abs(x), relu(x)), (x) => Math.abs(x) + Math.max(x, 0), s, 2, {
      domain: awayFromZero(2 ** -6),
    })
  ),
  // g·σ(1 − σ) on [−1, 1]: σ is off by ≤ 21u (math_test's bound), which 1 − σ ≥ 0.27
  // magnifies 2.7 times; with the products, 80.
  sigmoid: vector.map((s) => elementwise(sigmoid, sigmoid64, s, 80)),
  // g·(1 − tanh²) on [−1, 1]: tanh is off by ≤ 4u + 7u|t| absolute, 1 − t² ≥ 0.42: 50.
  tanh: vector.map((s) => elementwise(tanh, Math.tanh, s, 50)),
  // The second wave. g/(1 + x), x ∈ [−0.5, 1]: a sum, a division (5u), a product. M₃ ≤ 16.
  log1p: vector.map((s) => elementwise(log1p, Math.log1p, s, 7, { domain: interval(-0.5, 1) })),
  // g·exp(x), x ∈ [−1, 1]: exp's 5.5 ULP (≤ 11u) and a product.
  expm1: vector.map((s) => elementwise(expm1, Math.expm1, s, 12)),
  // g·(−0.5·rsqrt(x))/x, x ∈ [0.5, 2]: rsqrt's 2 ULP (4u), a product, a division (5u), a
  // product. M₃ = (15/8)·x^(−7/2) ≤ 22.
  rsqrt: vector.map((s) =>
    elementwise(rsqrt, (x) => 1 / Math.sqrt(x), s, 11, { domain: interval(0.5, 2) })
  ),
  // g·cos x and −g·sin x: WGSL bounds sin and cos by 2⁻¹¹ absolute only, so each term is
  // held to that, 2¹³u, relative to the size |c|·(|cos x| + |sin x|) ≥ |c| of the two
  // (the magnitude), with the sum and the product: 2·2¹³ + 4.
  "sin and cos": vector.map((s) =>
    elementwise((x) => add(sin(x), cos(x)), (x) => Math.sin(x) + Math.cos(x), s, 2 ** 14 + 4, {
      magnitude: ([x], c, _k, j) =>
        Math.abs(c[j]) * (Math.abs(Math.cos(x[j])) + Math.abs(Math.sin(x[j]))),
    })
  ),
  // g·σ(x) and g·σ(−x): sigmoid's 21u and a product (and an exact negation).
  "softplus and logSigmoid": vector.map((s) =>
    elementwise(
      (x) => add(softplus(x), scale(logSigmoid(x), 2)),
      (x) => Math.log1p(Math.exp(x)) - 2 * Math.log1p(Math.exp(-x)),
      s,
      24,
    )
  ),
  // g·(σ(z) + x·σ(z)(1 − σ(z))·C(1 + 3K·x²)), x ∈ [−1, 1], |z| ≤ 1.7: σ within 21u, ẑ's
  // 5u moving it by ≤ 2.1u more, relative to σ ≥ 0.15; 1 − σ ≥ 0.15 magnifies that 5.6
  // times: 130u, with the products and the sum 140, of the size of the two terms (which
  // cancel below 0: the magnitude).
  gelu: vector.map((s) => {
    const { C, K } = GELU_CONSTANTS;
    const sigma = (t: number) => 1 / (1 + Math.exp(-t));
    const z = (x: number) => C * (x + K * x ** 3);
    return elementwise(gelu, (x) => x * sigma(z(x)), s, 140, {
      magnitude: ([x], c, _k, j) => {
        const v = x[j], p = sigma(z(v));
        return Math.abs(c[j]) * (p + Math.abs(v) * p * (1 - p) * C * (1 + 3 * K * v * v));
      },
    });
  }),
  // Kinks at 0 (elu's second derivative, leakyRelu's first): inputs at least 2⁻⁶ from
  // it. elu′ = exp(x) below 0: 11u and a product; leakyRelu′ = the float32 slope, exact.
  "elu and leakyRelu": vector.map((s) =>
    elementwise(
      (x) => add(elu(x), leakyRelu(x, { slope: 0.3 })),
      (x) => (x > 0 ? x : Math.expm1(x)) + (x > 0 ? x : Math.fround(0.3) * x),
      s,
      12,
      { domain: awayFromZero(2 ** -6) },
    )
  ),
  // clip(x, −0.5, 0.5): g inside, 0 outside; inputs more than 2h from the bounds.
  clip: vector.map((s) =>
    elementwise((x) => clip(x, -0.5, 0.5), (x) => Math.min(Math.max(x, -0.5), 0.5), s, 0, {
      smooth: ([x]) => x.every((v) => Math.abs(Math.abs(v) - 0.5) > 4 * H),
    })
  ),
  // ±2g·(x − y): a subtraction and a product (the factor 2 is exact).
  "squaredDifference (broadcast)": broadcastPairs.map((s) =>
    elementwise(squaredDifference, (a, b) => (a - b) ** 2, s, 2)
  ),
  // g and −g·floorDiv(a, b) (a whole number): one product. Divisors in [0.75, 1.75] in
  // magnitude; a/b kept 2⁻¹⁰ from a whole number, where mod jumps.
  mod: vector.map((s) =>
    elementwise(mod, (a, b) => a - b * Math.floor(a / b), [s[0], s[0]], 1, {
      domain: (x, k) => (k === 1 ? awayFromZero(0.75)(x) : x.map((v) => Math.fround(3 * v))),
      smooth: ([a, b]) =>
        a.every((v, i) => {
          const q = v / b[i];
          return Math.abs(q - Math.round(q)) > 2 ** -10;
        }),
    })
  ),
  // where passes g to the operand it picked; the condition (shaped like the first
  // operand) is data, not differentiated.
  "where (broadcast)": broadcastPairs.map((shapes) => {
    const cond = values(size(shapes[0]), "unit", 5).map((v) => (v > 0.2 ? 1 : 0));
    const picked = elementwise(
      (a, b) => where(a.backend.tensor(cond, shapes[0]), a, b),
      (c, a, b) => (c ? a : b),
      [shapes[0], ...shapes],
      1,
    );
    return {
      ...picked,
      shapes,
      f64: ([a, b]: readonly Float64Array[]) => picked.f64([Float64Array.from(cond), a, b]),
    };
  }),
  // Views: reshape, transpose, slice, pad2d, reverse, concat, broadcastTo, sumToShape.
  "reshape, transpose, slice, pad2d, reverse": matrix.map(([m, n]) => ({
    op: (x: Tensor) =>
      reverse(
        pad2d(
          slice(transpose(reshape(x, [n, m])), [0, n > 1 ? 1 : 0], [m, n - (n > 1 ? 1 : 0)]),
          1,
          2,
        ),
      ),
    f64: ([x]) => {
      // reshape [m, n] → [n, m] keeps the order; transpose gives t[i][j] = x[j·m + i], [m, n].
      const w = n - (n > 1 ? 1 : 0), b = n > 1 ? 1 : 0;
      const sliced = Float64Array.from({ length: m * w }, (_, k) => {
        const [i, j] = [Math.floor(k / w), k % w + b];
        return x[j * m + i];
      });
      const [ph, pw] = [m + 2, w + 4];
      const padded = new Float64Array(ph * pw);
      sliced.forEach((v, k) => padded[(Math.floor(k / w) + 1) * pw + (k % w) + 2] = v);
      return padded.reverse();
    },
    shapes: [[m, n]],
    roundings: 0,
  })),
  "concat (three, along either axis), broadcastTo, sumToShape": matrix.map(([m, n]) => ({
    op: (a: Tensor, b: Tensor) => {
      const columns = broadcastTo(sumToShape(concat([b, a], { axis: 0 }), [1, n]), [m, n]);
      return add(concat([a, b, a], { axis: -1 }), concat([columns, columns, columns], { axis: 1 }));
    },
    f64: ([a, b]) => {
      const out = new Float64Array(m * 3 * n);
      const column = new Float64Array(n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) column[j] += a[i * n + j] + b[i * n + j];
      }
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < 3 * n; j++) {
          const part = Math.floor(j / n), k = j % n;
          out[i * 3 * n + j] = (part === 1 ? b : a)[i * n + k] + column[j % n];
        }
      }
      return out;
    },
    shapes: [[m, n], [m, n]],
    roundings: 0,
  })),
  // The second wave's views: a gradient gathered back through reshapes, stack's slices,
  // tile's sum over the tiles, reverse's reverse and pad's slice or mirrored scatter-add.
  "expandDims, squeeze, stack, tile": matrix.map(([m, n]) => ({
    op: (a: Tensor, b: Tensor) =>
      tile(stack([squeeze(expandDims(a, 0), 0), squeeze(expandDims(b, -1), [-1])], { axis: 1 }), [
        2,
        1,
        2,
      ]),
    f64: ([a, b]) =>
      // [m, 2, n] tiled to [2m, 2, 2n]: coordinate (i, k, j) reads part k at (i mod m, j mod n).
      Float64Array.from({ length: 8 * m * n }, (_, o) => {
        const [i, k, j] = coordinates(o, [2 * m, 2, 2 * n]);
        return (k === 0 ? a : b)[(i % m) * n + (j % n)];
      }),
    shapes: [[m, n], [m, n]],
    roundings: 0,
  })),
  "reverse(x, axes), pad: constant, reflect, edge": matrix.map(([m, n]) => {
    const reflect: [number, number][] = [[Math.min(1, m - 1), 0], [
      Math.min(2, n - 1),
      Math.min(1, n - 1),
    ]];
    const edge: [number, number][] = [[1, 2], [0, 1]];
    const constant: [number, number][] = [[1, 0], [2, 1]];
    return {
      op: (x: Tensor) =>
        pad(
          pad(pad(reverse(x, 1), reflect, { mode: "reflect" }), edge, { mode: "edge" }),
          constant,
          { value: 3 },
        ),
      f64: ([x]) => {
        const flipped = Float64Array.from(x, (_, k) => x[k - (k % n) + n - 1 - (k % n)]);
        const a = pad64(flipped, [m, n], reflect, "reflect");
        const b = pad64(a.values, a.shape, edge, "edge");
        return pad64(b.values, b.shape, constant, 3).values;
      },
      shapes: [[m, n]],
      roundings: 0,
    };
  }),
  // takeRows by a list and by an index tensor, with repeats: the one-hot matmul sums them.
  takeRows: matrix.map(([m, n]) => {
    const rows = [m - 1, 0, m - 1, Math.floor(m / 2)];
    return {
      op: (x: Tensor) => add(takeRows(x, rows), takeRows(x, x.backend.tensor([0, 0, 0, m - 1]))),
      f64: ([x]) =>
        Float64Array.from({ length: 4 * n }, (_, k) => {
          const [r, j] = [Math.floor(k / n), k % n];
          return x[rows[r] * n + j] + x[[0, 0, 0, m - 1][r] * n + j];
        }),
      shapes: [[m, n]],
      roundings: 0,
    };
  }),
  // gather along axis 1 with 2-D indices (repeats, a negative one): its gradient is a
  // scatterAdd that sums the repeats; scatterAdd's are the identity (x) and a gather (updates).
  "gather (axis 1, N-d indices), scatterAdd": matrix.map(([m, n]) => {
    const columns = [[n - 1, 0], [-1, Math.floor(n / 2)]];
    const at = (v: number) => (v + n) % n;
    const rows = [m - 1, 0, -m];
    return {
      op: (x: Tensor, u: Tensor) =>
        concat([
          reshape(gather(x, x.backend.tensor(columns.flat(), [2, 2]), { axis: 1 }), [m * 4]),
          reshape(scatterAdd(x, rows, u), [m * n]),
        ]),
      f64: ([x, u]) => {
        const scattered = Float64Array.from(x);
        rows.forEach((r, j) => {
          for (let k = 0; k < n; k++) scattered[((r + m) % m) * n + k] += u[j * n + k];
        });
        const taken = Float64Array.from(
          { length: m * 4 },
          (_, o) => x[Math.floor(o / 4) * n + at(columns.flat()[o % 4])],
        );
        return Float64Array.from([...taken, ...scattered]);
      },
      shapes: [[m, n], [3, n]],
      roundings: 0,
    };
  }),
  // takeAlongAxis with repeats, per row and broadcast over the rows: its gradient is the
  // scatterAdd that reads one index per element, then broadcastTo's sum over the rows.
  "takeAlongAxis (per row, broadcast)": matrix.map(([m, n]) => {
    const perRow = Array.from({ length: m * 3 }, (_, k) => (k * 5) % (2 * n) - n);
    const shared = [n - 1, -1, 0];
    return {
      op: (x: Tensor) =>
        concat([
          reshape(takeAlongAxis(x, x.backend.tensor(perRow, [m, 3]), { axis: 1 }), [m * 3]),
          reshape(takeAlongAxis(x, x.backend.tensor(shared, [1, 3]), { axis: -1 }), [m * 3]),
        ]),
      f64: ([x]) =>
        Float64Array.from({ length: 2 * m * 3 }, (_, o) => {
          const [i, c] = [Math.floor(o / 3) % m, o % 3];
          const r = o < m * 3 ? perRow[i * 3 + c] : shared[c];
          return x[i * n + (r + n) % n];
        }),
      shapes: [[m, n]],
      roundings: 0,
    };
  }),
  // Reductions over axes (negative, keepDims): sum's terms are c; mean's c·fl(1/count).
  "sum and mean over axes": fc.tuple(matrix, fc.integer({ min: 1, max: 4 })).map((
    [[m, n], p],
  ) => ({
    // [1, n, 1] + [1, n, p]: per (j, l), the sum over i and l′, plus the mean over i.
    op: (x: Tensor) =>
      add(sum(x, { axis: [0, -1], keepDims: true }), mean(x, { axis: -3, keepDims: true })),
    f64: ([x]) =>
      Float64Array.from({ length: n * p }, (_, k) => {
        const [j, l] = [Math.floor(k / p), k % p];
        let total = 0, column = 0;
        for (let i = 0; i < m; i++) {
          for (let q = 0; q < p; q++) total += x[(i * n + j) * p + q];
          column += x[(i * n + j) * p + l];
        }
        return total + column / m;
      }),
    shapes: [[m, n, p]],
    roundings: 2,
  })),
  // max over an axis: the gradient goes to the maximum (inputs with no near-ties).
  "max over an axis": matrix.map(([m, n]) => ({
    op: (x: Tensor) => max(x, { axis: -1 }),
    f64: ([x]) =>
      Float64Array.from({ length: m }, (_, i) => Math.max(...x.subarray(i * n, (i + 1) * n))),
    shapes: [[m, n]],
    roundings: 2,
    smooth: ([x]) =>
      Array.from({ length: m }, (_, i) => [...x.subarray(i * n, (i + 1) * n)].sort((a, b) => b - a))
        .every((row) => row.length < 2 || row[0] - row[1] > 4 * H),
  })),
  // maxPool2d: g goes to each window's maximum (no near-ties in a window: no kink within 2h).
  "maxPool2d (strided, padded)": pooling.map((p) => ({
    op: (x: Tensor) => maxPool2d(x, windowOf(p)),
    f64: ([x]) => Float64Array.from(poolWindows(p), (cells) => Math.max(...cells.map((i) => x[i]))),
    shapes: [[p.n, p.c, p.h, p.w]],
    roundings: 0,
    smooth: ([x]) =>
      poolWindows(p).every((cells) => {
        const sorted = cells.map((i) => x[i]).sort((a, b) => b - a);
        return sorted.length < 2 || sorted[0] - sorted[1] > 4 * H;
      }),
  })),
  // avgPool2d: g·fl(1/k²) summed over the windows covering an element: two roundings.
  "avgPool2d (strided, padded)": pooling.map((p) => ({
    op: (x: Tensor) => avgPool2d(x, windowOf(p)),
    f64: ([x]) =>
      Float64Array.from(
        poolWindows(p),
        (cells) => cells.reduce((a, i) => a + x[i], 0) / (p.kernel * p.kernel),
      ),
    shapes: [[p.n, p.c, p.h, p.w]],
    roundings: 2,
  })),
  // batchNorm in training over [n, c, h, w]: per channel, over n, h and w.
  "batchNorm (training, [N, C, H, W])": fc.tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 2, max: 3 }),
  ).map(([n, c, h, w]) =>
    normalisation(
      (x, g, b) =>
        batchNorm(x, g, b, x.backend.zeros([c]), x.backend.ones([c]), { training: true }).y,
      [n, c, h, w],
      [c],
      Array.from({ length: c }, (_, ch) =>
        Array.from({ length: n * h * w }, (_, k) => {
          const [i, r] = [Math.floor(k / (h * w)), k % (h * w)];
          return (i * c + ch) * h * w + r;
        })),
      (i) => Math.floor(i / (h * w)) % c,
    )
  ),
  // layerNorm over the last axis of [m, n].
  "layerNorm (last axis)": fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 8 }))
    .map(([m, n]) =>
      normalisation(
        (x, g, b) => layerNorm(x, g, b),
        [m, n],
        [n],
        Array.from({ length: m }, (_, r) => Array.from({ length: n }, (_, k) => r * n + k)),
        (i) => i % n,
      )
    ),
  // min over the first axis, kept: the gradient goes to the minimum (no near-ties).
  "min over an axis": matrix.map(([m, n]) => ({
    op: (x: Tensor) => min(x, { axis: 0, keepDims: true }),
    f64: ([x]) =>
      Float64Array.from({ length: n }, (_, j) => Math.min(...x.filter((_, k) => k % n === j))),
    shapes: [[m, n]],
    roundings: 2,
    smooth: ([x]) =>
      Array.from({ length: n }, (_, j) => x.filter((_, k) => k % n === j).sort((a, b) => a - b))
        .every((column) => column.length < 2 || column[1] - column[0] > 4 * H),
  })),
  // prod along rows, every fifth value exactly 0 (rows with one zero, two, or none): the
  // product is linear in each value, so the differences are exact. A term is c times the
  // product of the others, got as p/x (n − 1 roundings, then 2) or, at a zero, as the
  // product of the nonzero values.
  "prod over an axis": matrix.map(([m, n]) => ({
    op: (x: Tensor) => prod(x, { axis: -1 }),
    f64: ([x]) =>
      Float64Array.from(
        { length: m },
        (_, i) => x.subarray(i * n, (i + 1) * n).reduce((a, b) => a * b, 1),
      ),
    shapes: [[m, n]],
    roundings: n + 1,
    domain: (x) => x.map((v, k) => (k % 5 === 0 ? 0 : v)),
  })),
  // Scans along either axis, exclusive or not, reversed or not. cumsum is linear and
  // cumprod linear in each value, so the differences are exact; cumprod's inputs hold
  // exact zeros (every fifth value: lines with none, one or more). Its terms are c times
  // a product of up to n values (n roundings), over x (one more), times c (one more).
  ...Object.fromEntries((["cumsum", "cumprod"] as const).map((name) => [
    `${name} along an axis`,
    fc.tuple(matrix, fc.boolean(), fc.boolean(), fc.boolean()).map((
      [[m, n], columns, exclusive, reverse],
    ) => {
      const options = { axis: columns ? 0 : -1, exclusive, reverse };
      const [lines, length, step] = columns ? [n, m, n] : [m, n, 1];
      const [identity, combine] = name === "cumsum"
        ? [0, (a: number, b: number) => a + b]
        : [1, (a: number, b: number) => a * b];
      return {
        op: (x: Tensor) => (name === "cumsum" ? cumsum : cumprod)(x, options),
        f64: ([x]: readonly Float64Array[]) => {
          const out = new Float64Array(m * n);
          for (let l = 0; l < lines; l++) {
            const start = columns ? l : l * n;
            let running = identity;
            for (let k = 0; k < length; k++) {
              const at = start + (reverse ? length - 1 - k : k) * step;
              if (exclusive) out[at] = running;
              running = combine(running, x[at]);
              if (!exclusive) out[at] = running;
            }
          }
          return out;
        },
        shapes: [[m, n]],
        roundings: name === "cumsum" ? 0 : Math.max(m, n) + 2,
        ...(name === "cumprod"
          ? { domain: (x: Float32Array) => x.map((v, k) => (k % 5 === 0 ? 0 : v)) }
          : {}),
      };
    }),
  ])),
  // sort along either axis, either order, and topK's values: a permutation of the inputs,
  // so every Jacobian entry is 0 or 1 and the vjp moves values (no rounding). Kinks are
  // where two values of a line meet: kept more than 4h apart.
  ...Object.fromEntries((["sort", "topK"] as const).map((name) => [
    `${name} along an axis`,
    fc.tuple(matrix, fc.boolean(), fc.boolean(), fc.nat()).map((
      [[m, n], columns, descending, draw],
    ) => {
      const byColumns = name === "sort" && columns;
      const [lines, length, step] = byColumns ? [n, m, n] : [m, n, 1];
      const k = name === "topK" ? 1 + draw % n : length;
      const lineOf = (x: Float64Array, l: number) =>
        Array.from({ length }, (_, p) => x[(byColumns ? l : l * n) + p * step]);
      return {
        op: (x: Tensor) =>
          name === "sort" ? sort(x, { axis: byColumns ? 0 : -1, descending }) : topK(x, k).values,
        f64: ([x]: readonly Float64Array[]) => {
          const out = new Float64Array(lines * k);
          for (let l = 0; l < lines; l++) {
            const sorted = lineOf(x, l).sort((a, b) =>
              name === "topK" || descending ? b - a : a - b
            );
            sorted.slice(0, k).forEach((v, p) => {
              out[byColumns ? l + p * step : l * k + p] = v;
            });
          }
          return out;
        },
        shapes: [[m, n]],
        roundings: 0,
        smooth: ([x]: readonly Float64Array[]) =>
          Array.from({ length: lines }, (_, l) => lineOf(x, l).sort((a, b) => a - b))
            .every((line) => line.every((v, p) => p === 0 || v - line[p - 1] > 4 * H)),
      };
    }),
  ])),
  // softmax along rows: J = p(δ − p); the chain adds |c_j|p_j and p_j·Σ|c_i|p_i, which
  // cancel; exp (5.5 ULP), the sum, divisions and products: 30.
  softmax: matrix.map(([m, n]) => ({
    op: (x: Tensor) => softmax(x),
    f64: ([x]) => softmaxRows(x, [m, n]),
    shapes: [[m, n]],
    roundings: 30,
    magnitude: ([x], c, _k, j) => {
      const p = softmaxRows(x, [m, n]), row = Math.floor(j / n) * n;
      let weighted = 0;
      for (let i = row; i < row + n; i++) weighted += Math.abs(c[i]) * p[i];
      return p[j] * (Math.abs(c[j]) + weighted);
    },
  })),
  // logSoftmax: J = δ − p; the chain adds c_j and p_j·Σc_i: magnitude |c_j| + p_j·Σ|c_i|.
  logSoftmax: matrix.map(([m, n]) => ({
    op: (x: Tensor) => logSoftmax(x, { axis: 1 }),
    f64: ([x]) => softmaxRows(x, [m, n]).map(Math.log),
    shapes: [[m, n]],
    roundings: 30,
    magnitude: ([x], c, _k, j) => {
      const p = softmaxRows(x, [m, n]), row = Math.floor(j / n) * n;
      let total = 0;
      for (let i = row; i < row + n; i++) total += Math.abs(c[i]);
      return Math.abs(c[j]) + p[j] * total;
    },
  })),
  // logSumExp over rows: J = p.
  logSumExp: matrix.map(([m, n]) => ({
    op: (x: Tensor) => logSumExp(x, { axis: -1 }),
    f64: ([x]) =>
      Float64Array.from({ length: m }, (_, i) => {
        const row = x.subarray(i * n, (i + 1) * n), top = Math.max(...row);
        return top + Math.log(row.reduce((a, v) => a + Math.exp(v - top), 0));
      }),
    shapes: [[m, n]],
    roundings: 30,
  })),
  // crossEntropy: (softmax − one-hot)/n; magnitude (p + one-hot)/n.
  crossEntropy: matrix.map(([m, n]) => {
    const labels = Array.from({ length: m }, (_, i) => (3 * i + 1) % n);
    return {
      op: (x: Tensor) => crossEntropy(x, x.backend.tensor(labels)),
      f64: ([x]) => {
        const p = softmaxRows(x, [m, n]);
        return Float64Array.of(-labels.reduce((a, l, i) => a + Math.log(p[i * n + l]), 0) / m);
      },
      shapes: [[m, n]],
      roundings: 30,
      magnitude: ([x], c, _k, j) => {
        const p = softmaxRows(x, [m, n]);
        return Math.abs(c[0]) * (p[j] + (labels[Math.floor(j / n)] === j % n ? 1 : 0)) / m;
      },
    };
  }),
};

async function checkGradient(backend: Backend, c: Case, s: number): Promise<void> {
  const xs = c.shapes.map((shape, k) => {
    const x = values(size(shape), "unit", s + k);
    return c.domain ? c.domain(x, k) : x;
  });
  const x64 = xs.map((x) => Float64Array.from(x));
  fc.pre(!c.smooth || c.smooth(x64));
  const base = c.f64(x64);
  const proj = Float64Array.from(values(base.length, "unit", s + 100));
  const inputs = xs.map((x, k) => backend.tensor(x, c.shapes[k]));
  const outShape = scope(() => c.op(...xs.map((x, k) => ref.tensor(x, c.shapes[k]))).shape);
  using projection = backend.tensor(Float32Array.from(proj), outShape);
  const { value, grads } = valueAndGrad((...args: Tensor[]) => sum(mul(c.op(...args), projection)))(
    ...inputs,
  );
  const got = await Promise.all(grads.map((g) => g.read()));
  [value, ...grads, ...inputs].forEach((t) => t.dispose());
  const slack = 2 ** -30 * proj.reduce((a, v, i) => a + Math.abs(v) * (1 + Math.abs(base[i])), 0);
  const K = c.roundings + base.length + 2;
  for (let k = 0; k < xs.length; k++) {
    for (let j = 0; j < xs[k].length; j++) {
      const shifted = (sign: number) => {
        const moved = x64.map((x) => x.slice());
        moved[k][j] += sign * H;
        return c.f64(moved);
      };
      const [plus, minus] = [shifted(1), shifted(-1)];
      let fd = 0, terms = 0;
      plus.forEach((v, i) => {
        fd += proj[i] * (v - minus[i]) / (2 * H);
        terms += Math.abs(proj[i] * (v - minus[i]) / (2 * H));
      });
      const size = c.magnitude ? Math.max(terms, c.magnitude(x64, proj, k, j)) : terms;
      const bound = gamma(K) * size + slack;
      const error = Math.abs(got[k][j] - fd);
      assert.ok(
        error <= bound,
        `input ${k} element ${j} on ${backend.kind}: gradient ${
          got[k][j]
        }, central difference ${fd}, error ${error} > bound ${bound} (shapes ${
          JSON.stringify(c.shapes)
        }, seed ${s})`,
      );
    }
  }
}

for (const [name, cases] of Object.entries(CASES)) {
  Deno.test(`grad of ${name}: reference matches float64 central differences`, async () => {
    await fc.assert(fc.asyncProperty(cases, seed, (c, s) => checkGradient(ref, c, s)), runs(20));
  });
  gpuTest(`grad of ${name}: GPU matches float64 central differences`, async (dev) => {
    await fc.assert(fc.asyncProperty(cases, seed, (c, s) => checkGradient(dev, c, s)), runs(20));
  });
}

Deno.test("stopGradient: no gradient flows through it, on both backends", async () => {
  using x = ref.tensor([3, -2]);
  const [dx] = grad((v: Tensor) => sum(mul(v, stopGradient(v))))(x);
  assert.deepEqual([...await dx.read()], [3, -2]);
  const [none] = grad((v: Tensor) => sum(stopGradient(square(v))))(x);
  assert.deepEqual([...await none.read()], [0, 0]);
  dx.dispose();
  none.dispose();
});

Deno.test("oneHot passes no gradient to its indices, on the reference", async () => {
  using ids = ref.tensor([2, 0, 2]);
  const [d] = grad((i: Tensor) => sum(mul(oneHot(i, 3), ref.tensor([1, 2, 3], [1, 3]))))(ids);
  assert.deepEqual([...await d.read()], [0, 0, 0]);
  d.dispose();
});

Deno.test("piecewise constant ops pass no gradient: rounding, sign, floorDiv, comparisons, logic", async () => {
  using x = ref.tensor([-1.5, 0.25, 2.5, 3]);
  using y = ref.tensor([2, -1, 0.5, 3]);
  const [dx, dy] = grad((a: Tensor, b: Tensor) =>
    sum(
      add(
        add(add(floor(a), ceil(a)), add(round(a), sign(a))),
        add(
          add(floorDiv(a, b), add(notEqual(a, b), greaterEqual(a, b))),
          add(add(lessEqual(a, b), logicalXor(a, b)), add(isFinite(a), logicalNot(b))),
        ),
      ),
    )
  )(x, y);
  assert.deepEqual([...await dx.read(), ...await dy.read()], [0, 0, 0, 0, 0, 0, 0, 0]);
  dx.dispose();
  dy.dispose();
});
