/**
 * @file `conv2d`'s GPU kernels and the choice between them
 * (docs/architecture.md#kernels-chosen-per-adapter): an implicit GEMM, the gather folded
 * into a register-tiled product's texel reads (`conv2d_implicit.ts`); the convolution
 * lowered onto the library's matmul by im2col (`conv2d_im2col.ts`); or direct kernels, a
 * thread per block of a row written (`conv2d_direct.ts`). The implicit kernel is taken
 * wherever it applies (one channel group, textures that fit the adapter's sides) on
 * every adapter class; where it does not, im2col where it applies (one group, a columns
 * matrix that fits one buffer) and the matmul's inner dimension C·kh·kw is at least
 * {@linkcode IM2COL_MIN_INNER}; the direct kernels serve grouped (depthwise)
 * convolutions and short sums.
 *
 * Measured on llvmpipe (kernel-only, timestamp queries, medians of 7 interleaved calls,
 * one run, the machine shared): the VGG block (1×64×56×56, 64 kernels 3×3, padding 1;
 * inner dimension 576) 34.9 ms implicit, 66.3 ms by im2col, against 25.1 ms for the
 * matmul of its im2col shape ([64, 576]·[576, 3,136]): 0.72× the matmul's GFLOP/s, was
 * 0.38× by im2col (0.80× and 0.75× in two more such runs, medians of 5 and 9; the
 * sequential `bench:report --only conv2d`, at load average ~11, gave 0.51×). LeNet at batch 256 (medians of 3): the first layer (256×1×28×28, 6
 * kernels 5×5, padding 2; inner 25) 9.2 ms implicit, 60.0 direct, 442 by im2col; the
 * second (256×6×14×14, 16 kernels 5×5; inner 150) 15.8 ms implicit, 414 direct, 268 by
 * im2col. Not measured on a GPU: the implicit kernel's texel reads suit one as well, and
 * the rule takes it there too until a measurement says otherwise. The input gradient at
 * stride 1 is a convolution too (of the output's gradient, the weights flipped), which
 * the implicit kernel takes where it applies (LeNet's second layer at batch 256, in a
 * jitted step: 12 + 33 ms against 300 by im2col: 13 to permute, 82 for the matmul, 208
 * for col2im); otherwise im2col's or the direct kernel's, by the lowering's rule.
 *
 * Earlier figures, before the implicit kernel (llvmpipe, kernel-only, one run each, a
 * machine loaded ~6× its 2 cores, so ratios more than figures): the VGG block took 7,040
 * ms direct with a thread per output, 240 ms by im2col with a thread per element of the
 * columns, 125 ms with a thread per row; folding the gather into matmul's hooks (the
 * geometry as constants) took 3,911 ms against 142 ms by im2col in the same run, since
 * the hooked kernels then read B a scalar at a time, repeating the gather's index
 * arithmetic for every row block (through the texture kernels' hooked packing, once per
 * element, it still cost a packing pass of B as long as the product). With a thread per
 * block of 8 output channels × 8 columns of a row, the direct kernel took 148–210 ms for
 * LeNet's first layer against 1,250–1,443 ms by im2col, 295–371 against 249–256 ms for
 * its second, 464–492 against 59–63 ms for the VGG block: the crossover between them
 * stays between inner dimensions 25 and 150, and {@linkcode IM2COL_MIN_INNER} at 64.
 *
 * The weight gradient has a kernel of its own (`conv2d_weight_gradient.ts`): as a
 * convolution it lowered onto a matmul of huge inner dimension and few threads (LeNet's
 * two layers: 1,041 and 4,953 ms in that jitted step; 85–150 and 175–202 ms now, eager,
 * best of 3).
 */
