/**
 * The property machinery the library tests itself with, for testing kernels of one's own
 * (a custom WGSL kernel through `@deno-gpu/kernels/runtime`, or a composition of ops):
 * random inputs of many shapes and value profiles, a float64 reference, an error bound
 * derived rather than guessed, and a failure shrunk to a minimal case with the seed that
 * replays it.
 *
 * - {@linkcode checkKernel}: the computation, its reference, its inputs and its bound.
 * - Inputs: {@linkcode floatTensor} (a shape and a value profile: {@linkcode profile}
 *   meets NaN, ±Inf, ±0 and subnormals, {@linkcode ordinaryProfile} only finite values),
 *   {@linkcode dim} (sizes at the kernels' tile edges), and any fast-check arbitrary.
 * - {@linkcode bounds}: γ(n), dot products, tree sums and WGSL's ULP bounds, the ones the
 *   library's own properties use.
 * - The runner beneath: {@linkcode checkProperty} and {@linkcode assertWithin}.
 *
 * Unlike the library, this entry point depends on fast-check (`npm:fast-check@4.3.0`,
 * written in full so that it imports from a URL, where no import map names it).
 *
 * @example
 * ```ts
 * import { gpu, mul } from "@deno-gpu/kernels";
 * import { bounds, checkKernel, dim, floatTensor } from "@deno-gpu/kernels/testing";
 * import fc from "npm:fast-check@4.3.0";
 *
 * const dev = await gpu();
 * await checkKernel({
 *   name: "x·x",
 *   backend: dev,
 *   inputs: { x: floatTensor(fc.tuple(dim(300))) },
 *   run: (_, { x }) => mul(x, x),
 *   reference: ({ x }) => Array.from(x.data, (v) => v * v),
 *   bound: ({ exact }) => bounds.U * Math.abs(exact) + bounds.MIN_NORMAL,
 * });
 * dev.destroy();
 * ```
 *
 * @module
 */
export type {
  Backend,
  DType,
  KernelProfile,
  KernelSpan,
  ProfileReport,
  ProfileTiming,
  StorageArray,
  Tensor,
  TensorOptions,
} from "./mod.ts";
/** The error bounds: γ(n), dot products, tree sums, ULPs (testing/bounds.ts). */
export * as bounds from "./testing/bounds.ts";
export {
  type BoundAt,
  checkKernel,
  type CheckKernelOptions,
  floatTensor,
  HostTensor,
  type OnBackend,
} from "./testing/check_kernel.ts";
export { checkProperty, type Property, type PropertyRun } from "./testing/property.ts";
export { assertWithin } from "./testing/compare.ts";
export {
  dim,
  ordinaryProfile,
  type Profile,
  profile,
  PROFILES,
  SPECIAL_KINDS,
  type SpecialKind,
  values,
} from "./testing/values.ts";
