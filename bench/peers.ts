/**
 * @file `deno task bench:peers`: the same ops, sizes and values as the report, on
 * TensorFlow.js's WebGPU backend (`@tensorflow/tfjs-backend-webgpu`, pinned in
 * deno.json; bench-only, never imported by the library) and on ours, on the same
 * adapter in the same run, interleaved call by call so load on the machine hits both
 * alike. Each row gives our time over theirs (below 1: we are faster):
 *
 * - wall: one call and a read of the whole result (`read()` / `data()`), as a user
 *   waits for it;
 * - kernel: device time only, ours from `timestamp-query`, theirs from `tf.time()`'s
 *   `kernelMs` (tfjs's own timestamp queries), where the adapter has the feature.
 *
 * tfjs has no op of its own for some of ours; it runs what a tfjs user would write:
 * `conv2d` on [1, H, W, 1] for corr2d, `sub`/`mul`/`add` for sgdStep, `tf.dropout`
 * (its mask is drawn by `randomUniform`), `sum(square(w))·½` for l2Penalty.
 *
 * Matmul also as a fresh script sees it: the first call, ten and twenty calls, each in
 * new processes, ours (with and without stored tuning) and theirs taking turns.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-webgpu";
import { matmulTuning } from "../kernels/matmul.ts";
import { BENCH_OPS, type BenchCase, benchValues } from "./_cases.ts";
import { COLD_REPS, COLD_SIZES, type ColdFigures, coldMatmul, WAIT_EVERY } from "./_cold.ts";
import { fmt, markdownTable, median, parseBenchArgs, writeResult } from "./_cli.ts";
import { openBenchDevice } from "./_gpu_timer.ts";
import { decayPeers } from "./decay_peers.ts";
import { benchMlpPeer } from "./mlp_peer.ts";
import { benchLenetPeer } from "./lenet_peer.ts";

const options = parseBenchArgs(Deno.args, "bench:peers", ["mlp", "lenet", "decay"]);
const progress = (line: string) => console.error(line);

if (!(await tf.setBackend("webgpu"))) {
  console.error("bench:peers: TensorFlow.js could not start its WebGPU backend on this adapter");
  Deno.exit(1);
}
await tf.ready();
// tfjs requests its own device from navigator.gpu's default adapter, as ours does; it
// keeps only the adapter's vendor and architecture.
const theirInfo = (tf.backend() as unknown as { adapterInfo?: Record<string, unknown> })
  .adapterInfo;
const theirAdapter = theirInfo
  ? `${theirInfo.vendor || "?"} ${theirInfo.architecture || ""}`.trim()
  : "?";
const bench = await openBenchDevice();
const { backend: dev, timer } = bench;
progress(`ours: ${bench.adapter}; tfjs-webgpu ${tf.version_core}: ${theirAdapter}`);

/** The tfjs program for each op of the catalogue, on inputs of the case's shapes. */
const TFJS: Record<string, (inputs: tf.Tensor[]) => tf.Tensor> = {
  matmul: ([a, b]) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
  corr2d: ([x, k]) => tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, "valid"),
  sgdStep: ([p, g]) => tf.tidy(() => tf.sub(p, tf.mul(tf.add(g, tf.mul(p, 0.01)), 0.1))),
  dropout: ([x]) => tf.dropout(x, 0.5),
  l2Penalty: ([w]) => tf.tidy(() => tf.mul(tf.sum(tf.square(w)), 0.5)),
};

/** tfjs inputs of a case: the same values; corr2d's as NHWC image and HWIO filter. */
function tfjsInputs(c: BenchCase): tf.Tensor[] {
  return c.shapes.map((shape, i) => {
    const values = benchValues(shape.reduce((a, b) => a * b, 1), i);
    if (c.op !== "corr2d") return tf.tensor(values, [...shape]);
    return tf.tensor(values, i === 0 ? [1, shape[0], shape[1], 1] : [shape[0], shape[1], 1, 1]);
  });
}

interface PeerRow {
  op: string;
  size: string;
  oursWallMs: number;
  theirsWallMs: number;
  oursKernelMs: number | null;
  theirsKernelMs: number | null;
}

