/**
 * @file bench:report's conv2d figures: the forward convolution and each gradient at
 * LeNet's layer sizes (d2l §7.6, batch 256) and at a VGG block's (64→64 channels, 56×56,
 * 3×3, padding 1), in GFLOP/s of the convolution's 2·N·O·H′·W′·C·kh·kw FLOPs, beside a
 * matmul of the same FLOPs ([O, C·kh·kw]·[C·kh·kw, N·H′·W′], the product im2col lowers to).
 * A gradient is timed as forward plus that gradient (`grad` with respect to one argument,
 * through Σ y·g: a product and a sum more), less the forward's time.
 */
import { conv2d, type GpuBackend, grad, matmul, mul, sum, type Tensor } from "../mod.ts";
import { benchValues } from "./_cases.ts";
import { fmt } from "./_cli.ts";

/** One convolution layer: batch, channels in, size, channels out, kernel, padding. */
interface Layer {
  readonly name: string;
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly o: number;
  readonly k: number;
  readonly padding: number;
}

/** The layers measured. */
export const CONV2D_LAYERS: readonly Layer[] = [
  {
    name: "LeNet conv1 (256×1×28×28, 6 of 5×5, pad 2)",
    n: 256,
    c: 1,
    h: 28,
    o: 6,
    k: 5,
    padding: 2,
  },
  {
    name: "LeNet conv2 (256×6×14×14, 16 of 5×5)",
    n: 256,
    c: 6,
    h: 14,
    o: 16,
    k: 5,
    padding: 0,
  },
  {
    name: "VGG block (1×64×56×56, 64 of 3×3, pad 1)",
    n: 1,
    c: 64,
    h: 56,
    o: 64,
    k: 3,
    padding: 1,
  },
];

/** Figures of one layer, GFLOP/s. */
export interface Conv2dFigures {
  readonly layer: string;
  readonly forward: number;
  readonly inputGradient: number;
  readonly weightGradient: number;
  readonly matmul: number;
}

/** Median kernel ms of `reps` calls of `run` on `backend` (bench:report's timer). */
export type GpuTime = (
  backend: GpuBackend,
  reps: number,
  run: () => Tensor,
) => Promise<number>;

/** Measures every layer of {@linkcode CONV2D_LAYERS} on `dev`. */
export async function conv2dFigures(
  dev: GpuBackend,
  reps: number,
  time: GpuTime,
  progress: (line: string) => void,
): Promise<Conv2dFigures[]> {
  const figures: Conv2dFigures[] = [];
  for (const { name, n, c, h, o, k, padding } of CONV2D_LAYERS) {
    progress(`conv2d: ${name}`);
    const out = h + 2 * padding - k + 1,
      inner = c * k * k,
      columns = n * out * out;
    const flops = 2 * o * inner * columns;
    using x = dev.tensor(benchValues(n * c * h * h, 1), [n, c, h, h]);
    using w = dev.tensor(benchValues(o * inner, 2), [o, c, k, k]);
    using g = dev.tensor(benchValues(n * o * out * out, 3), [n, o, out, out]);
    const forward = await time(dev, reps, () => conv2d(x, w, { padding }));
    const dx = await time(
      dev,
      reps,
      () => grad((a: Tensor) => sum(mul(conv2d(a, w, { padding }), g)))(x)[0],
    );
    const dw = await time(
      dev,
      reps,
      () => grad((b: Tensor) => sum(mul(conv2d(x, b, { padding }), g)))(w)[0],
    );
    using a = dev.tensor(benchValues(o * inner, 4), [o, inner]);
    using b = dev.tensor(benchValues(inner * columns, 5), [inner, columns]);
    const product = await time(dev, reps, () => matmul(a, b));
    const rate = (ms: number) => flops / ms / 1e6;
    figures.push({
      layer: name,
      forward: rate(forward),
      inputGradient: rate(Math.max(dx - forward, 1e-3)),
      weightGradient: rate(Math.max(dw - forward, 1e-3)),
      matmul: rate(product),
    });
  }
  return figures;
}

/** The figures as rows of a Markdown table. */
export function conv2dRows(figures: readonly Conv2dFigures[]): string[][] {
  return figures.map((f) => [
    f.layer,
    fmt(f.forward),
    fmt(f.inputGradient),
    fmt(f.weightGradient),
    fmt(f.matmul),
    `${fmt(f.forward / f.matmul)}×`,
  ]);
}

/** The header of {@linkcode conv2dRows}' table. */
export const CONV2D_HEADER: readonly string[] = [
  "conv2d GFLOP/s",
  "forward",
  "input gradient",
  "weight gradient",
  "matmul, same FLOPs",
  "forward / matmul",
];
