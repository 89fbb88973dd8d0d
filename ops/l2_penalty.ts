/**
 * @file `l2Penalty`: the weight-decay penalty sum(w²)/2 of the study, as a scalar: eagerly
 * on the tree reduction of `kernels/reduce.ts`; under `jit` a reduction whose prologue
 * squares and whose epilogue halves, fused with what comes before and after.
 */
import { call, input, literal } from "../kernels/expression.ts";
import { encodeTreeSum } from "../kernels/reduce.ts";
import { mapTerm } from "../kernels/term.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkTensors } from "./_validate.ts";
import { mul } from "./arithmetic.ts";
import type { Tensor } from "./tensor.ts";

const l2PenaltyOp: OpDefinition<void> = {
  name: "l2Penalty",
  reference([w]) {
    let sum = 0;
    for (const v of w) sum += v * v;
    return Float32Array.of(sum / 2);
  },
  form: (_params, shapes) => ({
    kind: "reduce",
    reducer: "sum",
    axes: shapes.inputs[0].map((_, a) => a),
    prologue: (w) => mapTerm(call("mul", input(0), input(0)), [w], w.shape),
    epilogue: (r) => mapTerm(call("mul", input(0), literal(0.5)), [r], r.shape),
  }),
  kernel: (runtime, inputs, output) =>
    encodeTreeSum(runtime, inputs, output, { op: "l2Penalty", square: true, scale: 0.5 }),
  vjp: (g, [w]) => [mul(w, g)],
};

/**
 * The L2 penalty `sum(w²)/2` of a tensor of any shape.
 *
 * @param w The weights.
 * @returns A scalar tensor (shape `[]`).
 * @example
 * ```ts
 * import { cpu, l2Penalty } from "@deno-gpu/kernels";
 * using w = cpu().tensor([1, 2, 3, 4], [2, 2]);
 * using penalty = l2Penalty(w);
 * console.log(penalty.shape, await penalty.read()); // [] Float32Array [15]
 * ```
 */
export function l2Penalty(w: Tensor): Tensor {
  checkArity("l2Penalty", arguments, 1);
  const [weights] = checkTensors("l2Penalty", { w });
  return runOp(l2PenaltyOp, [weights], undefined, []);
}
