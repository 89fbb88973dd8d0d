/**
 * @file WGSL for `sgdStep`: one fused elementwise pass,
 * `out = p − lr·(g·(1/batchSize) + weightDecay·p)`.
 *
 * Each thread updates 16 values as one mat4x4: on Mesa's llvmpipe storage-buffer
 * accesses run one SIMD lane at a time, so the cost is per access, not per byte, and
 * 64-byte accesses ran 2–3× faster than one float per thread (bench/report.ts). The
 * arrays are bound as whole 64-byte blocks ({@linkcode asBlocks}); the tail past the
 * last element is computed and never read. Matrix arithmetic here is componentwise,
 * so each value sees the same roundings as the scalar formula.
 *
 * Launch: ⌈n/16⌉ threads, 64 per workgroup, folded into more dimensions past the
 * per-dimension limit. The reciprocal of the batch size is rounded once on the host,
 * so the kernel has no division (WGSL allows 2.5 ulp there).
 */
import { asBlocks, elementwiseMain, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const WORKGROUP = 64;
/** Values per thread: one mat4x4f. */
const BLOCK = 16;

const wgsl = () => /* wgsl */ `
struct Params { blocks: u32, lr: f32, invBatch: f32, weightDecay: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> p: array<mat4x4f>;
@group(0) @binding(2) var<storage, read> g: array<mat4x4f>;
@group(0) @binding(3) var<storage, read_write> out: array<mat4x4f>;
${
  elementwiseMain(
    `
  let w = p[i];
  out[i] = w - params.lr * (g[i] * params.invBatch + params.weightDecay * w);`,
    "blocks",
    WORKGROUP,
  )
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
  const blocks = Math.ceil(p.byteLength / 4 / BLOCK);
  runtime.dispatch({
    op: "sgdStep",
    key: "sgdStep/mat4x4",
    wgsl,
    uniforms: packUniforms([
      { u32: blocks },
      { f32: lr },
      { f32: 1 / batchSize },
      { f32: weightDecay },
    ]),
    buffers: [p, g, out].map((array) => asBlocks(array, 4 * BLOCK)),
    workgroups: Math.ceil(blocks / WORKGROUP),
  });
}
