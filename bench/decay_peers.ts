/**
 * @file The weight-decay study (`demos/decay_study.ts`, `docs/decay-study.md`) timed
 * whole on five implementations: ours compiled with `jit` on WebGPU (the demo's
 * default), ours eager on WebGPU (`--no-jit`), ours on the CPU reference
 * (`--backend cpu`), jax-js with its `jit` on WebGPU, and TensorFlow.js on its WebGPU
 * backend; each peer is written as its own users would write it. `deno task bench:peers`
 * runs it after the op comparison (or alone with `--only decay`).
 *
 * All five run the same computation on the same numbers: the data, the initial
 * parameters and the minibatch order are made once by our CPU reference from the
 * study's seed and code (`makeStudyData`, `initialParams`, `epochBatches`), and the
 * same float32 values go to every implementation. One driver times them all: the four
 * runs of 600 steps, the train and test losses computed on the device every 5 epochs
 * and read back together at most every 250 ms (as the demo does: in Deno every read
 * waits for the device to finish all it was given), and the final weight read. Every study's final losses, ‖w‖ and weight are checked against the CPU
 * reference's (see {@linkcode checkAgreement}), so no implementation can be faster by
 * doing less; a disagreement stops the bench.
 *
 * Each implementation runs alone in a fresh process (`deno run … decay_peers.ts --child
 * NAME`), as its users would run it: no other library's devices, threads or garbage
 * share its process (in one process, ours ran 15–30% slower after a tfjs and a jax-js
 * study than before them). The process opens the device and uploads the data, then
 * times a cold study (the first: compilation and first-use costs are in) and
 * {@linkcode WARM_STUDIES} warm ones. `reps` processes per implementation, interleaved
 * in a rotating order so that load on the machine hits all alike; medians of the cold
 * and of the warm studies. Ratios are ours (jit) over each implementation: below 1,
 * ours is faster. (jax-js 0.1.25 slows from study to study in one process: each
 * multi-pass dispatch makes a uniform buffer it never destroys, left to the garbage
 * collector; with a forced collection between studies it does not slow. Its warm
 * figure includes that, its cold one does not.)
 */
// The whole of TensorFlow.js, as its users import it: tfjs-core alone registers no
// gradients, and its module that does cannot be loaded outside a bundler.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import * as jax from "@jax-js/jax";
import { concat, cpu, type Dataset, gpu, reshape, type Tensor } from "../mod.ts";
import {
  epochBatches,
  initialParams,
  makeStudyData,
  runName,
  type RunSpec,
  startRun,
  STUDY_DEFAULTS,
  type StudySettings,
} from "../demos/decay_study.ts";
import { fmt, markdownTable, median, parseBenchArgs, writeResult } from "./_cli.ts";

const np = jax.numpy;
type JaxArray = jax.Array;

/** The demo's four runs (`deno task demo:decay` without `--runs`). */
const SPECS: readonly RunSpec[] = [
  { variant: "scratch", lambda: 0 },
  { variant: "scratch", lambda: 15 },
  { variant: "concise", lambda: 0 },
  { variant: "concise", lambda: -2 },
];
const SETTINGS: StudySettings = STUDY_DEFAULTS;

/** Float32 values and their shape. */
interface HostArray {
  readonly values: Float32Array<ArrayBuffer>;
  readonly shape: readonly number[];
}

/** A run's parameters on the host: the weight and the bias. */
interface HostParams {
  readonly weight: HostArray;
  readonly bias: HostArray;
}

/** Everything every implementation is given, made once by our CPU reference. */
interface StudyInputs {
  readonly train: { readonly X: HostArray; readonly y: HostArray };
  readonly test: { readonly X: HostArray; readonly y: HostArray };
  /** Initial parameters of each run of {@linkcode SPECS}. */
  readonly init: readonly HostParams[];
  /** The minibatches' rows of each epoch (index 0 is epoch 1). */
  readonly batches: readonly (readonly (readonly number[])[])[];
}

async function hostArray(t: Tensor): Promise<HostArray> {
  return { values: new Float32Array(await t.read()), shape: [...t.shape] };
}

