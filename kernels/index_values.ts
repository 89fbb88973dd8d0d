/**
 * @file How kernels and references write and read an index (a position along an axis)
 * that an op produces: an int32 (docs/architecture.md#types), exact to 2³¹. `argsort`'s
 * and `topK`'s kernels and references produce their indices through
 * {@linkcode indexValue} and {@linkcode INDEX_VALUE_WGSL} into storage of
 * {@linkcode INDEX_STORAGE}, and the sort's gradient reads them back through
 * {@linkcode INDEX_POSITION_WGSL}, nothing else.
 */

/** The largest count of positions whose indices {@linkcode indexValue} writes exactly. */
export const MAX_INDEXED: number = 2 ** 31;

/** The WGSL element type of an index buffer (an int32 tensor's). */
export const INDEX_STORAGE = "i32";

/** WGSL: `fn indexValue(k: u32) -> i32`, the value an output holds for position `k`. */
export const INDEX_VALUE_WGSL = /* wgsl */ `
fn indexValue(k: u32) -> i32 { return i32(k); }
`;

/**
 * WGSL: `fn indexPosition(v: i32) -> u32`, the position an index written by
 * `indexValue` stands for (trusted: the library wrote it).
 */
export const INDEX_POSITION_WGSL = /* wgsl */ `
fn indexPosition(v: i32) -> u32 { return u32(v); }
`;

/** The value an output holds for position `k` (the reference's side of {@linkcode INDEX_VALUE_WGSL}). */
export function indexValue(k: number): number {
  return k;
}
