/**
 * @file The weight-decay study (`docs/decay-study.md`) as a library of its own: its
 * data, its two training variants, and one run of either, built from the library's ops,
 * autodiff and optimiser. `decay.ts` is the command line around it; the tests run it on
 * short and on full settings.
 *
 * A training step — the minibatch gather, the loss, its gradient and the SGD update —
 * is one function of the parameters, the data and a row-index tensor, compiled with
 * `jit` (`settings.jit`, the default): on the GPU it replays a few fused kernels per
 * step, and since only tensors change from step to step (the rows travel as a tensor),
 * every step after the first replays without running the function again. With
 * `jit: false` the same function runs eagerly, one kernel per op, for comparison.
 *
 * Nothing in a run waits for the GPU between steps, and every fifth epoch the train and
 * test losses are computed on the device, gathered into one tensor and read without
 * stopping the next steps (the read resolves while they are encoded).
 */
import {
  add,
  type Backend,
  concat,
  type Dataset,
  evaluateLoss,
  foldIn,
  type GpuBackend,
  grad,
  jit,
  l2Penalty,
  Linear,
  linreg,
  mean,
  minibatchRows,
  mseLoss,
  randomKey,
  randomNormal,
  reshape,
  scale,
  scope,
  SGD,
  splitKey,
  squaredLoss,
  sum,
  syntheticData,
  takeRows,
  type Tensor,
} from "../mod.ts";

/** A run: the from-scratch variant with penalty λ, or the concise one with weight decay λ. */
export interface RunSpec {
  /** `scratch` (section 1) or `concise` (section 2). */
  readonly variant: "scratch" | "concise";
  /** λ: the L2 penalty (scratch) or SGD's weight decay on the weight (concise). */
  readonly lambda: number;
}

/** The study's settings; the defaults are the note's. */
export interface StudySettings {
  /** Epochs per run (150). */
  readonly epochs: number;
  /** Learning rate (0.005). */
  readonly lr: number;
  /** Seed of everything random: data, initialisation, shuffling. */
  readonly seed: number;
  /** Examples per minibatch (5). */
  readonly batchSize: number;
  /** Training examples (20). */
  readonly nTrain: number;
  /** Test examples (100). */
  readonly nTest: number;
  /** Input dimension (200). */
  readonly numInputs: number;
  /** Losses are evaluated every this many epochs (5). */
  readonly evaluateEvery: number;
  /** Compile the training step with `jit` (true); false runs it eagerly, op by op. */
  readonly jit: boolean;
}

/** The note's settings. */
export const STUDY_DEFAULTS: StudySettings = {
  epochs: 150,
  lr: 0.005,
  seed: 0,
  batchSize: 5,
  nTrain: 20,
  nTest: 100,
  numInputs: 200,
  evaluateEvery: 5,
  jit: true,
};

/** The outcome of one run, as written to `decay.json`. */
export interface RunResult {
  /** E.g. `scratch λ=15`. */
  readonly name: string;
  readonly variant: "scratch" | "concise";
  readonly lambda: number;
  readonly lr: number;
  /** Epochs at which the losses were evaluated. */
  readonly epochs: number[];
  /** Mean loss over the training set at those epochs (squared loss with ½ for scratch, MSE for concise). */
  readonly train: number[];
  /** The same over the test set. */
  readonly test: number[];
  /** ‖w‖ (the weight) at the end. */
  readonly wNorm: number;
  /** ‖w‖ at initialisation. */
  readonly wNormInitial: number;
  /** Wall time of the run, in seconds. */
  readonly seconds: number;
  /** The final weight, row-major. */
  readonly w: number[];
  /** The initial weight, row-major. */
  readonly wInitial: number[];
  /** GPU dispatches of one training step (measured on a step after the first); null on the CPU. */
  readonly dispatchesPerStep: number | null;
}

/** The study's data: `y = 0.01·Σx + 0.05 + ε` with 200 inputs, 20 train and 100 test examples. */
export interface StudyData {
  readonly train: Dataset;
  readonly test: Dataset;
  /** Frees the four tensors. */
  dispose(): void;
}

