/**
 * @file `conv2d` lowered onto the library's matmul (one GEMM implementation, chosen and
 * tuned per shape as every matmul is): im2col gathers the padded image into columns,
 * cols[(c, i, j)][(b, y, x)] = x[b, c, y·sh + i·dh − top, x·sw + j·dw − left] (a padded
 * position a zero), so that the convolution is w [O, C·kh·kw] · cols [C·kh·kw, N·H′·W′];
 * its input gradient is the reverse, dcols = wᵀ·g, then col2im sums each element's
 * entries of dcols. Where the batch has more than one image, the matmul's [O, N, H′·W′]
 * is permuted to (or, for the gradient, from) NCHW's [N, O, H′·W′] by a copy.
 *
 * The forward sums are matmul's over C·kh·kw products (the padded zeros multiplied, as in
 * the direct kernel): γ(C·kh·kw)·Σ|x·w|. The input gradient sums O products per entry of
 * dcols, then at most kh·kw entries: within γ(O + kh·kw)·Σ|g·w|.
 *
 * Launch of the three gathers: 64 threads a workgroup, a thread per row written (per
 * block of a row, for col2im).
 */
import { packUniforms, tiledMain } from "./_shared.ts";
import type { Conv2dParams } from "./conv2d.ts";
import { range } from "./_matmul_shared.ts";
import { encodeMatmul } from "./matmul.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 64;

/**
 * WGSL: the sizes every gather reads, its two bindings and the thread's row `idx` (a
 * thread writes a whole row of its result: on llvmpipe a thread per element spends more
 * on starting threads than on moving data).
 */
const HEAD = /* wgsl */ `
struct Params {
  n: u32, c: u32, h: u32, w: u32, kh: u32, kw: u32, oh: u32, ow: u32,
  sh: u32, sw: u32, dh: u32, dw: u32, top: u32, left: u32, o: u32, rows: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${tiledMain(THREADS)}
  let idx = tile * ${THREADS}u + li;
  if (idx >= params.rows) { return; }`;

/** WGSL: cols [C·kh·kw, N·H′·W′] from x [N, C, H, W]; a row is one (tap, image, y). */
const IM2COL_WGSL = /* wgsl */ `${HEAD}
  let y = idx % params.oh;
  let b = (idx / params.oh) % params.n;
  let k = idx / (params.oh * params.n);
  let j = k % params.kw;
  let i = (k / params.kw) % params.kh;
  let c = k / (params.kw * params.kh);
  let iy = i32(y * params.sh + i * params.dh) - i32(params.top);
  let rowInside = iy >= 0 && iy < i32(params.h);
  let row = ((b * params.c + c) * params.h + u32(clamp(iy, 0, i32(params.h) - 1))) * params.w;
  let base = idx * params.ow;
  for (var x = 0u; x < params.ow; x++) {
    let ix = i32(x * params.sw + j * params.dw) - i32(params.left);
    let inside = rowInside && ix >= 0 && ix < i32(params.w);
    dst[base + x] = select(0.0, src[row + u32(clamp(ix, 0, i32(params.w) - 1))], inside);
  }
}
`;

/** Columns of dx a thread of col2im writes, side by side. */
const COL2IM_COLUMNS = 8;

/**
 * WGSL: dx [N, C, H, W] from dcols [C·kh·kw, N·H′·W′], each element the sum of its taps'
 * entries; a thread is one (image, channel, r) and a block of {@linkcode COL2IM_COLUMNS}
 * columns (`rows` counts such blocks). The strides are constants of the shader, so that
 * the tests of which taps read an element compile to no division for stride 1; each
 * kernel row's test is made once for the block, and the block's taps are straight-line
 * code, an invalid tap adding a zero (the accumulators start at +0, so no sign changes).
 */
function col2imWgsl(sh: number, sw: number): string {
  const columns = range(COL2IM_COLUMNS);
  return /* wgsl */ `${HEAD}
  let blocks = (params.w + ${COL2IM_COLUMNS - 1}u) / ${COL2IM_COLUMNS}u;
  let a0 = (idx % blocks) * ${COL2IM_COLUMNS}u;
  let line = idx / blocks;
  let r = line % params.h;
  let c = (line / params.h) % params.c;
  let b = line / (params.h * params.c);
  let columns = params.n * params.oh * params.ow;
  let lastColumn = i32(params.ow) - 1;
  ${columns.map((t) => `var acc${t} = 0.0;`).join("\n  ")}
  for (var i = 0u; i < params.kh; i++) {
    let ty = i32(r + params.top) - i32(i * params.dh);
    if (ty < 0 || ty % ${sh} != 0 || ty / ${sh} >= i32(params.oh)) { continue; }
    let row = (b * params.oh + u32(ty / ${sh})) * params.ow;
    for (var j = 0u; j < params.kw; j++) {
      let tap = ((c * params.kh + i) * params.kw + j) * columns + row;
      let tx = i32(a0 + params.left) - i32(j * params.dw);
      ${
    columns.map((t) =>
      `let q${t} = (tx + ${t}) / ${sw};
      acc${t} += select(0.0, src[tap + u32(clamp(q${t}, 0, lastColumn))], ` +
      `tx + ${t} >= 0 && (tx + ${t}) % ${sw} == 0 && q${t} <= lastColumn);`
    ).join("\n      ")
  }
    }
  }
  ${
    columns.map((t) =>
      `if (a0 + ${t}u < params.w) { dst[line * params.w + a0 + ${t}u] = acc${t}; }`
    )
      .join("\n  ")
  }
}
`;
}

