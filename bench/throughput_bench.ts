/**
 * @file `deno bench`, throughput: several calls of each op in flight, then one wait
 * for the GPU, against as many calls of the CPU reference as the baseline. This is how
 * a training loop uses the GPU (nothing inside the loop waits), so the ~11 ms a wait
 * costs on Deno is paid once per batch of calls. Inputs are made once per case,
 * outside `b.start()`/`b.end()`.
 */
import type { Tensor } from "../mod.ts";
import { dev, preparedOn } from "./_backends.ts";
import { BENCH_OPS, benchIterations, inFlight } from "./_cases.ts";

for (const c of BENCH_OPS) {
  const calls = inFlight(c);
  const group = `${c.op} ${c.size} ×${calls}`;
  const iterations = (rate: number) => {
    const n = benchIterations(c, rate / calls);
    return n === undefined ? undefined : Math.max(1, Math.ceil(n / calls));
  };
  Deno.bench({
    name: `${group} cpu reference`,
    group,
    baseline: true,
    n: iterations(0.5e9),
    fn(b) {
      const p = preparedOn(c, "cpu");
      const outs: Tensor[] = [];
      b.start();
      for (let i = 0; i < calls; i++) outs.push(p.run());
      b.end();
      outs.forEach((t) => t.dispose());
    },
  });
  Deno.bench({
    name: `${group} webgpu (${calls} calls, one wait)`,
    group,
    ignore: dev === null,
    n: iterations(5e9),
    async fn(b) {
      const p = preparedOn(c, "gpu");
      const outs: Tensor[] = [];
      b.start();
      for (let i = 0; i < calls; i++) outs.push(p.run());
      await dev!.sync();
      b.end();
      outs.forEach((t) => t.dispose());
    },
  });
}
