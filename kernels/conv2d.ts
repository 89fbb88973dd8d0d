/**
 * @file `conv2d`'s GPU kernels and the choice between them
 * (docs/architecture.md#kernels-chosen-per-adapter): the convolution lowered onto the
 * library's matmul by im2col (`conv2d_im2col.ts`), or direct kernels, a thread per
 * row block written (`conv2d_direct.ts`). im2col is taken where it applies — one channel
 * group, a columns matrix that fits one buffer — and the matmul's inner dimension
 * C·kh·kw is at least {@linkcode IM2COL_MIN_INNER}; the direct kernels serve grouped
 * (depthwise) convolutions and short sums.
 *
 * Measured on llvmpipe (kernel-only, timestamp queries, one run each, on a machine
 * loaded ~6× its 2 cores, so ratios more than figures): a VGG block (1×64×56×56, 64
 * kernels 3×3, padding 1; inner dimension 576) took 7,040 ms direct, 240 ms by im2col
 * with a thread per element of the columns, 125 ms with a thread per row (matmul of the
 * same FLOPs alone: 16–44 ms); LeNet's second layer (256×6×14×14, 16 kernels 5×5; inner
 * 150) 5,152 ms direct against 453 ms by im2col; LeNet's first (256×1×28×28, 6 kernels
 * 5×5, padding 2; inner 25) 2,265 ms direct against 3,393 ms by im2col, where the matmul
 * of 6 rows by 25 is itself slow (2.2–2.9 s at [6, 25]·[25, 200,704]). Folding the
 * gather into the matmul's operand reads instead (TensorFlow.js's `conv2d_mm`, through
 * matmul's hooks, the geometry as constants) took 3,911 ms for the VGG block against
 * 142 ms by im2col in the same run: the hooked kernels read B a scalar at a time, and
 * each read repeats the gather's index arithmetic for every row block.
 *
 * Those direct figures were of a thread per output. With a thread per block of 8 output
 * channels × 8 columns of a row (each input and weight read serving several sums, no
 * division in the inner loop), LeNet's first layer took 129–193 ms eagerly at batch 256
 * (best of 3, two rounds) against 208–232 ms with 4 channels × 8 columns, 169–253 ms with
 * 8 × 4, 385–550 ms with 1 × 8, and 3,164 ms in a jitted training step with a thread per
 * output (scripts/profile_lenet.ts; load average 5–8).
 * Measured again with 8 × 8 (forward only, the whole op, best of 2, two rounds): LeNet's
 * first layer (inner 25) 148–210 ms direct against 1,250–1,443 ms by im2col, its second
 * (inner 150) 295–371 against 249–256 ms, the VGG block (inner 576) 464–492 against
 * 59–63 ms: the crossover stays between 25 and 150, and {@linkcode IM2COL_MIN_INNER} at 64.
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
export type Conv2dVariant = "direct" | "im2col";

const pinned = new WeakMap<GpuRuntime, Conv2dVariant>();

/**
 * Makes every `conv2d` on `runtime` use `variant` where it applies, whatever the inner
 * dimension (tests run both this way; im2col never serves groups > 1).
 */
export function pinConv2dVariant(runtime: GpuRuntime, variant: Conv2dVariant): void {
  pinned.set(runtime, variant);
}

/** The kernel the convolution `params` describes uses on `runtime`. */
export function conv2dVariantFor(runtime: GpuRuntime, params: Conv2dParams): Conv2dVariant {
  const { groups, c, kh, kw } = params;
  const lowers = groups === 1 && im2colElements(params) <= runtime.maxElements;
  const pin = pinned.get(runtime);
  if (!lowers || pin === "direct") return "direct";
  return pin === "im2col" || c * kh * kw >= IM2COL_MIN_INNER ? "im2col" : "direct";
}

/** Encodes the convolution of `x` [n, c, h, w] with `w` [o, c/groups, kh, kw] into `out`. */
export function encodeConv2d(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  out: DeviceArray,
  params: Conv2dParams,
): void {
  const encode = conv2dVariantFor(runtime, params) === "im2col"
    ? encodeConv2dIm2col
    : encodeConv2dDirect;
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
  const encode = conv2dVariantFor(runtime, params) === "im2col"
    ? encodeConv2dTransposedIm2col
    : encodeConv2dTransposedDirect;
  encode(runtime, inputs, out, params);
}
