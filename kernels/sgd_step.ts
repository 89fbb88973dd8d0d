/**
 * @file WGSL for `sgdStep`: one fused elementwise pass,
 * `out = p − lr·(g·(1/batchSize) + weightDecay·p)`.
 *
 * Launch: one thread per element (see `elementwiseMain`). The reciprocal of the batch
 * size is rounded once on the host, so the kernel has no division (WGSL allows 2.5 ulp
 * there).
 */
import { elementwiseMain, elementwiseWorkgroups, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const wgsl = () => /* wgsl */ `
struct Params { n: u32, lr: f32, invBatch: f32, weightDecay: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${
  elementwiseMain(`
  let w = p[i];
  out[i] = w - params.lr * (g[i] * params.invBatch + params.weightDecay * w);`)
}`;

/** Scalars of one SGD step. */
export interface SgdStepParams {
  /** Learning rate. */
  readonly lr: number;
  /** L2 weight decay coefficient (negative allowed). */
  readonly weightDecay: number;
  /** The gradient is divided by this. */
  readonly batchSize: number;
}

/** Encodes `out = p − lr·(g/batchSize + weightDecay·p)` over all elements. */
export function encodeSgdStep(
  runtime: GpuRuntime,
  [p, g]: readonly DeviceArray[],
  out: DeviceArray,
  { lr, weightDecay, batchSize }: SgdStepParams,
): void {
  const n = p.byteLength / 4;
  runtime.dispatch({
    op: "sgdStep",
    key: "sgdStep",
    wgsl,
    uniforms: packUniforms([
      { u32: n },
      { f32: lr },
      { f32: 1 / batchSize },
      { f32: weightDecay },
    ]),
    buffers: [p, g, out],
    workgroups: elementwiseWorkgroups(n),
  });
}