/** The study's data, initial parameters and minibatch order, from the seed. */
async function makeInputs(): Promise<StudyInputs> {
  const ref = cpu();
  const data = makeStudyData(ref, SETTINGS);
  const [trainX, trainY, testX, testY] = await Promise.all(
    [data.train.X, data.train.y, data.test.X, data.test.y].map(hostArray),
  );
  data.dispose();
  const init = await Promise.all(SPECS.map(async (spec) => {
    const params = Object.values(initialParams(ref, spec, SETTINGS));
    const [weight, bias] = await Promise.all(params.map(hostArray));
    params.forEach((p) => p.dispose());
    return { weight, bias };
  }));
  const batches = Array.from({ length: SETTINGS.epochs }, (_, i) => epochBatches(SETTINGS, i + 1));
  return { train: { X: trainX, y: trainY }, test: { X: testX, y: testY }, init, batches };
}

/** Losses computed on an implementation's device: its own tensor, opaque to the driver. */
type Evaluation = unknown;

/** One run in progress, as the driver sees it. */
interface PeerRun {
  /** One SGD step on the training rows `rows`, without waiting for the device. */
  step(rows: readonly number[]): void;
  /** Computes the train and test losses on the device, not read yet. */
  losses(): Evaluation;
  /**
   * Reads evaluations (and frees them) in one read, each flattened, in order: [train,
   * test] of each, then the weight's values where {@linkcode PeerRun.weight} made one.
   */
  read(evaluations: readonly Evaluation[]): Promise<Float32Array>;
  /** The weight, flattened, as a value on the device that `read` frees. */
  weight(): Evaluation;
  /** Frees the run's parameters and compiled functions. */
  dispose(): void;
}

/** An implementation with its device open and the data on it. */
interface Session {
  /** Starts a run of `spec` from the given initial parameters. */
  start(spec: RunSpec, init: HostParams): PeerRun;
  /** Frees the data (and the device, where the session owns it). */
  close(): void;
}

/** One of the five implementations. */
interface Implementation {
  /** Its name on the command line (`--child NAME`). */
  readonly id: string;
  /** Its label in the table. */
  readonly label: string;
  /** Opens the device and uploads the data (not timed). */
  open(inputs: StudyInputs): Promise<Session>;
}

/** Ours, from `demos/decay_study.ts`, on the GPU (compiled or eager) or the CPU reference. */
function ours(id: string, label: string, backend: "gpu" | "cpu", jit: boolean): Implementation {
  return {
    id,
    label,
    async open(inputs) {
      const dev = backend === "gpu" ? await gpu() : cpu();
      const tensor = (a: HostArray) => dev.tensor(a.values, a.shape);
      const set = (s: StudyInputs["train"]): Dataset => ({ X: tensor(s.X), y: tensor(s.y) });
      const train = set(inputs.train), test = set(inputs.test);
      const data = {
        train,
        test,
        dispose: () => [train.X, train.y, test.X, test.y].forEach((t) => t.dispose()),
      };
      const settings = { ...SETTINGS, jit };
      return {
        start(spec, init) {
          const [weight, bias] = spec.variant === "scratch" ? ["w", "b"] : ["weight", "bias"];
          const run = startRun(data, spec, settings, {
            [weight]: tensor(init.weight),
            [bias]: tensor(init.bias),
          });
          return {
            step: (rows) => run.step(rows),
            losses: () => run.losses(),
            async read(evaluations) {
              const list = evaluations as Tensor[];
              using all = concat(list);
              list.forEach((t) => t.dispose());
              return Float32Array.from(await all.read());
            },
            weight: () => reshape(run.weight(), [run.weight().size]),
            dispose: () => run.dispose(),
          };
        },
        close() {
          data.dispose();
          if (dev.kind === "webgpu") dev.destroy();
        },
      };
    },
  };
}

/**
 * jax-js: the step — gather, `grad` of the objective, SGD update — and the evaluation
 * are each one `jit`-compiled function of the parameters (a pytree) and the data, on its
 * WebGPU device; arrays are passed by ownership (`.ref` keeps one), as jax-js requires.
 */
