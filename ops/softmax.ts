/**
 * @file `logSumExp`, `softmax` and `logSoftmax`, written with the library's ops in the
 * stable form: the maximum along the axis is subtracted before `exp`, so logits of ±10⁴
 * give no overflow, no NaN and no infinity. The maximum passes through `stopGradient`
 * (it cancels analytically, as in JAX's `logsumexp`), so the gradients — softmax minus
 * the target, for a cross-entropy — come out of the ops' own vector-Jacobian products.
 * Special values follow JAX: `logSumExp` shifts by the maximum only where it is finite
 * (a row holding +Inf gives +Inf, a row of −Inf gives −Inf); `softmax` and `logSoftmax`
 * of a row holding +Inf, or of a row of −Inf, are NaN (README, "Special values").
 * Eagerly that is a handful of kernels (intermediates freed by a scope); under `jit` the
 * reductions anchor kernels and the elementwise steps fuse into them.
 */
import { call, input, literal } from "../kernels/expression.ts";
import { add, div, sub } from "./arithmetic.ts";
import { elementwiseOp } from "./_elementwise.ts";
import { runOp } from "./_op.ts";
import { checkArity, checkAxes, checkOptions, checkTensors } from "./_validate.ts";
import { exp, log } from "./math.ts";
import { max, sum } from "./reduce.ts";
import { scope } from "./scope.ts";
import { reshape } from "./shape.ts";
import { stopGradient } from "./stop_gradient.ts";
import type { Tensor } from "./tensor.ts";

/** Validates `x` and `{ axis, keepDims }` for a function of `op`; `axis` defaults as given. */
function softmaxArgs(
  op: string,
  x: unknown,
  options: unknown,
  keys: readonly string[],
  defaultAxis: number | undefined,
): { input: Tensor; axes: number[]; keepDims: boolean } {
  const [input] = checkTensors(op, { x });
  const o = checkOptions(op, options, false, keys);
  const axes = checkAxes(op, o.axis === undefined ? defaultAxis : o.axis, input.shape.length);
  if (o.keepDims !== undefined && typeof o.keepDims !== "boolean") {
    throw new TypeError(`${op}: expected keepDims to be a boolean, got ${typeof o.keepDims}`);
  }
  return { input, axes, keepDims: o.keepDims === true };
}

/** The largest finite float32: a magnitude above it is infinite. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** x where finite, 0 where ±Inf, NaN where NaN: JAX's shift of `logsumexp`. */
const finiteOrZeroOp = elementwiseOp<void>({
  name: "logSumExp",
  expression: () =>
    call(
      "where",
      call("greater", call("abs", input(0)), literal(FLOAT32_MAX)),
      literal(0),
      input(0),
    ),
  // Applied to the held-constant maximum: no gradient flows through the shift.
  vjp: () => [null],
});

/**
 * `x − shift` along `axes`, the shift held constant for differentiation: the maximum, or
 * (with `finite`, for `logSumExp`) the maximum where finite and 0 where it is ±Inf, so
 * that a row holding +Inf sums to +Inf and a row of −Inf to −Inf instead of Inf − Inf.
 */
function shifted(
  x: Tensor,
  axes: readonly number[],
  finite = false,
): { shift: Tensor; centred: Tensor } {
  const m = stopGradient(max(x, { axis: axes, keepDims: true }));
  const shift = finite ? runOp(finiteOrZeroOp, [m], undefined, m.shape) : m;
  return { shift, centred: sub(x, shift) };
}

/**
 * log Σ exp(x) along `axis` (all axes by default), computed as m + log Σ exp(x − m) with
 * m the maximum, so it neither overflows nor underflows to −∞ for finite logits. Where
 * the maximum is ±Inf, m is 0 (JAX's rule): a row holding +Inf gives +Inf, a row of −Inf
 * gives −Inf, a NaN gives NaN.
 *
 * @param x A tensor.
 * @param options `axis` (a number or a list; negative counts from the end) and `keepDims`.
 * @returns A new tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { cpu, logSumExp } from "@deno-gpu/kernels";
 * using l = logSumExp(cpu().tensor([1e4, 1e4]));
 * console.log(await l.read()); // Float32Array [10000.693]
 * ```
 */
export function logSumExp(
  x: Tensor,
  options?: { readonly axis?: number | readonly number[]; readonly keepDims?: boolean },
): Tensor {
  checkArity("logSumExp", arguments, 2);
  const { input, axes, keepDims } = softmaxArgs(
    "logSumExp",
    x,
    options,
    ["axis", "keepDims"],
    undefined,
  );
  return scope(() => {
    const { shift, centred } = shifted(input, axes, true);
    const kept = add(log(sum(exp(centred), { axis: axes, keepDims: true })), shift);
    return keepDims ? kept : reshape(kept, input.shape.filter((_, a) => !axes.includes(a)));
  });
}

/**
 * exp(x) / Σ exp(x) along `axis` (default the last), stable for large logits.
 *
 * @param x A tensor of finite values.
 * @param options `axis`: one integer, negative counts from the end (default −1).
 * @returns A new tensor of `x`'s shape; each slice along `axis` sums to 1.
 * @example
 * ```ts
 * import { cpu, softmax } from "@deno-gpu/kernels";
 * using p = softmax(cpu().tensor([0, 0, 1e4, -1e4], [2, 2]));
 * console.log(await p.read()); // Float32Array [0.5, 0.5, 1, 0]
 * ```
 */
export function softmax(x: Tensor, options?: { readonly axis?: number }): Tensor {
  checkArity("softmax", arguments, 2);
  const { input, axes } = softmaxArgs("softmax", x, options, ["axis"], -1);
  return scope(() => {
    const e = exp(shifted(input, axes).centred);
    return div(e, sum(e, { axis: axes, keepDims: true }));
  });
}

/**
 * log softmax(x) along `axis` (default the last): x − logSumExp(x), stable for large
 * logits (no −∞ for a probability that underflows).
 *
 * @param x A tensor of finite values.
 * @param options `axis`: one integer, negative counts from the end (default −1).
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, logSoftmax } from "@deno-gpu/kernels";
 * using l = logSoftmax(cpu().tensor([1e4, -1e4]));
 * console.log(await l.read()); // Float32Array [0, -20000]
 * ```
 */
export function logSoftmax(x: Tensor, options?: { readonly axis?: number }): Tensor {
  checkArity("logSoftmax", arguments, 2);
  const { input, axes } = softmaxArgs("logSoftmax", x, options, ["axis"], -1);
  return scope(() => {
    const { centred } = shifted(input, axes);
    return sub(centred, log(sum(exp(centred), { axis: axes, keepDims: true })));
  });
}
