/**
 * @file Matmul variant "splitK": for small outputs with a long inner dimension (a
 * matrix-vector product, a gradient Xᵀr with few columns), where a thread per output
 * leaves the device idle. A workgroup of 64 threads computes one output: thread t sums
 * the products p ≡ t (mod 64) in order, then the 64 partial sums are halved in six
 * barrier-separated steps. No path has more than ⌈k/64⌉ + ⌈log₂ min(k, 64)⌉ ≤ k
 * roundings (adding the exact zeros of idle threads rounds nothing), within γ(k).
 *
 * Launch: one workgroup per output, m·n workgroups, folded into more dimensions.
 * Takes hooks: its reads are loadA/loadB and its one store per output is storeC.
 */
import { LINEAR_WORKGROUP } from "./_shared.ts";
import {
  MATMUL_PARAMS_WGSL,
  type MatmulHooks,
  type MatmulParams,
  matmulUniforms,
  type MatmulVariant,
  plainHooks,
} from "./_matmul_shared.ts";
import type { GpuRuntime } from "./runtime.ts";

const THREADS = 64;

const wgsl = (hooks: string) => /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${hooks}
${LINEAR_WORKGROUP}
var<workgroup> partial: array<f32, ${THREADS}>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let tile = linearWorkgroup(wid, groups);
  let r = min(tile / params.n, params.m - 1u);
  let col = tile % params.n;
  var sum = 0.0;
  for (var p = lid; p < params.k; p += ${THREADS}u) { sum += loadA(r, p) * loadB(p, col); }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = ${THREADS / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u && tile < params.tiles) { storeC(tile / params.n, col, partial[0]); }
}
`;

function encodeHooked(runtime: GpuRuntime, params: MatmulParams, hooks: MatmulHooks): void {
  const { uniforms, tiles } = matmulUniforms(params, 1, 1);
  runtime.dispatch({
    op: hooks.op ?? "matmul",
    key: `matmul/splitK/${hooks.key}`,
    wgsl: () => wgsl(hooks.wgsl),
    uniforms,
    buffers: hooks.buffers,
    workgroups: tiles,
  });
}

/** The split-k variant: one workgroup per output, a tree over 64 strided partial sums. */
export const splitKVariant: MatmulVariant = {
  name: "splitK",
  supports: (runtime, { m, n }) => m * n <= runtime.maxWorkgroupsPerDimension ** 3,
  encode: (runtime, [a, b], c, params) =>
    encodeHooked(runtime, params, plainHooks(params, a, b, c)),
  encodeHooked,
};
