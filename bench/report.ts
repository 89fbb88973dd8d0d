/**
 * @file `deno task bench:report`: every op of the bench catalogue at three sizes on the CPU
 * reference and the GPU, as one table (median time, GFLOP/s or GB/s, speed-up over the
 * reference) with the adapter's name, plus the matmul variants side by side and, for the
 * memory-bound ops, the time of copying the same bytes (the ceiling). GPU times are
 * kernel-only, from `timestamp-query`, where the adapter has it (llvmpipe does, and it works in
 * Deno); otherwise wall time of one call and one wait. Matmul also as a fresh script sees it:
 * first call, ten and twenty calls, in new processes with and without stored tuning, beside the
 * same calls in this warm process; conv2d and its gradients at LeNet's and a VGG block's sizes
 * beside matmul of the same FLOPs (`_conv2d.ts`); and matmul at the shapes training runs
 * (`--only training`, `_training_shapes.ts`); add, sum and matmul in float32 and float16 side
 * by side, and add in int32 (`--only dtypes`, `_dtypes.ts`). Writes `report.json` and
 * `report.md` under `bench/results/` (or `--out`).
 */
import { cpu, gpu, type GpuBackend, type GpuTensor, matmul, type Tensor } from "../mod.ts";
import { MATMUL_VARIANTS, matmulTuning, matmulVariantFor } from "../kernels/matmul.ts";
import { BENCH_OPS, benchValues } from "./_cases.ts";
import {
  COLD_REPS,
  COLD_SIZES,
  type ColdFigures,
  coldMatmul,
  timeProducts,
  WAIT_EVERY,
} from "./_cold.ts";
import { fmt, markdownTable, median, parseBenchArgs, writeResult } from "./_cli.ts";
import { openBenchDevice } from "./_gpu_timer.ts";
import { CONV2D_HEADER, conv2dFigures, conv2dRows } from "./_conv2d.ts";
import { asBlocks, LINEAR_WORKGROUP, packUniforms } from "../kernels/_shared.ts";
import { benchTrainingShapes, type TrainingFigures } from "./_training_shapes.ts";
import { DTYPE_HEADER, dtypeFigures, dtypeRows } from "./_dtypes.ts";

const options = parseBenchArgs(Deno.args, "bench:report", [
  "conv2d",
  "training",
  "dtypes",
]);
const bench = await openBenchDevice().catch((error) => {
  console.error(`bench:report: ${error.message}`);
  Deno.exit(1);
});
const { backend: dev, timer } = bench;
const timing = timer ? "kernel-only (timestamp-query)" : "wall, one call and one wait";
const progress = (line: string) => console.error(line);
progress(`adapter: ${bench.adapter}; GPU times: ${timing}`);

/**
 * Median ms of `reps` timed calls on the GPU (after one untimed call); of fewer where
 * the untimed call took long, so that the timed ones take about `budgetMs`.
 */
async function gpuTime(
  backend: GpuBackend,
  reps: number,
  run: () => Tensor,
  budgetMs = Infinity,
): Promise<number> {
  const start = performance.now();
  run().dispose();
  await backend.sync();
  const once = performance.now() - start;
  const times: number[] = [];
  for (
    let i = 0;
    i < Math.max(1, Math.min(reps, Math.floor(budgetMs / once)));
    i++
  ) {
    if (timer) times.push(await timer.time(backend, () => run().dispose()));
    else {
      const start = performance.now();
      const out = run();
      await backend.sync();
      times.push(performance.now() - start);
      out.dispose();
    }
  }
  return median(times);
}

/** Median wall ms of one call and one wait (`backend.sync()`). */
async function wallTime(
  backend: GpuBackend,
  reps: number,
  run: () => Tensor,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const out = run();
    await backend.sync();
    times.push(performance.now() - start);
    out.dispose();
  }
  return median(times);
}

/**
 * Median ms on the CPU reference, after one untimed call where a call is quick (to let
 * the JIT compile); fewer repetitions where one call takes seconds.
 */
