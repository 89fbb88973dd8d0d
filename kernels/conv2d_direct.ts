/**
 * @file `conv2d`'s direct kernels (PyTorch's NCHW/OIHW layout), for the convolutions the
 * im2col lowering does not take (see `conv2d.ts` for the choice): the forward
 * convolution, a thread per block of outputs (channels × columns of a row), and its transpose (the input gradient), a thread
 * per input element gathering the outputs it fed.
 *
 * The forward kernel multiplies padded positions as zeros (0·w, so an infinite weight
 * meets a padded zero as NaN, as padding the image and then convolving does) and sums
 * each output's C/groups·kh·kw products in the weight's row-major order (channel, row,
 * column): its error is at most γ(C/groups·kh·kw)·Σ|x·w|. The transposed kernel sums
 * the (O/groups)·kh·kw products of the outputs that read its element, at most as many.
 *
 * Launch: workgroups of 64 threads, in row-major order of the result's elements (the
 * forward kernel's of its blocks), folded into more dimensions past the per-dimension
 * limit.
 */
import { range } from "./_matmul_shared.ts";
import { packUniforms, tiledMain } from "./_shared.ts";
import type { Conv2dParams } from "./conv2d.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 64;

/** WGSL: the uniform block of both kernels. */
const PARAMS_WGSL = /* wgsl */ `
struct Params {
  n: u32, c: u32, h: u32, w: u32, o: u32, kh: u32, kw: u32, oh: u32, ow: u32,
  sh: u32, sw: u32, dh: u32, dw: u32, top: u32, left: u32, cg: u32, og: u32, total: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${tiledMain(THREADS)}
  let idx = tile * ${THREADS}u + li;
  if (idx >= params.total) { return; }`;

/** Output columns a thread of the forward kernel computes, side by side. */
const COLUMNS = 8;
/** Output channels (of one group) a thread of the forward kernel computes. */
const CHANNELS = 8;

/** `f(k, t)` for every channel k and column t of a thread's block. */
const eachOutput = (f: (k: number, t: number) => string) =>
  range(CHANNELS).flatMap((k) => range(COLUMNS).map((t) => f(k, t)));

/** WGSL: the block's inputs at a tap, one per column (padded positions zeros). */
const TAP_INPUTS = range(COLUMNS).map((t) =>
  `let ix${t} = first + ${t} * i32(params.sw);
        let v${t} = select(0.0, src[row + u32(clamp(ix${t}, 0, lastColumn))], ` +
  `rowInside && ix${t} >= 0 && ix${t} <= lastColumn);`
).join("\n        ");

/** WGSL: the stores of the block, the channels and columns past the end left out. */
const BLOCK_STORES = eachOutput((k, t) =>
  `if (firstChannel + ${k}u < ocEnd && q0 + ${t}u < params.ow) { ` +
  `out[((b * params.o + oc${k}) * params.oh + p) * params.ow + q0 + ${t}u] = acc${k}_${t}; }`
).join("\n  ");

/**
 * WGSL: the forward convolution; `src` is x [n, c, h, w], `out` [n, o, oh, ow]. A thread
 * computes {@linkcode CHANNELS} output channels of one group × {@linkcode COLUMNS}
 * neighbouring columns of one row (`total` counts such blocks): at each tap it reads
 * COLUMNS inputs and CHANNELS weights for CHANNELS·COLUMNS multiply-adds, straight-line
 * code with no division, which llvmpipe vectorises. Channels and columns past the end are
 * computed on clamped reads and not stored.
 */
const FORWARD_WGSL = /* wgsl */ `${PARAMS_WGSL}
  let blocks = (params.ow + ${COLUMNS - 1}u) / ${COLUMNS}u;
  let channelBlocks = (params.og + ${CHANNELS - 1}u) / ${CHANNELS}u;
  let q0 = (idx % blocks) * ${COLUMNS}u;
  let p = (idx / blocks) % params.oh;
  let rest = idx / (blocks * params.oh);
  let group = (rest / channelBlocks) % (params.o / params.og);
  let b = rest / (channelBlocks * (params.o / params.og));
  let firstChannel = group * params.og + (rest % channelBlocks) * ${CHANNELS}u;
  let ocEnd = (group + 1u) * params.og;
  ${range(CHANNELS).map((k) => `let oc${k} = min(firstChannel + ${k}u, ocEnd - 1u);`).join("\n  ")}
  ${eachOutput((k, t) => `var acc${k}_${t} = 0.0;`).join("\n  ")}
  let lastColumn = i32(params.w) - 1;
  for (var ci = 0u; ci < params.cg; ci++) {
    let plane = (b * params.c + group * params.cg + ci) * params.h;
    for (var i = 0u; i < params.kh; i++) {
      let iy = i32(p * params.sh + i * params.dh) - i32(params.top);
      let rowInside = iy >= 0 && iy < i32(params.h);
      let row = (plane + u32(clamp(iy, 0, i32(params.h) - 1))) * params.w;
      ${
  range(CHANNELS).map((k) =>
    `let taps${k} = ((oc${k} * params.cg + ci) * params.kh + i) * params.kw;`
  )
    .join("\n      ")
}
      for (var j = 0u; j < params.kw; j++) {
        let first = i32(q0 * params.sw + j * params.dw) - i32(params.left);
        ${TAP_INPUTS}
        ${range(CHANNELS).map((k) => `let w${k} = weight[taps${k} + j];`).join("\n        ")}
        ${eachOutput((k, t) => `acc${k}_${t} += v${t} * w${k};`).join("\n        ")}
      }
    }
  }
  ${BLOCK_STORES}
}
`;