function jaxJs(label: string): Implementation {
  return {
    id: "jax-js",
    label,
    async open(inputs) {
      if (!(await jax.init("webgpu")).includes("webgpu")) {
        throw new Error("decay peers: jax-js could not start its WebGPU backend");
      }
      jax.defaultDevice("webgpu");
      const array = (a: HostArray) => np.array(a.values, { shape: [...a.shape] });
      const X = array(inputs.train.X), y = array(inputs.train.y);
      const Xtest = array(inputs.test.X), ytest = array(inputs.test.y);
      return {
        start(spec, init) {
          type Params = { weight: JaxArray; bias: JaxArray };
          const scratch = spec.variant === "scratch";
          // Xw + b (scratch, w [d, 1]) or X·Wᵀ + b (nn.Linear, W [1, d]).
          const net = (p: Params, X: JaxArray) =>
            np.matmul(X, scratch ? p.weight : p.weight.transpose()).add(p.bias);
          // Per example: ½(ŷ − y)² (scratch) or (ŷ − y)² (concise).
          const loss = (yHat: JaxArray, y: JaxArray) =>
            scratch ? np.square(yHat.sub(y)).mul(0.5) : np.square(yHat.sub(y));
          // Scratch: Σ over the batch of the loss plus λ·½‖w‖²; concise: the mean loss.
          const objective = (p: Params, Xb: JaxArray, yb: JaxArray) => {
            if (!scratch) return loss(net(p, Xb), yb).mean();
            const penalty = np.square(p.weight.ref).sum().mul(0.5 * spec.lambda);
            return loss(net(p, Xb), yb).add(penalty).sum();
          };
          // p − lr·(g·(1/B) + wd·p): scratch divides by B, concise decays the weight.
          const update = (p: JaxArray, g: JaxArray, batch: number, wd: number) =>
            p.ref.sub(g.mul(1 / batch).add(p.mul(wd)).mul(SETTINGS.lr));
          const step = jax.jit((p: Params, X: JaxArray, y: JaxArray, rows: JaxArray) => {
            const Xb = np.take(X, rows.ref, 0), yb = np.take(y, rows, 0);
            const g = jax.grad(objective)(jax.tree.ref(p), Xb, yb);
            const batch = scratch ? SETTINGS.batchSize : 1;
            return {
              weight: update(p.weight, g.weight, batch, scratch ? 0 : spec.lambda),
              bias: update(p.bias, g.bias, batch, 0),
            };
          });
          const losses = jax.jit((
            p: Params,
            X: JaxArray,
            y: JaxArray,
            Xt: JaxArray,
            yt: JaxArray,
          ) => np.stack([loss(net(jax.tree.ref(p), X), y).mean(), loss(net(p, Xt), yt).mean()]));
          let params: Params = { weight: array(init.weight), bias: array(init.bias) };
          return {
            step(rows) {
              const indices = np.array(Int32Array.from(rows), { dtype: np.int32 });
              params = step(params, X.ref, y.ref, indices);
            },
            losses: () => losses(jax.tree.ref(params), X.ref, y.ref, Xtest.ref, ytest.ref),
            // concatenate consumes the evaluations, data() the result.
            read: async (evaluations) =>
              Float32Array.from(await np.concatenate(evaluations as JaxArray[]).data()),
            weight: () => np.ravel(params.weight.ref),
            dispose() {
              jax.tree.dispose(params);
              step.dispose();
              losses.dispose();
            },
          };
        },
        close: () => jax.tree.dispose([X, y, Xtest, ytest]),
      };
    },
  };
}

/**
 * TensorFlow.js: the parameters are `tf.variable`s; a step takes the minibatch with
 * `tf.gather`, the gradients with `tf.variableGrads`, and assigns the SGD update, all
 * inside `tf.tidy`. (`tf.train.sgd` has neither weight decay nor a learning rate per
 * parameter, which the concise runs need, so the update is written out.)
 */
