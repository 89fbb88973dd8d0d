/**
 * @file `conv2d`: the 2-D convolution of deep learning (a cross-correlation) in PyTorch's
 * NCHW/OIHW layout, with stride, padding, dilation and groups as
 * `torch.nn.functional.conv2d` has them. Two ops carry it: the convolution, and its
 * transpose, which is the convolution's input gradient. The weight gradient is itself a
 * convolution — of the input with the output's gradient, batch and channels swapped,
 * stride and dilation exchanged — so it reuses the first op instead of a third kernel.
 *
 * The CPU references walk every (output, tap) pair of the definition in float64 once:
 * the convolution gathers along it, the transpose scatters back along it, so the two
 * are adjoint by construction and share nothing with the kernels' index arithmetic.
 */
import { type Conv2dParams, encodeConv2d, encodeConv2dTransposed } from "../kernels/conv2d.ts";
import {
  checkPadding,
  checkPair,
  type Padding2d,
  type Size2d,
  slidingSize,
} from "./_conv2d_geometry.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkInteger, checkOptions, checkRank, checkTensors } from "./_validate.ts";
import { slice } from "./layout.ts";
import { reshape, transpose } from "./shape.ts";
import { formatShape, type Tensor } from "./tensor.ts";

export type { Padding2d, Size2d };

/**
 * Options of {@linkcode conv2d} (PyTorch's meanings).
 *
 * @example
 * ```ts
 * import { conv2d, type Conv2dOptions, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
 * using w = ref.tensor([1], [1, 1, 1, 1]);
 * const options: Conv2dOptions = { padding: 1, stride: 2 };
 * using y = conv2d(x, w, options);
 * console.log(y.shape, await y.read()); // [1, 1, 2, 2] Float32Array [0, 0, 0, 4]
 * ```
 */
export interface Conv2dOptions {
  /** Step between windows, `n` or `[rows, columns]` (default 1). */
  readonly stride?: Size2d;
  /**
   * Zeros around the image: `n`, `[rows, columns]`, `[[top, bottom], [left, right]]`,
   * `"valid"` (none, the default) or `"same"` (output as large as the input; stride 1).
   */
  readonly padding?: Padding2d;
  /** Spacing between a kernel's taps, `n` or `[rows, columns]` (default 1). */
  readonly dilation?: Size2d;
  /** Channel groups (default 1; the input's channels for a depthwise convolution). */
  readonly groups?: number;
}

/**
 * Calls `visit(xi, wi, yi)` for every tap of every output of the convolution, in
 * row-major output order and, per output, the weight's row-major order; `xi` is −1 where
 * the tap reads a padded zero.
 */
function forEachTap(p: Conv2dParams, visit: (xi: number, wi: number, yi: number) => void): void {
  const cg = p.c / p.groups, og = p.o / p.groups;
  let yi = 0;
  for (let b = 0; b < p.n; b++) {
    for (let oc = 0; oc < p.o; oc++) {
      const c0 = Math.floor(oc / og) * cg;
      for (let y = 0; y < p.oh; y++) {
        for (let x = 0; x < p.ow; x++, yi++) {
          for (let ci = 0; ci < cg; ci++) {
            for (let i = 0; i < p.kh; i++) {
              const row = y * p.sh + i * p.dh - p.top;
              for (let j = 0; j < p.kw; j++) {
                const col = x * p.sw + j * p.dw - p.left;
                const inside = row >= 0 && row < p.h && col >= 0 && col < p.w;
                const xi = inside ? ((b * p.c + c0 + ci) * p.h + row) * p.w + col : -1;
                visit(xi, ((oc * cg + ci) * p.kh + i) * p.kw + j, yi);
              }
            }
          }
        }
      }
    }
  }
}

const conv2dOp: OpDefinition<Conv2dParams> = {
  name: "conv2d",
  reference([x, w], params) {
    const sums = new Float64Array(params.n * params.o * params.oh * params.ow);
    // A padded zero is multiplied like any value (0·∞ is NaN), as in the padded image.
    forEachTap(params, (xi, wi, yi) => sums[yi] += (xi < 0 ? 0 : x[xi]) * w[wi]);
    return Float32Array.from(sums);
  },
  kernel: encodeConv2d,
  vjp(g, [x, w], params, needed) {
    return [
      needed[0] ? convolveTransposed(g, w, params) : null,
      needed[1] ? weightGradient(x, g, params) : null,
    ];
  },
};

/** The transposed convolution: inputs are the output's gradient and the weight. */
const conv2dTransposedOp: OpDefinition<Conv2dParams> = {
  name: "conv2d (input gradient)",
  reference([g, w], params) {
    const sums = new Float64Array(params.n * params.c * params.h * params.w);
    forEachTap(params, (xi, wi, yi) => {
      if (xi >= 0) sums[xi] += g[yi] * w[wi];
    });
    return Float32Array.from(sums);
  },
  kernel: encodeConv2dTransposed,
  vjp(gx, [g, w], params, needed) {
    // ⟨gx, Tᵀ(g, w)⟩ = ⟨T(gx, w), g⟩, and the weight's part is the weight gradient of the
    // convolution whose input is gx and whose output's gradient is g.
    return [
      needed[0] ? convolve(gx, w, params) : null,
      needed[1] ? weightGradient(gx, g, params) : null,
    ];
  },
};

/** The convolution `params` describes, of validated `x` and `w`. */
function convolve(x: Tensor, w: Tensor, params: Conv2dParams): Tensor {
  return runOp(conv2dOp, [x, w], params, [params.n, params.o, params.oh, params.ow]);
}

/** The gradient of the convolution `params` describes with respect to its input, given `g`. */
function convolveTransposed(g: Tensor, w: Tensor, params: Conv2dParams): Tensor {
  return runOp(conv2dTransposedOp, [g, w], params, [params.n, params.c, params.h, params.w]);
}

