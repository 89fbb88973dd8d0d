/**
 * @file `conv2d`'s weight gradient as a kernel of its own (NCHW/OIHW):
 * dw[o, c, i, j] = Σ_{b,y,x} g[b, o, y, x]·x[b, g·C/groups + c, y·sh + i·dh − top,
 * x·sw + j·dw − left]. Lowered onto a convolution, this is a matmul with a few rows and
 * columns and an inner dimension of N·H′·W′ (LeNet's first layer: [6, 200,704]·
 * [200,704, 25]), which gives the matmul kernels few threads; here the sum over the batch
 * is split instead: a thread sums the products of {@linkcode CHANNELS} output channels
 * for one tap over a chunk of images, the tap's input read once for all of them, into a
 * partial sum, and a second pass adds each weight's partials in chunk order
 * (deterministic, no atomics).
 *
 * Error: a partial is a sequential sum of chunk·H′·W′ products (padded positions are
 * zeros that are multiplied, as in the forward kernels), and the partials of ⌈N/chunk⌉
 * chunks are added one after another: chunk·H′·W′ + ⌈N/chunk⌉ − 1 ≤ N·H′·W′ rounded
 * additions on any path, so within γ(N·H′·W′)·Σ|g·x|, the lowered convolution's bound.
 *
 * Launch: workgroups of 64 threads in row-major order of the partials' blocks, then of
 * the weights.
 */
import { range } from "./_matmul_shared.ts";
import { packUniforms, tiledMain } from "./_shared.ts";
import type { Conv2dParams } from "./conv2d.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 64;
/** Output channels a thread sums for, side by side. */
const CHANNELS = 8;
/**
 * Products a thread sums, about: the chunk of images is ⌈this / (H′·W′)⌉ images, so a
 * thread does enough work to repay its start (llvmpipe), and a batch still gives many
 * threads.
 */
const PRODUCTS_PER_THREAD = 4096;

const pinnedChunks = new WeakMap<GpuRuntime, number>();

/**
 * Makes every weight gradient on `runtime` sum chunks of `images` images (tests pin 1, so
 * that their small batches take the second pass too).
 */
export function pinWeightGradientChunk(runtime: GpuRuntime, images: number): void {
  pinnedChunks.set(runtime, images);
}

/** WGSL: the sizes both passes read and the thread's index `idx`. */
const HEAD = /* wgsl */ `
struct Params {
  n: u32, c: u32, h: u32, w: u32, o: u32, kh: u32, kw: u32, oh: u32, ow: u32,
  sh: u32, sw: u32, dh: u32, dw: u32, top: u32, left: u32, cg: u32, og: u32,
  chunk: u32, blocks: u32, total: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
${tiledMain(THREADS)}
  let idx = tile * ${THREADS}u + li;
  if (idx >= params.total) { return; }`;

/** WGSL: a channel's index in the block, clamped for loads, and its accumulator. */
const BLOCK_HEAD = range(CHANNELS).map((k) =>
  `let oc${k} = min(first + ${k}u, ocEnd - 1u);
  var acc${k} = 0.0;`
).join("\n  ");

/** WGSL: each channel's product with the tap's input `v`. */
const BLOCK_SUMS = range(CHANNELS).map((k) =>
  `acc${k} += v * g[((b * params.o + oc${k}) * params.oh + y) * params.ow + q];`
).join("\n          ");

/** WGSL: the block's partials, the channels past the group's end left out. */
const BLOCK_STORES = range(CHANNELS).map((k) =>
  `if (first + ${k}u < ocEnd) { partial[base + (oc${k} * params.cg + ci) * taps] = acc${k}; }`
).join("\n  ");

/**
 * WGSL: partial [chunks, o, cg, kh, kw] from x [n, c, h, w] and g [n, o, oh, ow]; a
 * thread is one (chunk, group, block of channels, input channel, tap), in that order.
 */
