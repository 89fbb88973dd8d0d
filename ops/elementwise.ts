/**
 * @file Elementwise arithmetic for models and their gradients: `add`, `sub`, `mul`
 * (with a scalar or a row broadcast over a batch, see `ops/broadcast.ts`), `scale` by a
 * number, and `square`. Each output is one correctly rounded float32 operation, which
 * the reference reproduces exactly (it computes in float64 and rounds once).
 */
import {
  type BinaryOperator,
  encodeBinary,
  encodeUnary,
  type UnaryOperator,
} from "../kernels/elementwise.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkNumber, checkTensors } from "./_validate.ts";
import { broadcastShapes, sumToShape } from "./broadcast.ts";
import type { Tensor } from "./tensor.ts";

const apply: Record<BinaryOperator, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
};

/** The gradient of a broadcast operand: `g` summed down to the operand's shape. */
function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  const same = g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i]);
  return same ? g : sumToShape(g, shape);
}

/** A binary op; `vjp` gives the operands' gradients before unbroadcasting, lazily. */
function binaryOp(
  operator: BinaryOperator,
  vjp: (g: Tensor, a: Tensor, b: Tensor) => [() => Tensor, () => Tensor],
): OpDefinition<{ size: number }> {
  return {
    name: operator,
    reference([a, b], { size }) {
      const f = apply[operator];
      return Float32Array.from({ length: size }, (_, i) => f(a[i % a.length], b[i % b.length]));
    },
    kernel: (runtime, inputs, output) => encodeBinary(runtime, inputs, output, operator),
    vjp(g, [a, b], _params, needed) {
      const [da, db] = vjp(g, a, b);
      return [
        needed[0] ? unbroadcast(da(), a.shape) : null,
        needed[1] ? unbroadcast(db(), b.shape) : null,
      ];
    },
  };
}

const addOp = binaryOp("add", (g) => [() => g, () => g]);
const subOp = binaryOp("sub", (g) => [() => g, () => scale(g, -1)]);
const mulOp = binaryOp("mul", (g, a, b) => [() => mul(g, b), () => mul(g, a)]);

function binary(op: OpDefinition<{ size: number }>, a: Tensor, b: Tensor): Tensor {
  const [left, right] = checkTensors(op.name, { a, b });
  const shape = broadcastShapes(op.name, left.shape, right.shape);
  return runOp(op, [left, right], { size: shape.reduce((x, y) => x * y, 1) }, shape);
}

/**
 * Elementwise `a + b`; either may be a scalar or a row broadcast over the other.
 *
 * @param a A tensor.
 * @param b A tensor of the same shape, or one that broadcasts over `a` (or vice versa).
 * @returns A new tensor of the larger shape.
 * @example
 * ```ts
 * import { add, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using sum = add(ref.tensor([1, 2, 3, 4], [2, 2]), ref.tensor([10, 20]));
 * console.log(await sum.read()); // Float32Array [11, 22, 13, 24]
 * ```
 */
export function add(a: Tensor, b: Tensor): Tensor {
  return binary(addOp, a, b);
}

/**
 * Elementwise `a − b`, broadcasting as {@linkcode add}.
 *
 * @param a A tensor.
 * @param b A tensor that broadcasts with `a`.
 * @returns A new tensor of the larger shape.
 * @example
 * ```ts
 * import { cpu, sub } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using r = sub(ref.tensor([3, 5]), ref.tensor([1], []));
 * console.log(await r.read()); // Float32Array [2, 4]
 * ```
 */
export function sub(a: Tensor, b: Tensor): Tensor {
  return binary(subOp, a, b);
}

/**
 * Elementwise `a · b`, broadcasting as {@linkcode add}.
 *
 * @param a A tensor.
 * @param b A tensor that broadcasts with `a`.
 * @returns A new tensor of the larger shape.
 * @example
 * ```ts
 * import { cpu, mul } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using p = mul(ref.tensor([1, 2, 3]), ref.tensor([2, 2, 2]));
 * console.log(await p.read()); // Float32Array [2, 4, 6]
 * ```
 */
export function mul(a: Tensor, b: Tensor): Tensor {
  return binary(mulOp, a, b);
}

function unaryOp(
  operator: UnaryOperator,
  f: (x: number, c: number) => number,
  vjp: (g: Tensor, x: Tensor, c: number) => Tensor,
): OpDefinition<{ c: number }> {
  return {
    name: operator,
    reference: ([x], { c }) => x.map((v) => f(v, Math.fround(c))),
    kernel: (runtime, inputs, output, { c }) =>
      encodeUnary(runtime, inputs, output, { operator, c }),
    vjp: (g, [x], { c }) => [vjp(g, x, c)],
  };
}

const scaleOp = unaryOp("scale", (x, c) => x * c, (g, _x, c) => scale(g, c));
const squareOp = unaryOp("square", (x) => x * x, (g, x) => mul(g, scale(x, 2)));

/**
 * Multiplies every element by a number, rounded to float32 first.
 *
 * @param x A tensor.
 * @param c A finite number.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, scale } from "@deno-gpu/kernels";
 * using half = scale(cpu().tensor([2, 4]), 0.5);
 * console.log(await half.read()); // Float32Array [1, 2]
 * ```
 */
export function scale(x: Tensor, c: number): Tensor {
  const [input] = checkTensors("scale", { x });
  const factor = checkNumber("scale", "c", c);
  return runOp(scaleOp, [input], { c: factor }, input.shape);
}

/**
 * Squares every element.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, square } from "@deno-gpu/kernels";
 * using sq = square(cpu().tensor([-3, 2]));
 * console.log(await sq.read()); // Float32Array [9, 4]
 * ```
 */
export function square(x: Tensor): Tensor {
  const [input] = checkTensors("square", { x });
  return runOp(squareOp, [input], { c: 0 }, input.shape);
}