/** The run names as the note writes them: `scratch λ=15`, `concise wd=-2`. */
export function runName(spec: RunSpec): string {
  return `${spec.variant} ${spec.variant === "scratch" ? "λ" : "wd"}=${spec.lambda}`;
}

function keys(seed: number) {
  const [train, test, init, shuffle] = splitKey(randomKey(seed), 4);
  return { train, test, init, shuffle };
}

/** Makes the study's data on `backend` from the seed. */
export function makeStudyData(backend: Backend, settings: StudySettings): StudyData {
  const k = keys(settings.seed);
  return scope(() => {
    const w = backend.tensor(new Float32Array(settings.numInputs).fill(0.01), [
      settings.numInputs,
      1,
    ]);
    const train = syntheticData({ w, b: 0.05, n: settings.nTrain, key: k.train });
    const test = syntheticData({ w, b: 0.05, n: settings.nTest, key: k.test });
    return {
      train,
      test,
      dispose() {
        for (const t of [train.X, train.y, test.X, test.y]) t.dispose();
      },
    };
  });
}

/**
 * A run's initial parameters on `backend`, drawn from the seed: `{ w, b }` for the
 * scratch variant (w ~ N(0, 1) of shape [numInputs, 1], b = 0), `{ weight, bias }` for
 * the concise one (both ~ N(0, 1), as `nn.Linear`'s re-initialised [1, numInputs] and [1]).
 */
export function initialParams(
  backend: Backend,
  spec: RunSpec,
  settings: StudySettings,
): Record<string, Tensor> {
  const init = keys(settings.seed).init;
  return spec.variant === "scratch"
    ? {
      w: randomNormal(backend, [settings.numInputs, 1], foldIn(init, 0)),
      b: backend.tensor([0], [1]),
    }
    : { ...new Linear(settings.numInputs, 1).init(backend, foldIn(init, 1)) };
}

/** The training rows of each minibatch of `epoch`, shuffled from the seed. */
export function epochBatches(settings: StudySettings, epoch: number): number[][] {
  const key = keys(settings.seed).shuffle;
  return minibatchRows(settings.nTrain, settings.batchSize, { key, epoch });
}

/** A variant's parameters, loss, model and optimiser. */
interface Trainer {
  params: Record<string, Tensor>;
  readonly weightName: string;
  readonly optimizer: SGD;
  /** The minibatch objective, a function of the parameters in `names` order. */
  objective(batch: Dataset): (...params: Tensor[]) => Tensor;
  readonly names: readonly string[];
  /** The model with parameters `params`, and the loss its curves report. */
  net(params: Record<string, Tensor>, X: Tensor): Tensor;
  readonly loss: (yHat: Tensor, y: Tensor) => Tensor;
}

function scratchTrainer(
  params: Record<string, Tensor>,
  spec: RunSpec,
  settings: StudySettings,
): Trainer {
  const trainer: Trainer = {
    params,
    weightName: "w",
    names: ["w", "b"],
    // sgd: param −= lr·grad/batch_size, for w and b; the penalty is in the loss.
    optimizer: new SGD([{ params: ["w", "b"], lr: settings.lr, batchSize: settings.batchSize }]),
    // l = squared_loss(Xw + b, y) + λ·l2_penalty(w), broadcast onto each example; l.sum().
    objective: (batch) => (w, b) =>
      sum(add(squaredLoss(linreg(batch.X, w, b), batch.y), scale(l2Penalty(w), spec.lambda))),
    net: (params, X) => linreg(X, params.w, params.b),
    loss: squaredLoss,
  };
  return trainer;
}