function cpuTime(reps: number, run: () => Tensor): number {
  const first = performance.now();
  run().dispose();
  const times: number[] = [];
  if (performance.now() - first > 1000) times.push(performance.now() - first);
  const deadline = performance.now() + 4000;
  while (
    times.length < reps && (times.length === 0 || performance.now() < deadline)
  ) {
    const start = performance.now();
    run().dispose();
    times.push(performance.now() - start);
  }
  return median(times);
}

/**
 * WGSL: the fastest plain copy a compute shader does here, 16 floats per thread as one
 * mat4x4 (as sgdStep reads them): the ceiling of any kernel that reads and writes
 * storage buffers on this adapter, where `copyBufferToBuffer` may take a faster path.
 */
const shaderCopy = () => /* wgsl */ `
@group(0) @binding(0) var<uniform> blocks: vec4u;
@group(0) @binding(1) var<storage, read> src: array<mat4x4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<mat4x4f>;
${LINEAR_WORKGROUP}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearWorkgroup(wid, groups) * 64u + lid;
  if (i < blocks.x) { dst[i] = src[i]; }
}
`;

/**
 * Median kernel ms of copying `bytes` bytes (moving 2·bytes), by `copyBufferToBuffer`
 * and by the compute-shader copy.
 */
async function copyTimes(
  bytes: number,
  reps: number,
): Promise<{ buffer: number; shader: number }> {
  const elements = Math.ceil(bytes / 4);
  using from = dev.tensor(benchValues(elements, 0)) as GpuTensor;
  const to = dev.runtime.allocate("copy", elements);
  const blocks = Math.ceil(elements / 16);
  const copies = {
    buffer: () => dev.runtime.copy("copy", from.array, to),
    shader: () =>
      dev.runtime.dispatch({
        op: "copy",
        key: "bench/shaderCopy",
        wgsl: shaderCopy,
        uniforms: packUniforms([{ u32: blocks }]),
        buffers: [asBlocks(from.array, 64), asBlocks(to, 64)],
        workgroups: Math.ceil(blocks / 64),
      }),
  };
  const result = { buffer: 0, shader: 0 };
  for (
    const [name, run] of Object.entries(copies) as [
      keyof typeof copies,
      () => void,
    ][]
  ) {
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      if (timer) times.push(await timer.time(dev, run));
      else {
        const start = performance.now();
        run();
        await dev.sync();
        times.push(performance.now() - start);
      }
    }
    result[name] = median(times);
  }
  dev.runtime.release(to);
  return result;
}

interface Row {
  op: string;
  size: string;
  backend: string;
  medianMs: number;
  wallMs: number | null;
  rate: number;
  unit: string;
  speedup: number | null;
  copyMs: number | null;
  shaderCopyMs: number | null;
}

const rows: Row[] = [];
const ref = cpu();
const cases = BENCH_OPS.filter((c) => options.only.has(c.op));
for (const [i, c] of cases.entries()) {
  progress(`[${i + 1}/${cases.length}] ${c.op} ${c.size}`);
  const onCpu = c.prepare(ref);
  const cpuMs = cpuTime(options.reps, onCpu.run);
  onCpu.dispose();
  const onGpu = c.prepare(dev);
  onGpu.run().dispose();
  await matmulTuning(dev.runtime);
  const gpuMs = await gpuTime(dev, options.reps, onGpu.run);
  const wallMs = await wallTime(dev, options.reps, onGpu.run);
  onGpu.dispose();
  const copy = c.unit === "GB/s" ? await copyTimes(c.work / 2, options.reps) : null;
  const rate = (ms: number) => c.work / ms / 1e6;
  rows.push({
    op: c.op,
    size: c.size,
    backend: "cpu reference",
    medianMs: cpuMs,
    wallMs: null,
    rate: rate(cpuMs),
    unit: c.unit,
    speedup: null,
    copyMs: null,
    shaderCopyMs: null,
  });
  rows.push({
    op: c.op,
    size: c.size,
    backend: "webgpu",
    medianMs: gpuMs,
    wallMs,
    rate: rate(gpuMs),
    unit: c.unit,
    speedup: cpuMs / gpuMs,
    copyMs: copy?.buffer ?? null,
    shaderCopyMs: copy?.shader ?? null,
  });
}

