/**
 * @file Broadcasting, restricted to what training needs and what one kernel indexing
 * rule (`x[i % size]`) computes: an operand broadcasts over another when its shape,
 * without leading 1s, is a suffix of the other's — a scalar over anything, a row `[n]`
 * over a batch `[m, n]`. `broadcastTo` repeats a tensor that way; `sumToShape`, its
 * adjoint, sums the repeats (the gradient of a broadcast).
 */
import { encodeIndexMap } from "../kernels/gather.ts";
import { encodeColumnSums, encodeTreeSum } from "../kernels/reduce.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkTensors } from "./_validate.ts";
import { describeShape, formatShape, isShape, type Tensor } from "./tensor.ts";

function withoutLeadingOnes(shape: readonly number[]): readonly number[] {
  const first = shape.findIndex((d) => d !== 1);
  return first < 0 ? [] : shape.slice(first);
}

/** Whether `small` broadcasts over `large` (its shape sans leading 1s is a suffix). */
export function broadcastsOver(small: readonly number[], large: readonly number[]): boolean {
  const core = withoutLeadingOnes(small);
  if (core.length > large.length || small.length > large.length) return false;
  const offset = large.length - core.length;
  return core.every((d, i) => d === large[offset + i]);
}

/**
 * The shape of a binary elementwise op's result: the larger shape, when the other
 * broadcasts over it; otherwise a `RangeError` naming `op` and both shapes.
 */
export function broadcastShapes(
  op: string,
  a: readonly number[],
  b: readonly number[],
): readonly number[] {
  if (broadcastsOver(b, a)) return a;
  if (broadcastsOver(a, b)) return b;
  throw new RangeError(
    `${op}: expected shapes that broadcast (one, without leading 1s, a suffix of the other), got ${
      formatShape(a)
    } and ${formatShape(b)}`,
  );
}

function checkShape(op: string, shape: unknown): readonly number[] {
  if (!isShape(shape)) {
    throw new TypeError(
      `${op}: expected shape as an array of integers ≥ 1, got ${describeShape(shape)}`,
    );
  }
  return shape;
}

const broadcastToOp: OpDefinition<{ size: number }> = {
  name: "broadcastTo",
  reference([x], { size }) {
    return Float32Array.from({ length: size }, (_, i) => x[i % x.length]);
  },
  kernel(runtime, inputs, output) {
    encodeIndexMap(runtime, inputs, output, {
      op: "broadcastTo",
      source: "i32(i % params.size)",
      params: { size: inputs[0].byteLength / 4 },
    });
  },
  vjp: (g, [x]) => [sumToShape(g, x.shape)],
};

/**
 * Repeats `x` to `shape`, which `x` must broadcast over (see the file comment).
 *
 * @param x The tensor.
 * @param shape The target shape.
 * @returns A new tensor of `shape`.
 * @example
 * ```ts
 * import { broadcastTo, cpu } from "@deno-gpu/kernels";
 * using row = cpu().tensor([1, 2]);
 * using batch = broadcastTo(row, [3, 2]);
 * console.log(await batch.read()); // Float32Array [1, 2, 1, 2, 1, 2]
 * ```
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const op = "broadcastTo";
  const [input] = checkTensors(op, { x });
  const target = checkShape(op, shape);
  if (!broadcastsOver(input.shape, target)) {
    throw new RangeError(
      `${op}: expected a shape that ${formatShape(input.shape)} broadcasts over, got ${
        formatShape(target)
      }`,
    );
  }
  return runOp(broadcastToOp, [input], { size: target.reduce((a, b) => a * b, 1) }, target);
}

const sumToShapeOp: OpDefinition<{ size: number }> = {
  name: "sumToShape",
  reference([x], { size }) {
    const sums = new Float64Array(size);
    x.forEach((v, i) => sums[i % size] += v);
    return Float32Array.from(sums);
  },
  kernel(runtime, inputs, output, { size }) {
    if (size === 1) {
      encodeTreeSum(runtime, inputs, output, { op: "sumToShape", square: false, scale: 1 });
    } else encodeColumnSums(runtime, inputs, output);
  },
  vjp: (g, [x]) => [broadcastTo(g, x.shape)],
};

/**
 * Sums `x` down to `shape`, which must broadcast over `x`'s shape: the adjoint of
 * {@linkcode broadcastTo}, and the gradient of a broadcast operand.
 *
 * @param x The tensor.
 * @param shape The target shape.
 * @returns A new tensor of `shape`.
 * @example
 * ```ts
 * import { cpu, sumToShape } from "@deno-gpu/kernels";
 * using batch = cpu().tensor([1, 2, 3, 4, 5, 6], [3, 2]);
 * using columns = sumToShape(batch, [2]);
 * console.log(await columns.read()); // Float32Array [9, 12]
 * ```
 */
export function sumToShape(x: Tensor, shape: readonly number[]): Tensor {
  const op = "sumToShape";
  const [input] = checkTensors(op, { x });
  const target = checkShape(op, shape);
  if (!broadcastsOver(target, input.shape)) {
    throw new RangeError(
      `${op}: expected a shape that broadcasts over ${formatShape(input.shape)}, got ${
        formatShape(target)
      }`,
    );
  }
  return runOp(sumToShapeOp, [input], { size: target.reduce((a, b) => a * b, 1) }, target);
}