import { encodeConv2dDirect, encodeConv2dTransposedDirect } from "./conv2d_direct.ts";
import {
  encodeConv2dIm2col,
  encodeConv2dTransposedIm2col,
  im2colElements,
} from "./conv2d_im2col.ts";
import {
  encodeConv2dImplicit,
  encodeConv2dTransposedImplicit,
  implicitSupports,
  implicitTransposedSupports,
} from "./conv2d_implicit.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** The geometry of one convolution, validated: sizes, stride, dilation, padding, groups. */
export interface Conv2dParams {
  /** Images in the batch. */
  readonly n: number;
  /** Input channels. */
  readonly c: number;
  /** Input height. */
  readonly h: number;
  /** Input width. */
  readonly w: number;
  /** Output channels. */
  readonly o: number;
  /** Kernel height. */
  readonly kh: number;
  /** Kernel width. */
  readonly kw: number;
  /** Output height: ⌊(h + top + bottom − dh·(kh − 1) − 1) / sh⌋ + 1. */
  readonly oh: number;
  /** Output width: ⌊(w + left + right − dw·(kw − 1) − 1) / sw⌋ + 1. */
  readonly ow: number;
  /** Vertical stride. */
  readonly sh: number;
  /** Horizontal stride. */
  readonly sw: number;
  /** Vertical dilation. */
  readonly dh: number;
  /** Horizontal dilation. */
  readonly dw: number;
  /** Zero rows above the image. */
  readonly top: number;
  /** Zero rows below the image. */
  readonly bottom: number;
  /** Zero columns left of the image. */
  readonly left: number;
  /** Zero columns right of the image. */
  readonly right: number;
  /** Channel groups: input channel group g feeds output channel group g only. */
  readonly groups: number;
}

/** The shortest inner dimension C·kh·kw for which im2col beat the direct kernel. */
export const IM2COL_MIN_INNER = 64;

/** A `conv2d` kernel's name. */
export type Conv2dVariant = "direct" | "im2col" | "implicit";

const pinned = new WeakMap<GpuRuntime, Conv2dVariant>();

/**
 * Makes every `conv2d` on `runtime` use `variant` where it applies, whatever the inner
 * dimension (tests run each this way; implicit and im2col never serve groups > 1, and
 * the implicit variant's input gradient is im2col's, or the direct kernel's where im2col
 * does not apply).
 */
export function pinConv2dVariant(runtime: GpuRuntime, variant: Conv2dVariant): void {
  pinned.set(runtime, variant);
}

/**
 * The lowering (im2col or direct) of the convolution `params` describes on `runtime`:
 * what its input gradient runs, and its forward where the implicit kernel does not.
 */
function loweredVariant(runtime: GpuRuntime, params: Conv2dParams): "direct" | "im2col" {
  const { groups, c, kh, kw } = params;
  const pin = pinned.get(runtime);
  const lowers = groups === 1 && im2colElements(params) <= runtime.maxElements;
  if (!lowers || pin === "direct") return "direct";
  return pin === "im2col" || c * kh * kw >= IM2COL_MIN_INNER ? "im2col" : "direct";
}

/** The kernel the convolution `params` describes uses on `runtime`. */
export function conv2dVariantFor(runtime: GpuRuntime, params: Conv2dParams): Conv2dVariant {
  const pin = pinned.get(runtime) ?? "implicit";
  if (pin === "implicit" && implicitSupports(runtime, params)) return "implicit";
  return loweredVariant(runtime, params);
}

/** Each variant's forward kernel. */
const FORWARD: Readonly<Record<Conv2dVariant, typeof encodeConv2dDirect>> = {
  direct: encodeConv2dDirect,
  im2col: encodeConv2dIm2col,
  implicit: encodeConv2dImplicit,
};

/** Encodes the convolution of `x` [n, c, h, w] with `w` [o, c/groups, kh, kw] into `out`. */
export function encodeConv2d(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  out: DeviceArray,
  params: Conv2dParams,
): void {
  const encode = FORWARD[conv2dVariantFor(runtime, params)];
  encode(runtime, inputs, out, params);
}

/**
 * Encodes the transposed convolution of `g` [n, o, oh, ow] with `w` [o, c/groups, kh, kw]
 * into `out` [n, c, h, w]: the gradient of the convolution `params` describes with
 * respect to its input.
 */
export function encodeConv2dTransposed(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  out: DeviceArray,
  params: Conv2dParams,
): void {
  const implicit = (pinned.get(runtime) ?? "implicit") === "implicit" &&
    implicitTransposedSupports(runtime, params);
  const encode = implicit
    ? encodeConv2dTransposedImplicit
    : loweredVariant(runtime, params) === "im2col"
    ? encodeConv2dTransposedIm2col
    : encodeConv2dTransposedDirect;
  encode(runtime, inputs, out, params);
}