function tfjs(label: string): Implementation {
  return {
    id: "tfjs",
    label,
    async open(inputs) {
      if (!(await tf.setBackend("webgpu"))) {
        throw new Error("decay peers: TensorFlow.js could not start its WebGPU backend");
      }
      await tf.ready();
      const tensor = (a: HostArray) => tf.tensor(a.values, [...a.shape]);
      const X = tensor(inputs.train.X), y = tensor(inputs.train.y);
      const Xtest = tensor(inputs.test.X), ytest = tensor(inputs.test.y);
      return {
        start(spec, init) {
          const scratch = spec.variant === "scratch";
          const weight = tf.variable(tensor(init.weight));
          const bias = tf.variable(tensor(init.bias));
          // Xw + b (scratch) or X·Wᵀ + b (nn.Linear).
          const net = (X: tf.Tensor) =>
            tf.add(tf.matMul(X as tf.Tensor2D, weight as tf.Tensor2D, false, !scratch), bias);
          const loss = (yHat: tf.Tensor, y: tf.Tensor) =>
            scratch ? tf.mul(tf.square(tf.sub(yHat, y)), 0.5) : tf.square(tf.sub(yHat, y));
          const objective = (Xb: tf.Tensor, yb: tf.Tensor): tf.Scalar => {
            if (!scratch) return tf.mean(loss(net(Xb), yb));
            const penalty = tf.mul(tf.sum(tf.square(weight)), 0.5 * spec.lambda);
            return tf.sum(tf.add(loss(net(Xb), yb), penalty));
          };
          const update = (p: tf.Variable, g: tf.Tensor, batch: number, wd: number) =>
            p.assign(tf.sub(p, tf.mul(tf.add(tf.mul(g, 1 / batch), tf.mul(p, wd)), SETTINGS.lr)));
          return {
            step(rows) {
              tf.tidy(() => {
                const indices = tf.tensor1d(Int32Array.from(rows), "int32");
                const [Xb, yb] = [tf.gather(X, indices), tf.gather(y, indices)];
                const { grads } = tf.variableGrads(() => objective(Xb, yb), [weight, bias]);
                const batch = scratch ? SETTINGS.batchSize : 1;
                update(weight, grads[weight.name], batch, scratch ? 0 : spec.lambda);
                update(bias, grads[bias.name], batch, 0);
              });
            },
            losses: () =>
              tf.tidy(() => tf.stack([tf.mean(loss(net(X), y)), tf.mean(loss(net(Xtest), ytest))])),
            async read(evaluations) {
              const list = evaluations as tf.Tensor[];
              const all = tf.concat(list);
              const values = await all.data();
              [all, ...list].forEach((t) => t.dispose());
              return Float32Array.from(values);
            },
            weight: () => tf.reshape(weight, [-1]),
            dispose: () => [weight, bias].forEach((v) => v.dispose()),
          };
        },
        close: () => [X, y, Xtest, ytest].forEach((t) => t.dispose()),
      };
    },
  };
}

/** The outcome of one run of a study: the last evaluation's losses and the final weight. */
interface RunOutcome {
  readonly name: string;
  readonly train: number;
  readonly test: number;
  readonly wNorm: number;
  readonly w: readonly number[];
}

/** A timed study. */
interface StudyOutcome {
  /** Wall seconds of the four runs, from the first run's start to the last weight read. */
  readonly seconds: number;
  readonly runs: readonly RunOutcome[];
}

/**
 * How often the driver reads pending evaluations, as `runStudy` does (a read waits for
 * the device to finish everything queued, so evaluations are read together).
 */
const READ_EVERY_MS = 250;

/**
 * The study on `session`, timed whole: per run, every step in order, the losses every
 * `evaluateEvery` epochs and at the last (kept on the device and read together at most
 * every 250 ms, as `runStudy` does), the last ones read with the final weight.
 */
async function timeStudy(session: Session, inputs: StudyInputs): Promise<StudyOutcome> {
  const started = performance.now();
  const runs: RunOutcome[] = [];
  for (const [i, spec] of SPECS.entries()) {
    const run = session.start(spec, inputs.init[i]);
    let pending: Evaluation[] = [];
    let lastRead = performance.now();
    let train = NaN, test = NaN; // the last evaluation read
    /** Reads the pending evaluations, then `also`'s values, which it returns. */
    const readPending = async (...also: Evaluation[]) => {
      const count = pending.length;
      const values = await run.read([...pending, ...also]);
      if (count > 0) [train, test] = values.subarray(2 * count - 2, 2 * count);
      pending = [];
      lastRead = performance.now();
      return values.subarray(2 * count);
    };
    for (let epoch = 1; epoch <= SETTINGS.epochs; epoch++) {
      for (const rows of inputs.batches[epoch - 1]) run.step(rows);
      if (epoch % SETTINGS.evaluateEvery === 0 || epoch === SETTINGS.epochs) {
        pending.push(run.losses());
        if (performance.now() - lastRead >= READ_EVERY_MS) await readPending();
      }
    }
    // The weight with the evaluations not read yet, in one read: each read waits for the device.
    const w = [...await readPending(run.weight())];
    run.dispose();
    runs.push({ name: runName(spec), train, test, wNorm: Math.hypot(...w), w });
  }
  return { seconds: (performance.now() - started) / 1000, runs };
}

