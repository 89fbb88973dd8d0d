/**
 * @file `conv2d` as an implicit GEMM (groups 1): the product w [O, C·kh·kw] · cols
 * [C·kh·kw, N·H′·W′] of the im2col lowering (`conv2d_im2col.ts`) with the im2col gather
 * folded into the reads of B, as TensorFlow.js's `conv2d_mm` folds it, and no columns
 * buffer. Its register tiling is the texture matmul's (`matmul_texture.ts`): on llvmpipe
 * a texel load is a handful of vector instructions where a storage buffer load at a
 * computed address runs one SIMD lane at a time, so both operands are read as texels:
 *
 * - the image, padded: x is copied once into a texture of the padded rows of every
 *   (image, channel) plane, the padding written as zeros (`_conv2d_texels.ts`), so the
 *   inner loop has no bounds test (a padded zero is multiplied, 0·w, as padding the
 *   image and then convolving does);
 * - the weights: a texel holds one tap (c, i, j) of four output channels.
 *
 * A thread computes {@linkcode CHANNELS} output channels × {@linkcode COLUMNS}
 * neighbouring columns of one output row. For each input channel and kernel row it
 * loads the few texels of the padded row that the block's kh·kw taps cover (3 texels
 * for 8 columns of a 3×3 or 5×5 kernel at stride 1), then for each kernel column the
 * weights of its 8 channels (2 texels) and does 64 multiply-adds on values picked from
 * those texels by offsets known when the shader is written: the geometry is compiled in
 * as constants (a pipeline per convolution shape), so the kernel columns are unrolled
 * and no division is left but the thread's own position.
 *
 * Each output sums its C·kh·kw products in the weight's row-major order (channel, row,
 * column): within γ(C·kh·kw)·Σ|x·w|, as the direct kernel.
 *
 * Launch: packing, a thread per texel, 64 a workgroup; the product, 64 threads a
 * workgroup, a thread per block, in row-major order of [N, O/8, H′, W′/8].
 */
import { range } from "./_matmul_shared.ts";
import {
  encodePlaneTexels,
  paddedRowStart,
  type PlaneTexels,
  planeTexels,
  planeTexelsFit,
  TEXEL_FILL_HEAD,
  TEXEL_FILL_THREADS,
  texelLoad,
} from "./_conv2d_texels.ts";
import { packUniforms, readOnlyStorageTextures, tiledMain } from "./_shared.ts";
import type { Conv2dParams } from "./conv2d.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 64;
/** Output columns a thread computes, side by side (a multiple of 4). */
const COLUMNS = 8;
/** Output channels a thread computes (a multiple of 4). */
const CHANNELS = 8;

/** Where the padded image and the weights lie in their textures, and the blocks. */
interface Layout {
  /** The padded image: a row long enough for the last block's farthest tap. */
  readonly image: PlaneTexels;
  /** The weight texture's sides: a texel per 4 channels, a row per tap. */
  readonly weights: [number, number];
  /** Blocks of columns in an output row. */
  readonly columnBlocks: number;
  /** Blocks of output channels. */
  readonly channelBlocks: number;
}

function layoutOf(p: Conv2dParams): Layout {
  const columnBlocks = Math.ceil(p.ow / COLUMNS);
  const farthest = (columnBlocks * COLUMNS - 1) * p.sw + (p.kw - 1) * p.dw;
  const channelBlocks = Math.ceil(p.o / CHANNELS);
  return {
    image: planeTexels(p.n * p.c, [p.h, p.w], p, Math.floor(farthest / 4) + 1),
    weights: [channelBlocks * CHANNELS / 4, p.c * p.kh * p.kw],
    columnBlocks,
    channelBlocks,
  };
}

/** Whether the implicit kernel takes the convolution `p` on `runtime` (its textures fit). */
export function implicitSupports(runtime: GpuRuntime, p: Conv2dParams): boolean {
  const { image, weights } = layoutOf(p);
  const fits = Math.max(...weights) <= runtime.device.limits.maxTextureDimension2D;
  return p.groups === 1 && fits && planeTexelsFit(runtime, image);
}

/**
 * WGSL: the weights' texture, texel (o/4, tap), zeros past o, from w [o, c, kh, kw]; or,
 * for the input gradient (`flipped`), the convolution's w [c, o, kh, kw] (`p` the
 * transposed geometry) read as w′[o, c, i, j] = w[c, o, kh − 1 − i, kw − 1 − j].
 */
