/**
 * @file Reductions to a scalar: `sum` and `mean`, on the tree reduction of
 * `kernels/reduce.ts` (the one `l2Penalty` uses), so their error grows with log n.
 */
import { encodeTreeSum } from "../kernels/reduce.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkTensors } from "./_validate.ts";
import { broadcastTo } from "./broadcast.ts";
import { scale } from "./elementwise.ts";
import type { Tensor } from "./tensor.ts";

const sumOp: OpDefinition<void> = {
  name: "sum",
  reference([x]) {
    let s = 0;
    for (const v of x) s += v;
    return Float32Array.of(s);
  },
  kernel: (runtime, inputs, output) =>
    encodeTreeSum(runtime, inputs, output, { op: "sum", square: false, scale: 1 }),
  vjp: (g, [x]) => [broadcastTo(g, x.shape)],
};

const meanOp: OpDefinition<{ n: number }> = {
  name: "mean",
  reference([x]) {
    let s = 0;
    for (const v of x) s += v;
    return Float32Array.of(s / x.length);
  },
  kernel: (runtime, inputs, output, { n }) =>
    encodeTreeSum(runtime, inputs, output, { op: "mean", square: false, scale: 1 / n }),
  vjp: (g, [x], { n }) => [broadcastTo(scale(g, 1 / n), x.shape)],
};

/**
 * The sum of all elements.
 *
 * @param x A tensor.
 * @returns A scalar tensor (shape `[]`).
 * @example
 * ```ts
 * import { cpu, sum } from "@deno-gpu/kernels";
 * using s = sum(cpu().tensor([1, 2, 3, 4], [2, 2]));
 * console.log(s.shape, await s.read()); // [] Float32Array [10]
 * ```
 */
export function sum(x: Tensor): Tensor {
  const [input] = checkTensors("sum", { x });
  return runOp(sumOp, [input], undefined, []);
}

/**
 * The mean of all elements.
 *
 * @param x A tensor.
 * @returns A scalar tensor (shape `[]`).
 * @example
 * ```ts
 * import { cpu, mean } from "@deno-gpu/kernels";
 * using m = mean(cpu().tensor([1, 2, 3, 4]));
 * console.log(await m.read()); // Float32Array [2.5]
 * ```
 */
export function mean(x: Tensor): Tensor {
  const [input] = checkTensors("mean", { x });
  return runOp(meanOp, [input], { n: input.size }, []);
}
