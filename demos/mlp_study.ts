/**
 * @file The dropout study (d2l.ai, "Dropout"): a multilayer perceptron with two hidden
 * layers of 256 ReLU units, dropout 0.2 after the first and 0.5 after the second,
 * softmax cross-entropy and minibatch SGD — here on the 8×8 handwritten digits the repo
 * ships (`digits.csv.gz`: 1,797 images of 64 pixels in 0…16, classes 0–9), split into
 * 1,437 training and 360 test images with a fixed seed. `mlp.ts` is the command line
 * around it; the tests run it on short and on full settings.
 *
 * One training step is one pure function of tensors ({@linkcode makeTrainStep}):
 * (parameters, optimiser state, batch, labels, dropout key) → (parameters, state, loss),
 * built from `valueAndGrad` and the optimiser. A run compiles it with `jit`
 * (`settings.jit`, the default), the minibatch gather included, so a step is a few fused
 * kernels; each step's new dropout key makes `jit` run the function again to record it
 * (JavaScript only), and replays the compiled program. Nothing in an epoch waits for the
 * GPU: the steps are encoded back to back, and each epoch's figures (mean training
 * loss, training and test accuracy) are gathered on the device into one tensor whose
 * read resolves while the next epoch is encoded.
 */
import {
  argmax,
  astype,
  type Backend,
  concat,
  crossEntropy,
  dropout,
  equal,
  foldIn,
  jit,
  Linear,
  type LinearParams,
  minibatchRows,
  type Params,
  type RandomKey,
  randomKey,
  relu,
  reshape,
  scale,
  scope,
  SGD,
  type SgdState,
  splitKey,
  sum,
  takeRows,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";

/** Pixels per image (8×8). */
export const PIXELS = 64;
/** Digit classes. */
export const CLASSES = 10;

/** The digits as read from the CSV: pixels scaled to [0, 1] and class ids. */
export interface Digits {
  /** `count` rows of {@linkcode PIXELS} values, the 0…16 counts divided by 16. */
  readonly images: Float32Array;
  /** `count` class ids 0…9. */
  readonly labels: Float32Array;
  readonly count: number;
}

/** Where the demo's copy of the data set lives (see `DATA.md`). */
export const DIGITS_URL: URL = new URL("./digits.csv.gz", import.meta.url);

/**
 * Reads the digits from a gzipped CSV (64 pixel counts in 0…16 and the class, per
 * line), decompressed with the web-standard `DecompressionStream`.
 */
export async function readDigits(url: URL = DIGITS_URL): Promise<Digits> {
  const bytes = await Deno.readFile(url);
  let text: string;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    text = await new Response(stream).text();
  } catch (error) {
    throw new Error(`${url.pathname}: not a gzip file (${(error as Error).message})`);
  }
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const images = new Float32Array(lines.length * PIXELS);
  const labels = new Float32Array(lines.length);
  lines.forEach((line, row) => {
    const fields = line.split(",").map(Number);
    const valid = fields.length === PIXELS + 1 &&
      fields.every((v, i) => Number.isInteger(v) && v >= 0 && v <= (i < PIXELS ? 16 : 9));
    if (!valid) {
      throw new Error(
        `${url.pathname}: line ${row + 1} is not 64 pixel counts in 0…16 and a class in 0…9: "${
          line.slice(0, 60)
        }"`,
      );
    }
    fields.slice(0, PIXELS).forEach((v, i) => images[row * PIXELS + i] = v / 16);
    labels[row] = fields[PIXELS];
  });
  return { images, labels, count: lines.length };
}