function weightsWgsl(p: Conv2dParams, l: Layout, flipped: boolean): string {
  const [width, height] = l.weights;
  const at = flipped
    ? `((c * ${p.o}u + oc) * ${p.kh}u + ${p.kh - 1}u - i) * ${p.kw}u + ${p.kw - 1}u - j`
    : `oc * ${height}u + tap`;
  return /* wgsl */ `${TEXEL_FILL_HEAD}
  let tap = t / ${width}u;
  let o4 = t % ${width}u;
  let j = tap % ${p.kw}u;
  let i = (tap / ${p.kw}u) % ${p.kh}u;
  let c = tap / ${p.kh * p.kw}u;
  var v = vec4f(0.0);
  for (var q = 0u; q < 4u; q++) {
    let oc = 4u * o4 + q;
    if (oc < ${p.o}u) { v[q] = src[${at}]; }
  }
  textureStore(dst, vec2u(o4, tap), v);
}
`;
}

/**
 * WGSL: the product; a thread's block of CHANNELS × COLUMNS outputs. With `masked`, only
 * the products of taps inside the image are added (a padded row's are skipped, a padded
 * column's selected away): the input gradient sums the outputs an element fed, no
 * padded zero times a weight (an infinite weight would make it NaN).
 */
function productWgsl(p: Conv2dParams, l: Layout, storage: boolean, masked: boolean): string {
  const texture = storage ? "texture_storage_2d<rgba32float, read>" : "texture_2d<f32>";
  const offsets = (j: number) => range(COLUMNS).map((t) => t * p.sw + j * p.dw);
  const texels = Math.floor(offsets(p.kw - 1)[COLUMNS - 1] / 4) + 1;
  const each = (f: (k: number, t: number) => string) =>
    range(CHANNELS).flatMap((k) => range(COLUMNS).map((t) => f(k, t)));
  const taps = range(p.kw).map((j) =>
    [
      ...range(CHANNELS / 4).map((h) =>
        `let a${j}_${h} = ${texelLoad(storage, "wt", `firstTexel + ${h}u`, `tapRow + ${j}u`)};`
      ),
      ...each((k, t) => {
        const offset = offsets(j)[t];
        const product = `a${j}_${k >> 2}[${k & 3}] * x${offset >> 2}[${offset & 3}]`;
        return `acc${k}_${t} += ${masked ? `select(0.0, ${product}, inside${t}_${j})` : product};`;
      }),
    ].join("\n      ")
  ).join("\n      ");
  const stores = each((k, t) =>
    `if (o0 + ${k}u < ${p.o}u && q0 + ${t}u < ${p.ow}u) { ` +
    `out[((b * ${p.o}u + o0 + ${k}u) * ${p.oh}u + y) * ${p.ow}u + q0 + ${t}u] = acc${k}_${t}; }`
  ).join("\n  ");
  return /* wgsl */ `
@group(0) @binding(0) var<uniform> threads: vec4u;
@group(0) @binding(1) var xt: ${texture};
@group(0) @binding(2) var wt: ${texture};
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${tiledMain(THREADS)}
  let idx = tile * ${THREADS}u + li;
  if (idx >= threads.x) { return; }
  let q0 = (idx % ${l.columnBlocks}u) * ${COLUMNS}u;
  let y = (idx / ${l.columnBlocks}u) % ${p.oh}u;
  let rest = idx / ${l.columnBlocks * p.oh}u;
  let o0 = (rest % ${l.channelBlocks}u) * ${CHANNELS}u;
  let b = rest / ${l.channelBlocks}u;
  let firstTexel = o0 / 4u;
  let u0 = (q0 / 4u) * ${p.sw}u;
  ${each((k, t) => `var acc${k}_${t} = 0.0;`).join("\n  ")}
  ${
    masked
      ? range(p.kw).flatMap((j) =>
        range(COLUMNS).map((t) => {
          const column = `q0 * ${p.sw}u + ${offsets(j)[t]}u`;
          return `let inside${t}_${j} = ${column} >= ${p.left}u && ${column} < ${p.left + p.w}u;`;
        })
      ).join("\n  ")
      : ""
  }
  for (var c = 0u; c < ${p.c}u; c++) {
    for (var i = 0u; i < ${p.kh}u; i++) {
      ${
    masked
      ? `let paddedRow = y * ${p.sh}u + i * ${p.dh}u;
      if (paddedRow < ${p.top}u || paddedRow >= ${p.top + p.h}u) { continue; }`
      : ""
  }
      let row = (b * ${p.c}u + c) * ${l.image.paddedRows}u + y * ${p.sh}u + i * ${p.dh}u;
      ${paddedRowStart(l.image, "row", "row")}
      ${
    range(texels).map((u) =>
      `let x${u} = ${texelLoad(storage, "xt", `rowX + u0 + ${u}u`, "rowY")};`
    ).join(
      "\n      ",
    )
  }
      let tapRow = (c * ${p.kh}u + i) * ${p.kw}u;
      ${taps}
    }
  }
  ${stores}
}
`;
}