/**
 * WGSL: [A, B, H′·W′] → [B, A, H′·W′], with A in the `o` word and B in the `n` word; a
 * row is one plane.
 */
const PERMUTE_WGSL = /* wgsl */ `${HEAD}
  let plane = params.oh * params.ow;
  let a = idx % params.o;
  let b = idx / params.o;
  let source = (a * params.n + b) * plane;
  for (var p = 0u; p < plane; p++) { dst[idx * plane + p] = src[source + p]; }
}
`;

/** Dispatches one gather of `rows` threads; `kind` names its shader in the pipeline key. */
function gather(
  runtime: GpuRuntime,
  kind: string,
  wgsl: string,
  [src, dst]: readonly DeviceArray[],
  p: Conv2dParams,
  rows: number,
): void {
  const words = [p.n, p.c, p.h, p.w, p.kh, p.kw, p.oh, p.ow, p.sh, p.sw, p.dh, p.dw, p.top, p.left];
  runtime.dispatch({
    op: "conv2d",
    key: `conv2d/${kind}`,
    wgsl: () => wgsl,
    uniforms: packUniforms([...words, p.o, rows].map((u32) => ({ u32 }))),
    buffers: [src, dst],
    workgroups: Math.ceil(rows / THREADS),
  });
}

/** Elements of the columns matrix of `params`' convolution (groups 1). */
export function im2colElements({ n, c, kh, kw, oh, ow }: Conv2dParams): number {
  return c * kh * kw * n * oh * ow;
}

/** Encodes the convolution (groups 1) as im2col, a matmul and, for N > 1, a permutation. */
export function encodeConv2dIm2col(
  runtime: GpuRuntime,
  [x, w]: readonly DeviceArray[],
  out: DeviceArray,
  p: Conv2dParams,
): void {
  const columns = p.n * p.oh * p.ow, k = p.c * p.kh * p.kw;
  const cols = runtime.allocate("conv2d", k * columns);
  gather(runtime, "im2col", IM2COL_WGSL, [x, cols], p, k * p.n * p.oh);
  const product = p.n === 1 ? out : runtime.allocate("conv2d", p.o * columns);
  const shape = { m: p.o, k, n: columns, transposeA: false, transposeB: false };
  encodeMatmul(runtime, [w, cols], product, shape);
  runtime.release(cols);
  if (product !== out) {
    // [O, N, H′·W′] → [N, O, H′·W′].
    gather(runtime, "permute", PERMUTE_WGSL, [product, out], p, p.o * p.n);
    runtime.release(product);
  }
}

/** Encodes the input gradient (groups 1) of `g` [N, O, H′, W′]: dcols = wᵀ·g, then col2im. */
export function encodeConv2dTransposedIm2col(
  runtime: GpuRuntime,
  [g, w]: readonly DeviceArray[],
  out: DeviceArray,
  p: Conv2dParams,
): void {
  const columns = p.n * p.oh * p.ow, k = p.c * p.kh * p.kw;
  let gradient = g;
  if (p.n > 1) {
    gradient = runtime.allocate("conv2d", p.o * columns);
    // [N, O, H′·W′] → [O, N, H′·W′].
    const swapped = { ...p, o: p.n, n: p.o };
    gather(runtime, "permute", PERMUTE_WGSL, [g, gradient], swapped, p.o * p.n);
  }
  const dcols = runtime.allocate("conv2d", k * columns);
  const shape = { m: k, k: p.o, n: columns, transposeA: true, transposeB: false };
  encodeMatmul(runtime, [w, gradient], dcols, shape);
  if (gradient !== g) runtime.release(gradient);
  const blocks = p.n * p.c * p.h * Math.ceil(p.w / COL2IM_COLUMNS);
  gather(runtime, `col2im-${p.sh}x${p.sw}`, col2imWgsl(p.sh, p.sw), [dcols, out], p, blocks);
  runtime.release(dcols);
}
