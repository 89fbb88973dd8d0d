/**
 * @file The backends `deno bench` files share: the GPU (or null without an adapter,
 * so GPU benches are ignored, never faked) and the CPU reference, with each case's
 * inputs made once per run. Every case runs once on the GPU before any bench, so
 * pipelines are compiled and matmul's autotune for each shape class has finished
 * before anything is timed.
 */
import { cpu, gpu, type GpuBackend } from "../mod.ts";
import { matmulTuning } from "../kernels/matmul.ts";
import { BENCH_OPS, type BenchCase, type PreparedCase } from "./_cases.ts";

/** The GPU backend under test, or null where there is no adapter. */
export const dev: GpuBackend | null = await gpu().catch((error) => {
  console.warn(`no WebGPU adapter, GPU benches are ignored: ${error}`);
  return null;
});
const ref = cpu();

const prepared = new Map<string, PreparedCase>();

/** The inputs of `c` on the CPU reference or the GPU, made on first use. */
export function preparedOn(c: BenchCase, backend: "cpu" | "gpu"): PreparedCase {
  const key = `${backend} ${c.op} ${c.size}`;
  let p = prepared.get(key);
  if (!p) prepared.set(key, p = c.prepare(backend === "cpu" ? ref : dev!));
  return p;
}

if (dev) {
  for (const c of BENCH_OPS) preparedOn(c, "gpu").run().dispose();
  await dev.sync();
  await matmulTuning(dev.runtime);
}
