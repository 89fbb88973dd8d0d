/**
 * @file WGSL for `randomNormal`: Box–Muller on Philox-4x32-10 words. Block `c` of a
 * key's normal stream is `philox4x32([c, 0, 0, 3], key)` (the last word keeps it apart
 * from dropout masks, splits and folds); its words (r0, r1) and (r2, r3) give two pairs
 * of normals, elements 4c … 4c+3.
 *
 * From a pair: u = ((r0 >> 8) + 1)·2⁻²⁴ ∈ (0, 1] and v = (r1 >> 8)·2⁻²⁴ ∈ [0, 1), both
 * exact in float32; θ = 2π·v − π ∈ [−π, π) (where WGSL bounds sin/cos error);
 * R = √(−2 ln u); the normals are −R·cos θ and −R·sin θ (= R·cos(θ + π), R·sin(θ + π)).
 * The CPU reference computes the same from the same u and v in float64, so the two
 * agree to within WGSL's accuracy for log, sqrt, sin and cos — not bit for bit.
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import { PHILOX_WGSL } from "./philox.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const WORKGROUP = 256;
/** The counter's last word for normal streams. */
export const NORMAL_STREAM = 3;

const wgsl = () => /* wgsl */ `
struct Params { n: u32, mean: f32, stddev: f32, key: vec2u }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${LINEAR_WORKGROUP}
${PHILOX_WGSL}
const PI = 3.14159265358979;
fn boxMuller(r0: u32, r1: u32) -> vec2f {
  let u = (f32(r0 >> 8u) + 1.0) * exp2(-24.0);
  let v = f32(r1 >> 8u) * exp2(-24.0);
  let theta = 2.0 * PI * v - PI;
  let radius = sqrt(-2.0 * log(u));
  return -radius * vec2f(cos(theta), sin(theta));
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let block = linearWorkgroup(wid, groups) * ${WORKGROUP}u + lid;
  if (block * 4u >= params.n) { return; }
  let bits = philox4x32(vec4u(block, 0u, 0u, ${NORMAL_STREAM}u), params.key);
  var z = array<vec2f, 2>(boxMuller(bits.x, bits.y), boxMuller(bits.z, bits.w));
  for (var j = 0u; j < 4u; j++) {
    let i = block * 4u + j;
    if (i < params.n) { out[i] = params.mean + params.stddev * z[j / 2u][j % 2u]; }
  }
}
`;

/** Mean, standard deviation and key of a normal sample. */
export interface RandomNormalParams {
  readonly mean: number;
  readonly std: number;
  readonly key: readonly [number, number];
}

/** Encodes `out.length` normal samples. */
export function encodeRandomNormal(
  runtime: GpuRuntime,
  _inputs: readonly DeviceArray[],
  out: DeviceArray,
  { mean, std, key }: RandomNormalParams,
): void {
  const n = out.byteLength / 4;
  runtime.dispatch({
    op: "randomNormal",
    key: "randomNormal",
    wgsl,
    uniforms: packUniforms([
      { u32: n },
      { f32: mean },
      { f32: std },
      { u32: 0 },
      { u32: key[0] },
      { u32: key[1] },
    ]),
    buffers: [out],
    workgroups: Math.ceil(n / 4 / WORKGROUP),
  });
}