/** The study's settings. */
export interface MlpSettings {
  /** Epochs per run. */
  readonly epochs: number;
  /** Learning rate of SGD. */
  readonly lr: number;
  /** Examples per minibatch. */
  readonly batchSize: number;
  /** Seed of the split, the initialisation, the shuffling and the dropout masks. */
  readonly seed: number;
  /** Images held out for testing. */
  readonly testSize: number;
  /** Units of the two hidden layers. */
  readonly hidden: readonly [number, number];
  /** Standard deviation of the initial weights and biases (d2l: 0.01). */
  readonly initStd: number;
  /** Compile the training step with `jit` (true); false runs it eagerly, op by op. */
  readonly jit: boolean;
  /**
   * The type of the weights, the images and so every activation and gradient: float32,
   * or float16 (mixed precision: half the bytes stored and moved, while every kernel
   * computes in f32 — matmul's and the reductions' sums accumulate in f32 — and rounds
   * once to float16 on store; no f32 master copy of the weights).
   */
  readonly dtype: "float32" | "float16";
}

/**
 * The defaults: the book's network, initialisation and learning rate (0.5); batches of
 * 64 rather than 256, since there are 1,437 training images rather than 60,000.
 */
export const MLP_DEFAULTS: MlpSettings = {
  epochs: 30,
  lr: 0.5,
  batchSize: 64,
  seed: 0,
  testSize: 360,
  hidden: [256, 256],
  initStd: 0.01,
  jit: true,
  dtype: "float32",
};

/** A run: its name and the dropout probabilities after the two hidden layers. */
export interface RunSpec {
  readonly name: string;
  readonly dropout: readonly [number, number];
}

/** The two runs of the study: with the book's dropout, and without. */
export const STUDY_RUNS: readonly RunSpec[] = [
  { name: "dropout", dropout: [0.2, 0.5] },
  { name: "no dropout", dropout: [0, 0] },
];

/** One split of the data on a backend. */
export interface DigitSet {
  /** Images `[n, 64]`. */
  readonly X: Tensor;
  /** Class ids `[n]`. */
  readonly labels: Tensor;
}

/** The training and test sets on a backend. */
export interface StudyData {
  readonly train: DigitSet;
  readonly test: DigitSet;
  /** Frees the four tensors. */
  dispose(): void;
}

function keys(seed: number) {
  const [split, init, shuffle, masks] = splitKey(randomKey(seed), 4);
  return { split, init, shuffle, masks };
}

/**
 * Splits the digits into training and test sets on `backend`: a permutation drawn from
 * the seed (counter-based, the same on every backend), its first `testSize` images for
 * testing.
 */
export function splitDigits(digits: Digits, backend: Backend, settings: MlpSettings): StudyData {
  const [order] = minibatchRows(digits.count, digits.count, {
    key: keys(settings.seed).split,
    epoch: 0,
  });
  const pick = (rows: readonly number[]): DigitSet => {
    const X = new Float32Array(rows.length * PIXELS);
    rows.forEach((r, i) => X.set(digits.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS));
    return {
      X: backend.tensor(X, [rows.length, PIXELS], { dtype: settings.dtype }),
      labels: backend.tensor(rows.map((r) => digits.labels[r])),
    };
  };
  const test = pick(order.slice(0, settings.testSize));
  const train = pick(order.slice(settings.testSize));
  return {
    train,
    test,
    dispose() {
      for (const t of [train.X, train.labels, test.X, test.labels]) t.dispose();
    },
  };
}

/** The minibatches of an epoch: the training rows in the epoch's shuffled order (from the seed). */
export function epochBatches(settings: MlpSettings, n: number, epoch: number): number[][] {
  return minibatchRows(n, settings.batchSize, { key: keys(settings.seed).shuffle, epoch });
}

/** The network's parameters, by name. */
export type MlpParams = Readonly<Record<(typeof PARAM_NAMES)[number], Tensor>>;

/** The parameters in a fixed order: the three layers' weights and biases. */
export const PARAM_NAMES = ["w1", "b1", "w2", "b2", "w3", "b3"] as const;

/**
 * Each parameter's shape, as PyTorch's `nn.Linear` holds it (weight `[out, in]`, bias
 * `[out]`), so saved weights load into `nn.Linear` layers as they are.
 */
