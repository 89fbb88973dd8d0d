/**
 * @file Elementwise ops from one expression each
 * (docs/architecture.md#elementwise-math-once). The factory turns
 * an expression over the op's inputs into a whole {@linkcode OpDefinition}: the reference
 * is the expression's float64 interpreter (rounded once to the result's type), the
 * result's type is the expression's (`expressionType`: its inputs' types promoted, weak
 * literals and scalars never widening them), the GPU form a map
 * term over the inputs broadcast to the output shape — the eager kernel is generated from
 * it, and `jit` fuses it — and the vector-Jacobian product is summed back over broadcast
 * axes. Adding an op is one expression and its derivative.
 */
import {
  call,
  type Expr,
  expressionFunction,
  expressionSignature,
  expressionType,
  input,
} from "../kernels/expression.ts";
import { type DType, DTYPES, FLOAT_TYPES } from "./dtype.ts";
import { broadcastView, mapTerm } from "../kernels/term.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkResultSize, checkTensors } from "./_validate.ts";
import { broadcastShapes, sourceIndices, sumToShape } from "./broadcast.ts";
import type { Tensor } from "./tensor.ts";

/** An elementwise op: its name, its expression, and its derivative. */
export interface ElementwiseSpec<P> {
  readonly name: string;
  /** The element types the inputs may have (default: the float types). */
  readonly takes?: readonly DType[];
  /** The output at one element, over inputs `input(0)`, `input(1)`, …. */
  expression(params: P): Expr;
  /**
   * Gradients of the inputs at the output's shape (the factory sums them down to each
   * input's shape); `null` where none flows. Absent: not differentiable.
   */
  vjp?(
    g: Tensor,
    inputs: readonly Tensor[],
    params: P,
    needed: readonly boolean[],
  ): (Tensor | null)[];
}

/** The gradient of a broadcast operand: `g` summed down to the operand's shape. */
function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  const same = g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i]);
  return same ? g : sumToShape(g, shape);
}

/** The op definition of an elementwise expression. */
export function elementwiseOp<P>(spec: ElementwiseSpec<P>): OpDefinition<P> {
  const vjp = spec.vjp;
  return {
    name: spec.name,
    takes: spec.takes ?? FLOAT_TYPES,
    returns: (types, params) => expressionType(spec.expression(params), types),
    reference(inputs, params, shapes) {
      const f = expressionFunction(spec.expression(params), shapes.inputTypes);
      const n = shapes.output.reduce((a, b) => a * b, 1);
      const maps = shapes.inputs.map((shape) => sourceIndices(shapes.output, shape));
      const args = new Array<number>(inputs.length);
      const out = new DTYPES[shapes.outputType].array(n);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < inputs.length; k++) {
          const map = maps[k];
          args[k] = inputs[k][map ? map[i] : i];
        }
        out[i] = f(args, i);
      }
      return out;
    },
    form: (params, shapes) => ({
      kind: "term",
      build: (inputs) =>
        mapTerm(
          spec.expression(params),
          inputs.map((t) => broadcastView(t, shapes.output)),
          shapes.output,
        ),
    }),
    staticKey: (params) => expressionSignature(spec.expression(params)),
    ...(vjp
      ? {
        vjp: (g: Tensor, inputs: readonly Tensor[], params: P, needed: readonly boolean[]) =>
          vjp(g, inputs, params, needed).map((d, k) =>
            needed[k] && d ? unbroadcast(d, inputs[k].shape) : null
          ),
      }
      : {}),
  };
}

/**
 * Applies an elementwise op to tensors that broadcast together (validated, named by
 * `name`, e.g. `{ a, b }`), with `params`.
 */
export function applyElementwise<P>(
  op: OpDefinition<P>,
  named: Record<string, unknown>,
  params: P,
): Tensor {
  const inputs = checkTensors(op.name, named, op.takes);
  const shape = broadcastShapes(op.name, ...inputs.map((t) => t.shape));
  checkResultSize(op.name, inputs[0].backend, shape);
  return runOp(op, inputs, params, shape);
}

/**
 * A unary op `f` (over `input(0)`) whose gradient is `g·derivative`, the derivative an
 * expression over inputs (g, x) = (`input(0)`, `input(1)`): the backward step is one
 * fused kernel too.
 */
export function unaryOp(
  name: string,
  f: Expr,
  derivative: Expr,
  takes: readonly DType[] = FLOAT_TYPES,
): OpDefinition<void> {
  const gradOp = elementwiseOp<void>({
    name,
    expression: () => call("mul", input(0), derivative),
  });
  return elementwiseOp<void>({
    name,
    takes,
    expression: () => f,
    vjp: (grad, [value]) => [applyElementwise(gradOp, { g: grad, x: value }, undefined)],
  });
}

/**
 * An op that is piecewise constant in its inputs (rounding, comparisons, logic): its
 * gradient is zero almost everywhere, as JAX and PyTorch take it, so none flows.
 */
export function piecewiseConstantOp(
  name: string,
  f: Expr,
  takes: readonly DType[] = FLOAT_TYPES,
): OpDefinition<void> {
  return elementwiseOp<void>({
    name,
    takes,
    expression: () => f,
    vjp: (_g, inputs) => inputs.map(() => null),
  });
}
