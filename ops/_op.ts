/**
 * @file The one mechanism every op runs through: an op is defined once, with a CPU
 * reference, a GPU kernel and (if differentiable) its vector-Jacobian product, and
 * {@linkcode runOp} picks the implementation of the backend its (already validated)
 * inputs live on, recording the application on the autodiff tape when one is active.
 */
import type { DeviceArray, GpuRuntime } from "../kernels/runtime.ts";
import { activeTape } from "./_tape.ts";
import { checkResultSize } from "./_validate.ts";
import { CpuBackend, CpuTensor } from "./cpu_backend.ts";
import { GpuBackend, GpuTensor } from "./gpu_backend.ts";
import { type Backend, describe, type Tensor } from "./tensor.ts";

/** Checks that `value` is a backend from `cpu()` or `gpu()`. */
export function checkBackend(op: string, value: unknown): Backend {
  if (!(value instanceof CpuBackend) && !(value instanceof GpuBackend)) {
    throw new TypeError(`${op}: expected a backend from cpu() or gpu(), got ${describe(value)}`);
  }
  return value;
}

/** An op's implementations, with `P` the validated parameters. */
export interface OpDefinition<P> {
  /** The public name, used in errors. */
  readonly name: string;
  /** The CPU reference: returns the output values, row-major. */
  reference(inputs: readonly Float32Array[], params: P): Float32Array;
  /** The GPU implementation: encodes work that writes `output`. */
  kernel(
    runtime: GpuRuntime,
    inputs: readonly DeviceArray[],
    output: DeviceArray,
    params: P,
  ): void;
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
  const output = execute(op, inputs, params, outShape, backend);
  const tape = activeTape();
  if (tape && inputs.some((t) => tape.tracked.has(t))) {
    if (!op.vjp) {
      output.dispose();
      throw new TypeError(
        `${op.name}: is not differentiable, but its input depends on a watched tensor`,
      );
    }
    const vjp = op.vjp;
    tape.tracked.add(output);
    tape.entries.push({
      inputs,
      output,
      vjp: (g, needed) => vjp(g, inputs, params, needed),
    });
  }
  return output;
}

function execute<P>(
  op: OpDefinition<P>,
  inputs: readonly Tensor[],
  params: P,
  outShape: readonly number[],
  backend: Backend,
): Tensor {
  if (backend instanceof CpuBackend) {
    const values = op.reference(inputs.map((t) => (t as CpuTensor).data), params);
    return new CpuTensor(backend, values, outShape);
  }
  if (backend instanceof GpuBackend) {
    const runtime = backend.runtime;
    const output = runtime.allocate(op.name, outShape.reduce((a, b) => a * b, 1));
    try {
      op.kernel(runtime, inputs.map((t) => (t as GpuTensor).array), output, params);
    } catch (error) {
      runtime.release(output);
      throw error;
    }
    return new GpuTensor(backend, output, outShape);
  }
  throw new TypeError(`${op.name}: unknown backend ${backend}`);
}