const PARTIALS_WGSL = /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
${HEAD}
  let j = idx % params.kw;
  let i = (idx / params.kw) % params.kh;
  let ci = (idx / (params.kw * params.kh)) % params.cg;
  let rest = idx / (params.kw * params.kh * params.cg);
  let block = rest % params.blocks;
  let group = (rest / params.blocks) % (params.o / params.og);
  let chunk = rest / (params.blocks * (params.o / params.og));
  let first = group * params.og + block * ${CHANNELS}u;
  let ocEnd = (group + 1u) * params.og;
  let channel = group * params.cg + ci;
  ${BLOCK_HEAD}
  let lastColumn = i32(params.w) - 1;
  let bEnd = min((chunk + 1u) * params.chunk, params.n);
  for (var b = chunk * params.chunk; b < bEnd; b++) {
    for (var y = 0u; y < params.oh; y++) {
      let iy = i32(y * params.sh + i * params.dh) - i32(params.top);
      let rowInside = iy >= 0 && iy < i32(params.h);
      let row = ((b * params.c + channel) * params.h + u32(clamp(iy, 0, i32(params.h) - 1))) *
        params.w;
      for (var q = 0u; q < params.ow; q++) {
        let ix = i32(q * params.sw + j * params.dw) - i32(params.left);
        // A padded position is a zero that is multiplied, as in the padded image.
        let v = select(0.0, x[row + u32(clamp(ix, 0, lastColumn))],
          rowInside && ix >= 0 && ix <= lastColumn);
        ${BLOCK_SUMS}
      }
    }
  }
  let taps = params.kh * params.kw;
  let base = chunk * params.o * params.cg * taps + i * params.kw + j;
  ${BLOCK_STORES}
}
`;

/** WGSL: dw from partial [chunks, o·cg·kh·kw], adding each weight's partials in order. */
const SUM_WGSL = /* wgsl */ `
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${HEAD}
  var acc = partial[idx];
  let chunks = (params.n + params.chunk - 1u) / params.chunk;
  for (var k = 1u; k < chunks; k++) { acc += partial[k * params.total + idx]; }
  out[idx] = acc;
}
`;

/**
 * Encodes the gradient of the convolution `p` describes with respect to its weight,
 * given its input `x` [n, c, h, w] and its output's gradient `g` [n, o, oh, ow], into
 * `out` [o, c/groups, kh, kw].
 */
export function encodeConv2dWeightGradient(
  runtime: GpuRuntime,
  [x, g]: readonly DeviceArray[],
  out: DeviceArray,
  p: Conv2dParams,
): void {
  const cg = p.c / p.groups, og = p.o / p.groups;
  const chunk = Math.min(
    p.n,
    pinnedChunks.get(runtime) ?? Math.ceil(PRODUCTS_PER_THREAD / (p.oh * p.ow)),
  );
  const chunks = Math.ceil(p.n / chunk), blocks = Math.ceil(og / CHANNELS);
  const weights = p.o * cg * p.kh * p.kw;
  const dispatch = (key: string, wgsl: string, buffers: DeviceArray[], total: number) => {
    const words = [
      ...[p.n, p.c, p.h, p.w, p.o, p.kh, p.kw, p.oh, p.ow, p.sh, p.sw, p.dh, p.dw, p.top, p.left],
      ...[cg, og, chunk, blocks, total],
    ];
    runtime.dispatch({
      op: "conv2d",
      key: `conv2d/${key}`,
      wgsl: () => wgsl,
      uniforms: packUniforms(words.map((u32) => ({ u32 }))),
      buffers,
      workgroups: Math.ceil(total / THREADS),
    });
  };
  const partial = chunks === 1 ? out : runtime.allocate("conv2d", chunks * weights);
  const threads = chunks * p.groups * blocks * cg * p.kh * p.kw;
  dispatch("weight-gradient", PARTIALS_WGSL, [x, g, partial], threads);
  if (partial !== out) {
    dispatch("weight-gradient-sum", SUM_WGSL, [partial, out], weights);
    runtime.release(partial);
  }
}
