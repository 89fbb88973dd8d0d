/**
 * @file d2l §7.2's last experiment for demo:image: learn the 1×2 kernel that made the
 * vertical edges, by gradient descent with `conv2d`, from the picture and its edges
 * alone. d2l takes 10 steps at rate 3e-2 on the summed squared error of its 6×8 picture
 * (42 outputs); here the summed squared error is scaled by 42/M for a picture of M
 * outputs (the mean squared error × 42), so that a step means on any picture what it
 * means on d2l's: on d2l's picture the scale is 1 and the run is d2l's.
 *
 * The kernel starts as PyTorch's `nn.Conv2d` would (uniform in ±1/√fan-in, fan-in 2),
 * drawn from the demo's seed. A natural picture converges more slowly than d2l's black
 * and white one: the loss's curvature along [1, −1] is the mean squared difference of
 * neighbouring pixels, small where neighbours are alike, so that component of the
 * kernel moves little per step (the demo prints the distance to [1, −1] it reached).
 */
import {
  type Backend,
  conv2d,
  philox4x32,
  randomKey,
  reshape,
  scale,
  square,
  sub,
  sum,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";

/** d2l's picture's outputs (6 × 7): the scale the loss is brought to. */
export const D2L_OUTPUTS = 42;

/** One step's record: the loss before the step and the kernel after it. */
export interface LearnStep {
  readonly iteration: number;
  readonly loss: number;
  readonly kernel: [number, number];
}

/** A run: its settings and its steps. */
export interface LearnRun {
  readonly lr: number;
  readonly lossScale: number;
  readonly initial: [number, number];
  readonly steps: LearnStep[];
}

/** The starting kernel: two uniform values in ±1/√2 from `seed` (Philox, as every demo's). */
export function initialKernel(seed: number): [number, number] {
  const [a, b] = philox4x32([0x6b65726e, 0, 0, 0], [...randomKey(seed).words]);
  const uniform = (u: number) => (2 * (u / 2 ** 32) - 1) / Math.SQRT2;
  return [uniform(a), uniform(b)];
}

/**
 * Learns a [1, 2] kernel from `image` [H, W] and its `edges` [H, W − 1] on `backend`:
 * `iterations` steps of k ← k − lr·∇k (42/M)·Σ(conv2d(image, k) − edges)², each reported
 * to `report` as it is taken.
 */
export async function learnKernel(
  backend: Backend,
  image: Tensor,
  edges: Tensor,
  options: { iterations: number; lr: number; seed: number },
  report: (step: LearnStep) => void,
): Promise<LearnRun> {
  const [h, w] = image.shape;
  const lossScale = D2L_OUTPUTS / edges.size;
  using x = reshape(image, [1, 1, h, w]);
  using y = reshape(edges, [1, 1, h, w - 1]);
  const initial = initialKernel(options.seed);
  let k = backend.tensor(initial, [1, 1, 1, 2]);
  const loss = (kernel: Tensor) => scale(sum(square(sub(conv2d(x, kernel), y))), lossScale);
  const steps: LearnStep[] = [];
  try {
    for (let iteration = 1; iteration <= options.iterations; iteration++) {
      const { value, grads: [dk] } = valueAndGrad(loss)(k);
      const next = sub(k, scale(dk, options.lr));
      const [l] = await value.read();
      [value, dk, k].forEach((t) => t.dispose());
      k = next;
      const [a, b] = await k.read();
      const step: LearnStep = { iteration, loss: l, kernel: [a, b] };
      steps.push(step);
      report(step);
    }
  } finally {
    k.dispose();
  }
  return { lr: options.lr, lossScale, initial, steps };
}
