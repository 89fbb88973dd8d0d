/**
 * @file `conv2d`'s weight gradient as a kernel of its own (NCHW/OIHW):
 * dw[o, c, i, j] = Σ_{b,y,x} g[b, o, y, x]·x[b, g·C/groups + c, y·sh + i·dh − top,
 * x·sw + j·dw − left]. Lowered onto a convolution, this is a matmul with a few rows and
 * columns and an inner dimension of N·H′·W′ (LeNet's first layer: [6, 200,704]·
 * [200,704, 25]), which gives the matmul kernels few threads; here the sum over the batch
 * is split instead: a thread sums, over a chunk of images, the products of
 * {@linkcode CHANNELS} output channels with a kernel row's taps (up to
 * {@linkcode MAX_TAPS} of them) into partial sums, each gradient and input it reads
 * serving several sums; a second pass adds each weight's partials in chunk order
 * (deterministic, no atomics).
 *
 * For one channel group and kernels up to {@linkcode MAX_TAPS} wide, the partials'
 * kernel reads texels instead (`_conv2d_texels.ts`: on llvmpipe a storage buffer load
 * at a computed address runs a SIMD lane at a time): x as padded planes and g as planes,
 * four output positions of a row at a time, so that a few texels of x and one of g per
 * channel serve CHANNELS·kw·4 multiply-adds, with no bounds test but, where W′ is not a
 * multiple of 4, the masking of the positions past its end. LeNet at batch 256, in a
 * jitted step (scripts/profile_lenet.ts, kernel-only, one run each, the machine shared):
 * the second layer's partials 411 → 69 ms (and 21 ms copying x and g into textures),
 * the first's 281 → 13 ms (and 49 ms of copies).
 *
 * Error: a partial is a sequential sum of chunk·H′·W′ products (padded positions are
 * zeros that are multiplied, as in the forward kernels), and the partials of ⌈N/chunk⌉
 * chunks are added one after another: chunk·H′·W′ + ⌈N/chunk⌉ − 1 ≤ N·H′·W′ rounded
 * additions on any path, so within γ(N·H′·W′)·Σ|g·x|, the lowered convolution's bound.
 *
 * Launch: workgroups of 64 threads in row-major order of the partials' blocks, then of
 * the weights.
 */
import {
  encodePlaneTexels,
  paddedRowStart,
  type PlaneTexels,
  planeTexels,
  planeTexelsFit,
  texelLoad,
} from "./_conv2d_texels.ts";
import { range } from "./_matmul_shared.ts";
import { packUniforms, readOnlyStorageTextures, tiledMain } from "./_shared.ts";
import type { Conv2dParams } from "./conv2d.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 64;
/** Output channels a thread sums for, side by side. */
const CHANNELS = 8;
/** Most kernel columns a thread sums for, side by side (all of them up to this width). */
const MAX_TAPS = 8;
/**
 * Output positions a thread visits, about: the chunk of images is ⌈this / (H′·W′)⌉
 * images, so a thread does enough work to repay its start (llvmpipe), and a batch still
 * gives many threads.
 */
const POSITIONS_PER_THREAD = 2048;

/** How a weight gradient splits its work: images per chunk, kernel columns per thread. */
export interface WeightGradientSplit {
  readonly images: number;
  readonly taps: number;
}

const pinnedSplits = new WeakMap<GpuRuntime, WeightGradientSplit>();

/**
 * Makes every weight gradient on `runtime` split its work as `split` says (tests pin small
 * ones, so that their small batches and kernels take the second pass and the column
 * blocks' edges too).
 */
