/**
 * @file Philox-4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3",
 * SC11), the counter-based generator of cuRAND and PyTorch, in WGSL. Its twin in
 * TypeScript is `philox4x32` in `ops/random.ts`; both compute the 32×32→64-bit
 * product from 16-bit halves, so they are bit-identical by construction, and the
 * tests check both against Random123's known-answer vectors.
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
