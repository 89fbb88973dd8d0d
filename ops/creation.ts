/**
 * @file Tensors made from nothing but a shape: filled with one value of a type (`zeros`,
 * `ones`, `full`, the methods every backend has from `ops/backend.ts`), or counting `0, 1, 2, …`
 * (`iota`, for one-hot masks and the gradient of a gather). Each is an expression
 * without inputs: on the GPU one kernel eagerly, and under `jit` no kernel at all — the
 * value is computed where it is read. The fill value is a runtime value, so a new one
 * reuses a compiled program.
 */
import { position, scalar } from "../kernels/expression.ts";
import { elementwiseOp } from "./_elementwise.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkNumber, checkOptions, checkResultSize } from "./_validate.ts";
import { checkShape } from "./broadcast.ts";
import { checkDType, type DType } from "./dtype.ts";
import { describe, type Tensor } from "./tensor.ts";
import type { Backend } from "./backend.ts";

/** The fill value is a runtime word of the result's type: a new one reuses the pipeline. */
const fullOp: OpDefinition<{ value: number; dtype: DType }> = elementwiseOp({
  name: "full",
  expression: ({ value, dtype }) => scalar(value, dtype),
});

const iotaOp: OpDefinition<void> = elementwiseOp<void>({
  name: "iota",
  expression: () => position(),
});

/**
 * A tensor of `shape` on `backend` with every element `value`, of `options.dtype`
 * (float32 by default, the value rounded to it); `op` names the public function in errors.
 */
export function fill(
  op: string,
  backend: Backend,
  shape: unknown,
  value: unknown,
  options?: unknown,
): Tensor {
  const dims = checkShape(op, shape);
  const o = checkOptions(op, options, false, ["dtype"]);
  const dtype = o.dtype === undefined ? "float32" : checkDType(op, o.dtype);
  const v = fillValue(op, value, dtype);
  checkResultSize(op, backend, dims);
  return runOp(fullOp, [], { value: v, dtype }, dims, backend);
}

/** INTEGER_RANGE[t]: the values of integer type `t`, [min, max]. */
const INTEGER_RANGE = { int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1] } as const;

/**
 * Checks a fill value of `dtype`: a finite number for a float; an integer in range for
 * an integer type (refused rather than truncated: a fill value is written, not computed);
 * `true`, `false`, 0 or 1 for bool.
 */
function fillValue(op: string, value: unknown, dtype: DType): number {
  if (dtype === "bool") {
    if (typeof value === "boolean" || value === 0 || value === 1) return Number(value);
    throw new TypeError(
      `${op}: expected a bool value (true, false, 0 or 1), got ${describe(value)}`,
    );
  }
  const v = checkNumber(op, "value", value);
  if (dtype === "int32" || dtype === "uint32") {
    const [min, max] = INTEGER_RANGE[dtype];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(
        `${op}: expected an ${dtype} value (an integer in [${min}, ${max}]), got ${v}`,
      );
    }
  }
  return v;
}

/** `[0, 1, …, n − 1]` on `backend`: the column indices that one-hot masks compare with. */
export function iota(backend: Backend, n: number): Tensor {
  return runOp(iotaOp, [], undefined, [n], backend);
}
