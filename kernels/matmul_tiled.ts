/**
 * @file Matmul variant "tiled": the classic workgroup-memory tiling that discrete GPUs
 * are built for. A workgroup of 16×16 threads computes a 64×64 tile of C, each thread
 * a 4×4 block; A and B are staged through workgroup memory in 64×16 and 16×64 slabs
 * (each value read from global memory once per workgroup), with a barrier on each
 * side. Out-of-range k is staged as zeros (exact), rows and columns past the edge are
 * clamped for loads and skipped for stores. Each output is a sequential sum over k.
 *
 * Launch: one workgroup per 64×64 tile of C.
 */
import { LINEAR_WORKGROUP } from "./_shared.ts";
import {
  declareAccumulators,
  MATMUL_PARAMS_WGSL,
  type MatmulParams,
  matmulUniforms,
  type MatmulVariant,
  range,
  storageOperands,
  storeBlock,
  transposeKey,
} from "./_matmul_shared.ts";

const THREADS = 16;
const BLOCK = 4;
const TILE = THREADS * BLOCK;
const SLAB = 16;

function wgsl(params: MatmulParams): string {
  const fmas = range(BLOCK).map((i) =>
    `acc${i}_0 += tileA[(lid.y * ${BLOCK}u + ${i}u) * ${SLAB}u + q] * bv;`
  );
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${storageOperands(params)}
${LINEAR_WORKGROUP}
var<workgroup> tileA: array<f32, ${TILE * SLAB}>;
var<workgroup> tileB: array<f32, ${SLAB * TILE}>;
@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let tile = linearWorkgroup(wid, groups);
  let tileRow = (tile / params.tilesN) * ${TILE}u;
  let tileCol = (tile % params.tilesN) * ${TILE}u;
  ${declareAccumulators(BLOCK, BLOCK)}
  for (var p0 = 0u; p0 < params.k; p0 += ${SLAB}u) {
    for (var s = li; s < ${TILE * SLAB}u; s += ${THREADS * THREADS}u) {
      let pa = p0 + s % ${SLAB}u;
      let ra = min(tileRow + s / ${SLAB}u, params.m - 1u);
      tileA[s] = select(0.0, loadA(ra, min(pa, params.k - 1u)), pa < params.k);
      let pb = p0 + s / ${TILE}u;
      let cb = min(tileCol + s % ${TILE}u, params.n - 1u);
      tileB[s] = select(0.0, loadB(min(pb, params.k - 1u), cb), pb < params.k);
    }
    workgroupBarrier();
    for (var q = 0u; q < ${SLAB}u; q++) {
      let b0 = q * ${TILE}u + lid.x * ${BLOCK}u;
      let bv = vec4f(tileB[b0], tileB[b0 + 1u], tileB[b0 + 2u], tileB[b0 + 3u]);
      ${fmas.join("\n      ")}
    }
    workgroupBarrier();
  }
  if (tile >= params.tiles) { return; }
  let row0 = tileRow + lid.y * ${BLOCK}u;
  let col0 = tileCol + lid.x * ${BLOCK}u;
  ${storeBlock(BLOCK, BLOCK)}
}
`;
}

/** The workgroup-memory tiled variant (64×64 tiles, 4×4 per thread). */
export const tiledVariant: MatmulVariant = {
  name: "tiled",
  supports: () => true,
  encode(runtime, [a, b], c, params) {
    const { uniforms, tiles } = matmulUniforms(params, TILE, TILE);
    runtime.dispatch({
      op: "matmul",
      key: `matmul/tiled/${transposeKey(params)}`,
      wgsl: () => wgsl(params),
      uniforms,
      buffers: [a, b, c],
      workgroups: tiles,
    });
  },
};
