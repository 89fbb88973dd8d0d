/**
 * @file The one mechanism every op runs through: an op is defined once, with a CPU
 * reference, a GPU computation — a form the kernel generator understands (and `jit`
 * fuses), a hand-written kernel, or both — and (if differentiable) its vector-Jacobian
 * product. {@linkcode runOp} hands the application to `jit`'s recorder when one is
 * active, else to the backend its (already validated) inputs live on, which runs the
 * implementation it has (`runOn` in `ops/tensor.ts`); and it records the application on
 * the autodiff tape when one is active. It is also where element types are enforced: an
 * op declares the types it takes (`takes`, float types by default) and the type it
 * returns (`returns`, by default its inputs' types promoted), and {@linkcode runOp}
 * refuses other inputs with a `TypeError` naming the op. This file imports no backend:
 * they import it.
 */
import { encodeForm, type OpForm, type OpShapes } from "../kernels/forms.ts";
import { encodeWidened } from "../kernels/float16_widening.ts";
import type { DeviceArray, GpuRuntime } from "../kernels/runtime.ts";
import { activeTape } from "./_tape.ts";
import { recorderFor } from "./_trace.ts";
import { checkResultSize } from "./_validate.ts";
import {
  describeTypes,
  type DType,
  DTYPES,
  FLOAT_TYPES,
  promoteTypes,
  type StorageArray,
} from "./dtype.ts";
import { type Backend, runOn, type Tensor } from "./tensor.ts";

export type { OpForm, OpShapes };

/** An op's implementations, with `P` the validated parameters. */
export interface OpDefinition<P> {
  /** The public name, used in errors. */
  readonly name: string;
  /**
   * The element types every input may have (default {@linkcode FLOAT_TYPES}: float-only
   * ops declare nothing); another is a `TypeError` naming the op.
   */
  readonly takes?: readonly DType[];
  /** The result's element type (default: the inputs' types promoted; float32 without inputs). */
  returns?(inputTypes: readonly DType[], params: P): DType;
  /**
   * The CPU reference: returns the output values, row-major, in the result type's array
   * or (float ops computing in float32) a `Float32Array`, which the backend rounds to it.
   */
  reference(inputs: readonly StorageArray[], params: P, shapes: OpShapes): StorageArray;
  /**
   * The GPU computation for the kernel generator and `jit`; the eager kernel too, unless
   * {@linkcode OpDefinition.kernel} is given.
   */
  form?(params: P, shapes: OpShapes): OpForm;
  /** A hand-written GPU kernel: encodes work that writes `output`. */
  kernel?(
    runtime: GpuRuntime,
    inputs: readonly DeviceArray[],
    output: DeviceArray,
    params: P,
    shapes: OpShapes,
  ): void;
  /**
   * The part of `params` a compiled program is specialised to (default: all of it, as
   * JSON). What it leaves out must reach the kernels as runtime values — uniform words
   * or uploaded data — never as WGSL text, so that `jit` replays a new learning rate or
   * key without compiling again.
   */
  staticKey?(params: P): string;
  /**
   * Gradients of the inputs given the output's gradient `g`, computed with ops (so on
   * the same backend); `null` where not `needed`. Absent for ops that are not
   * differentiable.
   */
  vjp?(
    g: Tensor,
    inputs: readonly Tensor[],
    params: P,
    needed: readonly boolean[],
  ): (Tensor | null)[];
}

/**
 * Runs `op` on the backend of `inputs` (which the caller has validated: all on one
 * backend, none disposed), or on `backend` for ops without inputs, and returns a new
 * tensor of `outShape`. A result larger than the backend's largest tensor is a
 * `RangeError` naming the op, thrown before anything is allocated.
 */
export function runOp<P>(
  op: OpDefinition<P>,
  inputs: readonly Tensor[],
  params: P,
  outShape: readonly number[],
  backend: Backend = inputs[0].backend,
): Tensor {
  checkResultSize(op.name, backend, outShape);
  const dtype = resultType(op, inputs, params);
  const recorder = recorderFor(backend);
  const output = recorder
    ? recorder.record(op, inputs, params, outShape, dtype)
    : runOn(backend, op, inputs, params, outShape, dtype);
  const tape = activeTape();
  // Only float values are differentiated: an integer or bool result (a comparison,
  // argmax, a cast) carries no cotangent, so the path through it is not recorded.
  if (tape && DTYPES[dtype].float && inputs.some((t) => tape.tracked.has(t))) {
    if (!op.vjp) {
      output.dispose();
      throw new TypeError(
        `${op.name}: is not differentiable, but its input depends on a watched tensor`,
      );
    }
    const vjp = op.vjp;
    tape.tracked.add(output);
    inputs.forEach((t) => tape.referenced.add(t));
    tape.entries.push({
      inputs,
      output,
      vjp: (g, needed) => vjp(g, inputs, params, needed),
    });
  }
  return output;
}

/**
 * The element type of `op`'s result on `inputs`, after checking that it takes their
 * types: what {@linkcode runOp} and `jit`'s recorder give the output.
 */
export function resultType<P>(op: OpDefinition<P>, inputs: readonly Tensor[], params: P): DType {
  const takes = op.takes ?? FLOAT_TYPES;
  inputs.forEach((t, i) => {
    if (!takes.includes(t.dtype)) {
      const which = inputs.length === 1 ? "" : ` (input ${i + 1} of ${inputs.length})`;
      throw new TypeError(
        `${op.name}: expected a tensor of ${describeTypes(takes)}, got ${t.dtype}${which}`,
      );
    }
  });
  const types = inputs.map((t) => t.dtype);
  if (op.returns) return op.returns(types, params);
  return types.length === 0 ? "float32" : types.reduce((a, b) => promoteTypes(a, b));
}

/**
 * Encodes one application of `op` on the GPU: its kernel, or the one generated from its
 * form. Generated maps load and store float16 themselves; hand-written kernels and
 * reductions are float32 kernels, run on float32 copies of float16 buffers
 * (`kernels/float16_widening.ts`).
 */
export function encodeOp<P>(
  runtime: GpuRuntime,
  op: OpDefinition<P>,
  inputs: readonly DeviceArray[],
  output: DeviceArray,
  params: P,
  shapes: OpShapes,
): void {
  if (!op.kernel && !op.form) throw new TypeError(`${op.name}: has neither a kernel nor a form`);
  const encode = (wide: readonly DeviceArray[], target: DeviceArray, wideShapes: OpShapes) =>
    op.kernel
      ? op.kernel(runtime, wide, target, params, wideShapes)
      : encodeForm(runtime, op.name, op.form!(params, wideShapes), wide, target, wideShapes);
  if (!op.kernel && op.form!(params, shapes).kind === "term") encode(inputs, output, shapes);
  else encodeWidened(runtime, op.name, inputs, output, shapes, encode);
}
