/**
 * @file d2l.ai's LeNet (§7.6) and LeNet with batch normalisation (§8.5) on Fashion-MNIST,
 * as the book trains them: sigmoid activations, 2×2 average pooling with stride 2,
 * Xavier-uniform weights, softmax cross-entropy, minibatch SGD (lr 0.9 and 1.0, batches
 * of 256, 10 epochs). `lenet.ts` is the command line around it.
 *
 * Each network is a table of layers ({@linkcode LENET}, {@linkcode LENET_BN}) read by
 * three small interpreters: the parameters' shapes and names, their initialisation, and
 * the forward pass. Parameters are named as PyTorch's `nn.Sequential` of the book's
 * layers names them (`0.weight`, `1.running_mean`, …), so saved weights load into the
 * book's model with `load_state_dict`.
 *
 * One training step is one pure function of tensors, compiled by `jit` with the
 * minibatch gather inside: the loss and its gradient by `valueAndGrad`, whose auxiliary
 * result ({@linkcode valueAndGrad}'s `hasAux`) carries what the same forward pass also
 * gives — the batch's right answers, for the running training accuracy the book reports,
 * and batch norm's updated moving statistics — then SGD's update. A run
 * ({@linkcode startRun}) steps it minibatch by minibatch; `lenet_run.ts` drives the
 * epochs, and `bench/lenet_peer.ts` times the same steps beside TensorFlow.js.
 */
