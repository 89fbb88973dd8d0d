/**
 * @file Binary arithmetic with NumPy broadcasting: `add`, `sub`, `mul`, `div`, `maximum`,
 * `minimum`, `pow`, each one expression (`ops/_elementwise.ts`). Add, subtract, multiply
 * and divide are one correctly rounded float32 operation on the GPU as in the reference
 * (WGSL's division is within 2.5 ulp for divisors in [2⁻¹²⁶, 2¹²⁶]); `maximum` and
 * `minimum` are exact; `pow` inherits WGSL's `exp2(b·log2(a))` accuracy.
 */
import { call, input, literal } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp } from "./_elementwise.ts";
import { checkArity } from "./_validate.ts";
import type { Tensor } from "./tensor.ts";

const [a, b, c] = [input(0), input(1), input(2)];

const addOp = elementwiseOp<void>({
  name: "add",
  expression: () => call("add", a, b),
  vjp: (g) => [g, g],
});

const subOp = elementwiseOp<void>({
  name: "sub",
  expression: () => call("sub", a, b),
  vjp: (g, _inputs, _params, needed) => [g, needed[1] ? neg(g) : null],
});

const negOp = elementwiseOp<void>({
  name: "neg",
  expression: () => call("neg", a),
  vjp: (g) => [neg(g)],
});

const mulOp = elementwiseOp<void>({
  name: "mul",
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
  expression: () => call("maximum", a, b),
  vjp: (g, [x, y], _params, needed) => [
    needed[0] ? applyElementwise(maximumGradOp, { g, x, y }, undefined) : null,
    needed[1] ? applyElementwise(maximumGradOp, { g, y, x }, undefined) : null,
  ],
});

const minimumOp = elementwiseOp<void>({
  name: "minimum",
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