/**
 * The gradient of the convolution `p` describes with respect to its weight, given its
 * input `x` and its output's gradient `g`: dw[o, c, i, j] = Σ_{b,y,x} g[b, o, y, x]·
 * x[b, c, y·sh + i·dh − top, x·sw + j·dw − left], which is a convolution of the input
 * (channels as the batch, the batch as channels, per group) with the gradient as the
 * kernel, stride and dilation exchanged, cut to the kernel's size.
 */
function weightGradient(x: Tensor, g: Tensor, p: Conv2dParams): Tensor {
  const cg = p.c / p.groups, og = p.o / p.groups;
  // [n, c, h, w] → [cg, groups·n, h, w]: channel (group, b) of image ci.
  const images = reshape(
    transpose(reshape(x, [p.n, p.groups, cg, p.h, p.w]), [2, 1, 0, 3, 4]),
    [cg, p.groups * p.n, p.h, p.w],
  );
  // [n, o, oh, ow] → [o, n, oh, ow]: output channel o's kernel over the batch.
  const kernels = reshape(
    transpose(reshape(g, [p.n, p.groups, og, p.oh, p.ow]), [1, 2, 0, 3, 4]),
    [p.o, p.n, p.oh, p.ow],
  );
  const params: Conv2dParams = {
    n: cg,
    c: p.groups * p.n,
    h: p.h,
    w: p.w,
    o: p.o,
    kh: p.oh,
    kw: p.ow,
    oh: Math.floor((p.h + p.top + p.bottom - p.sh * (p.oh - 1) - 1) / p.dh) + 1,
    ow: Math.floor((p.w + p.left + p.right - p.sw * (p.ow - 1) - 1) / p.dw) + 1,
    sh: p.dh,
    sw: p.dw,
    dh: p.sh,
    dw: p.sw,
    top: p.top,
    bottom: p.bottom,
    left: p.left,
    right: p.right,
    groups: p.groups,
  };
  // [cg, o, oh′ ≥ kh, ow′ ≥ kw] → [o, cg, kh, kw].
  const full = convolve(images, kernels, params);
  return transpose(slice(full, [0, 0, 0, 0], [cg, p.o, p.kh, p.kw]), [1, 0, 2, 3]);
}

/**
 * 2-D convolution (cross-correlation, as deep learning means it) of a batch of images,
 * with PyTorch's layout and semantics: `x` [N, C, H, W] and `w` [O, C/groups, kh, kw]
 * give [N, O, H′, W′], with H′ = ⌊(H + top + bottom − dilation·(kh − 1) − 1) / stride⌋ + 1,
 * `y[b, o, y, x] = Σ_{c, i, j} x[b, g·C/groups + c, y·sh + i·dh − top, x·sw + j·dw − left]·
 * w[o, c, i, j]` for o in channel group g, padded positions reading zeros. Differentiable
 * in both arguments.
 *
 * @param x The images, `[N, C, H, W]`.
 * @param w The kernels, `[O, C/groups, kh, kw]`; O divisible by groups.
 * @param options Stride, padding, dilation and groups.
 * @returns A new `[N, O, H′, W′]` tensor.
 * @example
 * ```ts
 * import { conv2d, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([1, 1, 0, 0, 1, 1, 0, 0], [1, 1, 2, 4]);
 * using k = ref.tensor([1, -1], [1, 1, 1, 2]); // vertical edges
 * using edges = conv2d(x, k, { padding: "same" });
 * console.log(edges.shape, await edges.read()); // [1, 1, 2, 4] Float32Array [0, 1, 0, 0, 0, 1, 0, 0]
 * ```
 */
export function conv2d(x: Tensor, w: Tensor, options?: Conv2dOptions): Tensor {
  checkArity("conv2d", arguments, 3);
  const op = "conv2d";
  const [images, kernels] = checkTensors(op, { x, w });
  checkRank(op, "x", images, 4);
  checkRank(op, "w", kernels, 4);
  const o = checkOptions(op, options, false, ["stride", "padding", "dilation", "groups"]);
  const [sh, sw] = checkPair(op, "stride", o.stride === undefined ? 1 : o.stride);
  const [dh, dw] = checkPair(op, "dilation", o.dilation === undefined ? 1 : o.dilation);
  const groups = checkInteger(op, "groups", o.groups === undefined ? 1 : o.groups, { min: 1 });
  const [n, c, h, width] = images.shape;
  const [outChannels, cg, kh, kw] = kernels.shape;
  if (c % groups !== 0 || outChannels % groups !== 0) {
    throw new RangeError(
      `${op}: expected input and output channels divisible by groups (${groups}), got ${c} input and ${outChannels} output channels`,
    );
  }
  if (cg !== c / groups) {
    throw new RangeError(
      `${op}: expected w to have C/groups = ${c / groups} input channels (x ${
        formatShape(images.shape)
      }, groups ${groups}), got w ${formatShape(kernels.shape)}`,
    );
  }
  const extent = [dh * (kh - 1) + 1, dw * (kw - 1) + 1] as const;
  const [top, bottom, left, right] = checkPadding(
    op,
    o.padding === undefined ? "valid" : o.padding,
    extent,
    [sh, sw],
  );
  const oh = slidingSize(op, "height", h, extent[0], top, bottom, sh);
  const ow = slidingSize(op, "width", width, extent[1], left, right, sw);
  const params: Conv2dParams = {
    ...{ n, c, h, w: width, o: outChannels, kh, kw, oh, ow, sh, sw, dh, dw },
    ...{ top, bottom, left, right, groups },
  };
  return convolve(images, kernels, params);
}
