/**
 * @file WGSL for `dropout`: one Philox-4x32-10 call gives the four random words of
 * four consecutive elements, so each thread handles four. Element `i` is kept when
 * word `i mod 4` of `philox4x32([⌊i/4⌋, 0, 0, 0], key)` is ≥ `threshold` = ⌈p·2³²⌉,
 * and a kept value is `x·scale` with `scale = fround(1/(1−p))`: one correctly rounded
 * float32 multiply, so the CPU reference reproduces it bit for bit.
 *
 * Each thread reads and writes its four values as one vec4 (the arrays are bound as
 * whole 16-byte blocks, {@linkcode asBlocks}; the tail past the last element is
 * computed and never read): on Mesa's llvmpipe storage accesses cost per access.
 *
 * Launch: ⌈n/4⌉ threads, 64 per workgroup, folded into more dimensions when needed.
 */
import { asBlocks, LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import { PHILOX_WGSL } from "./philox.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const WORKGROUP = 64;

const wgsl = () => /* wgsl */ `
struct Params { n: u32, threshold: u32, dropAll: u32, scale: f32, key: vec2u }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
${LINEAR_WORKGROUP}
${PHILOX_WGSL}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let block = linearWorkgroup(wid, groups) * ${WORKGROUP}u + lid;
  if (block * 4u >= params.n) { return; }
  let bits = philox4x32(vec4u(block, 0u, 0u, 0u), params.key);
  let keep = (bits >= vec4u(params.threshold)) & vec4<bool>(params.dropAll == 0u);
  out[block] = select(vec4f(0.0), x[block] * params.scale, keep);
}
`;

/** Dropout's mask threshold and scale, derived once from p by {@linkcode dropoutParams}. */
export interface DropoutParams {
  /** Keep a word ≥ this; meaningless when `dropAll`. */
  readonly threshold: number;
  /** p = 1: drop every element. */
  readonly dropAll: boolean;
  /** float32 1/(1−p); 0 when `dropAll`. */
  readonly scale: number;
  /** The key words. */
  readonly key: readonly [number, number];
}

/** Threshold and scale for a drop probability p in [0, 1]. */
export function dropoutParams(p: number, key: readonly [number, number]): DropoutParams {
  const threshold = Math.ceil(p * 2 ** 32);
  const dropAll = threshold >= 2 ** 32;
  return { threshold, dropAll, scale: dropAll ? 0 : Math.fround(1 / (1 - p)), key };
}

/** Encodes dropout of `x` into `out`. */
export function encodeDropout(
  runtime: GpuRuntime,
  [x]: readonly DeviceArray[],
  out: DeviceArray,
  { threshold, dropAll, scale, key }: DropoutParams,
): void {
  const n = x.byteLength / 4;
  runtime.dispatch({
    op: "dropout",
    key: "dropout/vec4",
    wgsl,
    uniforms: packUniforms([
      { u32: n },
      { u32: dropAll ? 0 : threshold },
      { u32: dropAll ? 1 : 0 },
      { f32: scale },
      { u32: key[0] },
      { u32: key[1] },
    ]),
    buffers: [asBlocks(x, 16), asBlocks(out, 16)],
    workgroups: Math.ceil(n / 4 / WORKGROUP),
  });
}
