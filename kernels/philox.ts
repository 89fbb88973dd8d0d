/**
 * @file Philox-4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3",
 * SC11), the counter-based generator of cuRAND and PyTorch, written twice side by side:
 * in WGSL ({@linkcode PHILOX_WGSL}) and in TypeScript with 32-bit integer arithmetic
 * ({@linkcode philoxWords}, public as `philox4x32` with its argument checks). Both
 * compute the 32×32→64-bit product from 16-bit halves, so they are bit-identical by
 * construction, and the tests check both against Random123's known-answer vectors.
 */

/** WGSL: `philox4x32(counter, key) -> vec4u`, ten rounds. */
export const PHILOX_WGSL = /* wgsl */ `
fn mulhi32(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu; let ah = a >> 16u;
  let bl = b & 0xffffu; let bh = b >> 16u;
  let mid1 = ah * bl; let mid2 = al * bh;
  let t = ((al * bl) >> 16u) + (mid1 & 0xffffu) + (mid2 & 0xffffu);
  return ah * bh + (mid1 >> 16u) + (mid2 >> 16u) + (t >> 16u);
}

fn philoxRound(c: vec4u, k: vec2u) -> vec4u {
  let m0 = 0xD2511F53u; let m1 = 0xCD9E8D57u;
  return vec4u(mulhi32(m1, c.z) ^ c.y ^ k.x, m1 * c.z, mulhi32(m0, c.x) ^ c.w ^ k.y, m0 * c.x);
}

fn philox4x32(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) { k += vec2u(0x9E3779B9u, 0xBB67AE85u); }
    c = philoxRound(c, k);
  }
  return c;
}
`;

function mulhi32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16;
  const bl = b & 0xffff, bh = b >>> 16;
  const mid1 = ah * bl, mid2 = al * bh;
  const t = ((al * bl) >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff);
  return (ah * bh + (mid1 >>> 16) + (mid2 >>> 16) + (t >>> 16)) >>> 0;
}

/** Philox-4x32-10 in TypeScript: four words from a counter and a key (unchecked u32 words). */
export function philoxWords(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9E3779B9) >>> 0;
      k1 = (k1 + 0xBB67AE85) >>> 0;
    }
    const hi0 = mulhi32(0xD2511F53, c0), lo0 = Math.imul(0xD2511F53, c0) >>> 0;
    const hi1 = mulhi32(0xCD9E8D57, c2), lo1 = Math.imul(0xCD9E8D57, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}
