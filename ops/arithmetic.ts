/**
 * @file Binary arithmetic with NumPy broadcasting: `add`, `sub`, `mul`, `div`, `maximum`,
 * `minimum`, `pow`, each one expression (`ops/_elementwise.ts`). Add, subtract, multiply
 * and divide are one correctly rounded float32 operation on the GPU as in the reference
 * (WGSL's division is within 2.5 ulp for divisors in [2⁻¹²⁶, 2¹²⁶]); `maximum` and
 * `minimum` are exact; `pow` inherits WGSL's `exp2(b·log2(a))` accuracy. The second
 * wave: `floorDiv` and `mod` (NumPy's, on an exact `fmod`), `squaredDifference`, and
 * `clip` by two numbers.
 */
import { call, input, literal, scalar } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp, piecewiseConstantOp } from "./_elementwise.ts";
import { checkArity, checkNumber } from "./_validate.ts";
import { ALL_TYPES, NUMBER_TYPES } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";

const [a, b, c] = [input(0), input(1), input(2)];

const addOp = elementwiseOp<void>({
  name: "add",
  takes: ALL_TYPES,
  expression: () => call("add", a, b),
  vjp: (g) => [g, g],
});

const subOp = elementwiseOp<void>({
  name: "sub",
  takes: NUMBER_TYPES,
  expression: () => call("sub", a, b),
  vjp: (g, _inputs, _params, needed) => [g, needed[1] ? neg(g) : null],
});

const negOp = elementwiseOp<void>({
  name: "neg",
  takes: NUMBER_TYPES,
  expression: () => call("neg", a),
  vjp: (g) => [neg(g)],
});

const mulOp = elementwiseOp<void>({
  name: "mul",
  takes: ALL_TYPES,
  expression: () => call("mul", a, b),
  vjp: (g, [x, y], _params, needed) => [needed[0] ? mul(g, y) : null, needed[1] ? mul(g, x) : null],
});

/** ∂(x/y)/∂y·g = −g·x/y², as one kernel: inputs (g, x, y). */
const divGradOp = elementwiseOp<void>({
  name: "div",
  expression: () => call("neg", call("div", call("mul", a, b), call("mul", c, c))),
});

const divOp = elementwiseOp<void>({
  name: "div",
  takes: ALL_TYPES,
  expression: () => call("div", a, b),
  vjp: (g, [x, y], _params, needed) => [
    needed[0] ? div(g, y) : null,
    needed[1] ? applyElementwise(divGradOp, { g, x, y }, undefined) : null,
  ],
});

/**
 * The share of `g` that reaches `x` through maximum(x, y) (or minimum): all of it where
 * `x` wins, half on a tie (as JAX and PyTorch split it), none where it loses. Inputs (g, x, y).
 */
function winnerGradOp(name: "maximum" | "minimum") {
  const wins = call(name === "maximum" ? "greater" : "less", b, c);
  const share = call(
    "where",
    wins,
    literal(1),
    call("where", call("equal", b, c), literal(0.5), literal(0)),
  );
  return elementwiseOp<void>({ name, expression: () => call("mul", a, share) });
}

const maximumGradOp = winnerGradOp("maximum");
const minimumGradOp = winnerGradOp("minimum");

const maximumOp = elementwiseOp<void>({
  name: "maximum",
  takes: ALL_TYPES,
  expression: () => call("maximum", a, b),
  vjp: (g, [x, y], _params, needed) => [
    needed[0] ? applyElementwise(maximumGradOp, { g, x, y }, undefined) : null,
    needed[1] ? applyElementwise(maximumGradOp, { g, y, x }, undefined) : null,
  ],
});

const minimumOp = elementwiseOp<void>({
  name: "minimum",
  takes: ALL_TYPES,
  expression: () => call("minimum", a, b),
  vjp: (g, [x, y], _params, needed) => [
    needed[0] ? applyElementwise(minimumGradOp, { g, x, y }, undefined) : null,
    needed[1] ? applyElementwise(minimumGradOp, { g, y, x }, undefined) : null,
  ],
});

