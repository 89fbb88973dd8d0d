/**
 * @file How an op describes its GPU computation to the kernel generator, so that one
 * description serves the op's eager kernel and `jit`'s fusion
 * (docs/architecture.md#compiled-beside-eager):
 *
 * - a **term**: the output as a term of the input terms — an elementwise expression
 *   (inputs broadcast to the output shape) or a view (broadcast, reshape, transpose,
 *   slice, pad, gather). Such ops fuse freely into whatever consumes them;
 * - a **reduction** over axes, with an optional elementwise prologue on its input and
 *   epilogue on its result: the anchor of a kernel, which fusion extends on both sides;
 * - a **matmul**: the anchor of a kernel whose operand reads and epilogue fuse
 *   (`jit` only: eagerly, matmul runs its tuned variants).
 *
 * {@linkcode encodeForm} is the eager path: one op, its inputs as buffers, shapes and
 * strides as uniform words (so one pipeline serves every shape of a structure).
 */
import { type GeneratedKernel, type Reducer, reductionType } from "./kernel_plan.ts";
import { generateMap } from "./map_kernel.ts";
import { generateReduce, PARTIALS_SOURCE } from "./reduce_kernel.ts";
import type { MatmulParams } from "./_matmul_shared.ts";
import { asBlocks, packUniforms } from "./_shared.ts";
import type { DType } from "./dtype.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";
import { bufferTerm, resultTerm, type Shape, type Term, termType } from "./term.ts";

/** Shapes and element types of one op application. */
export interface OpShapes {
  readonly inputs: readonly Shape[];
  readonly output: Shape;
  readonly inputTypes: readonly DType[];
  readonly outputType: DType;
}

/** An op's computation, for the kernel generator. */
export type OpForm =
  | {
    readonly kind: "term";
    /** The output (of the output shape) from the inputs' terms. */
    build(inputs: readonly Term[]): Term;
  }
  | {
    readonly kind: "reduce";
    readonly reducer: Reducer;
    /** Reduced axes of the input, ascending; the output keeps the others in order. */
    readonly axes: readonly number[];
    /** The values reduced, from the input's term (default: the input). */
    prologue?(input: Term): Term;
    /** The output from the reduced value's term (default: the value). */
    epilogue?(result: Term): Term;
  }
  | { readonly kind: "matmul"; readonly params: MatmulParams };

/** Encodes a generated kernel with `inputFor(source)` bound for each buffer it reads. */
export function dispatchGenerated(
  runtime: GpuRuntime,
  op: string,
  kernel: GeneratedKernel,
  inputFor: (source: number) => DeviceArray,
  outputs: readonly DeviceArray[],
): void {
  runtime.dispatch({
    op,
    key: kernel.key,
    wgsl: () => kernel.wgsl,
    uniforms: packUniforms(kernel.words),
    buffers: kernel.bindings.map((b) => {
      const array = b.kind === "input" ? inputFor(b.source) : outputs[b.index];
      return b.vector ? asBlocks(array, 16) : array;
    }),
    workgroups: kernel.workgroups,
  });
}

/** Encodes one op described by `form` eagerly: inputs `0…` are the op's input buffers. */
export function encodeForm(
  runtime: GpuRuntime,
  op: string,
  form: OpForm,
  inputs: readonly DeviceArray[],
  output: DeviceArray,
  shapes: OpShapes,
): void {
  const terms = shapes.inputs.map((shape, i) => bufferTerm(i, shape, shapes.inputTypes[i]));
  if (form.kind === "term") {
    const kernel = generateMap([form.build(terms)], "uniform");
    dispatchGenerated(runtime, op, kernel, (source) => inputs[source], [output]);
    return;
  }
  if (form.kind === "matmul") {
    throw new TypeError(`${op}: a matmul form has no generated eager kernel`);
  }
  const source = form.prologue ? form.prologue(terms[0]) : terms[0];
  const result = resultTerm(shapes.output, reductionType(form.reducer, termType(source)));
  const { kernels, partials, partialType } = generateReduce({
    kind: "reduce",
    reducer: form.reducer,
    source,
    axes: form.axes,
    epilogue: form.epilogue?.(result),
  }, "uniform");
  if (partials === 0) {
    dispatchGenerated(runtime, op, kernels[0], (source) => inputs[source], [output]);
    return;
  }
  const temporary = runtime.allocate(op, partials, partialType);
  try {
    dispatchGenerated(runtime, op, kernels[0], (source) => inputs[source], [temporary]);
    const inputFor = (source: number) => (source === PARTIALS_SOURCE ? temporary : inputs[source]);
    dispatchGenerated(runtime, op, kernels[1], inputFor, [output]);
  } finally {
    runtime.release(temporary);
  }
}
