/**
 * GPU tensor kernels for Deno: pure functional ops that run as WebGPU (WGSL) compute
 * kernels, each paired with a CPU reference implementation that accumulates in
 * float64 and rounds once, so the kernels can be tested against it.
 *
 * - Backends: {@linkcode gpu} (WebGPU) and {@linkcode cpu} (the reference).
 * - Ops: elementwise math with NumPy broadcasting ({@linkcode add}, {@linkcode exp}, …),
 *   comparisons, shape and layout ops, reductions ({@linkcode sum}, …), softmax and
 *   losses, {@linkcode matmul}, {@linkcode corr2d}, {@linkcode conv2d}, pooling
 *   ({@linkcode maxPool2d}, {@linkcode avgPool2d}), normalisation ({@linkcode batchNorm},
 *   {@linkcode layerNorm}), {@linkcode l2Penalty}, {@linkcode sgdStep}, {@linkcode dropout}.
 *   An op never changes its inputs.
 * - Training: {@linkcode valueAndGrad} and {@linkcode grad} (autodiff), {@linkcode SGD}
 *   and {@linkcode Adam}, and {@linkcode jit}, which compiles a training step into a few
 *   fused kernels, or a small one into a single kernel.
 * - Random numbers: {@linkcode randomKey}, {@linkcode splitKey}, {@linkcode foldIn}
 *   (Philox-4x32-10, bit-identical on both backends).
 * - Memory: {@linkcode Tensor.dispose}, `using`, and {@linkcode scope}.
 * - Weights: {@linkcode saveSafetensors} and {@linkcode loadSafetensors} (the safetensors
 *   format of PyTorch, JAX and Hugging Face).
 *
 * The library imports nothing but the WebGPU API, so it works from a URL import.
 *
 * @example
 * ```ts
 * import { cpu, gpu, matmul } from "@deno-gpu/kernels";
 *
 * // The GPU when there is an adapter, the CPU reference otherwise.
 * const backend = await gpu().catch(() => cpu());
 * using a = backend.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * using b = backend.tensor([1, 0, 0, 1, 1, 1], [3, 2]);
 * using c = matmul(a, b);
 * console.log(c.shape, await c.read()); // [2, 2] Float32Array [4, 5, 10, 11]
 * if (backend.kind === "webgpu") backend.destroy();
 * ```
 *
 * @module
 */
export { type Backend, Tensor, type TensorOptions } from "./ops/tensor.ts";
export { type DType, type Operand, promoteTypes, type StorageArray } from "./ops/dtype.ts";
export { astype } from "./ops/astype.ts";
export { cpu, CpuBackend, CpuTensor } from "./ops/cpu_backend.ts";
export {
  gpu,
  GpuBackend,
  type GpuBackendMemory,
  type GpuOptions,
  GpuTensor,
} from "./ops/gpu_backend.ts";
export { GpuError, type GpuMemoryStats, type GpuStats } from "./kernels/runtime.ts";
export { type Disposable, scope } from "./ops/scope.ts";
export type {
  KernelProfile,
  KernelSpan,
  ProfileReport,
  ProfileTiming,
} from "./ops/profile_report.ts";
export { matmul, type MatmulOptions } from "./ops/matmul.ts";
export { einsum } from "./ops/einsum.ts";
export type { MatmulShape, MatmulTuningMode } from "./kernels/matmul.ts";
export { l2Penalty } from "./ops/l2_penalty.ts";
export { sgdStep, type SgdStepOptions } from "./ops/sgd_step.ts";
export { dropout } from "./ops/dropout.ts";
export { corr2d } from "./ops/corr2d.ts";
export { conv2d, type Conv2dOptions, type Padding2d, type Size2d } from "./ops/conv2d.ts";
export { avgPool2d, maxPool2d, type Pool2dOptions } from "./ops/pool2d.ts";
export { batchNorm, type BatchNormOptions, type BatchNormResult } from "./ops/batch_norm.ts";
export { layerNorm, type LayerNormOptions } from "./ops/layer_norm.ts";
export { foldIn, philox4x32, type RandomKey, randomKey, splitKey } from "./ops/random.ts";
export { add, div, maximum, minimum, mul, neg, pow, sub } from "./ops/arithmetic.ts";
export { clip, floorDiv, mod, squaredDifference } from "./ops/arithmetic.ts";
export { abs, exp, log, relu, scale, sigmoid, sqrt, square, tanh } from "./ops/math.ts";
export { cos, expm1, log1p, rsqrt, sin } from "./ops/math.ts";
export { equal, greater, less, where } from "./ops/compare.ts";
export { greaterEqual, lessEqual, notEqual } from "./ops/compare.ts";
export { ceil, floor, round, sign } from "./ops/rounding.ts";
export { isFinite, isNaN, logicalAnd, logicalNot, logicalOr, logicalXor } from "./ops/logical.ts";
export {
  elu,
  gelu,
  leakyRelu,
  type LeakyReluOptions,
  logSigmoid,
  softplus,
} from "./ops/activations.ts";
export { broadcastTo, sumToShape } from "./ops/broadcast.ts";
export { expandDims, reshape, squeeze, transpose } from "./ops/shape.ts";
export {
  all,
  any,
  argmax,
  argmin,
  max,
  mean,
  min,
  prod,
  type ReduceOptions,
  sum,
} from "./ops/reduce.ts";
export { cumprod, cumsum, type ScanOptions } from "./ops/scan.ts";
export { argsort, sort, type SortOptions, type TopK, topK } from "./ops/sort.ts";
export { logSoftmax, logSumExp, softmax } from "./ops/softmax.ts";
export { stopGradient } from "./ops/stop_gradient.ts";
export { concat, pad, pad2d, type PadOptions, reverse, slice, takeRows } from "./ops/layout.ts";
export { stack, tile } from "./ops/stacking.ts";
export { arange } from "./ops/arange.ts";
export { gather, type IndexingOptions, oneHot, scatterAdd, takeAlongAxis } from "./ops/indexing.ts";
export { randomNormal, type RandomNormalOptions } from "./ops/random_normal.ts";
export {
  loadSafetensors,
  saveSafetensors,
  type SaveSafetensorsOptions,
} from "./ops/safetensors.ts";
export {
  grad,
  valueAndGrad,
  type ValueAndGradOptions,
  type ValueAndGrads,
  type ValueAndGradsWithAux,
} from "./train/autodiff.ts";
export { jit, type JitOptions, type Jitted, type KernelGranularity } from "./jit/jit.ts";
export {
  type Dataset,
  minibatch,
  minibatchRows,
  syntheticData,
  type SyntheticDataOptions,
} from "./train/data.ts";
export { Linear, type LinearParams, linreg } from "./train/linear.ts";
export { crossEntropy, evaluateLoss, mseLoss, squaredLoss } from "./train/losses.ts";
export {
  type OptimizerStep,
  type ParamGroup,
  type Params,
  SGD,
  type SgdState,
} from "./train/sgd.ts";
export { Adam, type AdamGroup, type AdamState } from "./train/adam.ts";