/** g·y·x^(y−1) and g·x^y·ln x (0 where x = 0): inputs (g, x, y). */
const powBaseGradOp = elementwiseOp<void>({
  name: "pow",
  expression: () => call("mul", a, call("mul", c, call("pow", b, call("sub", c, literal(1))))),
});
const powExponentGradOp = elementwiseOp<void>({
  name: "pow",
  expression: () =>
    call(
      "where",
      call("equal", b, literal(0)),
      literal(0),
      call("mul", a, call("mul", call("pow", b, c), call("log", b))),
    ),
});

const powOp = elementwiseOp<void>({
  name: "pow",
  expression: () => call("pow", a, b),
  vjp: (g, [x, y], _params, needed) => [
    needed[0] ? applyElementwise(powBaseGradOp, { g, x, y }, undefined) : null,
    needed[1] ? applyElementwise(powExponentGradOp, { g, x, y }, undefined) : null,
  ],
});

const floorDivOp = piecewiseConstantOp("floorDiv", call("floorDiv", a, b), NUMBER_TYPES);

// mod(a, b) = a − b·floorDiv(a, b): ∂/∂a = 1, ∂/∂b = −floorDiv(a, b) (as PyTorch's
// remainder and JAX's), one kernel: inputs (g, x, y).
const modDivisorGradOp = elementwiseOp<void>({
  name: "mod",
  expression: () => call("neg", call("mul", a, call("floorDiv", b, c))),
});

const modOp = elementwiseOp<void>({
  name: "mod",
  takes: NUMBER_TYPES,
  expression: () => call("mod", a, b),
  vjp: (g, [x, y], _params, needed) => [
    g,
    needed[1] ? applyElementwise(modDivisorGradOp, { g, x, y }, undefined) : null,
  ],
});

/** ±2·g·(x − y), inputs (g, x, y): the gradient of (x − y)² for x (+) and y (−). */
function squaredDifferenceGradOp(factor: 2 | -2) {
  return elementwiseOp<void>({
    name: "squaredDifference",
    expression: () => call("mul", a, call("mul", literal(factor), call("sub", b, c))),
  });
}
const squaredDifferenceGradA = squaredDifferenceGradOp(2);
const squaredDifferenceGradB = squaredDifferenceGradOp(-2);

const squaredDifferenceOp = elementwiseOp<void>({
  name: "squaredDifference",
  expression: () => call("mul", call("sub", a, b), call("sub", a, b)),
  vjp: (g, [x, y], _params, needed) => [
    needed[0] ? applyElementwise(squaredDifferenceGradA, { g, x, y }, undefined) : null,
    needed[1] ? applyElementwise(squaredDifferenceGradB, { g, x, y }, undefined) : null,
  ],
});

/** The bounds of {@linkcode clip}, runtime words: new bounds reuse a compiled program. */
interface ClipBounds {
  lo: number;
  hi: number;
}

/** g where lo ≤ x ≤ hi (PyTorch's `clamp`), else 0: inputs (g, x). */
const clipGradOp = elementwiseOp<ClipBounds>({
  name: "clip",
  expression: ({ lo, hi }) =>
    call(
      "mul",
      a,
      call("mul", call("greaterEqual", b, scalar(lo)), call("lessEqual", b, scalar(hi))),
    ),
});

const clipOp = elementwiseOp<ClipBounds>({
  name: "clip",
  // maximum(lo, x) keeps x on a tie (and NaN), minimum(hi, ·) likewise: NumPy's clip by
  // scalar bounds, where clip(−0, 0, 1) is −0.
  expression: ({ lo, hi }) => call("minimum", scalar(hi), call("maximum", scalar(lo), a)),
  vjp: (g, [x], bounds) => [applyElementwise(clipGradOp, { g, x }, bounds)],
});

