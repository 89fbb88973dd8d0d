/**
 * @file Reverse-mode automatic differentiation in the functional style of JAX:
 * `valueAndGrad(f)` returns a function that evaluates `f` and the gradient of its
 * scalar result with respect to each argument.
 *
 * While `f` runs, every op whose input depends on an argument is recorded on a tape
 * (see `ops/_tape.ts`) with its vector-Jacobian product, which each op defines beside
 * its reference and kernel. The tape is then walked backwards, adding the gradients
 * that reach each tensor. Gradients are computed with the library's ops, so they run
 * on the arguments' backend, GPU or CPU. Everything made on the way, forward or
 * backward, is disposed except the value and the gradients.
 */
import { checkArity, checkOptions, checkTensors } from "../ops/_validate.ts";
import { recordOn, Tape } from "../ops/_tape.ts";
import { add } from "../ops/arithmetic.ts";
import { astype } from "../ops/astype.ts";
import { DTYPES } from "../ops/dtype.ts";
import { scale } from "../ops/math.ts";
import { scope } from "../ops/scope.ts";
import { describe, formatShape, isTensor, type Tensor } from "../ops/tensor.ts";

/** The value of a differentiated function and the gradient for each argument. */
export interface ValueAndGrads {
  /** What the function returned: a scalar (one element). */
  readonly value: Tensor;
  /** `grads[i]` is ∂value/∂(argument i), of that argument's shape. */
  readonly grads: Tensor[];
}

/**
 * `g` as a cotangent of `primal`: of the primal's float type, as in JAX (a float16
 * input's gradient is float16, though its op computed it beside float32 operands).
 */
function ofPrimalType(g: Tensor | null, primal: Tensor): Tensor | null {
  if (!g || g.dtype === primal.dtype || !DTYPES[primal.dtype].float) return g;
  return astype(g, primal.dtype);
}

/** Walks the tape backwards from `value`, returning the gradient of each argument. */
function backpropagate(tape: Tape, value: Tensor, args: readonly Tensor[]): Tensor[] {
  const adjoints = new Map<Tensor, Tensor>();
  adjoints.set(value, value.backend.ones(value.shape));
  for (let i = tape.entries.length - 1; i >= 0; i--) {
    const entry = tape.entries[i];
    const g = adjoints.get(entry.output);
    if (!g) continue;
    const grads = entry.vjp(g, entry.inputs.map((t) => tape.tracked.has(t)));
    entry.inputs.forEach((input, j) => {
      const gj = ofPrimalType(grads[j], input);
      if (!gj) return;
      const previous = adjoints.get(input);
      adjoints.set(input, previous ? add(previous, gj) : gj);
    });
  }
  // Each argument gets a tensor of its own that the caller may dispose.
  const given = new Set<Tensor>([value, ...args]);
  return args.map((arg) => {
    const g = adjoints.get(arg);
    if (!g) return arg.backend.zeros(arg.shape);
    const own = given.has(g) ? scale(g, 1) : g;
    given.add(own);
    return own;
  });
}

/** Options of {@linkcode valueAndGrad}. */
export interface ValueAndGradOptions {
  /**
   * `f` returns `[value, aux]`: the scalar to differentiate and anything else it
   * computed on the way (tensors in arrays and plain objects), returned as `aux` and not
   * differentiated — JAX's `has_aux` (default false).
   */
  readonly hasAux?: boolean;
}

/** What {@linkcode valueAndGrad} with `hasAux` returns: also what `f` returned beside its value. */
export interface ValueAndGradsWithAux<Aux> extends ValueAndGrads {
  /** The second element of `f`'s result, its tensors owned by the caller. */
  readonly aux: Aux;
}

/**
 * Transforms `f` into a function that returns `f`'s value and its gradient with respect
 * to every argument. `f` must be synchronous, build its result from the library's ops,
 * and return a scalar tensor (one element); nested differentiation is not supported.
 * With `{ hasAux: true }`, `f` returns `[value, aux]` and the result carries `aux` too:
 * what the forward pass computed besides the loss (a count of right answers, a batch
 * norm's moving statistics) without computing it a second time.
 *
 * @param f Maps tensors to a scalar tensor (or, with `hasAux`, to `[scalar, aux]`).
 * @param options `hasAux`.
 * @returns A function of the same arguments returning `{ value, grads }` (and `aux`).
 * @example
 * ```ts
 * import { cpu, l2Penalty, valueAndGrad } from "@deno-gpu/kernels";
 * using w = cpu().tensor([3, 4]);
 * const { value, grads: [dw] } = valueAndGrad(l2Penalty)(w);
 * console.log(await value.read(), await dw.read()); // Float32Array [12.5] Float32Array [3, 4]
 * value.dispose();
 * dw.dispose();
 * ```
 * @example With an auxiliary result
 * ```ts
 * import { cpu, l2Penalty, sum, type Tensor, valueAndGrad } from "@deno-gpu/kernels";
 * using w = cpu().tensor([3, 4]);
 * const f = (w: Tensor) => [l2Penalty(w), sum(w)] as const;
 * const { value, grads: [dw], aux } = valueAndGrad(f, { hasAux: true })(w);
 * console.log(await value.read(), await dw.read(), await aux.read()); // [12.5] [3, 4] [7]
 * for (const t of [value, dw, aux]) t.dispose();
 * ```
 */
