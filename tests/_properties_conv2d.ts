/**
 * @file The properties of `conv2d` and its two gradients against the float64 reference,
 * within the bound of the sums the kernels make (kernels/conv2d.ts):
 *
 * - the convolution sums each output's C/groups·kh·kw products one after another (padded
 *   positions are zeros that are multiplied): |ŷ − y| ≤ γ(C/groups·kh·kw)·Σ|x·w|;
 * - the input gradient (the transposed convolution) sums at most (O/groups)·kh·kw
 *   products g·w per element directly, or (one group, im2col) O products per entry of
 *   dcols = wᵀ·g and then at most kh·kw entries, γ(O + kh·kw) ≤ γ(O·kh·kw + 1) since
 *   (O − 1)(kh·kw − 1) ≥ 0: γ((O/groups)·kh·kw + 1)·Σ|g·w|;
 * - the weight gradient is a convolution whose kernel is the output's gradient over the
 *   batch (ops/conv2d.ts), N·H′·W′ products per weight: γ(N·H′·W′)·Σ|g·x|.
 *
 * Each Σ|·| is the same computation on the reference of the absolute values (rounded
 * once to float32, hence the 1/(1 − u)), the reference's own rounding adds u·|y|, and a
 * GPU that flushes subnormal products loses less than MIN_NORMAL per term; a GPU that
 * flushes subnormal inputs is held to the reference of the flushed inputs.
 *
 * The cases reach what PyTorch's semantics make hard: strides larger than the kernel,
 * dilation, groups up to depthwise, 1×1 images, odd sizes, every padding form.
 */