/** GFLOP/s of each matmul variant at each size, and the one the autotune picked. */
const variantShapes: Array<[number, number, number]> = [
  [64, 64, 64],
  [256, 256, 256],
  [1024, 1024, 1024],
  [2048, 2048, 2048],
  [8, 4096, 8],
];
/** Timed calls of a slow variant stop after about this long. */
const VARIANT_BUDGET_MS = 3000;
const variantRows: string[][] = [];
const variantJson: Record<string, Record<string, number>> = {};
if (options.only.has("matmul")) {
  for (const [m, k, n] of variantShapes) {
    const size = `${m}×${k}×${n}`;
    progress(`matmul variants at ${size}`);
    using a = dev.tensor(benchValues(m * k, 1), [m, k]);
    using b = dev.tensor(benchValues(k * n, 2), [k, n]);
    matmul(a, b).dispose();
    await matmulTuning(dev.runtime);
    const params = { m, k, n, transposeA: false, transposeB: false };
    const chosen = matmulVariantFor(dev.runtime, params).name;
    const cells = [size];
    for (const name of MATMUL_VARIANTS.keys()) {
      const pinned = await gpu({ device: dev.device, matmulVariant: name });
      using pa = pinned.tensor(benchValues(m * k, 1), [m, k]);
      using pb = pinned.tensor(benchValues(k * n, 2), [k, n]);
      const ms = MATMUL_VARIANTS.get(name)!.supports(pinned.runtime, params) &&
          (name !== "splitK" || m * n <= 4096 || k <= 256)
        ? await gpuTime(
          pinned,
          options.reps,
          () => matmul(pa, pb),
          VARIANT_BUDGET_MS,
        )
        : NaN;
      pinned.destroy();
      const gflops = (2 * m * n * k) / ms / 1e6;
      (variantJson[size] ??= {})[name] = gflops;
      cells.push(`${fmt(gflops)}${name === chosen ? " ✓" : ""}`);
    }
    variantRows.push(cells);
  }
}

const conv2dJson = options.only.has("conv2d")
  ? await conv2dFigures(dev, options.reps, gpuTime, progress)
  : [];

/**
 * Matmul as a fresh script sees it: each figure from processes of its own (bench/_cold.ts),
 * with nothing stored (a first run on this adapter) and with the tuning stored by an
 * earlier process, beside the same calls in this warm, tuned process.
 */
const coldReps = Math.min(options.reps, COLD_REPS);
const coldRows: string[][] = [];
const coldJson: Record<string, Record<string, ColdFigures>> = {};
if (options.only.has("matmul")) {
  for (const n of COLD_SIZES) {
    progress(`matmul ${n}³ in cold processes`);
    const { fresh, stored } = await coldMatmul(n, coldReps);
    using a = dev.tensor(benchValues(n * n, 0), [n, n]);
    using b = dev.tensor(benchValues(n * n, 1), [n, n]);
    await matmul(a, b).read();
    await matmulTuning(dev.runtime);
    const product = () => {
      const c = matmul(a, b);
      return { wait: () => c.read(), dispose: () => c.dispose() };
    };
    const warm: ColdFigures = {
      first: await timeProducts(product, 1, WAIT_EVERY),
      ten: await timeProducts(product, 10, WAIT_EVERY),
      twenty: await timeProducts(product, 20, WAIT_EVERY),
    };
    coldJson[`${n}³`] = { fresh, stored, warm };
    const gflops = (f: ColdFigures) => fmt((20 * 2 * n ** 3) / f.twenty / 1e6);
    for (
      const [label, f] of [
        ["cold process, nothing stored", fresh],
        ["cold process, tuning stored", stored],
        ["warm process, tuned", warm],
      ] as const
    ) {
      coldRows.push([
        `${n}³`,
        label,
        fmt(f.first),
        fmt(f.ten),
        fmt(f.twenty),
        gflops(f),
      ]);
    }
  }
}