import {
  add,
  argmax,
  astype,
  avgPool2d,
  type Backend,
  batchNorm,
  concat,
  conv2d,
  crossEntropy,
  equal,
  foldIn,
  jit,
  Linear,
  minibatchRows,
  type Params,
  philox4x32,
  type RandomKey,
  randomKey,
  reshape,
  scope,
  SGD,
  type SgdState,
  sigmoid,
  splitKey,
  sum,
  takeRows,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { type FashionMnist, type ImageSet, PIXELS, SIDE } from "./fashion_mnist.ts";

/** A layer of a network table. */
export type Layer =
  | {
    readonly kind: "conv";
    readonly out: number;
    readonly kernel: number;
    readonly padding: number;
  }
  | { readonly kind: "batchNorm" }
  | { readonly kind: "sigmoid" }
  | { readonly kind: "avgPool" }
  | { readonly kind: "flatten" }
  | { readonly kind: "dense"; readonly out: number };

const sig = { kind: "sigmoid" } as const;
const pool = { kind: "avgPool" } as const;
const norm = { kind: "batchNorm" } as const;

/** d2l §7.6's LeNet: conv 1→6 5×5 pad 2, conv 6→16 5×5, dense 120, 84, 10; sigmoid, 2×2 average pooling. */
export const LENET: readonly Layer[] = [
  { kind: "conv", out: 6, kernel: 5, padding: 2 },
  sig,
  pool,
  { kind: "conv", out: 16, kernel: 5, padding: 0 },
  sig,
  pool,
  { kind: "flatten" },
  { kind: "dense", out: 120 },
  sig,
  { kind: "dense", out: 84 },
  sig,
  { kind: "dense", out: 10 },
];

/** d2l §8.5's LeNet with batch normalisation after every convolution and hidden dense layer (its first convolution unpadded, as the book's). */
export const LENET_BN: readonly Layer[] = [
  { kind: "conv", out: 6, kernel: 5, padding: 0 },
  norm,
  sig,
  pool,
  { kind: "conv", out: 16, kernel: 5, padding: 0 },
  norm,
  sig,
  pool,
  { kind: "flatten" },
  { kind: "dense", out: 120 },
  norm,
  sig,
  { kind: "dense", out: 84 },
  norm,
  sig,
  { kind: "dense", out: 10 },
];

/** A run of the study: a network and its learning rate. */
export interface RunSpec {
  readonly name: "lenet" | "lenet-bn";
  readonly layers: readonly Layer[];
  /** The book's learning rate for it. */
  readonly lr: number;
}

/** The study's two runs, with the book's learning rates. */
export const STUDY_RUNS: readonly RunSpec[] = [
  { name: "lenet", layers: LENET, lr: 0.9 },
  { name: "lenet-bn", layers: LENET_BN, lr: 1.0 },
];

/** The study's settings. */
export interface LenetSettings {
  /** Epochs per run. */
  readonly epochs: number;
  /** The learning rate of every run, or null for the book's rate of each ({@linkcode RunSpec.lr}). */
  readonly lr: number | null;
  /** Images per minibatch. */
  readonly batchSize: number;
  /** Seed of the initialisation and the shuffling. */
  readonly seed: number;
  /** Compile the training step with `jit` (true); false runs it eagerly, op by op. */
  readonly jit: boolean;
}

/** The book's settings: 10 epochs, batches of 256, each run's own learning rate. */
export const LENET_DEFAULTS: LenetSettings = {
  epochs: 10,
  lr: null,
  batchSize: 256,
  seed: 0,
  jit: true,
};

/** A tensor's name and shape in a network's state. */
interface Slot {
  readonly name: string;
  readonly shape: readonly number[];
  /** How it starts: Xavier-uniform, PyTorch's default bias, ones or zeros. */
  readonly init: "xavier" | "bias" | "ones" | "zeros";
  /** For "xavier" and "bias": the layer's fan-in and fan-out. */
  readonly fans: readonly [number, number];
}

/**
 * The network's trained parameters and its batch norms' moving statistics (buffers, not
 * trained), each with its shape and initialisation, in PyTorch's naming: the layer's
 * index in the table, then `weight`, `bias`, `running_mean`, `running_var`.
 */
export function stateSlots(layers: readonly Layer[]): { params: Slot[]; buffers: Slot[] } {
  const params: Slot[] = [], buffers: Slot[] = [];
  let shape = [1, SIDE, SIDE]; // [C, H, W], then [features] after flatten
  layers.forEach((layer, i) => {
    const fans = (fanIn: number, fanOut: number) => [fanIn, fanOut] as const;
    if (layer.kind === "conv") {
      const [c, h, w] = shape;
      const k = layer.kernel, o = layer.out;
      const f = fans(c * k * k, o * k * k);
      params.push({ name: `${i}.weight`, shape: [o, c, k, k], init: "xavier", fans: f });
      params.push({ name: `${i}.bias`, shape: [o], init: "bias", fans: f });
      shape = [o, h + 2 * layer.padding - k + 1, w + 2 * layer.padding - k + 1];
    } else if (layer.kind === "dense") {
      const f = fans(shape[0], layer.out);
      params.push({ name: `${i}.weight`, shape: [layer.out, shape[0]], init: "xavier", fans: f });
      params.push({ name: `${i}.bias`, shape: [layer.out], init: "bias", fans: f });
      shape = [layer.out];
    } else if (layer.kind === "batchNorm") {
      const c = [shape[0]], none = fans(0, 0);
      params.push({ name: `${i}.weight`, shape: c, init: "ones", fans: none });
      params.push({ name: `${i}.bias`, shape: c, init: "zeros", fans: none });
      buffers.push({ name: `${i}.running_mean`, shape: c, init: "zeros", fans: none });
      buffers.push({ name: `${i}.running_var`, shape: c, init: "ones", fans: none });
    } else if (layer.kind === "avgPool") {
      shape = [shape[0], Math.floor(shape[1] / 2), Math.floor(shape[2] / 2)];
    } else if (layer.kind === "flatten") {
      shape = [shape.reduce((a, b) => a * b, 1)];
    }
  });
  return { params, buffers };
}

/** `n` values uniform in (−bound, bound), from the key's counter-based stream. */
function uniform(key: RandomKey, n: number, bound: number): Float32Array {
  const values = new Float32Array(n);
  for (let j = 0; j < n; j += 4) {
    const words = philox4x32([j / 4, 0, 0, 0], key.words);
    for (let k = 0; k < 4 && j + k < n; k++) {
      values[j + k] = bound * (2 * (words[k] + 0.5) / 2 ** 32 - 1);
    }
  }
  return values;
}

/** Tensors by name. */
export type Named = Record<string, Tensor>;

/**
 * The initial state of a network, as the book's `train_ch6` makes it: weights of
 * convolutions and dense layers Xavier-uniform (U(±√(6/(fan_in + fan_out))),
 * `nn.init.xavier_uniform_`), their biases PyTorch's default U(±1/√fan_in), batch
 * norms' scale 1 and shift 0, moving mean 0 and variance 1. Drawn on the host from the
 * seed, so every backend starts from the same values.
 */
export function initState(
  backend: Backend,
  layers: readonly Layer[],
  seed: number,
): { params: Named; buffers: Named } {
  const [initKey] = splitKey(randomKey(seed), 1);
  const make = (slots: Slot[]) =>
    Object.fromEntries(slots.map((slot, i) => {
      const n = slot.shape.reduce((a, b) => a * b, 1);
      const [fanIn, fanOut] = slot.fans;
      const values = slot.init === "xavier"
        ? uniform(foldIn(initKey, i), n, Math.sqrt(6 / (fanIn + fanOut)))
        : slot.init === "bias"
        ? uniform(foldIn(initKey, i), n, 1 / Math.sqrt(fanIn))
        : new Float32Array(n).fill(slot.init === "ones" ? 1 : 0);
      return [slot.name, backend.tensor(values, [...slot.shape])];
    }));
  const { params, buffers } = stateSlots(layers);
  return { params: make(params), buffers: make(buffers) };
}

/**
 * The network's logits `[n, 10]` for images `x` `[n, 1, 28, 28]`. In training, batch
 * norms normalise with the batch's statistics and `buffers` returns the updated moving
 * ones; in evaluation they use the moving ones (and `buffers` is empty).
 */
export function forward(
  layers: readonly Layer[],
  params: Named,
  buffers: Named,
  x: Tensor,
  training: boolean,
): { logits: Tensor; buffers: Named } {
  const next: Named = {};
  let h = x;
  layers.forEach((layer, i) => {
    const p = (field: string) => params[`${i}.${field}`];
    if (layer.kind === "conv") {
      const y = conv2d(h, p("weight"), { padding: layer.padding });
      h = add(y, reshape(p("bias"), [1, layer.out, 1, 1]));
    } else if (layer.kind === "dense") {
      const [out, inFeatures] = p("weight").shape;
      h = new Linear(inFeatures, out).apply({ weight: p("weight"), bias: p("bias") }, h);
    } else if (layer.kind === "batchNorm") {
      const [mean, variance] = [`${i}.running_mean`, `${i}.running_var`];
      const r = batchNorm(h, p("weight"), p("bias"), buffers[mean], buffers[variance], {
        training,
      });
      h = r.y;
      if (training) [next[mean], next[variance]] = [r.movingMean, r.movingVar];
    } else if (layer.kind === "sigmoid") h = sigmoid(h);
    else if (layer.kind === "avgPool") h = avgPool2d(h, { kernel: 2, stride: 2 });
    else h = reshape(h, [h.shape[0], h.size / h.shape[0]]);
  });
  return { logits: h, buffers: next };
}

/**
 * How many of `labels` the logits' largest entries name, as a float32 scalar tensor (the
 * count of bools is int32; float32, as the losses it is reported beside).
 */
function rightAnswers(logits: Tensor, labels: Tensor): Tensor {
  return astype(sum(equal(argmax(logits, { axis: 1 }), labels)), "float32");
}

/** The test images on a backend: images `[n, 784]` and labels `[n]`. */
export interface DeviceSet {
  readonly X: Tensor;
  readonly labels: Tensor;
}

/**
 * The data of a run: the training images on the host, each minibatch uploaded as its
 * step needs it (60,000 images are 188 MB, more than the 128 MiB a WebGPU storage
 * buffer may hold by default), and the test images on the backend.
 */
export interface StudyData {
  readonly backend: Backend;
  readonly train: ImageSet;
  readonly test: DeviceSet;
  /** Frees the test set's tensors. */
  dispose(): void;
}

/** The training images as they are and the test images on `backend`. */
export function uploadData(data: FashionMnist, backend: Backend): StudyData {
  const test = {
    X: backend.tensor(data.test.images, [data.test.count, PIXELS]),
    labels: backend.tensor(data.test.labels, [data.test.count]),
  };
  return {
    backend,
    train: data.train,
    test,
    dispose: () => [test.X, test.labels].forEach((t) => t.dispose()),
  };
}

/** The training rows `rows` as a minibatch on `backend`: images `[b, 1, 28, 28]`, labels `[b]`. */
function minibatchOf(data: StudyData, rows: readonly number[]): [Tensor, Tensor] {
  const { images, labels } = data.train;
  const x = new Float32Array(rows.length * PIXELS);
  rows.forEach((r, i) => x.set(images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS));
  return [
    data.backend.tensor(x, [rows.length, 1, SIDE, SIDE]),
    data.backend.tensor(rows.map((r) => labels[r])),
  ];
}

/** What one training step returns; the caller owns every tensor. */
interface StepResult {
  readonly params: Named;
  readonly buffers: Named;
  readonly state: SgdState;
  /** The minibatch's mean cross-entropy and right answers, `[2]`. */
  readonly figures: Tensor;
}

/**
 * The training step of a network on a minibatch `x` `[b, 1, 28, 28]` with labels `y`:
 * the mean cross-entropy's gradient, and the batch's right answers and moving
 * statistics from the same forward pass, then SGD. Intermediates are freed.
 */
function makeTrainStep(layers: readonly Layer[], optimizer: SGD) {
  return (params: Named, buffers: Named, state: SgdState, x: Tensor, y: Tensor) =>
    scope((): StepResult => {
      const names = Object.keys(params);
      const loss = (...values: Tensor[]) => {
        const named = Object.fromEntries(names.map((name, i) => [name, values[i]]));
        const out = forward(layers, named, buffers, x, true);
        const aux = { right: rightAnswers(out.logits, y), buffers: out.buffers };
        return [crossEntropy(out.logits, y), aux] as const;
      };
      const { value, grads, aux } = valueAndGrad(loss, { hasAux: true })(
        ...names.map((name) => params[name]),
      );
      const gradients: Params = Object.fromEntries(names.map((name, i) => [name, grads[i]]));
      const next = optimizer.step(params, gradients, state);
      const figures = concat([reshape(value, [1]), reshape(aux.right, [1])]);
      return { params: next.params as Named, buffers: aux.buffers, state: next.state, figures };
    });
}

/** Test images evaluated at once: bounds the activations' memory (1,000 × 6 × 28 × 28 floats). */
const EVAL_BATCH = 1000;

/** The classes the network predicts for the given test images, evaluation mode. */
export async function predict(
  layers: readonly Layer[],
  params: Named,
  buffers: Named,
  images: Tensor,
): Promise<number[]> {
  const n = images.shape[0];
  const classes = scope(() =>
    argmax(forward(layers, params, buffers, reshape(images, [n, 1, SIDE, SIDE]), false).logits, {
      axis: 1,
    })
  );
  const values = await classes.read();
  classes.dispose();
  return [...values];
}

/** A run's network and optimiser, stepped minibatch by minibatch. */
export interface LenetRun {
  /** The learning rate it trains with. */
  readonly lr: number;
  /** The minibatches of an epoch: the training rows in the epoch's shuffled order (from the seed). */
  batches(epoch: number): number[][];
  /**
   * One training step on the training rows `rows`; returns the minibatch's mean
   * cross-entropy and its right answers as a `[2]` tensor (the caller's), without waiting.
   */
  step(rows: readonly number[]): Tensor;
  /** The right answers on `set` in evaluation mode, a scalar tensor (the caller's). */
  countRight(set: DeviceSet): Tensor;
  /** The current parameters and moving statistics (the run's). */
  readonly trained: Trained;
  /** Frees the optimiser's state and the compiled programs; with `all`, the trained state too. */
  dispose(all?: boolean): void;
}

/** A trained network's state. */
export interface Trained {
  readonly params: Named;
  readonly buffers: Named;
}

/**
 * Initialises a run of `spec` on `data`'s backend (the same initial weights for a seed
 * on every backend): its step compiled by `jit` unless `settings.jit` is false.
 */
export function startRun(data: StudyData, spec: RunSpec, settings: LenetSettings): LenetRun {
  const backend = data.backend;
  const lr = settings.lr ?? spec.lr;
  const optimizer = new SGD([{ params: stateSlots(spec.layers).params.map((s) => s.name), lr }]);
  const train = makeTrainStep(spec.layers, optimizer);
  const count = (params: Named, buffers: Named, X: Tensor, labels: Tensor, rows: Tensor) =>
    scope(() => {
      const x = reshape(takeRows(X, rows), [rows.shape[0], 1, SIDE, SIDE]);
      const { logits } = forward(spec.layers, params, buffers, x, false);
      return rightAnswers(logits, takeRows(labels, rows));
    });
  // The old parameters, moving statistics and optimiser state are donated to the new ones.
  const compiledStep = settings.jit ? jit(train, { donate: [0, 1, 2] }) : null;
  const compiledCount = settings.jit ? jit(count) : null;
  let { params, buffers } = initState(backend, spec.layers, settings.seed);
  let state = optimizer.init(params);
  const shuffle = foldIn(randomKey(settings.seed), 1);
  const n = data.train.count;
  return {
    lr,
    batches: (epoch) => minibatchRows(n, settings.batchSize, { key: shuffle, epoch }),
    step(rows) {
      const [x, y] = minibatchOf(data, rows);
      const args = [params, buffers, state, x, y] as const;
      const next = compiledStep ? compiledStep(...args) : train(...args);
      x.dispose();
      y.dispose();
      if (!compiledStep) {
        for (const t of [params, buffers, state.momentum].flatMap(Object.values)) t.dispose();
      }
      ({ params, buffers, state } = next);
      return next.figures;
    },
    countRight(set) {
      const counts: Tensor[] = [];
      for (let start = 0; start < set.X.shape[0]; start += EVAL_BATCH) {
        const size = Math.min(EVAL_BATCH, set.X.shape[0] - start);
        using indices = backend.tensor(Array.from({ length: size }, (_, i) => start + i));
        counts.push((compiledCount ?? count)(params, buffers, set.X, set.labels, indices));
      }
      return scope(() => {
        const total = sum(concat(counts.map((c) => reshape(c, [1]))));
        counts.forEach((c) => c.dispose());
        return total;
      });
    },
    get trained() {
      return { params, buffers };
    },
    dispose(all = false) {
      Object.values(state.momentum).forEach((t) => t.dispose());
      compiledStep?.dispose();
      compiledCount?.dispose();
      if (all) [...Object.values(params), ...Object.values(buffers)].forEach((t) => t.dispose());
    },
  };
}
