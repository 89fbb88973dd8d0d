/**
 * @file WGSL for sums of everything, eagerly: `l2Penalty` (Σx²/2), `sum`, `mean` as one
 * parallel tree reduction in workgroup memory, in as many passes as the length needs
 * (a tuned special case of the generated reductions of `kernels/reduce_kernel.ts`,
 * which handle axes and, under `jit`, fusion; both fold with `kernels/reduction_tree.ts`).
 *
 * Each workgroup of 64 threads reduces 1024 consecutive values: every thread reads 16
 * of them as one mat4x4 (on Mesa's llvmpipe storage accesses cost per access, not per
 * byte), adds its four columns into a vec4 (4 rounded additions per lane), folds the
 * lanes pairwise (2 more), then the 64 partial sums are halved in 6 barrier-separated
 * steps. Values past the end are masked to exact zeros; the array is bound as whole
 * 64-byte blocks ({@linkcode asBlocks}). The first pass maps (squares, for the penalty),
 * the last multiplies by the scale; a pass with more than one workgroup writes one
 * partial per workgroup, and the next pass reduces those.
 *
 * Error: each pass adds at most 4 + 2 + 6 = 12 rounded additions to any path through
 * the sum ({@linkcode treeSumRoundings}); squaring adds one rounding and a scale that is
 * not a power of two one more. passes = ⌈log₁₀₂₄ n⌉, at most 3 for 2²⁵ values.
 */
import { asBlocks, LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import { foldLanes } from "./reduction_tree.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 64;
/** Values per thread: one mat4x4f, four vec4 columns. */
const PER_THREAD = 16;
const PER_GROUP = THREADS * PER_THREAD;
/** Rounded additions a pass adds to a path: 4 columns, 2 to fold a vec4, the tree. */
const ROUNDINGS_PER_PASS = 4 + 2 + Math.log2(THREADS);

/** The partials' tree: the one of every reduction kernel, combining by addition. */
const tree = foldLanes({
  array: "partial",
  lanes: THREADS,
  combine: (a, b) => `${a} + ${b}`,
  shared: { lane: "lid", slot: "lid" },
}).join("\n  ");

const treeWgsl = (square: boolean) => /* wgsl */ `
struct Params { n: u32, groups: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<mat4x4f>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> partial: array<f32, ${THREADS}>;
${LINEAR_WORKGROUP}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let group = linearWorkgroup(wid, groups);
  let i = group * ${THREADS}u + lid;
  let block = x[min(i, arrayLength(&x) - 1u)];
  var acc = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let valid = vec4u(i * ${PER_THREAD}u + j * 4u) + vec4u(0u, 1u, 2u, 3u) < vec4u(params.n);
    let v = select(vec4f(0.0), block[j], valid);
    acc += ${square ? "v * v" : "v"};
  }
  partial[lid] = (acc.x + acc.y) + (acc.z + acc.w);
  workgroupBarrier();
  ${tree}
  if (lid == 0u && group < params.groups) { out[group] = partial[0] * params.scale; }
}
`;

/** Number of reduction passes for `n` values. */
function passes(n: number): number {
  let count = 1;
  for (let len = n; len > PER_GROUP; len = Math.ceil(len / PER_GROUP)) count++;
  return count;
}

/**
 * The longest chain of rounded additions from an input to the sum of n terms in
 * {@linkcode encodeTreeSum}: the sum's error is at most γ(this)·Σ|terms|.
 */
export function treeSumRoundings(n: number): number {
  return passes(n) * ROUNDINGS_PER_PASS;
}

/** What {@linkcode encodeTreeSum} sums: squares or values, times a scale. */
export interface TreeSumParams {
  /** The op, for errors. */
  readonly op: string;
  /** Sum x² instead of x. */
  readonly square: boolean;
  /** Multiplies the sum (exactly, for powers of two). */
  readonly scale: number;
}

/** Encodes scale·Σ(x or x²) of `x` into the one-element `out`. */
export function encodeTreeSum(
  runtime: GpuRuntime,
  [x]: readonly DeviceArray[],
  out: DeviceArray,
  { op, square, scale }: TreeSumParams,
): void {
  let input = x;
  let length = x.byteLength / 4;
  let first = true;
  for (;;) {
    const groups = Math.ceil(length / PER_GROUP);
    const last = groups === 1;
    const target = last ? out : runtime.allocate(op, groups);
    const squares = first && square;
    runtime.dispatch({
      op,
      key: `treeSum/${squares ? "squares" : "values"}`,
      wgsl: () => treeWgsl(squares),
      uniforms: packUniforms([{ u32: length }, { u32: groups }, { f32: last ? scale : 1 }]),
      buffers: [asBlocks(input, 4 * PER_THREAD), target],
      workgroups: groups,
    });
    if (input !== x) runtime.release(input);
    if (last) return;
    input = target;
    length = groups;
    first = false;
  }
}
