/**
 * @file The soak test (`deno task soak`): 100,000 small ops on the GPU, in the pattern a
 * training loop has (a step made of a few ops inside a scope, the previous parameters
 * disposed), checking that the live-buffer count stays constant and that the process's
 * memory (RSS) stays bounded. It prints figures every 10,000 ops and a summary, and
 * exits non-zero if a bound is broken. Not part of `deno task test`: it takes a while.
 *
 * Options: `--ops N` (default 100000), `--size N` elements per tensor (default 256).
 */
import { add, gpu, l2Penalty, scale, scope, sgdStep, type Tensor } from "../mod.ts";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { ops: { type: "string", default: "100000" }, size: { type: "string", default: "256" } },
});
const totalOps = Number(args.ops), size = Number(args.size);
for (const [name, v] of [["--ops", totalOps], ["--size", size]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`soak: expected ${name} to be an integer ≥ 1, got ${JSON.stringify(String(v))}`);
    Deno.exit(2);
  }
}

const OPS_PER_STEP = 3; // scale, add, sgdStep (and an l2Penalty at each report)
const REPORT_EVERY = 10_000;
const MiB = 2 ** 20;

const dev = await gpu();
console.log(`soak: ${totalOps} ops of ${size} elements on ${dev.name}`);
let w: Tensor = dev.tensor(new Float32Array(size).fill(1));
const g = dev.tensor(new Float32Array(size).fill(0.5));
await dev.sync();
const start = { memory: dev.memory(), rss: Deno.memoryUsage().rss, time: performance.now() };
let maxRss = start.rss, penalty = 0;
const losses: Promise<void>[] = [];

for (let op = 0; op < totalOps; op += OPS_PER_STEP) {
  const next = scope(() => sgdStep(w, add(scale(g, 0.5), g), { lr: 1e-5 }));
  w.dispose();
  w = next;
  if ((op + OPS_PER_STEP) % REPORT_EVERY < OPS_PER_STEP) {
    const p = l2Penalty(w);
    losses.push(p.read().then(([v]) => void (penalty = v)));
    p.dispose();
    await dev.sync();
    // Collected first (the task passes --expose-gc), so RSS shows what is retained.
    (globalThis as { gc?: () => void }).gc?.();
    const m = dev.memory(), rss = Deno.memoryUsage().rss;
    maxRss = Math.max(maxRss, rss);
    const line = `ops ${String(op + OPS_PER_STEP).padStart(7)}  live tensors ${m.liveTensors}  ` +
      `live buffers ${m.liveBuffers}  pooled ${m.pooledBuffers} (${
        (m.pooledBytes / MiB).toFixed(2)
      } MiB)  ` +
      `rss ${(rss / MiB).toFixed(1)} MiB  ${
        ((performance.now() - start.time) / 1000).toFixed(1)
      } s`;
    console.log(line);
  }
}
await Promise.all(losses);
const values = await w.read();
const end = { memory: dev.memory(), rss: Deno.memoryUsage().rss };
maxRss = Math.max(maxRss, end.rss);
const seconds = (performance.now() - start.time) / 1000;
const steps = Math.ceil(totalOps / OPS_PER_STEP);
// Each step subtracts lr·(0.5·0.5 + 0.5) from every weight.
const expected = 1 - steps * 1e-5 * 0.75;
// Each float32 subtraction rounds by at most 2⁻²⁴ near 1.
const tolerance = steps * 2 ** -24;
console.log(
  `summary: ${steps * OPS_PER_STEP} ops in ${seconds.toFixed(1)} s ` +
    `(${((seconds / (steps * OPS_PER_STEP)) * 1e6).toFixed(0)} µs/op); ` +
    `live buffers ${start.memory.liveBuffers} → ${end.memory.liveBuffers}; ` +
    `rss ${(start.rss / MiB).toFixed(1)} → ${(end.rss / MiB).toFixed(1)} MiB (max ${
      (maxRss / MiB).toFixed(1)
    }); w[0] = ${values[0]} (expected ≈ ${expected}); last penalty ${penalty}`,
);
w.dispose();
g.dispose();
dev.destroy();

const failures = [];
if (end.memory.liveBuffers !== start.memory.liveBuffers) {
  failures.push("the live-buffer count changed");
}
// Bounded: RSS may grow by allocator noise and the pool, not with the op count.
if (maxRss - start.rss > 200 * MiB) failures.push("RSS grew by more than 200 MiB");
if (!(Math.abs(values[0] - expected) <= tolerance)) {
  failures.push(`w[0] is ${values[0]}, not ≈ ${expected}`);
}
if (failures.length) {
  console.error(`soak: FAILED: ${failures.join("; ")}`);
  Deno.exit(1);
}
console.log("soak: ok");
