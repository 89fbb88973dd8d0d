/**
 * @file `corr2d`: valid 2-D cross-correlation, the `corr2d` of the study (what deep
 * learning calls convolution): edge detection with K = [[1, −1]] and its transpose.
 */
import { type Corr2dParams, encodeCorr2d } from "../kernels/corr2d.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkRank, checkTensors } from "./_validate.ts";
import { pad2d, reverse } from "./layout.ts";
import { formatShape, type Tensor } from "./tensor.ts";

const corr2dOp: OpDefinition<Corr2dParams> = {
  name: "corr2d",
  reference([x, k], { h, w, kh, kw }) {
    const oh = h - kh + 1, ow = w - kw + 1;
    const out = new Float32Array(oh * ow);
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let sum = 0;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) sum += x[(y + i) * w + xo + j] * k[i * kw + j];
        }
        out[y * ow + xo] = sum;
      }
    }
    return out;
  },
  kernel: encodeCorr2d,
  vjp(g, [x, k], { kh, kw }, needed) {
    // dx: the full correlation of g with k turned by 180°; dk: the valid correlation of x with g.
    return [
      needed[0] ? corr2d(pad2d(g, kh - 1, kw - 1), reverse(k)) : null,
      needed[1] ? corr2d(x, g) : null,
    ];
  },
};

/**
 * Valid 2-D cross-correlation: `[H, W] ⊛ [kh, kw] → [H − kh + 1, W − kw + 1]`,
 * `out[y][x] = Σᵢⱼ x[y + i][x + j]·k[i][j]`.
 *
 * @param x The image, `[H, W]`.
 * @param k The kernel, `[kh, kw]` with kh ≤ H and kw ≤ W.
 * @returns A new `[H − kh + 1, W − kw + 1]` tensor.
 * @example
 * ```ts
 * import { corr2d, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([1, 1, 0, 0, 1, 1, 0, 0], [2, 4]);
 * using k = ref.tensor([1, -1], [1, 2]); // vertical edges
 * using edges = corr2d(x, k);
 * console.log(edges.shape, await edges.read()); // [2, 3] Float32Array [0, 1, 0, 0, 1, 0]
 * ```
 */
export function corr2d(x: Tensor, k: Tensor): Tensor {
  checkArity("corr2d", arguments, 2);
  const op = "corr2d";
  const [image, kernel] = checkTensors(op, { x, k });
  checkRank(op, "x", image, 2);
  checkRank(op, "k", kernel, 2);
  const [h, w] = image.shape;
  const [kh, kw] = kernel.shape;
  if (kh > h || kw > w) {
    throw new RangeError(
      `${op}: expected a kernel no larger than the image, got kernel ${
        formatShape(kernel.shape)
      } for image ${formatShape(image.shape)}`,
    );
  }
  return runOp(corr2dOp, [image, kernel], { h, w, kh, kw }, [h - kh + 1, w - kw + 1]);
}