/** The unit roundoff of float32. */
const U = 2 ** -24;
/** Relative tolerance of every compared quantity (see {@linkcode checkAgreement}). */
const RTOL = 1e-3;

/**
 * The rounding scale of one evaluation's predictions with weight `w`: u·max over the
 * examples of Σᵢ|xᵢwᵢ| + |y|, the size of the terms the prediction's sum cancels.
 */
function predictionRounding(set: StudyInputs["train"], w: readonly number[]): number {
  const [n, d] = set.X.shape;
  let largest = 0;
  for (let row = 0; row < n; row++) {
    let terms = Math.abs(set.y.values[row]);
    for (let i = 0; i < d; i++) terms += Math.abs(set.X.values[row * d + i] * w[i]);
    largest = Math.max(largest, terms);
  }
  return U * largest;
}

/** How far a study is from the reference. */
interface Agreement {
  /** The largest |difference| / allowance over the compared quantities (at most 1). */
  readonly allowanceUsed: number;
  /** The largest ‖w − w_ref‖ / ‖w_ref‖ over the runs. */
  readonly weightDeviation: number;
}

/**
 * Checks a study's outcome against the reference's (ours on the CPU): the same float32
 * computation, summed in another order. Throws naming the first quantity that
 * disagrees; otherwise says how close the study came to the reference.
 *
 * - ‖w‖ and the weight itself (‖w − w_ref‖): within `RTOL` (10⁻³) relative. Each of the
 *   600 steps rounds the update a few times (u = 2⁻²⁴ ≈ 6·10⁻⁸ relative each); in the
 *   directions the training rows span, later steps pull an error back towards the same
 *   fit, and in the others the decay factor scales error and weight alike (the
 *   anti-decay run grows both), so the errors add up to at most 600 × a few u ≈ 10⁻⁴
 *   relative, and 10⁻³ leaves a tenfold margin. It is also the tolerance
 *   `tests/decay_demo_test.ts` uses between our GPU and CPU runs.
 * - The final train and test losses: `RTOL` relative, plus what the rounding of the
 *   predictions alone can move a mean squared residual by: with δ the rounding scale of
 *   a prediction ({@linkcode predictionRounding} at the reference's final weight),
 *   |Δ mean(r²)| ≤ 2·√mean(r²)·δ + δ². This term matters where the loss sits at
 *   float32's floor (the runs without decay fit the training set to ~10⁻¹²) or where the
 *   predictions cancel large terms (the anti-decay run's weight has norm 5316 but
 *   predicts values of ~0.1, so its train loss is known to a few per cent only); it is
 *   negligible elsewhere.
 */
function checkAgreement(
  label: string,
  outcome: StudyOutcome,
  reference: StudyOutcome,
  inputs: StudyInputs,
): Agreement {
  let allowanceUsed = 0, weightDeviation = 0;
  const compare = (what: string, value: number, ref: number, allowed: number) => {
    const used = Math.abs(value - ref) / allowed;
    if (!(used <= 1)) {
      throw new Error(
        `decay peers: ${label} disagrees with the CPU reference on ${what}: ${value} vs ${ref} ` +
          `(allowed ±${allowed.toPrecision(3)})`,
      );
    }
    allowanceUsed = Math.max(allowanceUsed, used);
  };
  outcome.runs.forEach((run, i) => {
    const ref = reference.runs[i];
    for (const set of ["train", "test"] as const) {
      const delta = predictionRounding(inputs[set], ref.w);
      const loss = Math.abs(ref[set]);
      const allowed = RTOL * loss + 2 * Math.sqrt(loss) * delta + delta ** 2;
      compare(`${run.name}: the final ${set} loss`, run[set], ref[set], allowed);
    }
    compare(`${run.name}: ‖w‖`, run.wNorm, ref.wNorm, RTOL * ref.wNorm);
    const distance = Math.hypot(...run.w.map((v, j) => v - ref.w[j]));
    compare(`${run.name}: the weight (‖w − w_ref‖)`, distance, 0, RTOL * ref.wNorm);
    weightDeviation = Math.max(weightDeviation, distance / ref.wNorm);
  });
  return { allowanceUsed, weightDeviation };
}

/** The pinned version of a bench dependency, from bench/deno.json. */
async function pinned(name: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(new URL("./deno.json", import.meta.url)));
  return String(config.imports[name]).split("@").at(-1)!;
}

