/**
 * @file Measures how closely the decay demo's short runs agree between the GPU (compiled
 * and eager) and the CPU reference: for each seed it trains the study's four runs on each,
 * as tests/decay_demo_test.ts does (10 epochs by default), and prints the largest relative
 * difference |gpu − cpu|/|cpu| of the train and test losses at each evaluation and of ‖w‖,
 * per seed and over all. This is the measurement behind that test's tolerance. Not part of
 * `deno task test`.
 *
 * `deno run --allow-env --allow-read scripts/measure_decay_agreement.ts 20 10`
 * (seeds 0 to 19, 10 epochs; set `DENO_WEBGPU_BACKEND` to choose the driver stack).
 */
import { type Backend, cpu, gpu } from "../mod.ts";
import {
  makeStudyData,
  type RunResult,
  type RunSpec,
  runStudy,
  STUDY_DEFAULTS,
} from "../demos/decay_study.ts";

const SPECS: RunSpec[] = [
  { variant: "scratch", lambda: 0 },
  { variant: "scratch", lambda: 15 },
  { variant: "concise", lambda: 0 },
  { variant: "concise", lambda: -2 },
];

const [seeds, epochs] = [Number(Deno.args[0] ?? 20), Number(Deno.args[1] ?? 10)];
if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(epochs) || epochs < 1) {
  console.error(
    `measure_decay_agreement: expected a seed count and an epoch count ≥ 1, got ${
      JSON.stringify(Deno.args)
    }`,
  );
  Deno.exit(2);
}

/** The four runs' compared values (losses at each evaluation, then ‖w‖) on a backend. */
async function study(backend: Backend, seed: number, jit: boolean): Promise<number[][]> {
  const settings = { ...STUDY_DEFAULTS, epochs, seed, jit };
  const data = makeStudyData(backend, settings);
  const results: RunResult[] = [];
  for (const spec of SPECS) results.push(await runStudy(data, spec, settings));
  data.dispose();
  return results.map((r) => [...r.train, ...r.test, r.wNorm]);
}

const dev = await gpu();
let worst = { difference: 0, seed: 0, what: "" };
for (let seed = 0; seed < seeds; seed++) {
  const reference = await study(cpu(), seed, false);
  let seedWorst = 0;
  for (const jit of [true, false]) {
    const got = await study(dev, seed, jit);
    got.forEach((values, run) =>
      values.forEach((v, j) => {
        const w = reference[run][j], difference = Math.abs(v - w) / Math.abs(w);
        seedWorst = Math.max(seedWorst, difference);
        if (difference > worst.difference) {
          const what = `${jit ? "jit" : "eager"}, run ${run}, value ${j}: ${v} vs ${w}`;
          worst = { difference, seed, what };
        }
      })
    );
  }
  console.log(`seed ${seed}: largest relative difference ${seedWorst.toExponential(2)}`);
}
console.log(
  `${dev.name}, ${epochs} epochs, seeds 0–${seeds - 1}: largest relative difference ` +
    `${worst.difference.toExponential(2)} (seed ${worst.seed}, ${worst.what})`,
);
dev.destroy();