/**
 * Elementwise `a` divided by `b`, rounded down (NumPy's `floor_divide`, Python's `//`):
 * floorDiv(−7, 2) is −4. As NumPy computes it in float32 — (a − fmod(a, b))/b, less 1
 * where fmod and b differ in sign, rounded to a whole number — bit for bit where
 * |a/b| < 2²¹ (beyond, the GPU's division may move the last bits, and WGSL bounds no
 * division by a subnormal divisor); a zero divisor gives
 * a/b (±Inf, NaN for 0/0), an infinite dividend NaN, and x/±Inf 0 or −1 by the signs.
 * No gradient flows (it is piecewise constant).
 *
 * @param a The dividend.
 * @param b The divisor, broadcasting with `a`.
 * @returns A new tensor of whole numbers, of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, floorDiv } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using q = floorDiv(ref.tensor([7, -7, 7.5]), ref.tensor([2, 2, -2]));
 * console.log(await q.read()); // Float32Array [3, -4, -4]
 * ```
 */
export function floorDiv(a: Tensor, b: Tensor): Tensor {
  checkArity("floorDiv", arguments, 2);
  return applyElementwise(floorDivOp, { a, b }, undefined);
}

/**
 * Elementwise remainder with the divisor's sign (NumPy's `mod`, Python's `%`):
 * mod(−7, 2) is 1, mod(7, −2) is −1; exactly NumPy's float32 value on every backend
 * (C's exact `fmod`, then `+ b` where the signs differ, one rounding). A zero divisor or
 * an infinite dividend gives NaN; mod(−1, Inf) is Inf, as NumPy's. Its gradient is g for
 * `a` and −g·floorDiv(a, b) for `b`.
 *
 * @param a The dividend.
 * @param b The divisor, broadcasting with `a`.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, mod } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using r = mod(ref.tensor([7, -7, 7]), ref.tensor([2, 2, -2]));
 * console.log(await r.read()); // Float32Array [1, 1, -1]
 * ```
 */
export function mod(a: Tensor, b: Tensor): Tensor {
  checkArity("mod", arguments, 2);
  return applyElementwise(modOp, { a, b }, undefined);
}

/**
 * Elementwise (a − b)², broadcasting as {@linkcode add} (TensorFlow's
 * `squaredDifference`): two roundings, within (1 + u)³ − 1 ≈ 3u of the exact square.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, squaredDifference } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using d = squaredDifference(ref.tensor([1, 5]), ref.tensor([3], []));
 * console.log(await d.read()); // Float32Array [4, 4]
 * ```
 */
export function squaredDifference(a: Tensor, b: Tensor): Tensor {
  checkArity("squaredDifference", arguments, 2);
  return applyElementwise(squaredDifferenceOp, { a, b }, undefined);
}

/**
 * Clips every element to [lo, hi] as NumPy's `clip` by two numbers does: lo where
 * x < lo, then hi where that is > hi, so NaN stays NaN, lo > hi gives hi everywhere, and
 * a tie keeps x (clip(−0, 0, 1) is −0). Exact. The bounds are runtime values (a new pair
 * reuses a compiled program under `jit`); its gradient is g where lo ≤ x ≤ hi (PyTorch's
 * `clamp`), else 0.
 *
 * @param x A tensor.
 * @param lo The lower bound: a number, `-Infinity` for none (rounded to float32; not NaN).
 * @param hi The upper bound: a number, `Infinity` for none (rounded to float32; not NaN).
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { clip, cpu } from "@deno-gpu/kernels";
 * using c = clip(cpu().tensor([-2, 0.5, 3]), 0, 1);
 * console.log(await c.read()); // Float32Array [0, 0.5, 1]
 * ```
 */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  checkArity("clip", arguments, 3);
  const bound = (name: string, v: unknown) =>
    v === Infinity || v === -Infinity ? v : checkNumber("clip", name, v);
  const bounds = { lo: bound("lo", lo), hi: bound("hi", hi) };
  return applyElementwise(clipOp, { x }, bounds);
}

/**
 * Elementwise `a + b`, broadcasting as NumPy does (`[n, 1] + [n, h]`, `[h] + [n, h]`, …).
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { add, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using sum = add(ref.tensor([1, 2, 3, 4], [2, 2]), ref.tensor([10, 20]));
 * using outer = add(ref.tensor([1, 2], [2, 1]), ref.tensor([10, 20, 30]));
 * console.log(await sum.read(), outer.shape); // Float32Array [11, 22, 13, 24] [2, 3]
 * ```
 */
export function add(a: Tensor, b: Tensor): Tensor {
  checkArity("add", arguments, 2);
  return applyElementwise(addOp, { a, b }, undefined);
}