const rows: PeerRow[] = [];
const cases = BENCH_OPS.filter((c) => options.only.has(c.op));
for (const [i, c] of cases.entries()) {
  const program = TFJS[c.op];
  if (!program) {
    progress(`[${i + 1}/${cases.length}] ${c.op}: no tfjs program, skipped`);
    continue;
  }
  progress(`[${i + 1}/${cases.length}] ${c.op} ${c.size}`);
  const ours = c.prepare(dev);
  const theirs = tfjsInputs(c);
  // Warm up both: compile pipelines, let our autotune finish.
  await ours.run().read();
  await program(theirs).data();
  await matmulTuning(dev.runtime);
  const wall = { ours: [] as number[], theirs: [] as number[] };
  const kernel = { ours: [] as number[], theirs: [] as number[] };
  for (let r = 0; r < options.reps; r++) {
    let start = performance.now();
    const out = ours.run();
    await out.read();
    wall.ours.push(performance.now() - start);
    out.dispose();
    start = performance.now();
    const result = program(theirs);
    await result.data();
    wall.theirs.push(performance.now() - start);
    result.dispose();
    if (timer) kernel.ours.push(await timer.time(dev, () => ours.run().dispose()));
    const timed = await tf.time(() => program(theirs).dispose());
    if (typeof timed.kernelMs === "number") kernel.theirs.push(timed.kernelMs);
  }
  ours.dispose();
  theirs.forEach((t) => t.dispose());
  rows.push({
    op: c.op,
    size: c.size,
    oursWallMs: median(wall.ours),
    theirsWallMs: median(wall.theirs),
    oursKernelMs: kernel.ours.length ? median(kernel.ours) : null,
    theirsKernelMs: kernel.theirs.length ? median(kernel.theirs) : null,
  });
}

/**
 * Matmul as a fresh script sees it, ours and theirs: each figure from processes of
 * their own (bench/_cold.ts) taking turns, ours with nothing stored and with the tuning
 * an earlier process stored.
 */
const coldReps = Math.min(options.reps, COLD_REPS);
const coldRows: string[][] = [];
const coldJson: Record<string, Record<string, ColdFigures>> = {};
if (options.only.has("matmul")) {
  for (const n of COLD_SIZES) {
    progress(`matmul ${n}³ in cold processes, ours and tfjs`);
    const { fresh, stored, others: [tfjs] } = await coldMatmul(n, coldReps, [{ lib: "tfjs" }]);
    coldJson[`${n}³`] = { fresh, stored, tfjs };
    for (const figure of ["first", "ten", "twenty"] as const) {
      coldRows.push([
        `${n}³`,
        { first: "1 call", ten: "10 calls", twenty: "20 calls" }[figure],
        fmt(fresh[figure]),
        fmt(stored[figure]),
        fmt(tfjs[figure]),
        `${fmt(tfjs[figure] / fresh[figure])}×`,
        `${fmt(tfjs[figure] / stored[figure])}×`,
      ]);
    }
  }
}

const ratio = (a: number | null, b: number | null) => a === null || b === null ? "–" : fmt(a / b);
const table = markdownTable(
  [
    "op",
    "size",
    "ours wall ms",
    "tfjs wall ms",
    "ours / tfjs (wall)",
    "ours kernel ms",
    "tfjs kernel ms",
    "ours / tfjs (kernel)",
  ],
  rows.map((r) => [
    r.op,
    r.size,
    fmt(r.oursWallMs),
    fmt(r.theirsWallMs),
    fmt(r.oursWallMs / r.theirsWallMs),
    r.oursKernelMs === null ? "–" : fmt(r.oursKernelMs),
    r.theirsKernelMs === null ? "–" : fmt(r.theirsKernelMs),
    ratio(r.oursKernelMs, r.theirsKernelMs),
  ]),
);
const when = new Date().toISOString();
const coldTable = coldRows.length
  ? markdownTable(
    [
      "matmul",
      "calls",
      "ours ms, nothing stored",
      "ours ms, tuning stored",
      "tfjs ms",
      "speed-up, nothing stored",
      "speed-up, tuning stored",
    ],
    coldRows,
  )
  : "";
const markdown =
  `Ours vs TensorFlow.js ${tf.version_core} (WebGPU backend) on **${bench.adapter}** (${
    Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default stack"
  }; tfjs reports vendor/architecture "${theirAdapter}"), same run, medians of ${options.reps}; ${when}. Below 1: ours is faster.\n\n${table}` +
  (coldTable
    ? `\n\nMatmul in cold processes (wall ms from the first call to the last result, one wait per ${WAIT_EVERY} calls and after the last; a new process per figure, ours and tfjs taking turns, medians of ${coldReps}, \`bench/_cold.ts\`); speed-up: tfjs's time over ours:\n\n${coldTable}`
    : "");
const json = JSON.stringify(
  {
    adapter: bench.adapter,
    tfjs: tf.version_core,
    reps: options.reps,
    when,
    rows,
    matmulCold: coldJson,
  },
  null,
  2,
);
if (rows.length > 0 || coldRows.length > 0) {
  console.log(markdown);
  progress(`wrote ${await writeResult(options.out, "peers.json", json)}`);
  progress(`wrote ${await writeResult(options.out, "peers.md", markdown + "\n")}`);
}
if (options.only.has("mlp")) await benchMlpPeer(tf, dev, options.reps, options.out, progress);
if (options.only.has("lenet")) await benchLenetPeer(tf, dev, options.reps, options.out, progress);
bench.destroy();
// The weight-decay study on both peers and ours (bench/decay_peers.ts).
if (options.only.has("decay")) await decayPeers(options);
