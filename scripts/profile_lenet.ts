/**
 * @file Profiles one jitted training step of `demo:lenet`'s networks (demos/lenet_study.ts)
 * at the book's batch of 256: the step is built as `demos/lenet_run.ts` builds it, two
 * steps warm it up (trace, compile, first use of each shader), then `dev.profile` times
 * the next; its kernels' table is printed, then its costly dispatches in order, then the
 * rate of {@linkcode STREAM_STEPS} steps in a stream with one wait (as an epoch runs
 * them: ms a step, images a second). The images are seeded uniform noise of
 * Fashion-MNIST's size, so no data set is needed: the kernels and their shapes are the
 * demo's. Usage: `deno run -A scripts/profile_lenet.ts [lenet|lenet-bn ...]`.
 */
import { gpu } from "../mod.ts";
import { PIXELS } from "../demos/fashion_mnist.ts";
import { LENET_DEFAULTS, startRun, STUDY_RUNS, uploadData } from "../demos/lenet_study.ts";

/** Images in the synthetic training set: a batch per step profiled or warmed up. */
const BATCH = LENET_DEFAULTS.batchSize;
/** Steps before the profiled one. */
const WARM_UP_STEPS = 2;

/** Steps timed in a stream, one wait at the end. */
const STREAM_STEPS = 16;

/** Share of the step's GPU time above which a dispatch is listed on its own. */
const LONG_SHARE = 0.01;

/** `count` images of seeded noise in [0, 1) with labels 0…9 in turn. */
function noiseImages(count: number, seed: number) {
  let state = seed >>> 0;
  const images = Float32Array.from({ length: count * PIXELS }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  });
  return { images, labels: Float32Array.from({ length: count }, (_, i) => i % 10), count };
}

const names = Deno.args.length > 0 ? Deno.args : STUDY_RUNS.map((r) => r.name);
const dev = await gpu();
const set = noiseImages(BATCH * (WARM_UP_STEPS + 1), 1);
const batches = WARM_UP_STEPS + 1;
const data = uploadData({ train: set, test: noiseImages(BATCH, 2) }, dev);
for (const name of names) {
  const spec = STUDY_RUNS.find((r) => r.name === name);
  if (!spec) throw new RangeError(`profile_lenet: expected lenet or lenet-bn, got ${name}`);
  const run = startRun(data, spec, LENET_DEFAULTS);
  const rows = (i: number) => Array.from({ length: BATCH }, (_, r) => i * BATCH + r);
  const step = async (i: number) => {
    using figures = run.step(rows(i));
    await figures.read();
  };
  for (let i = 0; i < WARM_UP_STEPS; i++) await step(i);
  const report = await dev.profile(() => step(WARM_UP_STEPS));
  console.log(`one jitted ${name} step, batch of ${BATCH}:`);
  console.log(report.table());
  // The costly dispatches in the order they ran, to tell a kernel's calls apart.
  console.log(`dispatches over ${LONG_SHARE * 100}% of the step, in order:`);
  report.dispatches.forEach((d, i) => {
    if (d.durationMs < LONG_SHARE * report.totalMs) return;
    console.log(`  #${String(i).padStart(3)} ${d.name.padEnd(34)} ${d.durationMs.toFixed(1)} ms`);
  });
  const started = performance.now();
  const figures = Array.from({ length: STREAM_STEPS }, (_, i) => run.step(rows(i % batches)));
  await figures.at(-1)!.read();
  const ms = (performance.now() - started) / STREAM_STEPS;
  figures.forEach((f) => f.dispose());
  console.log(
    `${STREAM_STEPS} steps in a stream: ${ms.toFixed(1)} ms a step, ${
      (BATCH / ms * 1000).toFixed(0)
    } images a second`,
  );
  run.dispose();
}
data.dispose();
