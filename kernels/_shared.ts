/**
 * @file What every kernel file shares: the WGSL that turns a folded dispatch back into
 * one workgroup index (and the head of a tiled kernel's entry point, which starts from
 * it), the packing of a uniform block from u32/f32 words, the binding of an array
 * as whole vec4 or mat4x4 blocks, and whether WGSL reads storage textures here.
 */
import type { DeviceArray } from "./runtime.ts";

/**
 * WGSL: the linear index of this workgroup in a dispatch folded by
 * {@linkcode GpuRuntime.grid} (x first, then y, then z). Kernels must ignore indices at
 * or past the workgroup count they asked for: the fold can round the grid up.
 */
export const LINEAR_WORKGROUP = /* wgsl */ `
fn linearWorkgroup(wid: vec3u, groups: vec3u) -> u32 {
  return wid.x + groups.x * (wid.y + groups.y * wid.z);
}
`;

/**
 * WGSL: {@linkcode LINEAR_WORKGROUP} and the head of a tiled kernel's entry point `main`
 * with `x`×`y` threads a workgroup, up to the line that names its tile: the builtins
 * `wid` and `groups` (the folded grid), `lid` (the thread's id in the workgroup, a
 * vec3u) and `li` (its index, a u32), then `let tile = linearWorkgroup(wid, groups);`.
 * The kernel goes on with its body and closes the function.
 */
export function tiledMain(x: number, y = 1): string {
  return /* wgsl */ `${LINEAR_WORKGROUP}
@compute @workgroup_size(${x}, ${y})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let tile = linearWorkgroup(wid, groups);`;
}

/** A uniform word: an unsigned 32-bit integer or a float32. */
export type UniformWord = { u32: number } | { f32: number };

/** Packs words into a uniform block (4 bytes each, padded to 16 bytes). */
export function packUniforms(words: readonly UniformWord[]): ArrayBuffer {
  const buffer = new ArrayBuffer(Math.max(16, Math.ceil(words.length / 4) * 16));
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  words.forEach((word, i) => {
    if ("u32" in word) u32[i] = word.u32;
    else f32[i] = word.f32;
  });
  return buffer;
}

/**
 * The same array bound as whole blocks of `bytes` (16 for vec4, 64 for mat4x4), so a
 * kernel can read and write it a block at a time. The pool's buffers are whole
 * multiples of 256 bytes, so the rounded binding fits the buffer; the tail past
 * `byteLength` belongs to no other tensor and is never read back.
 */
export function asBlocks(array: DeviceArray, bytes: number): DeviceArray {
  const byteLength = Math.ceil(array.byteLength / bytes) * bytes;
  if (byteLength > array.buffer.size) {
    throw new RangeError(
      `asBlocks: ${byteLength} bytes do not fit a ${array.buffer.size}-byte buffer`,
    );
  }
  return { buffer: array.buffer, byteLength };
}

/**
 * Whether WGSL can read rgba32float storage textures here (read-only access, WGSL's
 * `readonly_and_readwrite_storage_textures`): on llvmpipe such a load costs a fraction
 * of a sampled texture's `textureLoad` (see `matmul_texture.ts`).
 */
export function readOnlyStorageTextures(): boolean {
  const features = typeof navigator === "undefined"
    ? undefined
    : (navigator.gpu as { wgslLanguageFeatures?: ReadonlySet<string> } | undefined)
      ?.wgslLanguageFeatures;
  return features?.has("readonly_and_readwrite_storage_textures") ?? false;
}