export function paramShapes(settings: MlpSettings): Record<keyof MlpParams, number[]> {
  const [h1, h2] = settings.hidden;
  return { w1: [h1, PIXELS], b1: [h1], w2: [h2, h1], b2: [h2], w3: [CLASSES, h2], b3: [CLASSES] };
}

function layers(settings: MlpSettings): [Linear, Linear, Linear] {
  const [h1, h2] = settings.hidden;
  return [new Linear(PIXELS, h1), new Linear(h1, h2), new Linear(h2, CLASSES)];
}

/**
 * Initial parameters: every weight and bias drawn from N(0, initStd²), as d2l initialises
 * them (the float32 draws rounded to `settings.dtype`, so both types start alike).
 */
export function initParams(backend: Backend, settings: MlpSettings): MlpParams {
  const key = keys(settings.seed).init;
  const made = layers(settings).map((layer, i) => {
    const drawn = layer.init(backend, foldIn(key, i), settings.initStd);
    if (settings.dtype === "float32") return drawn;
    const typed = {
      weight: astype(drawn.weight, settings.dtype),
      bias: astype(drawn.bias, settings.dtype),
    };
    drawn.weight.dispose();
    drawn.bias.dispose();
    return typed;
  });
  return {
    w1: made[0].weight,
    b1: made[0].bias,
    w2: made[1].weight,
    b2: made[1].bias,
    w3: made[2].weight,
    b3: made[2].bias,
  };
}

/** Dropout while training: the probabilities after each hidden layer and a key for the masks. */
export interface Training {
  readonly dropout: readonly [number, number];
  readonly key: RandomKey;
}

/**
 * The network's logits `[n, 10]` for images `X` `[n, 64]`: Linear, ReLU, dropout,
 * Linear, ReLU, dropout, Linear. Without `training`, no dropout (evaluation).
 */
export function forward(
  settings: MlpSettings,
  params: MlpParams,
  X: Tensor,
  training?: Training,
): Tensor {
  const [l1, l2, l3] = layers(settings);
  const drop = (h: Tensor, layer: 0 | 1) => {
    const p = training?.dropout[layer] ?? 0;
    return p === 0 ? h : dropout(h, p, foldIn(training!.key, layer));
  };
  const layer = (l: Linear, weight: Tensor, bias: Tensor, x: Tensor) =>
    l.apply({ weight, bias } as LinearParams, x);
  return scope(() => {
    const h1 = drop(relu(layer(l1, params.w1, params.b1, X)), 0);
    const h2 = drop(relu(layer(l2, params.w2, params.b2, h1)), 1);
    return layer(l3, params.w3, params.b3, h2);
  });
}

/** What one training step returns; the caller owns every tensor. */
export interface StepResult {
  readonly params: MlpParams;
  readonly state: SgdState;
  /** The minibatch's mean cross-entropy before the update, a scalar. */
  readonly loss: Tensor;
}

/** One training step as a pure function of tensors (and a key), ready for `jit`. */
export type TrainStep = (
  params: MlpParams,
  state: SgdState,
  X: Tensor,
  labels: Tensor,
  key: RandomKey,
) => StepResult;

/** The study's optimiser: minibatch SGD on every parameter (d2l: `torch.optim.SGD(lr)`). */
export function makeOptimizer(settings: MlpSettings): SGD {
  return new SGD([{ params: [...PARAM_NAMES], lr: settings.lr }]);
}

/**
 * The training step of a run: the mean cross-entropy of the minibatch (with dropout
 * `rates`, masks from `key`), its gradient by `valueAndGrad`, and the optimiser's update.
 * Intermediates are freed; the arguments are left as they are.
 */
