/**
 * @file The one mechanism every op runs through: an op is defined once, with a CPU
 * reference and a GPU kernel, and {@linkcode runOp} picks the implementation of the
 * backend its (already validated) inputs live on.
 */
import type { DeviceArray, GpuRuntime } from "../kernels/runtime.ts";
import { CpuBackend, CpuTensor } from "./cpu_backend.ts";
import { GpuBackend, GpuTensor } from "./gpu_backend.ts";
import type { Tensor } from "./tensor.ts";

/** An op's two implementations, with `P` the validated parameters. */
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
}

/**
 * Runs `op` on the backend of `inputs` (which the caller has validated: at least one,
 * all on one backend, none disposed) and returns a new tensor of `outShape`.
 */
export function runOp<P>(
  op: OpDefinition<P>,
  inputs: readonly Tensor[],
  params: P,
  outShape: readonly number[],
): Tensor {
  const backend = inputs[0].backend;
  if (backend instanceof CpuBackend) {
    const values = op.reference(inputs.map((t) => (t as CpuTensor).data), params);
    return new CpuTensor(backend, values, outShape);
  }
  if (backend instanceof GpuBackend) {
    const runtime = backend.runtime;
    const size = outShape.reduce((a, b) => a * b, 1);
    const output = runtime.allocate(op.name, size);
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