/** The five implementations; the first, ours compiled, is the ratios' numerator. */
async function implementations(): Promise<Implementation[]> {
  return [
    ours("ours-jit", "ours, jit (WebGPU)", "gpu", true),
    ours("ours-eager", "ours, eager (WebGPU)", "gpu", false),
    ours("ours-cpu", "ours, CPU reference", "cpu", true),
    jaxJs(`jax-js ${await pinned("@jax-js/jax")}, jit (WebGPU)`),
    tfjs(`TensorFlow.js ${tf.version_core} (WebGPU)`),
  ];
}

const CHILD_FLAG = "--child";
const CHILD_LINE = "decay-peers-child ";
/** Warm studies per process, after the cold one. */
const WARM_STUDIES = 2;

/** What one process measured: its cold study, then its warm ones. */
interface ProcessOutcome {
  readonly cold: StudyOutcome;
  readonly warm: readonly StudyOutcome[];
}

/** The studies of implementation `id` in this fresh process, printed as one JSON line. */
async function child(id: string): Promise<void> {
  const impl = (await implementations()).find((i) => i.id === id);
  if (!impl) throw new Error(`decay peers: ${CHILD_FLAG} expects an implementation, got "${id}"`);
  const inputs = await makeInputs();
  const session = await impl.open(inputs);
  const cold = await timeStudy(session, inputs);
  const warm: StudyOutcome[] = [];
  for (let i = 0; i < WARM_STUDIES; i++) warm.push(await timeStudy(session, inputs));
  session.close();
  const outcome: ProcessOutcome = { cold, warm };
  console.log(CHILD_LINE + JSON.stringify(outcome));
}

/** Runs {@linkcode child} in a new Deno process and returns what it measured. */
async function inFreshProcess(id: string): Promise<ProcessOutcome> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      new URL("./deno.json", import.meta.url).pathname,
      "--allow-env",
      "--allow-read",
      new URL(import.meta.url).pathname,
      CHILD_FLAG,
      id,
    ],
    stdin: "null",
  }).output();
  const line = new TextDecoder().decode(stdout).split("\n").find((l) => l.startsWith(CHILD_LINE));
  if (code !== 0 || !line) {
    throw new Error(
      `decay peers: the process of ${id} exited with status ${code}:\n${
        new TextDecoder().decode(stderr).slice(-2000)
      }`,
    );
  }
  return JSON.parse(line.slice(CHILD_LINE.length));
}

/** The 1-minute load average (needs `--allow-sys=loadavg`). */
const load = (): number => Number(Deno.loadavg()[0].toFixed(2));

/** `items` rotated left by `k`. */
const rotated = <T>(items: readonly T[], k: number): T[] =>
  items.map((_, i) => items[(i + k) % items.length]);

/** Options of {@linkcode decayPeers}. */
export interface DecayPeersOptions {
  /** Processes per implementation (each times a cold and {@linkcode WARM_STUDIES} warm studies). */
  readonly reps: number;
  /** Folder `decay_peers.json` and `decay_peers.md` are written to. */
  readonly out: string;
}

/**
 * Times the study on the five implementations, checks that each computes what ours
 * does, prints the table and writes `decay_peers.{json,md}` to `options.out`.
 *
 * @param options Repetitions and the output folder.
 */