function conciseTrainer(
  params: Record<string, Tensor>,
  spec: RunSpec,
  settings: StudySettings,
): Trainer {
  const layer = new Linear(settings.numInputs, 1);
  const trainer: Trainer = {
    // nn.Linear(200, 1): weight [1, 200] and bias [1].
    params,
    weightName: "weight",
    names: ["weight", "bias"],
    // SGD with two groups: the weight with weight_decay = wd, the bias without.
    optimizer: new SGD([
      { params: ["weight"], lr: settings.lr, weightDecay: spec.lambda },
      { params: ["bias"], lr: settings.lr },
    ]),
    // MSELoss(reduction='none'), mean over the batch.
    objective: (batch) => (weight, bias) =>
      mean(mseLoss(layer.apply({ weight, bias }, batch.X), batch.y)),
    net: (params, X) => layer.apply({ weight: params.weight, bias: params.bias }, X),
    loss: mseLoss,
  };
  return trainer;
}

/**
 * Progress of a run: called at every evaluation, in epoch order, as the evaluations are
 * read (together, at most every 250 ms). Returning `"stop"` ends the run before the next
 * epoch it would start (e.g. once a loss is NaN); the evaluations read with it still report.
 */
export type OnEvaluation = (epoch: number, train: number, test: number) => void | "stop";

/** One run's model and optimiser, stepped by {@linkcode StudyRun.step}. */
export interface StudyRun {
  /** One SGD step on the training rows `rows`: no wait for the GPU, intermediates freed. */
  step(rows: readonly number[]): void;
  /** Train and test loss as one two-element tensor on the device (the caller disposes it). */
  losses(): Tensor;
  /** The current weight (owned by the run). */
  weight(): Tensor;
  /** Frees the parameters and the compiled programs. */
  dispose(): void;
}

/**
 * Initialises a run of `spec` on `data`'s backend, ready to step.
 *
 * @param data The study's data.
 * @param spec Which variant, and λ.
 * @param settings The settings.
 * @param params The initial parameters, on `data`'s backend, taken over by the run (it
 * frees them); by default {@linkcode initialParams} from the seed.
 */
export function startRun(
  data: StudyData,
  spec: RunSpec,
  settings: StudySettings,
  params: Record<string, Tensor> = initialParams(data.train.X.backend, spec, settings),
): StudyRun {
  const backend = data.train.X.backend;
  const trainer = spec.variant === "scratch"
    ? scratchTrainer(params, spec, settings)
    : conciseTrainer(params, spec, settings);
  // The step: gather the minibatch, differentiate the objective, update (new parameters).
  const step = (params: Record<string, Tensor>, X: Tensor, y: Tensor, rows: Tensor) => {
    const batch = { X: takeRows(X, rows), y: takeRows(y, rows) };
    const grads = grad(trainer.objective(batch))(...trainer.names.map((n) => params[n]));
    return trainer.optimizer.step(
      params,
      Object.fromEntries(trainer.names.map((n, i) => [n, grads[i]])),
    );
  };
  const losses = (params: Record<string, Tensor>, train: Dataset, test: Dataset) =>
    concat(
      [train, test].map((set) =>
        reshape(evaluateLoss((X) => trainer.net(params, X), set, trainer.loss), [1])
      ),
    );
  // The parameters' buffers may hold the new parameters: the old ones are donated.
  const compiledStep = settings.jit ? jit(step, { donate: [0] }) : null;
  const compiledLosses = settings.jit ? jit(losses) : null;
  return {
    step(rows) {
      const indices = backend.tensor(rows);
      try {
        if (compiledStep) {
          trainer.params = compiledStep(trainer.params, data.train.X, data.train.y, indices);
        } else {
          const next = scope(() => step(trainer.params, data.train.X, data.train.y, indices));
          Object.values(trainer.params).forEach((t) => t.dispose());
          trainer.params = next;
        }
      } finally {
        indices.dispose();
      }
    },
    losses: () =>
      compiledLosses
        ? compiledLosses(trainer.params, data.train, data.test)
        : scope(() => losses(trainer.params, data.train, data.test)),
    weight: () => trainer.params[trainer.weightName],
    dispose: () => {
      Object.values(trainer.params).forEach((t) => t.dispose());
      compiledStep?.dispose();
      compiledLosses?.dispose();
    },
  };
}

