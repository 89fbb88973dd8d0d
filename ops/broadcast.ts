/**
 * @file NumPy broadcasting: shapes are aligned at the right, and a dimension of 1 (or a
 * missing one) repeats to match the other — `[n, 1] + [n, h]`, `[h] + [n, h]`, `[] + x`.
 * `broadcastTo` repeats a tensor so; `sumToShape`, its adjoint, sums the repeats (the
 * gradient of a broadcast operand). On the GPU a broadcast is a view (a stride of 0),
 * never a copy, when it feeds another op under `jit`; the reference computes source
 * indices on its own ({@linkcode sourceIndices}), independently of the kernels' views.
 */
import { broadcastView } from "../kernels/term.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkResultSize, checkTensors } from "./_validate.ts";
import { ALL_TYPES, DTYPES } from "./dtype.ts";
import { describeShape, formatShape, isShape, type Tensor } from "./tensor.ts";

/** Whether `from` broadcasts to `to` under NumPy's rules. */
export function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  const lead = to.length - from.length;
  return lead >= 0 && from.every((d, i) => d === 1 || d === to[lead + i]);
}

/**
 * The shape operands of `shapes` broadcast to together (NumPy's rules); otherwise a
 * `RangeError` naming `op` and the shapes.
 */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    let size = 1;
    for (const s of shapes) {
      const dim = s[s.length - rank + d] ?? 1;
      if (dim === 1 || dim === size) continue;
      if (size !== 1) {
        throw new RangeError(
          `${op}: expected shapes that broadcast (aligned at the right, each dimension equal or 1), got ${
            shapes.map(formatShape).join(" and ")
          }`,
        );
      }
      size = dim;
    }
    out.push(size);
  }
  return out;
}

/**
 * For each element of `to`, the index of the element of `from` it repeats (`from`
 * broadcast to `to`); `null` when the shapes are equal (each element is its own).
 */
export function sourceIndices(
  to: readonly number[],
  from: readonly number[],
): Int32Array | null {
  const same = to.length === from.length && to.every((d, i) => d === from[i]);
  if (same) return null;
  const size = to.reduce((a, b) => a * b, 1);
  const lead = to.length - from.length;
  // The stride in `from` of each dimension of `to` (0 where it repeats).
  const strides = new Array<number>(to.length).fill(0);
  let s = 1;
  for (let d = from.length - 1; d >= 0; d--) {
    if (from[d] !== 1) strides[lead + d] = s;
    s *= from[d];
  }
  const out = new Int32Array(size);
  const coordinate = new Array<number>(to.length).fill(0);
  let index = 0;
  for (let i = 0; i < size; i++) {
    out[i] = index;
    // Advance the row-major coordinate, keeping the source index in step.
    for (let d = to.length - 1; d >= 0; d--) {
      coordinate[d]++;
      index += strides[d];
      if (coordinate[d] < to[d]) break;
      index -= strides[d] * to[d];
      coordinate[d] = 0;
    }
  }
  return out;
}

/** Checks a shape argument: an array of integers ≥ 1. */
export function checkShape(op: string, shape: unknown, name = "shape"): readonly number[] {
  if (!isShape(shape)) {
    throw new TypeError(
      `${op}: expected ${name} as an array of integers ≥ 1, got ${describeShape(shape)}`,
    );
  }
  return shape;
}

const broadcastToOp: OpDefinition<void> = {
  name: "broadcastTo",
  takes: ALL_TYPES,
  reference([x], _params, shapes) {
    const map = sourceIndices(shapes.output, shapes.inputs[0]);
    if (!map) return x.slice();
    const out = new DTYPES[shapes.outputType].array(map.length);
    map.forEach((j, i) => out[i] = x[j]);
    return out;
  },
  form: (_params, shapes) => ({
    kind: "term",
    build: ([x]) => broadcastView(x, shapes.output),
  }),
  vjp: (g, [x]) => [sumToShape(g, x.shape)],
};

/**
 * Repeats `x` to `shape` by NumPy's broadcasting rules.
 *
 * @param x The tensor.
 * @param shape The target shape: `x`'s shape, aligned at the right, must have each
 * dimension equal to the target's or 1.
 * @returns A new tensor of `shape`.
 * @example
 * ```ts
 * import { broadcastTo, cpu } from "@deno-gpu/kernels";
 * using column = cpu().tensor([1, 2], [2, 1]);
 * using repeated = broadcastTo(column, [2, 3]);
 * console.log(await repeated.read()); // Float32Array [1, 1, 1, 2, 2, 2]
 * ```
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkArity("broadcastTo", arguments, 2);
  const op = "broadcastTo";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  const target = checkShape(op, shape);
  if (!broadcastsTo(input.shape, target)) {
    throw new RangeError(
      `${op}: expected a shape that ${formatShape(input.shape)} broadcasts to, got ${
        formatShape(target)
      }`,
    );
  }
  checkResultSize(op, input.backend, target);
  return runOp(broadcastToOp, [input], undefined, target);
}

/** The axes of `from` that summing down to `to` (which broadcasts to `from`) removes. */
function summedAxes(from: readonly number[], to: readonly number[]): number[] {
  const lead = from.length - to.length;
  return from.flatMap((d, i) => (i < lead || (to[i - lead] === 1 && d !== 1) ? [i] : []));
}

const sumToShapeOp: OpDefinition<void> = {
  name: "sumToShape",
  reference([x], _params, shapes) {
    const map = sourceIndices(shapes.inputs[0], shapes.output);
    const sums = new Float64Array(shapes.output.reduce((a, b) => a * b, 1));
    x.forEach((v, i) => sums[map ? map[i] : i] += v);
    return Float32Array.from(sums);
  },
  form: (_params, shapes) => ({
    kind: "reduce",
    reducer: "sum",
    axes: summedAxes(shapes.inputs[0], shapes.output),
  }),
  vjp: (g, [x]) => [broadcastTo(g, x.shape)],
};

/**
 * Sums `x` down to `shape`, which must broadcast to `x`'s shape: the adjoint of
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
 * using rows = sumToShape(batch, [3, 1]);
 * console.log(await columns.read(), await rows.read()); // Float32Array [9, 12] Float32Array [3, 7, 11]
 * ```
 */
export function sumToShape(x: Tensor, shape: readonly number[]): Tensor {
  checkArity("sumToShape", arguments, 2);
  const op = "sumToShape";
  const [input] = checkTensors(op, { x });
  const target = checkShape(op, shape);
  if (!broadcastsTo(target, input.shape)) {
    throw new RangeError(
      `${op}: expected a shape that broadcasts to ${formatShape(input.shape)}, got ${
        formatShape(target)
      }`,
    );
  }
  return runOp(sumToShapeOp, [input], undefined, target);
}
