/**
 * @file `deno bench`, one training step of the weight-decay study (demos/decay_study.ts):
 * minibatch selection, forward pass, reverse-mode gradients and the SGD update, for the
 * from-scratch and the concise variant, on the GPU and on the CPU reference (the
 * baseline). "one step, one wait" is a step's latency; "20 steps, one wait" (timed whole) is what the
 * demo does, where nothing waits inside an epoch.
 */
import { type Backend, cpu } from "../mod.ts";
import { makeStudyData, type RunSpec, startRun, STUDY_DEFAULTS } from "../demos/decay_study.ts";
import { dev } from "./_backends.ts";

const ROWS = [3, 14, 7, 0, 19];
const SPECS: RunSpec[] = [{ variant: "scratch", lambda: 15 }, { variant: "concise", lambda: -2 }];

function setUp(backend: Backend, spec: RunSpec) {
  const data = makeStudyData(backend, STUDY_DEFAULTS);
  return { data, run: startRun(data, spec, STUDY_DEFAULTS) };
}

for (const spec of SPECS) {
  const group = `decay step ${spec.variant}`;
  const onCpu = setUp(cpu(), spec);
  const onGpu = dev ? setUp(dev, spec) : null;
  if (onGpu) {
    onGpu.run.step(ROWS); // compiles every pipeline before timing
    await dev!.sync();
  }
  Deno.bench({
    name: `${group} cpu reference`,
    group,
    baseline: true,
    fn: () => onCpu.run.step(ROWS),
  });
  Deno.bench({
    name: `${group} webgpu (one step, one wait)`,
    group,
    ignore: !onGpu,
    async fn() {
      onGpu!.run.step(ROWS);
      await dev!.sync();
    },
  });
  Deno.bench({
    name: `${group} webgpu (20 steps, one wait)`,
    group,
    ignore: !onGpu,
    n: 20,
    async fn(b) {
      b.start();
      for (let i = 0; i < 20; i++) onGpu!.run.step(ROWS);
      await dev!.sync();
      b.end();
    },
  });
}