/**
 * How often a run reads its pending evaluations: every read waits for the GPU to finish
 * all it was given (Deno's `mapAsync` blocks until the queue is idle) and then ~11 ms
 * more, so the losses stay on the device and are read together, at most this often.
 */
const READ_EVERY_MS = 250;

/**
 * Trains one run of the study on `data`'s backend.
 *
 * @param data The study's data.
 * @param spec Which variant, and λ.
 * @param settings The settings (see {@linkcode STUDY_DEFAULTS}).
 * @param onEvaluation Called with the losses at each evaluation, in order; they are read
 * from the device together, at most every 250 ms and at the end.
 */
export async function runStudy(
  data: StudyData,
  spec: RunSpec,
  settings: StudySettings,
  onEvaluation: OnEvaluation = () => {},
): Promise<RunResult> {
  const started = performance.now();
  const run = startRun(data, spec, settings);
  // A copy of the initial weight (the steps write over the weight's buffer), read with the
  // last evaluations: a read of its own would wait for the GPU and ~11 ms more.
  const initialWeight = reshape(run.weight(), [run.weight().size]);
  const epochs: number[] = [], train: number[] = [], test: number[] = [];
  const shuffle = keys(settings.seed).shuffle;
  let stop = false;
  const backend = data.train.X.backend;
  const gpu = backend.kind === "webgpu" ? backend as GpuBackend : null;
  let dispatchesPerStep: number | null = null;
  // Evaluations computed but not read yet: their epochs, and [train, test] each.
  const pending: { epoch: number; losses: Tensor }[] = [];
  let lastRead = performance.now();
  /** Reads the pending evaluations and `also` (flattened) in one read; reports the former. */
  const readPending = async (...also: Tensor[]): Promise<Float32Array> => {
    using all = scope(() =>
      concat([...pending.map((p) => p.losses), ...also.map((t) => reshape(t, [t.size]))])
    );
    // Float32: every loss and weight here is (read() gives the array of the tensor's type).
    const values = Float32Array.from(await all.read());
    const read = pending.splice(0);
    read.forEach(({ losses }) => losses.dispose());
    read.forEach(({ epoch }, i) => {
      epochs.push(epoch);
      train.push(values[2 * i]);
      test.push(values[2 * i + 1]);
      if (onEvaluation(epoch, values[2 * i], values[2 * i + 1]) === "stop") stop = true;
    });
    lastRead = performance.now();
    return values;
  };

  for (let epoch = 1; epoch <= settings.epochs && !stop; epoch++) {
    const batches = minibatchRows(settings.nTrain, settings.batchSize, { key: shuffle, epoch });
    for (const [i, rows] of batches.entries()) {
      // One step after the first (which compiles) is counted.
      const counted: boolean = gpu !== null && dispatchesPerStep === null && (epoch > 1 || i > 0);
      const before: number = counted ? gpu!.stats().dispatches : 0;
      run.step(rows);
      if (counted) dispatchesPerStep = gpu!.stats().dispatches - before;
    }
    if (epoch % settings.evaluateEvery === 0 || epoch === settings.epochs) {
      pending.push({ epoch, losses: run.losses() });
      if (performance.now() - lastRead >= READ_EVERY_MS) await readPending();
    }
  }
  const pendingCount = pending.length;
  const last = await readPending(initialWeight, run.weight());
  const size = initialWeight.size;
  const wInitial = [...last.subarray(2 * pendingCount, 2 * pendingCount + size)];
  const w = [...last.subarray(2 * pendingCount + size)];
  initialWeight.dispose();
  run.dispose();
  return {
    name: runName(spec),
    variant: spec.variant,
    lambda: spec.lambda,
    lr: settings.lr,
    epochs,
    train,
    test,
    wNorm: Math.hypot(...w),
    wNormInitial: Math.hypot(...wInitial),
    seconds: (performance.now() - started) / 1000,
    w,
    wInitial,
    dispatchesPerStep,
  };
}
