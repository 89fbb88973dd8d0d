/**
 * @file WGSL for `l2Penalty`: sum(x²)/2 as a parallel tree reduction in workgroup
 * memory, in as many passes as the length needs.
 *
 * Each workgroup of 256 threads reduces 1024 consecutive values: every thread first
 * adds 4 of them (strided by 256, so neighbouring threads read neighbouring words),
 * then the 256 partial sums are halved in 8 barrier-separated steps. The first pass
 * squares, the last multiplies by ½ (exact); a pass with more than one workgroup
 * writes one partial per workgroup, and the next pass reduces those.
 *
 * Error: each pass adds at most 4 + 8 = 12 rounded additions to any path through the
 * sum, and the square one more, so |gpu − exact| ≤ γ(1 + 12·passes)·Σx²/2
 * (see {@linkcode l2PenaltyRoundings}); passes = ⌈log₁₀₂₄ n⌉, at most 3 for 2²⁵ values.
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 256;
const PER_THREAD = 4;
const PER_GROUP = THREADS * PER_THREAD;

const wgsl = (square: boolean) => /* wgsl */ `
struct Params { n: u32, groups: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> partial: array<f32, ${THREADS}>;
${LINEAR_WORKGROUP}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let group = linearWorkgroup(wid, groups);
  let base = group * ${PER_GROUP}u + lid;
  var sum = 0.0;
  for (var j = 0u; j < ${PER_THREAD}u; j++) {
    let i = base + j * ${THREADS}u;
    if (i < params.n) {
      let v = x[i];
      sum += ${square ? "v * v" : "v"};
    }
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = ${THREADS / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
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
 * The longest chain of float32 roundings from an input to the result: the error bound
 * of the GPU sum of n squares is γ(this)·Σx²/2.
 */
export function l2PenaltyRoundings(n: number): number {
  return 1 + passes(n) * (PER_THREAD + Math.log2(THREADS));
}

/** Encodes sum(x²)/2 of `x` into the one-element `out`. */
export function encodeL2Penalty(
  runtime: GpuRuntime,
  [x]: readonly DeviceArray[],
  out: DeviceArray,
): void {
  let input = x;
  let length = x.byteLength / 4;
  let first = true;
  for (;;) {
    const groups = Math.ceil(length / PER_GROUP);
    const last = groups === 1;
    const target = last ? out : runtime.allocate("l2Penalty", groups);
    runtime.dispatch({
      op: "l2Penalty",
      key: `l2Penalty/${first ? "squares" : "sums"}`,
      wgsl: () => wgsl(first),
      uniforms: packUniforms([{ u32: length }, { u32: groups }, { f32: last ? 0.5 : 1 }]),
      buffers: [input, target],
      workgroups: groups,
    });
    if (input !== x) runtime.release(input);
    if (last) return;
    input = target;
    length = groups;
    first = false;
  }
}
