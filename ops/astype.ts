/**
 * @file `astype`: a tensor's values converted to another element type, one `cast`
 * expression (`kernels/expression.ts`), so that on the GPU it is one generated kernel and
 * under `jit` it fuses into what reads it. The conversion is one documented rule on both
 * backends (README, "Special values"): to a float by rounding to nearest; from a float to
 * an integer by truncating toward zero, saturating at the type's range, NaN → 0 (WGSL's
 * own conversion clamps too; NumPy leaves these cases undefined); between int32 and
 * uint32 by keeping the bits (NumPy's wrap); to bool by truth (nonzero, NaN included).
 */
import { cast, input } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp } from "./_elementwise.ts";
import { checkArity } from "./_validate.ts";
import { ALL_TYPES, checkDType, type DType, DTYPES } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";

const astypeOp = elementwiseOp<{ dtype: DType }>({
  name: "astype",
  takes: ALL_TYPES,
  expression: ({ dtype }) => cast(dtype, input(0)),
  // Between float types the gradient is cast back; through an integer or bool none flows
  // (the values are piecewise constant in the input), as in JAX.
  vjp: (g, [x], { dtype }) => [
    DTYPES[x.dtype].float && DTYPES[dtype].float ? astype(g, x.dtype) : null,
  ],
});

/**
 * `x`'s values converted to `dtype`: to a float rounded to nearest; from a float to an
 * integer truncated toward zero and saturated at the type's range, NaN → 0; between
 * int32 and uint32 with the bits kept (wrapping); to bool by truth (nonzero, NaN
 * included). The same on both backends.
 *
 * @param x Any tensor.
 * @param dtype The element type of the result.
 * @returns A new tensor of `x`'s shape and type `dtype`.
 * @example
 * ```ts
 * import { astype, cpu } from "@deno-gpu/kernels";
 * using x = cpu().tensor([-1.7, 2.5, NaN, 3e9]);
 * using i = astype(x, "int32");
 * console.log(i.dtype, await i.read()); // "int32" Int32Array [-1, 2, 0, 2147483647]
 * using b = astype(x, "bool");
 * console.log(await b.read()); // Uint8Array [1, 1, 1, 1]
 * ```
 */
export function astype(x: Tensor, dtype: DType): Tensor {
  checkArity("astype", arguments, 2);
  return applyElementwise(astypeOp, { x }, { dtype: checkDType("astype", dtype) });
}
