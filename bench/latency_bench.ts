/**
 * @file `deno bench`, latency: one call of each op, then one wait for the GPU
 * (`backend.sync()`), against the CPU reference as the baseline of each op-and-size
 * group. On Deno a wait costs ~11 ms here whatever the work, so small ops measure
 * that latency; see throughput_bench.ts for many calls per wait. Inputs are made
 * once per case, outside `b.start()`/`b.end()`.
 */
import type { Tensor } from "../mod.ts";
import { dev, preparedOn } from "./_backends.ts";
import { BENCH_OPS, benchIterations } from "./_cases.ts";

for (const c of BENCH_OPS) {
  const group = `${c.op} ${c.size}`;
  Deno.bench({
    name: `${group} cpu reference`,
    group,
    baseline: true,
    n: benchIterations(c, 0.5e9),
    fn(b) {
      const p = preparedOn(c, "cpu");
      b.start();
      const out: Tensor = p.run();
      b.end();
      out.dispose();
    },
  });
  Deno.bench({
    name: `${group} webgpu (one call, one wait)`,
    group,
    ignore: dev === null,
    n: benchIterations(c, 5e9),
    async fn(b) {
      const p = preparedOn(c, "gpu");
      b.start();
      const out = p.run();
      await dev!.sync();
      b.end();
      out.dispose();
    },
  });
}