/**
 * WGSL: the transposed convolution (the input gradient); `src` is the output's gradient
 * [n, o, oh, ow], `out` [n, c, h, w]. Element (r, a) was read by output (p, q) through tap
 * (i, j) where r + top = p·sh + i·dh and a + left = q·sw + j·dw.
 */
const TRANSPOSED_WGSL = /* wgsl */ `${PARAMS_WGSL}
  let a = idx % params.w;
  let r = (idx / params.w) % params.h;
  let ch = (idx / (params.w * params.h)) % params.c;
  let b = idx / (params.w * params.h * params.c);
  let group = ch / params.cg;
  let ci = ch % params.cg;
  var acc = 0.0;
  for (var oi = 0u; oi < params.og; oi++) {
    let oc = group * params.og + oi;
    let plane = (b * params.o + oc) * params.oh;
    let taps = (oc * params.cg + ci) * params.kh;
    for (var i = 0u; i < params.kh; i++) {
      let ty = i32(r + params.top) - i32(i * params.dh);
      if (ty < 0 || u32(ty) % params.sh != 0u || u32(ty) / params.sh >= params.oh) { continue; }
      let row = (plane + u32(ty) / params.sh) * params.ow;
      for (var j = 0u; j < params.kw; j++) {
        let tx = i32(a + params.left) - i32(j * params.dw);
        if (tx < 0 || u32(tx) % params.sw != 0u || u32(tx) / params.sw >= params.ow) { continue; }
        acc += src[row + u32(tx) / params.sw] * weight[(taps + i) * params.kw + j];
      }
    }
  }
  out[idx] = acc;
}
`;

/** Dispatches one of the two kernels over `total` threads. */
function dispatchConv2d(
  runtime: GpuRuntime,
  transposed: boolean,
  buffers: readonly DeviceArray[],
  p: Conv2dParams,
  total: number,
): void {
  const words = [
    ...[p.n, p.c, p.h, p.w, p.o, p.kh, p.kw, p.oh, p.ow, p.sh, p.sw, p.dh, p.dw, p.top, p.left],
    ...[p.c / p.groups, p.o / p.groups, total],
  ];
  runtime.dispatch({
    op: "conv2d",
    key: transposed ? "conv2d/direct-transposed" : "conv2d/direct",
    wgsl: () => transposed ? TRANSPOSED_WGSL : FORWARD_WGSL,
    uniforms: packUniforms(words.map((u32) => ({ u32 }))),
    buffers,
    workgroups: Math.ceil(total / THREADS),
  });
}

/** Encodes the convolution of `x` [n, c, h, w] with `w` [o, c/groups, kh, kw] into `out`. */
export function encodeConv2dDirect(
  runtime: GpuRuntime,
  [x, w]: readonly DeviceArray[],
  out: DeviceArray,
  params: Conv2dParams,
): void {
  const { n, oh, ow, groups } = params;
  const blocks = groups * Math.ceil(params.o / groups / CHANNELS) * oh * Math.ceil(ow / COLUMNS);
  dispatchConv2d(runtime, false, [x, w, out], params, n * blocks);
}

/**
 * Encodes the transposed convolution of `g` [n, o, oh, ow] with `w` [o, c/groups, kh, kw]
 * into `out` [n, c, h, w]: the gradient of the convolution `params` describes with
 * respect to its input.
 */
export function encodeConv2dTransposedDirect(
  runtime: GpuRuntime,
  [g, w]: readonly DeviceArray[],
  out: DeviceArray,
  params: Conv2dParams,
): void {
  const { n, c, h, w: width } = params;
  dispatchConv2d(runtime, true, [g, w, out], params, n * c * h * width);
}
