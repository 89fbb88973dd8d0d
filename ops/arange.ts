/**
 * @file `arange`: evenly spaced values, NumPy's `arange` (its length rule:
 * ⌈(stop − start)/step⌉ in float64), float32 for now. One expression of the element's
 * position, `start + i·step` (`kernels/expression.ts`), so eagerly one kernel and under
 * `jit` none: the values are computed where they are read. start and step are runtime
 * words, so a new start or step reuses a compiled program.
 */
import { call, position, scalar } from "../kernels/expression.ts";
import { elementwiseOp } from "./_elementwise.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkBackend, checkNumber, checkResultSize } from "./_validate.ts";
import type { Backend, Tensor } from "./tensor.ts";

/** The first value and the spacing, as float32 words. */
interface ArangeParams {
  readonly start: number;
  readonly step: number;
}

const arangeOp: OpDefinition<ArangeParams> = elementwiseOp<ArangeParams>({
  name: "arange",
  expression: ({ start, step }) =>
    call("add", call("mul", position(), scalar(step)), scalar(start)),
});

/**
 * Values from `start` up to (not including) `stop`, `step` apart (NumPy's `arange`):
 * ⌈(stop − start)/step⌉ of them, the length computed in float64 as NumPy does; with one
 * bound, `arange(backend, stop)` counts from 0. Element i is start + i·step with start
 * and step rounded to float32: the reference computes it in float64 and rounds once, a
 * GPU rounds the product and the sum (within u·(1 + u)·|i·step| + 2u·|start + i·step|
 * of the reference; exact for whole numbers below 2²⁴). NumPy's float32 `arange` rounds
 * differently again (it steps by fl(fl(start + step) − start)), so fractional steps may
 * differ from it in the last bit.
 *
 * @param backend The backend to make the tensor on.
 * @param start The first value (or, without `stop`, the end and 0 the first), finite.
 * @param stop The end, excluded, finite.
 * @param step The spacing, finite and not 0 (default 1); negative counts down.
 * @returns A new 1-D tensor of at least one value.
 * @example
 * ```ts
 * import { arange, cpu } from "@deno-gpu/kernels";
 * using a = arange(cpu(), 4);
 * using b = arange(cpu(), 1, 2, 0.25);
 * using c = arange(cpu(), 5, 0, -2);
 * console.log(await a.read(), await b.read(), await c.read()); // Float32Array [0, 1, 2, 3] Float32Array [1, 1.25, 1.5, 1.75] Float32Array [5, 3, 1]
 * ```
 */
export function arange(backend: Backend, start: number, stop?: number, step?: number): Tensor {
  checkArity("arange", arguments, 4);
  const op = "arange";
  const b = checkBackend(op, backend);
  const first = checkNumber(op, "start", start);
  const [from, to] = stop === undefined ? [0, first] : [first, checkNumber(op, "stop", stop)];
  const spacing = step === undefined ? 1 : checkNumber(op, "step", step);
  if (spacing === 0) throw new RangeError(`${op}: expected a step other than 0, got 0`);
  const length = Math.ceil((to - from) / spacing);
  if (!(length >= 1)) {
    throw new RangeError(
      `${op}: expected at least one value from ${from} to ${to} by ${spacing}, got none (tensors are not empty)`,
    );
  }
  checkResultSize(op, b, [length]);
  return runOp(arangeOp, [], { start: from, step: spacing }, [length], b);
}
