/**
 * @file WGSL for `corr2d` on GPUs with fast workgroup memory (see `corr2d.ts` for the
 * choice): the image tile is staged in workgroup memory with its halo.
 *
 * A workgroup of 16×16 threads computes a 16×16 output tile. The kernel is walked in
 * 16×16 blocks; for each block the workgroup stages the input tile with its halo
 * (31×31 values) and the kernel block in workgroup memory, synchronises, and every
 * thread accumulates its output from there. Blocking the kernel keeps workgroup memory
 * fixed (5 KiB) for any kernel size up to the image size. Each output is a sequential
 * sum of kh·kw products, so its error is at most γ(kh·kw)·Σ|x·k|.
 *
 * Launch: ⌈OH/16⌉·⌈OW/16⌉ tiles, folded into two dimensions when needed.
 */
import { tiledMain } from "./_shared.ts";
import { CORR2D_PARAMS_WGSL, dispatchCorr2d } from "./_corr2d_shared.ts";
import type { Corr2dParams } from "./corr2d.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const TILE = 16;
const BLOCK = 16;
const STAGE = TILE + BLOCK - 1;

const wgsl = () => /* wgsl */ `
${CORR2D_PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> staged: array<f32, ${STAGE * STAGE}>;
var<workgroup> kernelBlock: array<f32, ${BLOCK * BLOCK}>;
${tiledMain(TILE, TILE)}
  let oy0 = (tile / params.tilesX) * ${TILE}u;
  let ox0 = (tile % params.tilesX) * ${TILE}u;
  var acc = 0.0;
  for (var ky0 = 0u; ky0 < params.kh; ky0 += ${BLOCK}u) {
    for (var kx0 = 0u; kx0 < params.kw; kx0 += ${BLOCK}u) {
      for (var s = li; s < ${STAGE * STAGE}u; s += ${TILE * TILE}u) {
        let iy = oy0 + ky0 + s / ${STAGE}u;
        let ix = ox0 + kx0 + s % ${STAGE}u;
        var v = 0.0;
        if (iy < params.h && ix < params.w) { v = x[iy * params.w + ix]; }
        staged[s] = v;
      }
      let ky = ky0 + lid.y;
      let kx = kx0 + lid.x;
      var kv = 0.0;
      if (ky < params.kh && kx < params.kw) { kv = k[ky * params.kw + kx]; }
      kernelBlock[li] = kv;
      workgroupBarrier();
      let rows = min(${BLOCK}u, params.kh - ky0);
      let cols = min(${BLOCK}u, params.kw - kx0);
      for (var dy = 0u; dy < rows; dy++) {
        for (var dx = 0u; dx < cols; dx++) {
          acc += staged[(lid.y + dy) * ${STAGE}u + lid.x + dx] * kernelBlock[dy * ${BLOCK}u + dx];
        }
      }
      workgroupBarrier();
    }
  }
  let oy = oy0 + lid.y;
  let ox = ox0 + lid.x;
  if (tile < params.tiles && oy < params.oh && ox < params.ow) { out[oy * params.ow + ox] = acc; }
}
`;

/** Encodes the valid cross-correlation of `x` [h, w] with `k` [kh, kw] into `out`. */
export function encodeCorr2dStaged(
  runtime: GpuRuntime,
  [x, k]: readonly DeviceArray[],
  out: DeviceArray,
  params: Corr2dParams,
): void {
  const kernel = { key: "corr2d/staged16", tileRows: TILE, tileCols: TILE, wgsl };
  dispatchCorr2d(runtime, kernel, [x, k, out], params);
}