export function pinWeightGradientSplit(runtime: GpuRuntime, split: WeightGradientSplit): void {
  pinnedSplits.set(runtime, split);
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

/**
 * WGSL: partial [chunks, o, cg, kh, kw] from x [n, c, h, w] and g [n, o, oh, ow]; a
 * thread is one (chunk, group, block of channels, input channel, kernel row, block of
 * `taps` columns), in that order, and keeps its CHANNELS×`taps` sums in registers: at
 * each output position it reads `taps` inputs and CHANNELS gradients for CHANNELS·`taps`
 * multiply-adds. Channels and columns past the end are computed on clamped reads and
 * not stored.
 */
function partialsWgsl(taps: number): string {
  const channels = range(CHANNELS), columns = range(taps);
  const each = (f: (k: number, t: number) => string) =>
    channels.flatMap((k) => columns.map((t) => f(k, t)));
  const inputs = columns.map((t) =>
    `let ix${t} = ix + ${t} * i32(params.dw);
        let v${t} = select(0.0, x[row + u32(clamp(ix${t}, 0, lastColumn))], ` +
    `rowInside && ix${t} >= 0 && ix${t} <= lastColumn);`
  );
  const stores = each((k, t) =>
    `if (first + ${k}u < ocEnd && j0 + ${t}u < params.kw) { ` +
    `partial[base + oc${k} * stride + ${t}u] = acc${k}_${t}; }`
  );
  return /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
${HEAD}
  let columnBlocks = (params.kw + ${taps - 1}u) / ${taps}u;
  let j0 = (idx % columnBlocks) * ${taps}u;
  let i = (idx / columnBlocks) % params.kh;
  let ci = (idx / (columnBlocks * params.kh)) % params.cg;
  let rest = idx / (columnBlocks * params.kh * params.cg);
  let block = rest % params.blocks;
  let group = (rest / params.blocks) % (params.o / params.og);
  let chunk = rest / (params.blocks * (params.o / params.og));
  let first = group * params.og + block * ${CHANNELS}u;
  let ocEnd = (group + 1u) * params.og;
  let channel = group * params.cg + ci;
  ${channels.map((k) => `let oc${k} = min(first + ${k}u, ocEnd - 1u);`).join("\n  ")}
  ${each((k, t) => `var acc${k}_${t} = 0.0;`).join("\n  ")}
  let lastColumn = i32(params.w) - 1;
  let bEnd = min((chunk + 1u) * params.chunk, params.n);
  for (var b = chunk * params.chunk; b < bEnd; b++) {
    for (var y = 0u; y < params.oh; y++) {
      let iy = i32(y * params.sh + i * params.dh) - i32(params.top);
      let rowInside = iy >= 0 && iy < i32(params.h);
      let row = ((b * params.c + channel) * params.h + u32(clamp(iy, 0, i32(params.h) - 1))) *
        params.w;
      ${
    channels.map((k) => `let g${k} = ((b * params.o + oc${k}) * params.oh + y) * params.ow;`)
      .join("\n      ")
  }
      for (var q = 0u; q < params.ow; q++) {
        let ix = i32(q * params.sw + j0 * params.dw) - i32(params.left);
        // A padded position is a zero that is multiplied, as in the padded image.
        ${inputs.join("\n        ")}
        ${channels.map((k) => `let d${k} = g[g${k} + q];`).join("\n        ")}
        ${each((k, t) => `acc${k}_${t} += v${t} * d${k};`).join("\n        ")}
      }
    }
  }
  let stride = params.cg * params.kh * params.kw;
  let base = chunk * params.o * stride + (ci * params.kh + i) * params.kw + j0;
  ${stores.join("\n  ")}
}
`;
}

/** The textures of the texel-fed partials: x as padded planes, g as planes. */
interface Texels {
  readonly x: PlaneTexels;
  readonly g: PlaneTexels;
}

/** The texel-fed partials' textures for the convolution `p` (groups 1). */
function texelsOf(p: Conv2dParams): Texels {
  const steps = Math.ceil(p.ow / 4);
  const farthest = (4 * steps - 1) * p.sw + (p.kw - 1) * p.dw;
  return {
    x: planeTexels(p.n * p.c, [p.h, p.w], p, Math.floor(farthest / 4) + 1),
    g: planeTexels(p.n * p.o, [p.oh, p.ow], { top: 0, bottom: 0, left: 0 }, steps),
  };
}

/**
 * WGSL: the partials from the textures of {@linkcode texelsOf} (groups 1, kw ≤
 * MAX_TAPS), the geometry compiled in; a thread is one (chunk, block of CHANNELS output
 * channels, input channel, kernel row), in that order, and keeps CHANNELS × kw sums. At
 * each 4 positions of an output row it loads the texels of x's padded row that their kw
 * taps cover and a texel of g for each channel; values past W′ are masked to zeros.
 */
function texelPartialsWgsl(p: Conv2dParams, t: Texels, storage: boolean): string {
  const texture = storage ? "texture_storage_2d<rgba32float, read>" : "texture_2d<f32>";
  const channels = range(CHANNELS), taps = range(p.kw), lanes = range(4);
  const offset = (lane: number, j: number) => lane * p.sw + j * p.dw;
  const xTexels = Math.floor(offset(3, p.kw - 1) / 4) + 1;
  const masked = p.ow % 4 !== 0;
  const values = lanes.flatMap((lane) =>
    taps.map((j) => {
      const at = offset(lane, j), value = `x${at >> 2}[${at & 3}]`;
      return `let v${lane}_${j} = ${masked ? `select(0.0, ${value}, ${lane}u < left)` : value};`;
    })
  );
  const fmas = lanes.flatMap((lane) =>
    channels.flatMap((k) => taps.map((j) => `acc${k}_${j} += v${lane}_${j} * d${k}[${lane}];`))
  );
  const weights = p.c * p.kh * p.kw;
  const stores = channels.flatMap((k) =>
    taps.map((j) =>
      `if (o0 + ${k}u < ${p.o}u) { ` +
      `partial[base + ${k * weights}u + ${j}u] = acc${k}_${j}; }`
    )
  );
  return /* wgsl */ `
@group(0) @binding(1) var xt: ${texture};
@group(0) @binding(2) var gt: ${texture};
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
${HEAD}
  let i = idx % ${p.kh}u;
  let c = (idx / ${p.kh}u) % ${p.c}u;
  let rest = idx / ${p.kh * p.c}u;
  let o0 = (rest % params.blocks) * ${CHANNELS}u;
  let chunk = rest / params.blocks;
  ${channels.map((k) => `let oc${k} = min(o0 + ${k}u, ${p.o - 1}u);`).join("\n  ")}
  ${channels.flatMap((k) => taps.map((j) => `var acc${k}_${j} = 0.0;`)).join("\n  ")}
  let bEnd = min((chunk + 1u) * params.chunk, ${p.n}u);
  for (var b = chunk * params.chunk; b < bEnd; b++) {
    for (var y = 0u; y < ${p.oh}u; y++) {
      let xRow = (b * ${p.c}u + c) * ${t.x.paddedRows}u + y * ${p.sh}u + i * ${p.dh}u;
      ${paddedRowStart(t.x, "xRow", "xRow")}
      ${
    channels.map((k) => paddedRowStart(t.g, `g${k}`, `(b * ${p.o}u + oc${k}) * ${p.oh}u + y`))
      .join("\n      ")
  }
      for (var u = 0u; u < ${t.g.rowTexels}u; u++) {
        let left = ${p.ow}u - 4u * u;
        ${
    range(xTexels).map((m) =>
      `let x${m} = ${texelLoad(storage, "xt", `xRowX + u * ${p.sw}u + ${m}u`, "xRowY")};`
    ).join("\n        ")
  }
        ${
    channels.map((k) => `let d${k} = ${texelLoad(storage, "gt", `g${k}X + u`, `g${k}Y`)};`)
      .join("\n        ")
  }
        ${values.join("\n        ")}
        ${fmas.join("\n        ")}
      }
    }
  }
  let base = chunk * ${p.o * weights}u + o0 * ${weights}u + (c * ${p.kh}u + i) * ${p.kw}u;
  ${stores.join("\n  ")}
}
`;
}

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
  const pin = pinnedSplits.get(runtime);
  const chunk = Math.min(p.n, pin?.images ?? Math.ceil(POSITIONS_PER_THREAD / (p.oh * p.ow)));
  const chunks = Math.ceil(p.n / chunk), blocks = Math.ceil(og / CHANNELS);
  const weights = p.o * cg * p.kh * p.kw;
  const dispatch = (
    key: string,
    wgsl: string,
    buffers: (DeviceArray | GPUTextureView)[],
    total: number,
  ) => {
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
  const taps = Math.min(p.kw, pin?.taps ?? MAX_TAPS);
  const texels = texelsOf(p);
  if (
    p.groups === 1 && taps === p.kw && planeTexelsFit(runtime, texels.x) &&
    planeTexelsFit(runtime, texels.g)
  ) {
    const storage = readOnlyStorageTextures();
    const geometry = [p.n, p.c, p.h, p.w, p.o, p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.top, p.left];
    const textures = [
      encodePlaneTexels(runtime, x, texels.x),
      encodePlaneTexels(runtime, g, texels.g),
    ];
    dispatch(
      `weight-gradient-texels/${+storage}/${geometry}`,
      texelPartialsWgsl(p, texels, storage),
      [...textures.map((t) => t.createView()), partial],
      chunks * blocks * p.c * p.kh,
    );
  } else {
    const threads = chunks * p.groups * blocks * cg * p.kh * Math.ceil(p.kw / taps);
    dispatch(`weight-gradient-${taps}`, partialsWgsl(taps), [x, g, partial], threads);
  }
  if (partial !== out) {
    dispatch("weight-gradient-sum", SUM_WGSL, [partial, out], weights);
    runtime.release(partial);
  }
}