import fc from "fast-check";
import {
  type Backend,
  conv2d,
  type Conv2dOptions,
  cpu,
  mul,
  type Padding2d,
  sum,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import {
  assertShape,
  assertWithin,
  flushSubnormal,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  readFloat32,
  seed,
  U,
  values,
} from "./_numerics.ts";
import type { OpProperty } from "./_properties.ts";

const ref = cpu();

/** A convolution: sizes, options and values. */
export interface Conv2dCase {
  n: number;
  groups: number;
  /** Input channels per group. */
  cg: number;
  /** Output channels per group. */
  og: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  dilation: [number, number];
  padding: Padding2d;
  profile: Profile;
  seed: number;
}

/** The case's shapes: x, w and the output, by PyTorch's formula. */
export function conv2dShapes(c: Conv2dCase): { x: number[]; w: number[]; y: number[] } {
  const sides = paddingSides(c);
  const out = (size: number, k: number, d: number, before: number, after: number, s: number) =>
    Math.floor((size + before + after - d * (k - 1) - 1) / s) + 1;
  return {
    x: [c.n, c.groups * c.cg, c.h, c.w],
    w: [c.groups * c.og, c.cg, c.kh, c.kw],
    y: [
      c.n,
      c.groups * c.og,
      out(c.h, c.kh, c.dilation[0], sides[0], sides[1], c.stride[0]),
      out(c.w, c.kw, c.dilation[1], sides[2], sides[3], c.stride[1]),
    ],
  };
}

/** [top, bottom, left, right] of the case's padding, as PyTorch reads it. */
function paddingSides(c: Conv2dCase): number[] {
  const p = c.padding;
  if (p === "valid") return [0, 0, 0, 0];
  if (p === "same") {
    // PyTorch: dilation·(k − 1) in all, the smaller half before.
    const [th, tw] = [c.dilation[0] * (c.kh - 1), c.dilation[1] * (c.kw - 1)];
    return [
      Math.floor(th / 2),
      th - Math.floor(th / 2),
      Math.floor(tw / 2),
      tw - Math.floor(tw / 2),
    ];
  }
  if (typeof p === "number") return [p, p, p, p];
  if (typeof p[0] === "number") return [p[0], p[0], p[1] as number, p[1] as number];
  const [[t, b], [l, r]] = p as readonly [readonly [number, number], readonly [number, number]];
  return [t, b, l, r];
}

const small = (max: number) => fc.integer({ min: 1, max });
const pairOf = (max: number) => fc.tuple(small(max), small(max));
const side = fc.integer({ min: 0, max: 3 });
const paddings: fc.Arbitrary<Padding2d> = fc.oneof(
  fc.constantFrom<Padding2d>("valid", "same", 0, 1),
  side,
  fc.tuple(side, side),
  fc.tuple(fc.tuple(side, side), fc.tuple(side, side)),
);

/** Convolutions whose dilated kernel fits the padded image ("same" with stride 1). */
export const conv2dCases: fc.Arbitrary<Conv2dCase> = fc.record({
  n: small(2),
  groups: fc.constantFrom(1, 1, 2, 3),
  cg: small(3),
  // 9: more than one of the weight gradient's blocks of 8 output channels.
  og: fc.oneof({ arbitrary: small(3), weight: 4 }, { arbitrary: fc.constant(9), weight: 1 }),
  h: fc.oneof(fc.constantFrom(1, 7, 13), small(12)),
  w: fc.oneof(fc.constantFrom(1, 7, 13), small(12)),
  kh: fc.oneof(fc.constant(1), small(4)),
  kw: fc.oneof(fc.constant(2), small(4)),
  stride: fc.oneof(fc.constant<[number, number]>([1, 1]), pairOf(5)),
  dilation: fc.oneof(fc.constant<[number, number]>([1, 1]), pairOf(3)),
  padding: paddings,
  profile,
  seed,
}).map((c) => c.padding === "same" ? { ...c, stride: [1, 1] as [number, number] } : c)
  .filter((c) => {
    const [t, b, l, r] = paddingSides(c);
    return c.dilation[0] * (c.kh - 1) < c.h + t + b && c.dilation[1] * (c.kw - 1) < c.w + l + r;
  });

/** The case's options for conv2d, a stride or dilation of equal sides given as one number. */
export function conv2dOptions(c: Conv2dCase): Conv2dOptions {
  const pair = ([a, b]: [number, number]) => a === b ? a : [a, b] as const;
  return {
    stride: pair(c.stride),
    dilation: pair(c.dilation),
    padding: c.padding,
    groups: c.groups,
  };
}

/**
 * The gradients with respect to x and w of Σ conv2d(x, w)·g on `backend` (that is, the
 * convolution's vector-Jacobian product with `g`: mul's and sum's add no rounding).
 */
function convolveWithGradients(
  backend: Backend,
  [x, w, g]: readonly Float32Array[],
  shapes: { x: number[]; w: number[]; y: number[] },
  options: Conv2dOptions,
): Tensor[] {
  using tx = backend.tensor(x, shapes.x);
  using tw = backend.tensor(w, shapes.w);
  using tg = backend.tensor(g, shapes.y);
  const { value, grads } = valueAndGrad((a: Tensor, b: Tensor) =>
    sum(mul(conv2d(a, b, options), tg))
  )(tx, tw);
  value.dispose();
  return grads;
}

/** Reads and disposes tensors. */
async function readAll(tensors: readonly Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(tensors.map(readFloat32));
  tensors.forEach((t) => t.dispose());
  return out;
}

/** Asserts `actual` is within (γ(terms) + u)·scale/(1 − u) + terms·MIN_NORMAL of `expected`. */
function assertSums(
  actual: ArrayLike<number>,
  expected: Float32Array,
  flushed: Float32Array,
  scale: Float32Array,
  terms: number,
  what: string,
): void {
  const bound = (i: number) => (gamma(terms) + U) * scale[i] / (1 - U) + terms * MIN_NORMAL;
  assertWithin(actual, expected, bound, what, flushed);
}

/** conv2d within γ(C/groups·kh·kw)·Σ|x·w|. */
export const conv2dProperty: OpProperty<Conv2dCase> = {
  name: "conv2d: GPU agrees with the reference within γ(C/groups·kh·kw)·Σ|x·w|",
  numRuns: 60,
  cases: conv2dCases,
  async check(backend, c) {
    const shapes = conv2dShapes(c), options = conv2dOptions(c);
    const x = values(shapes.x.reduce((a, b) => a * b), c.profile, c.seed);
    const k = values(shapes.w.reduce((a, b) => a * b), c.profile, c.seed + 1);
    using gx = backend.tensor(x, shapes.x);
    using gk = backend.tensor(k, shapes.w);
    using out = conv2d(gx, gk, options);
    assertShape(out.shape, shapes.y, "conv2d");
    const onReference = (xv: Float32Array, kv: Float32Array) => {
      using rx = ref.tensor(xv, shapes.x);
      using rk = ref.tensor(kv, shapes.w);
      return conv2d(rx, rk, options);
    };
    const [expected, flushed, scale] = await readAll([
      onReference(x, k),
      onReference(x.map(flushSubnormal), k.map(flushSubnormal)),
      onReference(x.map(Math.abs), k.map(Math.abs)),
    ]);
    const terms = c.cg * c.kh * c.kw;
    assertSums(await out.read(), expected, flushed, scale, terms, `conv2d ${JSON.stringify(c)}`);
  },
};

/** Both gradients of conv2d within their bounds. */
export const conv2dGradientsProperty: OpProperty<Conv2dCase> = {
  name:
    "conv2d's gradients: GPU agrees with the reference within γ((O/groups)·kh·kw + 1)·Σ|g·w| and γ(N·H′·W′)·Σ|g·x|",
  numRuns: 40,
  cases: conv2dCases,
  async check(backend: Backend, c) {
    const shapes = conv2dShapes(c), options = conv2dOptions(c);
    const size = (s: number[]) => s.reduce((a, b) => a * b);
    const inputs = [
      values(size(shapes.x), c.profile, c.seed),
      values(size(shapes.w), c.profile, c.seed + 1),
      values(size(shapes.y), c.profile, c.seed + 2),
    ];
    const on = (b: Backend, vs: Float32Array[]) =>
      readAll(convolveWithGradients(b, vs, shapes, options));
    const [dx, dw] = await on(backend, inputs);
    const [ex, ew] = await on(ref, inputs);
    const [fx, fw] = await on(ref, inputs.map((v) => v.map(flushSubnormal)));
    const [sx, sw] = await on(ref, inputs.map((v) => v.map(Math.abs)));
    const what = JSON.stringify(c);
    assertSums(dx, ex, fx, sx, c.og * c.kh * c.kw + 1, `conv2d's input gradient ${what}`);
    assertSums(dw, ew, fw, sw, c.n * shapes.y[2] * shapes.y[3], `conv2d's weight gradient ${what}`);
  },
};
