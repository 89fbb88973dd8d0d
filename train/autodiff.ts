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
import { checkArity, checkTensors } from "../ops/_validate.ts";
import { recordOn, Tape } from "../ops/_tape.ts";
import { add } from "../ops/arithmetic.ts";
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
      const gj = grads[j];
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

/**
 * Transforms `f` into a function that returns `f`'s value and its gradient with respect
 * to every argument. `f` must be synchronous, build its result from the library's ops,
 * and return a scalar tensor (one element); nested differentiation is not supported.
 *
 * @param f Maps tensors to a scalar tensor.
 * @returns A function of the same arguments returning `{ value, grads }`.
 * @example
 * ```ts
 * import { cpu, l2Penalty, valueAndGrad } from "@deno-gpu/kernels";
 * using w = cpu().tensor([3, 4]);
 * const { value, grads: [dw] } = valueAndGrad(l2Penalty)(w);
 * console.log(await value.read(), await dw.read()); // Float32Array [12.5] Float32Array [3, 4]
 * value.dispose();
 * dw.dispose();
 * ```
 */
export function valueAndGrad<A extends Tensor[]>(
  f: (...args: A) => Tensor,
): (...args: A) => ValueAndGrads {
  checkArity("valueAndGrad", arguments, 1);
  return differentiate("valueAndGrad", f);
}

/** {@linkcode valueAndGrad}, with `op` (the public function called) named in errors. */
function differentiate<A extends Tensor[]>(
  op: string,
  f: (...args: A) => Tensor,
): (...args: A) => ValueAndGrads {
  if (typeof f !== "function") {
    throw new TypeError(`${op}: expected a function, got ${describe(f)}`);
  }
  return (...args: A) => {
    if (args.length === 0) {
      throw new TypeError(`${op}: expected at least one tensor argument, got none`);
    }
    checkTensors(op, Object.fromEntries(args.map((t, i) => [`argument ${i}`, t])));
    return scope(() => {
      const tape = new Tape();
      args.forEach((t) => tape.tracked.add(t));
      let value = recordOn(tape, () => f(...args));
      if (!isTensor(value) || value.size !== 1 || value.disposed) {
        throw new TypeError(
          `${op}: expected f to return a live scalar tensor, got ${
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
      return { value, grads };
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
  const both = differentiate("grad", f);
  return (...args: A) => {
    const { value, grads } = both(...args);
    value.dispose();
    return grads;
  };
}
