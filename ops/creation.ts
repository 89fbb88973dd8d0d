/**
 * @file Tensors made from nothing but a shape: filled with one value (`zeros`, `ones`,
 * `full`, the methods every backend has from `ops/backend.ts`), or counting `0, 1, 2, …`
 * (`iota`, for one-hot masks and the gradient of a gather). Each is an expression
 * without inputs: on the GPU one kernel eagerly, and under `jit` no kernel at all — the
 * value is computed where it is read. The fill value is a runtime value, so a new one
 * reuses a compiled program.
 */
import { position, scalar } from "../kernels/expression.ts";
import { elementwiseOp } from "./_elementwise.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkNumber, checkResultSize } from "./_validate.ts";
import { checkShape } from "./broadcast.ts";
import type { Backend, Tensor } from "./tensor.ts";

const fullOp: OpDefinition<{ value: number }> = elementwiseOp({
  name: "full",
  expression: ({ value }) => scalar(value),
});

const iotaOp: OpDefinition<void> = elementwiseOp<void>({
  name: "iota",
  expression: () => position(),
});

/**
 * A tensor of `shape` on `backend` with every element `value` (rounded to float32);
 * `op` names the public function in errors.
 */
export function fill(
  op: string,
  backend: Backend,
  shape: unknown,
  value: unknown,
): Tensor {
  const dims = checkShape(op, shape);
  const v = checkNumber(op, "value", value);
  checkResultSize(op, backend, dims);
  return runOp(fullOp, [], { value: v }, dims, backend);
}

/** `[0, 1, …, n − 1]` on `backend`: the column indices that one-hot masks compare with. */
export function iota(backend: Backend, n: number): Tensor {
  return runOp(iotaOp, [], undefined, [n], backend);
}
