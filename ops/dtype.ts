/**
 * @file The element types at the op layer (docs/architecture.md#types): the type of
 * the values given to `tensor()`, the check of a `dtype` option, the sets of types ops
 * take, and — re-exported from `kernels/dtype.ts`, where the kernel generator types its
 * expressions with it — the one promotion function every binary and ternary op, the CPU
 * reference and `jit` use.
 *
 * Promotion is JAX's lattice ("Design of Type Promotion Semantics for JAX") restricted to
 * our types, with **weak** JavaScript numbers standing where JAX has Python scalars: a
 * number never widens a tensor. An integral number is a weak int (`int32 + 2` is int32,
 * `uint32 + 2` is uint32, `bool + 1` is int32 as JAX's weak int makes it), any other a
 * weak float (`int32 + 0.5` is float32, `float16 · 0.5` is float16). Between tensors:
 * bool < uint32, int32 < float16 < float32, and int32 with uint32 is int32 (JAX widens to
 * int64, which we do not have; the uint32 values ≥ 2³¹ wrap).
 */
import {
  type DType,
  DTYPE_NAMES,
  dtypeOfArray,
  DTYPES,
  isDType,
  type Operand,
  promoteTypes,
} from "../kernels/dtype.ts";
import { describeValue } from "../kernels/_checks.ts";

export { DTYPE_NAMES, dtypeOfArray, DTYPES, isDType, promoteTypes };
export type { DType, Operand };
export type { StorageArray } from "../kernels/dtype.ts";

/** The float types: what float-only ops (matmul, softmax, the optimisers, …) take. */
export const FLOAT_TYPES: readonly DType[] = ["float32", "float16"];

/** The number types, bool left out: what `sub`, `neg`, `floorDiv`, `mod`, rounding take. */
export const NUMBER_TYPES: readonly DType[] = ["float32", "float16", "int32", "uint32"];

/** Every type: what ops that work on any element type take. */
export const ALL_TYPES: readonly DType[] = DTYPE_NAMES;

/**
 * The element type of the values given to `tensor()`: a typed array's own (`Uint8Array`
 * is bool), bool for an array of booleans, float32 for an array of numbers (or empty).
 * `null` for anything else.
 */
export function dtypeOfValues(values: unknown): DType | null {
  const own = dtypeOfArray(values);
  if (own) return own;
  if (!Array.isArray(values)) return null;
  return values.length > 0 && typeof values[0] === "boolean" ? "bool" : "float32";
}

/** Checks a `dtype` option of `op`: one of the element types. */
export function checkDType(op: string, value: unknown): DType {
  if (!isDType(value)) {
    throw new TypeError(
      `${op}: expected dtype to be one of ${DTYPE_NAMES.map((d) => `"${d}"`).join(", ")}, got ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

/** Lists types for messages: `float32 or float16`. */
export function describeTypes(types: readonly DType[]): string {
  return types.length === 1
    ? types[0]
    : `${types.slice(0, -1).join(", ")} or ${types[types.length - 1]}`;
}

/** The host array of a float tensor: what float-only ops' references read. */
export type FloatArray = Float32Array | Float16Array;
