/**
 * @file `dropout`: inverted dropout with a counter-based mask, so the mask depends only
 * on (key, element index) and is bit-identical on every backend.
 */
import { type DropoutParams, dropoutParams, encodeDropout } from "../kernels/dropout.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkNumber, checkTensors } from "./_validate.ts";
import { checkKey, philox4x32, type RandomKey } from "./random.ts";
import type { Tensor } from "./tensor.ts";

const dropoutOp: OpDefinition<DropoutParams> = {
  name: "dropout",
  reference([x], { threshold, dropAll, scale, key }) {
    const out = new Float32Array(x.length);
    for (let block = 0; block * 4 < x.length; block++) {
      const bits = philox4x32([block, 0, 0, 0], key);
      for (let j = 0; j < 4 && block * 4 + j < x.length; j++) {
        const i = block * 4 + j;
        out[i] = !dropAll && bits[j] >= threshold ? x[i] * scale : 0;
      }
    }
    return out;
  },
  kernel: encodeDropout,
  // The mask is a function of the key and the index: the same mask, and scale, backward.
  vjp: (g, _inputs, params) => [runOp(dropoutOp, [g], params, g.shape)],
};

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
  const op = "dropout";
  const [input] = checkTensors(op, { x });
  const probability = checkNumber(op, "p", p, { min: 0, max: 1 });
  const { words } = checkKey(op, key);
  return runOp(dropoutOp, [input], dropoutParams(probability, words), input.shape);
}
