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
import {
  batchOf,
  dispatchHooked,
  MATMUL_PARAMS_WGSL,
  type MatmulHooks,
  matmulMain,
  type MatmulParams,
  type MatmulVariant,
  plainEncode,
} from "./_matmul_shared.ts";
import type { GpuRuntime } from "./runtime.ts";

const THREADS = 64;

const wgsl = (hooks: string) => /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${hooks}
var<workgroup> partial: array<f32, ${THREADS}>;
${matmulMain(THREADS)}
  let r = min(tile / params.n, params.m - 1u);
  let col = tile % params.n;
  var sum = 0.0;
  for (var p = li; p < params.k; p += ${THREADS}u) { sum += loadA(r, p) * loadB(p, col); }
  partial[li] = sum;
  workgroupBarrier();
  for (var stride = ${THREADS / 2}u; stride > 0u; stride >>= 1u) {
    if (li < stride) { partial[li] += partial[li + stride]; }
    workgroupBarrier();
  }
  if (li == 0u && tile < params.tiles) { storeC(tile / params.n, col, partial[0]); }
}
`;

function encodeHooked(runtime: GpuRuntime, params: MatmulParams, hooks: MatmulHooks): void {
  dispatchHooked(runtime, params, hooks, { key: "splitK", tileRows: 1, tileCols: 1, wgsl });
}

/** The split-k variant: one workgroup per output, a tree over 64 strided partial sums. */
export const splitKVariant: MatmulVariant = {
  name: "splitK",
  supports: (runtime, params) =>
    params.m * params.n * batchOf(params).batch <= runtime.maxWorkgroupsPerDimension ** 3,
  encode: plainEncode(encodeHooked),
  encodeHooked,
};
