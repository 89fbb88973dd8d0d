/**
 * @file WGSL for `matmul`: a register-blocked kernel. Each thread keeps a 4×4 block of
 * C in registers and reads A and B straight from storage buffers; a workgroup of 8×8
 * threads covers a 32×32 tile of C. This is what is fast on Mesa's llvmpipe, where
 * workgroup-memory tiling and its barriers are slow (issue 5 adds variants per adapter).
 *
 * Transposes are compiled into the index expressions (one pipeline per flag pair), so
 * no transposed copy is made. Rows and columns past the edge are clamped for loads and
 * skipped for stores, so any m, k, n ≥ 1 works. Each output is a sequential sum over k:
 * its forward error is at most γ(k)·Σ|a·b|.
 *
 * Launch: workgroups = ⌈m/32⌉·⌈n/32⌉ tiles, folded into more dimensions when needed.
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const BLOCK = 4;
const THREADS = 8;
const TILE = BLOCK * THREADS;

/** Dimensions of C = op(A)·op(B), with op(A) of shape [m, k] and op(B) of [k, n]. */
export interface MatmulParams {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** A is stored as [k, m]. */
  readonly transposeA: boolean;
  /** B is stored as [n, k]. */
  readonly transposeB: boolean;
}

function wgsl(transposeA: boolean, transposeB: boolean): string {
  const aIndex = transposeA ? "p * params.m + r" : "r * params.k + p";
  const bIndex = transposeB ? "c * params.k + p" : "p * params.n + c";
  return /* wgsl */ `
struct Params { m: u32, k: u32, n: u32, tilesN: u32, tiles: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
${LINEAR_WORKGROUP}
fn loadA(r: u32, p: u32) -> f32 { return a[${aIndex}]; }
fn loadB(p: u32, c: u32) -> f32 { return b[${bIndex}]; }

@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let tile = linearWorkgroup(wid, groups);
  if (tile >= params.tiles) { return; }
  let row0 = (tile / params.tilesN) * ${TILE}u + lid.y * ${BLOCK}u;
  let col0 = (tile % params.tilesN) * ${TILE}u + lid.x * ${BLOCK}u;
  let rows = min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.m - 1u));
  let cols = min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.n - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var p = 0u; p < params.k; p++) {
    let bv = vec4f(loadB(p, cols.x), loadB(p, cols.y), loadB(p, cols.z), loadB(p, cols.w));
    acc0 += loadA(rows.x, p) * bv;
    acc1 += loadA(rows.y, p) * bv;
    acc2 += loadA(rows.z, p) * bv;
    acc3 += loadA(rows.w, p) * bv;
  }
  var acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < ${BLOCK}u; i++) {
    let r = row0 + i;
    if (r >= params.m) { break; }
    for (var j = 0u; j < ${BLOCK}u; j++) {
      if (col0 + j < params.n) { c[r * params.n + col0 + j] = acc[i][j]; }
    }
  }
}
`;
}

/** Encodes C = op(A)·op(B). */
export function encodeMatmul(
  runtime: GpuRuntime,
  [a, b]: readonly DeviceArray[],
  c: DeviceArray,
  { m, k, n, transposeA, transposeB }: MatmulParams,
): void {
  const tilesN = Math.ceil(n / TILE);
  const tiles = Math.ceil(m / TILE) * tilesN;
  runtime.dispatch({
    op: "matmul",
    key: `matmul/registers4x4/${transposeA ? "T" : "N"}${transposeB ? "T" : "N"}`,
    wgsl: () => wgsl(transposeA, transposeB),
    uniforms: packUniforms([{ u32: m }, { u32: k }, { u32: n }, { u32: tilesN }, { u32: tiles }]),
    buffers: [a, b, c],
    workgroups: tiles,
  });
}
