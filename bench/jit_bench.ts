/**
 * @file `deno bench`, how `jit` cuts a program into kernels: one SGD step of a two-layer
 * regression (X·w1, relu, ·w2, mean squared error; both gradients; both updates) as one
 * program kernel, as fused kernels and as one kernel per op, at three sizes around
 * where `kernels: "auto"` switches from the first to the second (`PROGRAM_WORK` in
 * jit/lower.ts, from these figures). Timed as a training loop runs: 100 steps, one wait.
 */
import { grad, jit, type KernelGranularity, matmul, mean, mseLoss, relu } from "../mod.ts";
import { sgdStep, type Tensor } from "../mod.ts";
import { dev } from "./_backends.ts";

const HIDDEN = 16;
const STEPS = 100;
const SIZES = [{ batch: 16, inputs: 32 }, { batch: 64, inputs: 32 }, {
  batch: 64,
  inputs: 128,
}];
const GRANULARITIES: KernelGranularity[] = ["program", "fused", "ops"];

for (const { batch, inputs } of SIZES) {
  const group = `jit step, batch ${batch}, ${inputs} inputs`;
  const X = dev?.tensor(
    new Float32Array(batch * inputs).map((_, i) => Math.sin(i)),
    [
      batch,
      inputs,
    ],
  );
  const y = dev?.tensor(new Float32Array(batch).map((_, i) => Math.cos(i)), [
    batch,
    1,
  ]);
  for (const kernels of GRANULARITIES) {
    const step = jit((w1: Tensor, w2: Tensor) => {
      const loss = (a: Tensor, b: Tensor) => mean(mseLoss(matmul(relu(matmul(X!, a)), b), y!));
      const [g1, g2] = grad(loss)(w1, w2);
      return [sgdStep(w1, g1, { lr: 0.01 }), sgdStep(w2, g2, { lr: 0.01 })];
    }, { kernels, donate: [0, 1] });
    let w = dev
      ? [
        dev.tensor(new Float32Array(inputs * HIDDEN).fill(0.01), [
          inputs,
          HIDDEN,
        ]),
        dev.tensor(new Float32Array(HIDDEN).fill(0.01), [HIDDEN, 1]),
      ]
      : [];
    if (dev) {
      w = step(w[0], w[1]); // compiles
      await dev.sync();
    }
    Deno.bench({
      name: `${group}: ${kernels}`,
      group,
      baseline: kernels === "fused",
      ignore: !dev,
      n: 10,
      async fn(b) {
        b.start();
        for (let i = 0; i < STEPS; i++) w = step(w[0], w[1]);
        await dev!.sync();
        b.end();
      },
    });
  }
}