/**
 * Elementwise `a − b`, broadcasting as {@linkcode add}.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, sub } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using r = sub(ref.tensor([3, 5]), ref.tensor([1], []));
 * console.log(await r.read()); // Float32Array [2, 4]
 * ```
 */
export function sub(a: Tensor, b: Tensor): Tensor {
  checkArity("sub", arguments, 2);
  return applyElementwise(subOp, { a, b }, undefined);
}

/**
 * Elementwise `a · b`, broadcasting as {@linkcode add}.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, mul } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using p = mul(ref.tensor([1, 2, 3]), ref.tensor([2, 2, 2]));
 * console.log(await p.read()); // Float32Array [2, 4, 6]
 * ```
 */
export function mul(a: Tensor, b: Tensor): Tensor {
  checkArity("mul", arguments, 2);
  return applyElementwise(mulOp, { a, b }, undefined);
}

/**
 * Elementwise `a / b`, broadcasting as {@linkcode add}. On the GPU within 2.5 ulp of the
 * exact quotient for |b| in [2⁻¹²⁶, 2¹²⁶] (WGSL's bound); outside that range WGSL leaves
 * the result unspecified.
 *
 * @param a The dividend.
 * @param b The divisor, broadcasting with `a`.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, div } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using q = div(ref.tensor([1, 2, 3]), ref.tensor([2], []));
 * console.log(await q.read()); // Float32Array [0.5, 1, 1.5]
 * ```
 */
export function div(a: Tensor, b: Tensor): Tensor {
  checkArity("div", arguments, 2);
  return applyElementwise(divOp, { a, b }, undefined);
}

/**
 * Elementwise larger of `a` and `b`, broadcasting as {@linkcode add}; NaN if either is,
 * and of +0 and −0 the second operand, as NumPy's (on every backend: the kernel tests
 * NaN by its bits). Its gradient goes to the larger operand, split equally on a tie.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, maximum } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = maximum(ref.tensor([1, 5, 3]), ref.tensor([2], []));
 * console.log(await m.read()); // Float32Array [2, 5, 3]
 * ```
 */
export function maximum(a: Tensor, b: Tensor): Tensor {
  checkArity("maximum", arguments, 2);
  return applyElementwise(maximumOp, { a, b }, undefined);
}

/**
 * Elementwise smaller of `a` and `b`, as {@linkcode maximum}.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, minimum } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = minimum(ref.tensor([1, 5, 3]), ref.tensor([2], []));
 * console.log(await m.read()); // Float32Array [1, 2, 2]
 * ```
 */
export function minimum(a: Tensor, b: Tensor): Tensor {
  checkArity("minimum", arguments, 2);
  return applyElementwise(minimumOp, { a, b }, undefined);
}

/**
 * Elementwise `a` to the power `b`, broadcasting as {@linkcode add}, with C's `powf`
 * edges (NumPy's): pow(x, ±0) = 1 and pow(1, y) = 1 for every x and y, NaN included; a
 * negative base with a non-integer exponent gives NaN, with an odd integer one the sign;
 * a zero base gives 0 or ±Inf, an infinite one ±Inf or 0. Elsewhere the GPU computes
 * WGSL's `exp2(b·log2(a))` (a subnormal base scaled by 2²⁴ first).
 *
 * @param a The base.
 * @param b The exponent, broadcasting with `a`.
 * @returns A new tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, pow } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using p = pow(ref.tensor([4, -2]), ref.tensor([0.5, 3]));
 * console.log(await p.read()); // Float32Array [2, -8]
 * ```
 */
export function pow(a: Tensor, b: Tensor): Tensor {
  checkArity("pow", arguments, 2);
  return applyElementwise(powOp, { a, b }, undefined);
}

/**
 * Elementwise `−x` (exact).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, neg } from "@deno-gpu/kernels";
 * using n = neg(cpu().tensor([1, -2]));
 * console.log(await n.read()); // Float32Array [-1, 2]
 * ```
 */
export function neg(x: Tensor): Tensor {
  checkArity("neg", arguments, 1);
  return applyElementwise(negOp, { x }, undefined);
}