export function makeTrainStep(
  settings: MlpSettings,
  optimizer: SGD,
  rates: readonly [number, number],
): TrainStep {
  return (params, state, X, labels, key) =>
    scope(() => {
      const loss = (...values: Tensor[]) => {
        const named = Object.fromEntries(PARAM_NAMES.map((n, i) => [n, values[i]])) as MlpParams;
        return crossEntropy(forward(settings, named, X, { dropout: rates, key }), labels);
      };
      const { value, grads } = valueAndGrad(loss)(...PARAM_NAMES.map((n) => params[n]));
      const gradients: Params = Object.fromEntries(PARAM_NAMES.map((n, i) => [n, grads[i]]));
      const next = optimizer.step(params, gradients, state);
      return { params: next.params as MlpParams, state: next.state, loss: value };
    });
}

/**
 * How many of `set`'s images the network classifies right, as a float32 scalar tensor
 * (the count of bools is int32; float32, as the losses it is reported beside).
 */
export function correctCount(settings: MlpSettings, params: MlpParams, set: DigitSet): Tensor {
  return scope(() =>
    astype(
      sum(equal(argmax(forward(settings, params, set.X), { axis: 1 }), set.labels)),
      "float32",
    )
  );
}

/**
 * How many training and test images `params` classify right (no dropout), counted as the
 * runs count them after each epoch (compiled by `jit` unless `settings.jit` is false), so
 * the same weights give the same counts.
 */
export async function countCorrect(
  data: StudyData,
  params: MlpParams,
  settings: MlpSettings,
): Promise<{ train: number; test: number }> {
  const count = (p: MlpParams, set: DigitSet) => correctCount(settings, p, set);
  const compiled = settings.jit ? jit(count) : null;
  const counts = [data.train, data.test].map((set) => (compiled ?? count)(params, set));
  const [[train], [test]] = await Promise.all(counts.map((t) => t.read()));
  counts.forEach((t) => t.dispose());
  compiled?.dispose();
  return { train, test };
}

/** One run's outcome, as `mlp.json` records it. */
export interface RunResult {
  readonly name: string;
  /** Dropout after the first and the second hidden layer. */
  readonly dropout: [number, number];
  readonly lr: number;
  readonly batchSize: number;
  readonly epochs: number[];
  /** Mean cross-entropy over the epoch's minibatches (dropout on, as the steps saw it). */
  readonly trainLoss: number[];
  /** Fraction of the training images classified right after the epoch (no dropout). */
  readonly trainAccuracy: number[];
  /** Fraction of the test images classified right after the epoch (no dropout). */
  readonly testAccuracy: number[];
  /** Wall time of the run, in seconds. */
  readonly seconds: number;
}

/**
 * Progress of a run: called once per epoch, in order, as each epoch's figures arrive.
 * Returning `"stop"` ends the run before the next epoch it would start (e.g. once the
 * loss is NaN); epochs already under way still report.
 */
export type OnEpoch = (
  epoch: number,
  trainLoss: number,
  trainAccuracy: number,
  testAccuracy: number,
) => void | "stop";

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A run's network and optimiser, stepped epoch by epoch. */
export interface MlpRun {
  /**
   * Trains one epoch (every training image once, in the epoch's shuffled order) and
   * returns `[mean loss, train correct, test correct]` as one tensor, without waiting.
   */
  epoch(epoch: number): Tensor;
  /** Trains one minibatch step on the training images `rows`; returns its loss (the caller's). */
  step(rows: readonly number[]): Tensor;
  /** The current parameters (owned by the run). */
  readonly params: MlpParams;
  /** Frees the parameters and the state. */
  dispose(): void;
}