export function valueAndGrad<A extends Tensor[]>(
  f: (...args: A) => Tensor,
  options?: { readonly hasAux?: false },
): (...args: A) => ValueAndGrads;
/**
 * {@linkcode valueAndGrad} with `{ hasAux: true }`: `f` returns `[value, aux]`, and the
 * result carries `aux` beside the value and the gradients (JAX's `has_aux`).
 *
 * @param f Maps tensors to `[scalar tensor, aux]`.
 * @param options `{ hasAux: true }`.
 * @returns A function of the same arguments returning `{ value, grads, aux }`.
 */
export function valueAndGrad<A extends Tensor[], Aux>(
  f: (...args: A) => readonly [Tensor, Aux],
  options: { readonly hasAux: true },
): (...args: A) => ValueAndGradsWithAux<Aux>;
export function valueAndGrad<A extends Tensor[]>(
  f: (...args: A) => unknown,
  options?: ValueAndGradOptions,
): (...args: A) => ValueAndGrads & { aux?: unknown } {
  checkArity("valueAndGrad", arguments, 2);
  const o = checkOptions("valueAndGrad", options, false, ["hasAux"]);
  if (o.hasAux !== undefined && typeof o.hasAux !== "boolean") {
    throw new TypeError(
      `valueAndGrad: expected options.hasAux to be a boolean, got ${describe(o.hasAux)}`,
    );
  }
  return differentiate("valueAndGrad", f, o.hasAux === true);
}

/**
 * {@linkcode valueAndGrad}, with `op` (the public function called) named in errors;
 * with `hasAux`, `f` returns `[value, aux]`.
 */
function differentiate<A extends Tensor[]>(
  op: string,
  f: (...args: A) => unknown,
  hasAux: boolean,
): (...args: A) => ValueAndGrads & { aux?: unknown } {
  if (typeof f !== "function") {
    throw new TypeError(`${op}: expected a function, got ${describe(f)}`);
  }
  return (...args: A) => {
    if (args.length === 0) {
      throw new TypeError(`${op}: expected at least one tensor argument, got none`);
    }
    // Float types only (checkTensors' default): the gradient of an int or bool argument
    // is a TypeError naming the op.
    checkTensors(op, Object.fromEntries(args.map((t, i) => [`argument ${i}`, t])));
    return scope(() => {
      const tape = new Tape();
      args.forEach((t) => tape.tracked.add(t));
      const result = recordOn(tape, () => f(...args));
      if (hasAux && !(Array.isArray(result) && result.length === 2)) {
        throw new TypeError(
          `${op}: expected f to return [value, aux] (hasAux), got ${describe(result)}`,
        );
      }
      let value = (hasAux ? (result as unknown[])[0] : result) as Tensor;
      if (!isTensor(value) || value.size !== 1 || value.disposed) {
        throw new TypeError(
          `${op}: expected f to return ${
            hasAux ? "[value, aux] with value " : ""
          }a live scalar tensor, got ${
            !isTensor(value)
              ? describe(value)
              : value.disposed
              ? "a disposed one"
              : `shape ${formatShape(value.shape)}`
          }`,
        );
      }
      const grads = backpropagate(tape, value, args);
      if (args.includes(value)) value = scale(value, 1);
      return hasAux ? { value, grads, aux: (result as unknown[])[1] } : { value, grads };
    });
  };
}

/**
 * Transforms `f` into a function that returns the gradient of its scalar result with
 * respect to every argument; see {@linkcode valueAndGrad}.
 *
 * @param f Maps tensors to a scalar tensor.
 * @returns A function of the same arguments returning one gradient per argument.
 * @example
 * ```ts
 * import { cpu, grad, mul, sum } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([1, 2, 3]);
 * using y = ref.tensor([4, 5, 6]);
 * const [dx, dy] = grad((a, b) => sum(mul(a, b)))(x, y);
 * console.log(await dx.read(), await dy.read()); // Float32Array [4, 5, 6] Float32Array [1, 2, 3]
 * dx.dispose();
 * dy.dispose();
 * ```
 */
export function grad<A extends Tensor[]>(f: (...args: A) => Tensor): (...args: A) => Tensor[] {
  checkArity("grad", arguments, 1);
  const both = differentiate("grad", f, false);
  return (...args: A) => {
    const { value, grads } = both(...args);
    value.dispose();
    return grads;
  };
}
