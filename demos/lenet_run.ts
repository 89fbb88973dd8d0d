/**
 * @file A run of `demo:lenet`'s study, epoch by epoch (`lenet_study.ts` has the networks
 * and their step): the steps are encoded in chunks, each chunk's figures (Σ loss, right
 * answers) read while the next chunk is encoded, so the GPU never waits for the host and
 * progress arrives as the GPU gets through the chunks; after each epoch, the test
 * accuracy in evaluation mode.
 */
import { concat, mul, reshape, scope, sum } from "../mod.ts";
import {
  type LenetSettings,
  type RunSpec,
  startRun,
  type StudyData,
  type Trained,
} from "./lenet_study.ts";

/** Progress within an epoch: images done, and the running mean loss and accuracy. */
export interface Progress {
  readonly run: string;
  readonly epoch: number;
  readonly images: number;
  readonly of: number;
  readonly loss: number;
  readonly accuracy: number;
  /** Images a second since the epoch began, as the GPU finished them. */
  readonly imagesPerSecond: number;
}

/** One epoch's figures, as the book reports them. */
export interface EpochFigures {
  readonly epoch: number;
  /** Mean cross-entropy over the epoch's minibatches (weighted by their sizes). */
  readonly trainLoss: number;
  /** Fraction of the epoch's training images the network got right as it trained on them. */
  readonly trainAccuracy: number;
  /** Fraction of the test images right after the epoch (evaluation mode). */
  readonly testAccuracy: number;
  /** Seconds the epoch took, its test evaluation included. */
  readonly seconds: number;
}

/** One run's outcome, as `lenet.json` records it. */
export interface RunResult {
  readonly name: string;
  readonly lr: number;
  readonly batchSize: number;
  readonly epochs: number[];
  readonly trainLoss: number[];
  readonly trainAccuracy: number[];
  readonly testAccuracy: number[];
  /** Seconds per epoch. */
  readonly epochSeconds: number[];
  /** Wall time of the run, in seconds (its compilation included). */
  readonly seconds: number;
}

/**
 * Seconds of GPU work encoded between two reads of figures: steps are encoded in chunks
 * of about this length, measured as the run goes, so progress comes every second or so
 * on a fast adapter (a read per chunk, not per step) and on llvmpipe alike.
 */
const CHUNK_SECONDS = 1;
/** Most steps in a chunk. */
const MAX_CHUNK_STEPS = 64;

/** Callbacks of a run: progress within an epoch, and each epoch's figures ("stop" ends the run). */
export interface RunCallbacks {
  progress?(p: Progress): void;
  epoch?(figures: EpochFigures): void | "stop";
}

/**
 * Trains one run of the study and returns its figures and its trained state.
 *
 * @param data The images, on the backend to train on.
 * @param spec The network and its learning rate.
 * @param settings Epochs, batch size, seed, `--lr`, jit.
 * @param callbacks Progress (after every chunk of steps) and epoch figures.
 */
export async function trainRun(
  data: StudyData,
  spec: RunSpec,
  settings: LenetSettings,
  callbacks: RunCallbacks = {},
): Promise<{ result: RunResult; trained: Trained }> {
  const started = performance.now();
  const run = startRun(data, spec, settings);
  const backend = data.backend;
  const n = data.train.count;
  const result: RunResult = {
    name: spec.name,
    lr: run.lr,
    batchSize: settings.batchSize,
    epochs: [],
    trainLoss: [],
    trainAccuracy: [],
    testAccuracy: [],
    epochSeconds: [],
    seconds: 0,
  };
  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      const epochStart = performance.now();
      const batches = run.batches(epoch);
      let done = 0, lossSum = 0, right = 0;
      let pending: Promise<void> = Promise.resolve();
      let chunkSteps = 1, lastRead = performance.now();
      for (let first = 0; first < batches.length;) {
        const chunk = batches.slice(first, first + chunkSteps);
        first += chunk.length;
        const figures = chunk.map((rows) => run.step(rows));
        // Σ (mean loss × batch size) and Σ right answers over the chunk.
        const total = scope(() => {
          const sizes = chunk.flatMap((rows) => [rows.length, 1]);
          const weights = backend.tensor(sizes, [chunk.length, 2]);
          return sum(mul(reshape(concat(figures), [chunk.length, 2]), weights), { axis: 0 });
        });
        figures.forEach((f) => f.dispose());
        const images = chunk.reduce((s, rows) => s + rows.length, 0);
        // Waits for the chunk before the last, so the GPU always has one chunk queued.
        await pending;
        pending = total.read().then(([l, r]) => {
          total.dispose();
          const now = performance.now();
          const perStep = (now - lastRead) / 1000 / chunk.length;
          chunkSteps = Math.max(1, Math.min(MAX_CHUNK_STEPS, Math.floor(CHUNK_SECONDS / perStep)));
          lastRead = now;
          done += images;
          lossSum += l;
          right += r;
          callbacks.progress?.({
            run: spec.name,
            epoch,
            images: done,
            of: n,
            loss: lossSum / done,
            accuracy: right / done,
            imagesPerSecond: done / ((now - epochStart) / 1000),
          });
        });
      }
      await pending;
      using testRight = run.countRight(data.test);
      const [testCount] = await testRight.read();
      const figures: EpochFigures = {
        epoch,
        trainLoss: lossSum / n,
        trainAccuracy: right / n,
        testAccuracy: testCount / data.test.X.shape[0],
        seconds: (performance.now() - epochStart) / 1000,
      };
      result.epochs.push(epoch);
      result.trainLoss.push(figures.trainLoss);
      result.trainAccuracy.push(figures.trainAccuracy);
      result.testAccuracy.push(figures.testAccuracy);
      result.epochSeconds.push(figures.seconds);
      if (callbacks.epoch?.(figures) === "stop") break;
    }
  } catch (error) {
    run.dispose(true);
    throw error;
  }
  run.dispose();
  return {
    result: { ...result, seconds: (performance.now() - started) / 1000 },
    trained: run.trained,
  };
}