/** Initialises a run of `spec` on `data`'s backend: the same initial weights for every spec. */
export function startRun(data: StudyData, spec: RunSpec, settings: MlpSettings): MlpRun {
  const backend = data.train.X.backend;
  const optimizer = makeOptimizer(settings);
  const train = makeTrainStep(settings, optimizer, spec.dropout);
  // The minibatch gather is part of the step, so that it fuses into the first layer.
  const step = (
    params: MlpParams,
    state: SgdState,
    X: Tensor,
    labels: Tensor,
    rows: Tensor,
    key: RandomKey,
  ) => train(params, state, takeRows(X, rows), takeRows(labels, rows), key);
  // The old parameters and state are donated: the new ones may take their buffers.
  const compiledStep = settings.jit ? jit(step, { donate: [0, 1] }) : null;
  const count = (params: MlpParams, set: DigitSet) => correctCount(settings, params, set);
  const compiledCount = settings.jit ? jit(count) : null;
  const k = keys(settings.seed);
  let params = initParams(backend, settings);
  let state = optimizer.init(params);
  const n = data.train.X.shape[0];
  let steps = 0;
  const run: MlpRun = {
    step(rows) {
      const indices = backend.tensor(rows);
      const key = foldIn(k.masks, steps++);
      let next: StepResult;
      if (compiledStep) {
        next = compiledStep(params, state, data.train.X, data.train.labels, indices, key);
      } else {
        next = scope(() => step(params, state, data.train.X, data.train.labels, indices, key));
        for (const t of [...Object.values(params), ...Object.values(state.momentum)]) {
          t.dispose();
        }
      }
      indices.dispose();
      ({ params, state } = next);
      return next.loss;
    },
    epoch(epoch) {
      const losses: Tensor[] = [];
      for (const rows of epochBatches(settings, n, epoch)) {
        const loss = run.step(rows);
        losses.push(scale(loss, rows.length / n));
        loss.dispose();
      }
      return scope(() => {
        const meanLoss = sum(concat(losses.map((l) => reshape(l, [1]))));
        losses.forEach((l) => l.dispose());
        return concat([
          reshape(meanLoss, [1]),
          reshape((compiledCount ?? count)(params, data.train), [1]),
          reshape((compiledCount ?? count)(params, data.test), [1]),
        ]);
      });
    },
    get params() {
      return params;
    },
    dispose() {
      for (const t of [...Object.values(params), ...Object.values(state.momentum)]) t.dispose();
      compiledStep?.dispose();
      compiledCount?.dispose();
    },
  };
  return run;
}

/**
 * Trains one run of the study on `data`'s backend.
 *
 * @param data The split digits.
 * @param spec The run's name and dropout.
 * @param settings The settings (see {@linkcode MLP_DEFAULTS}).
 * @param onEpoch Called with each epoch's figures as they arrive.
 * @param onTrained Called with the trained parameters before they are freed (to save them).
 */
export async function runStudy(
  data: StudyData,
  spec: RunSpec,
  settings: MlpSettings,
  onEpoch: OnEpoch = () => {},
  onTrained: (params: MlpParams) => Promise<void> = () => Promise.resolve(),
): Promise<RunResult> {
  const started = performance.now();
  const run = startRun(data, spec, settings);
  const [nTrain, nTest] = [data.train.X.shape[0], data.test.X.shape[0]];
  const epochs: number[] = [], trainLoss: number[] = [];
  const trainAccuracy: number[] = [], testAccuracy: number[] = [];
  const pending: Promise<void>[] = [];
  let stop = false;
  for (let epoch = 1; epoch <= settings.epochs && !stop; epoch++) {
    const figures = run.epoch(epoch);
    pending.push(
      figures.read().then(([loss, trainCorrect, testCorrect]) => {
        epochs.push(epoch);
        trainLoss.push(loss);
        trainAccuracy.push(trainCorrect / nTrain);
        testAccuracy.push(testCorrect / nTest);
        if (onEpoch(epoch, loss, trainCorrect / nTrain, testCorrect / nTest) === "stop") {
          stop = true;
        }
      }),
    );
    figures.dispose();
    // Lets finished reads report; it does not wait for the GPU.
    await nextTask();
  }
  await Promise.all(pending);
  await onTrained(run.params);
  run.dispose();
  return {
    name: spec.name,
    dropout: [...spec.dropout],
    lr: settings.lr,
    batchSize: settings.batchSize,
    epochs,
    trainLoss,
    trainAccuracy,
    testAccuracy,
    seconds: (performance.now() - started) / 1000,
  };
}
