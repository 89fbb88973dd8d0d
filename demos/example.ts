/**
 * @file A first run: the five ops on the GPU, each checked against the CPU reference.
 * `deno task example`
 */
import {
  type Backend,
  corr2d,
  cpu,
  dropout,
  gpu,
  l2Penalty,
  matmul,
  randomKey,
  sgdStep,
  type Tensor,
} from "../mod.ts";

const dev = await gpu();
const ref = cpu();
console.log(`WebGPU adapter: ${dev.name}`);

function run(b: Backend): Record<string, Tensor> {
  const x = b.tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)), [64, 64]);
  const w = b.tensor(Float32Array.from({ length: 64 }, (_, i) => i / 64), [64, 1]);
  return {
    "matmul [64,64]·[64,1]": matmul(x, w),
    "l2Penalty of w": l2Penalty(w),
    "sgdStep on w": sgdStep(w, w, { lr: 0.1, weightDecay: 0.5, batchSize: 4 }),
    "dropout p=0.2": dropout(x, 0.2, randomKey(0)),
    "corr2d with [[1, -1]]": corr2d(x, b.tensor([1, -1], [1, 2])),
  };
}

const onGpu = run(dev), onCpu = run(ref);
for (const [name, t] of Object.entries(onGpu)) {
  const [g, c] = [Array.from(await t.read()), await onCpu[name].read()];
  const maxError = g.reduce((m, v, i) => Math.max(m, Math.abs(v - c[i])), 0);
  console.log(
    `${name.padEnd(24)} shape [${t.shape}]  max |gpu − cpu| = ${maxError.toExponential(2)}`,
  );
}
dev.destroy();