export async function decayPeers(options: DecayPeersOptions): Promise<void> {
  const progress = (line: string) => console.error(`decay peers: ${line}`);
  const inputs = await makeInputs();
  const impls = await implementations();
  const steps = SPECS.length * inputs.batches.reduce((n, epoch) => n + epoch.length, 0);

  // The reference: ours on the CPU, once, untimed; every study below is checked against it.
  const referenceSession = await impls.find((i) => i.id === "ours-cpu")!.open(inputs);
  const reference = await timeStudy(referenceSession, inputs);
  referenceSession.close();
  const agreement = new Map<string, Agreement>();
  const check = (impl: Implementation, outcome: StudyOutcome) => {
    const now = checkAgreement(impl.label, outcome, reference, inputs);
    const before = agreement.get(impl.id) ?? now;
    agreement.set(impl.id, {
      allowanceUsed: Math.max(before.allowanceUsed, now.allowanceUsed),
      weightDeviation: Math.max(before.weightDeviation, now.weightDeviation),
    });
  };

  const cold = new Map(impls.map((i) => [i.id, [] as number[]]));
  const warm = new Map(impls.map((i) => [i.id, [] as number[]]));
  // The load average before each process: it counts this bench's own processes too.
  const loads: number[] = [];
  for (let k = 0; k < options.reps; k++) {
    for (const impl of rotated(impls, k)) {
      progress(`${k + 1}/${options.reps}: ${impl.label}`);
      loads.push(load());
      const measured = await inFreshProcess(impl.id);
      for (const study of [measured.cold, ...measured.warm]) check(impl, study);
      cold.get(impl.id)!.push(measured.cold.seconds);
      warm.get(impl.id)!.push(...measured.warm.map((study) => study.seconds));
    }
  }

  const rows = impls.map((impl) => ({
    id: impl.id,
    label: impl.label,
    coldSeconds: median(cold.get(impl.id)!),
    warmSeconds: median(warm.get(impl.id)!),
    cold: cold.get(impl.id)!,
    warm: warm.get(impl.id)!,
    ...agreement.get(impl.id)!,
  }));
  const [base] = rows;
  const table = markdownTable(
    [
      "implementation",
      "cold s",
      "warm s",
      "cold µs/step",
      "warm µs/step",
      "ours jit / this (cold)",
      "ours jit / this (warm)",
      "‖w − w_ref‖ / ‖w_ref‖",
      "largest |Δ| / allowed",
    ],
    rows.map((r) => [
      r.label,
      fmt(r.coldSeconds),
      fmt(r.warmSeconds),
      fmt(r.coldSeconds / steps * 1e6),
      fmt(r.warmSeconds / steps * 1e6),
      fmt(base.coldSeconds / r.coldSeconds),
      fmt(base.warmSeconds / r.warmSeconds),
      r.weightDeviation.toExponential(1),
      fmt(r.allowanceUsed),
    ]),
  );
  const row = (id: string) => rows.find((r) => r.id === id)!;
  const target = (what: string, id: string, limit: number) => {
    const [c, w] = [base.coldSeconds / row(id).coldSeconds, base.warmSeconds / row(id).warmSeconds];
    const met = (r: number) => r <= limit ? "met" : "not met";
    return `- ${what}: ours jit / ${row(id).label} = ${fmt(c)} cold (${met(c)}), ${fmt(w)} warm (${
      met(w)
    }); target ≤ ${limit}.`;
  };
  const adapter = (await navigator.gpu.requestAdapter())?.info.description ?? "?";
  const when = new Date().toISOString();
  const markdown = [
    [
      `The weight-decay study (${SPECS.length} runs, ${steps} SGD steps, the losses read every`,
      `${SETTINGS.evaluateEvery} epochs) on **${adapter}**`,
      `(${Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default stack"}): wall seconds of the whole`,
      `study; ${when}. Each implementation alone in a fresh process, ${options.reps} processes`,
      "each, interleaved: cold is the median of the processes' first studies (compilation",
      `included), warm of their next ${WARM_STUDIES}. Ratios: ours`,
      "(jit) over the row; below 1, ours is faster. Every study's final losses, ‖w‖ and weight",
      "agree with the CPU reference's: the last two columns give the largest relative distance",
      "of the weight and the largest deviation over its allowance (10⁻³ relative plus the",
      `predictions' rounding). 1-minute load average before the processes (2 cores; it counts`,
      `the bench's own): median ${median(loads)}, ${Math.min(...loads)}–${Math.max(...loads)}.`,
    ].join(" "),
    "",
    table,
    "",
    target("the GPU path no slower than the CPU path", "ours-cpu", 1),
    target("at most a quarter of jax-js's jitted WebGPU time", "jax-js", 0.25),
  ].join("\n");
  console.log(markdown);
  const json = JSON.stringify(
    {
      adapter,
      when,
      processes: options.reps,
      warmStudiesPerProcess: WARM_STUDIES,
      steps,
      loads,
      rtol: RTOL,
      rows,
      reference: reference.runs,
    },
    null,
    2,
  );
  progress(`wrote ${await writeResult(options.out, "decay_peers.json", json)}`);
  progress(`wrote ${await writeResult(options.out, "decay_peers.md", markdown + "\n")}`);
}

if (import.meta.main) {
  if (Deno.args[0] === CHILD_FLAG) {
    await child(Deno.args[1]);
  } else {
    const { reps, out } = parseBenchArgs(Deno.args, "decay_peers", ["decay"]);
    await decayPeers({ reps, out });
  }
}
