/**
 * @file float16 for hand-written float32 kernels (matmul, convolutions, pools, softmax,
 * the tuned sum, dropout, the optimisers): each float16 input is widened to a float32
 * buffer by a generated `cast` kernel, the kernel runs as it does on float32 — its
 * products and sums accumulate in f32 — and a float16 result is rounded once from that
 * f32 output. The error is the float32 kernel's plus one rounding to float16 (u = 2⁻¹¹),
 * the scheme the generated kernels use (load f16 into f32, compute, round once on store).
 * What it gives up is bandwidth: the widened copies move more bytes than the float32 op
 * alone, so float16 saves memory here, not time (native f16 variants of matmul would).
 */
import type { DType } from "./dtype.ts";
import { cast, input } from "./expression.ts";
import { encodeForm, type OpShapes } from "./forms.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";
import { mapTerm, sizeOf } from "./term.ts";

/** Encodes a float32 kernel on buffers of the types `shapes` gives. */
export type Float32Kernel = (
  inputs: readonly DeviceArray[],
  output: DeviceArray,
  shapes: OpShapes,
) => void;

/** Encodes `source` (of `shape`, values of `from`) converted into `target` of `to`. */
function encodeCast(
  runtime: GpuRuntime,
  op: string,
  source: DeviceArray,
  target: DeviceArray,
  shape: readonly number[],
  from: DType,
  to: DType,
): void {
  encodeForm(
    runtime,
    op,
    { kind: "term", build: ([x]) => mapTerm(cast(to, input(0)), [x], shape) },
    [source],
    target,
    { inputs: [shape], output: shape, inputTypes: [from], outputType: to },
  );
}

/**
 * Runs `kernel` directly when no buffer holds float16; otherwise on float32 copies of the
 * float16 inputs, into a float32 output rounded once into `output`.
 */
export function encodeWidened(
  runtime: GpuRuntime,
  op: string,
  inputs: readonly DeviceArray[],
  output: DeviceArray,
  shapes: OpShapes,
  kernel: Float32Kernel,
): void {
  const narrow = (dtype: DType) => dtype === "float16";
  if (!shapes.inputTypes.some(narrow) && !narrow(shapes.outputType)) {
    kernel(inputs, output, shapes);
    return;
  }
  const temporaries: DeviceArray[] = [];
  const wide = (elements: number) => {
    const array = runtime.allocate(op, elements, "float32");
    temporaries.push(array);
    return array;
  };
  try {
    const widened = inputs.map((array, i) => {
      if (!narrow(shapes.inputTypes[i])) return array;
      const shape = shapes.inputs[i];
      const copy = wide(sizeOf(shape));
      encodeCast(runtime, op, array, copy, shape, "float16", "float32");
      return copy;
    });
    const target = narrow(shapes.outputType) ? wide(sizeOf(shapes.output)) : output;
    kernel(widened, target, {
      inputs: shapes.inputs,
      output: shapes.output,
      inputTypes: shapes.inputTypes.map((t) => (narrow(t) ? "float32" : t)),
      outputType: narrow(shapes.outputType) ? "float32" : shapes.outputType,
    });
    if (target !== output) {
      encodeCast(runtime, op, target, output, shapes.output, "float32", "float16");
    }
  } finally {
    // Released buffers return to the pool once the batch that uses them is submitted.
    temporaries.forEach((array) => runtime.release(array));
  }
}