/**
 * Encodes the implicit product of `p` (the convolution, or the input gradient's
 * transposed geometry with `flipped` weights and `masked` padding) into `out`.
 */
function encodeImplicit(
  runtime: GpuRuntime,
  [x, w]: readonly DeviceArray[],
  out: DeviceArray,
  p: Conv2dParams,
  transposed: boolean,
): void {
  const l = layoutOf(p);
  const storage = readOnlyStorageTextures();
  const geometry = [p.n, p.c, p.h, p.w, p.o, p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.top, p.left];
  const key = `${+transposed}/${+storage}/${geometry}`;
  const threads = (count: number) => packUniforms([{ u32: count }]);
  const image = encodePlaneTexels(runtime, x, l.image);
  const [width, height] = l.weights;
  const weights = runtime.scratchTexture("conv2d", width, height);
  runtime.dispatch({
    op: "conv2d",
    key: `conv2d/implicit-weights/${key}`,
    wgsl: () => weightsWgsl(p, l, transposed),
    uniforms: threads(width * height),
    buffers: [w, weights.createView()],
    workgroups: Math.ceil(width * height / TEXEL_FILL_THREADS),
  });
  const blocks = p.n * l.channelBlocks * p.oh * l.columnBlocks;
  runtime.dispatch({
    op: "conv2d",
    key: `conv2d/implicit/${key}`,
    wgsl: () => productWgsl(p, l, storage, transposed),
    uniforms: threads(blocks),
    buffers: [image.createView(), weights.createView(), out],
    workgroups: Math.ceil(blocks / THREADS),
  });
}

/** Encodes the convolution (groups 1) of `x` [n, c, h, w] with `w` [o, c, kh, kw] into `out`. */
export function encodeConv2dImplicit(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  out: DeviceArray,
  p: Conv2dParams,
): void {
  encodeImplicit(runtime, inputs, out, p, false);
}

/**
 * The input gradient of the convolution `p` (stride 1) as a convolution of its output's
 * gradient [n, o, oh, ow]: dx[b, c, r, a] = Σ g[b, o, r + top − i·dh, a + left − j·dw]·
 * w[o, c, i, j] over the taps that land inside g, which with i′ = kh − 1 − i is a
 * convolution of g padded by (kh − 1)·dh − top above and (kh − 1)·dh − bottom below (so
 * too at the sides), with w′[c, o, i′, j′] = w[o, c, kh − 1 − i′, kw − 1 − j′]; null where
 * a padding exceeds the kernel's reach (a negative padding) or the stride is not 1.
 */
function transposedGeometry(p: Conv2dParams): Conv2dParams | null {
  const rows = (p.kh - 1) * p.dh, columns = (p.kw - 1) * p.dw;
  const top = rows - p.top, bottom = rows - p.bottom;
  const left = columns - p.left, right = columns - p.right;
  if (p.sh !== 1 || p.sw !== 1 || Math.min(top, bottom, left, right) < 0) return null;
  return {
    ...p,
    c: p.o,
    h: p.oh,
    w: p.ow,
    o: p.c,
    oh: p.h,
    ow: p.w,
    top,
    bottom,
    left,
    right,
  };
}

/** Whether the implicit kernel takes the input gradient of the convolution `p` on `runtime`. */
export function implicitTransposedSupports(runtime: GpuRuntime, p: Conv2dParams): boolean {
  const transposed = transposedGeometry(p);
  return transposed !== null && implicitSupports(runtime, transposed);
}

/**
 * Encodes the input gradient (groups 1, stride 1) of `g` [n, o, oh, ow] with `w`
 * [o, c, kh, kw] into `out` [n, c, h, w], as the convolution of
 * {@linkcode transposedGeometry}: each element sums the O·kh·kw products of the outputs it
 * fed (fewer at the edges), within γ(O·kh·kw)·Σ|g·w|.
 */
export function encodeConv2dTransposedImplicit(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  out: DeviceArray,
  p: Conv2dParams,
): void {
  const transposed = transposedGeometry(p);
  if (!transposed) throw new RangeError("conv2d: the implicit input gradient needs stride 1");
  encodeImplicit(runtime, inputs, out, transposed, true);
}
