/**
 * @file `dropout`: inverted dropout with a counter-based mask, so the mask depends only
 * on (key, element index) and is bit-identical on every backend. It is one expression,
 * `keep(mask) ? x·scale : 0`, where element i is kept when word i mod 4 of
 * `philox4x32([⌊i/4⌋, 0, 0, 0], key)` is ≥ ⌈p·2³²⌉ (one Philox call serves four
 * elements, which the generated kernel handles as one vec4), and a kept value is
 * `x·fround(1/(1−p))`: one correctly rounded multiply, so the reference reproduces it
 * bit for bit (WGSL's division would be within 2.5 ulp only). Key, threshold and scale
 * are runtime values: under `jit` a new key reuses the compiled program.
 */
import { call, type DropoutMask, input, keep, literal, scalar } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp } from "./_elementwise.ts";
import type { OpDefinition } from "./_op.ts";
import { checkArity, checkNumber } from "./_validate.ts";
import { checkKey, type RandomKey } from "./random.ts";
import type { Tensor } from "./tensor.ts";

/** The mask and the scale of kept values. */
interface DropoutParams {
  readonly mask: DropoutMask;
  /** fround(1/(1 − p)); 0 when everything is dropped. */
  readonly scale: number;
}

/** Threshold and scale for a drop probability p in [0, 1]. */
function dropoutParams(p: number, key: readonly [number, number]): DropoutParams {
  const threshold = Math.ceil(p * 2 ** 32);
  const dropAll = threshold >= 2 ** 32;
  return {
    mask: { key, threshold: dropAll ? 0 : threshold, dropAll },
    scale: dropAll ? 0 : Math.fround(1 / (1 - p)),
  };
}

const dropoutOp: OpDefinition<DropoutParams> = elementwiseOp<DropoutParams>({
  name: "dropout",
  expression: ({ mask, scale }) =>
    call("where", keep(mask), call("mul", input(0), scalar(scale)), literal(0)),
  // The mask is a function of the key and the index: the same mask, and scale, backward.
  vjp: (g, _inputs, params) => [applyElementwise(dropoutOp, { g }, params)],
});

/**
 * Inverted dropout: each element is kept with probability `1 − p` and scaled by
 * `fround(1/(1 − p))`, or set to 0. `p = 0` gives a copy of `x`, `p = 1` all zeros.
 * The mask is a function of `key` and the element's index only.
 *
 * @param x The input, any shape.
 * @param p The drop probability, in [0, 1].
 * @param key A key from {@linkcode randomKey}; the same key gives the same mask.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, dropout, randomKey } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 1, 1, 1, 1, 1, 1, 1]);
 * using y = dropout(x, 0.5, randomKey(0));
 * console.log(await y.read()); // each value 0 or 2
 * ```
 */
export function dropout(x: Tensor, p: number, key: RandomKey): Tensor {
  checkArity("dropout", arguments, 3);
  const op = "dropout";
  const probability = checkNumber(op, "p", p, { min: 0, max: 1 });
  const { words } = checkKey(op, key);
  return applyElementwise(dropoutOp, { x }, dropoutParams(probability, words));
}