const dtypesJson = options.only.has("dtypes")
  ? await dtypeFigures(dev, options.reps, gpuTime, progress)
  : [];

/** Matmul at the shapes training runs, in a stream, beside 1024³ (bench/_training_shapes.ts). */
let training: { figures: TrainingFigures; markdown: string } | null = null;
if (options.only.has("training")) {
  training = await benchTrainingShapes(dev, options.reps, progress);
}

const header = [
  "op",
  "size",
  "backend",
  "median ms",
  "rate",
  "× cpu",
  "wall ms (1 call + wait)",
  "vs copy (same bytes)",
];
const table = markdownTable(
  header,
  rows.map((r) => [
    r.op,
    r.size,
    r.backend,
    fmt(r.medianMs),
    `${fmt(r.rate)} ${r.unit}`,
    r.speedup === null ? "" : `${fmt(r.speedup)}×`,
    r.wallMs === null ? "" : fmt(r.wallMs),
    r.copyMs === null || r.shaderCopyMs === null
      ? ""
      : `${fmt(r.medianMs / r.copyMs)}× copyBuffer (${fmt(r.copyMs)} ms), ${
        fmt(r.medianMs / r.shaderCopyMs)
      }× shader copy (${fmt(r.shaderCopyMs)} ms)`,
  ]),
);
const coldTable = coldRows.length
  ? markdownTable(
    [
      "matmul",
      "process",
      "1 call ms",
      "10 calls ms",
      "20 calls ms",
      "20 calls GFLOP/s",
    ],
    coldRows,
  )
  : "";
const variantsTable = variantRows.length
  ? markdownTable(["matmul GFLOP/s", ...MATMUL_VARIANTS.keys()], variantRows)
  : "";
const conv2dTable = conv2dJson.length
  ? markdownTable([...CONV2D_HEADER], conv2dRows(conv2dJson))
  : "";
const dtypesTable = dtypesJson.length ? markdownTable(DTYPE_HEADER, dtypeRows(dtypesJson)) : "";
const when = new Date().toISOString();
const markdown = [
  `Adapter: **${bench.adapter}** (${
    Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default stack"
  }); GPU times ${timing}; medians of ${options.reps}; ${when}.`,
  "",
  table,
  "",
  variantsTable &&
  `Matmul variants, GFLOP/s (${timing}); ✓ marks the autotune's choice, – a variant not tried at that shape:\n\n${variantsTable}`,
  "",
  conv2dTable &&
  `conv2d (${timing}; a gradient is forward + that gradient, less the forward), beside a matmul of the same FLOPs:\n\n${conv2dTable}`,
  "",
  dtypesTable &&
  `Element types side by side (${timing}; GB/s of the bytes moved at each type; float16's \`sum\` and \`matmul\` run float32 kernels on widened copies, \`bench/_dtypes.ts\`):\n\n${dtypesTable}`,
  "",
  coldTable &&
  `Matmul as a script sees it (wall ms from the first call to the last result, one wait per ${WAIT_EVERY} calls and after the last; cold: a new process per figure, medians of ${coldReps}, \`bench/_cold.ts\`):\n\n${coldTable}`,
  "",
  training?.markdown ?? "",
  "",
  "vs copy: the op's time over that of copying the same bytes (reads + writes) on the same " +
  "adapter, by `copyBufferToBuffer` and by a compute shader that copies 16 floats per thread.",
].join("\n");
console.log(markdown);
const json = JSON.stringify(
  {
    adapter: bench.adapter,
    stack: Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default",
    timing,
    reps: options.reps,
    when,
    rows,
    matmulVariants: variantJson,
    matmulCold: coldJson,
    conv2d: conv2dJson,
    dtypes: dtypesJson,
    matmulTraining: training?.figures ?? null,
  },
  null,
  2,
);
progress(`wrote ${await writeResult(options.out, "report.json", json)}`);
progress(
  `wrote ${await writeResult(options.out, "report.md", markdown + "\n")}`,
);
bench.destroy();
