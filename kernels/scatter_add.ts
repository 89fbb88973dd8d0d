/**
 * @file The kernel of `scatterAdd` (`ops/indexing.ts`), the transpose of a gather: x of
 * shape `[outer, n, inner]` plus updates `[outer, count, inner]` summed into row r of
 * the axis wherever their index is r (a negative index counting from the end). One
 * thread owns a block of up to 128 elements of one row (a, r, k0…k1) of the output: it
 * copies x there, then for j = 0, 1, …, count − 1 in that order adds
 * `updates[a, j, k]` to each element k whose index is r — `indices[j]`, one comparison
 * for the block (NumPy's `take`), or `along`, `indices[a, j, k]` (`take_along_axis`).
 * No two threads write one element, so no atomics (docs/architecture.md#pure-ops);
 * each element's sum has one fixed order — NumPy's `add.at` order — so results are
 * bit-identical run to run and equal NumPy's float32 ones (a float atomic add would
 * sum in arrival order).
 *
 * Each thread reads all `count` indices: outer·n·⌈inner/128⌉·count comparisons (for an
 * embedding's gradient, rows × lookups), besides the count·inner additions, and every
 * thread reads the same indices, from cache. A sort of the indices would cut the
 * comparisons to a segmented sum's; that waits for `sort`. Not a generated form (a loop
 * over the indices is no term), so under `jit` it is a kernel of its own.
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";
import { SPECIAL_WGSL } from "./special_wgsl.ts";

/** Threads per workgroup. */
const WORKGROUP = 64;
/** Elements of a row one thread owns: a block of `inner`. */
const BLOCK = 128;

/** The sizes of one scatterAdd: x `[outer, n, inner]`, `count` updates per row of `outer`. */
export interface ScatterAddGeometry {
  readonly outer: number;
  readonly n: number;
  readonly inner: number;
  readonly count: number;
  /** Whether there is one index per update (`take_along_axis`) rather than per j. */
  readonly along: boolean;
}

/** WGSL of the kernel; `along` picks where an update's index is read. */
function scatterAddWgsl(along: boolean): string {
  const add = "out[o + k] = special_add(out[o + k], updates[u + k]);";
  // take: one index per j decides for the whole block; along: one per element.
  const hits = along
    ? `for (var k = k0; k < k1; k++) {
      let r = i32(indices[u + k]);
      if (select(r, r + n, r < 0) == row) { ${add} }
    }`
    : `let r = i32(indices[j]);
    if (select(r, r + n, r < 0) == row) {
      for (var k = k0; k < k1; k++) { ${add} }
    }`;
  return /* wgsl */ `
struct Params { threads: u32, n: u32, inner: u32, count: u32, blocks: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read> updates: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${SPECIAL_WGSL}
${LINEAR_WORKGROUP}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let t = linearWorkgroup(wid, groups) * ${WORKGROUP}u + lid;
  if (t >= params.threads) { return; }
  let n = i32(params.n);
  let block = t % params.blocks;
  let row = i32((t / params.blocks) % params.n);
  let a = t / (params.blocks * params.n);
  let k0 = block * ${BLOCK}u;
  let k1 = min(k0 + ${BLOCK}u, params.inner);
  // This thread alone writes out[a, row, k0..k1]: x, then each hit in index order.
  let o = (a * params.n + u32(row)) * params.inner;
  for (var k = k0; k < k1; k++) { out[o + k] = x[o + k]; }
  for (var j = 0u; j < params.count; j++) {
    let u = (a * params.count + j) * params.inner;
    ${hits}
  }
}
`;
}

/** Encodes `out = scatterAdd(x, indices, updates)`: `inputs` are (x, indices, updates). */
export function encodeScatterAdd(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  out: DeviceArray,
  { outer, n, inner, count, along }: ScatterAddGeometry,
): void {
  const blocks = Math.ceil(inner / BLOCK);
  const threads = outer * n * blocks;
  runtime.dispatch({
    op: "scatterAdd",
    key: `scatterAdd:${along ? "along" : "take"}`,
    wgsl: () => scatterAddWgsl(along),
    uniforms: packUniforms([threads, n, inner, count, blocks].map((u32) => ({ u32 }))),
    buffers: [...inputs, out],
    workgroups: Math.ceil(threads / WORKGROUP),
  });
}
