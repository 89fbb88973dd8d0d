/**
 * SGD (with momentum) and Adam: the shared property (tests/_properties_optimizers.ts: 100
 * steps against float64 re-implementations of PyTorch's rules, within a tracked bound of
 * the float32 computation) on the reference and the test device; known steps, and errors.
 */
import assert from "node:assert/strict";
import { Adam, SGD } from "../mod.ts";
import { assertProperty, type OpProperty } from "./_properties.ts";
import { adamProperty, sgdProperty } from "./_properties_optimizers.ts";
import { dev, gpuTest, ref, runs } from "./_harness.ts";

const OPTIMISERS: [string, OpProperty<unknown>][] = [["SGD", sgdProperty], ["Adam", adamProperty]];

for (const [name, property] of OPTIMISERS) {
  Deno.test(
    `${name}: 100 steps on the reference follow the float64 rule within the tracked bound`,
    () => assertProperty(property, ref, runs(property.numRuns)),
  );
  gpuTest(property.name, (gpu) => assertProperty(property, gpu, runs(property.numRuns)));
}

Deno.test("SGD and Adam: known steps, and a parameter in no group is an error", async () => {
  const p = { w: ref.tensor([1, 2]), b: ref.tensor([0.5]) };
  const g = { w: ref.tensor([1, -1]), b: ref.tensor([2]) };
  // The old call: no state, no momentum.
  const plain = new SGD([{ params: ["w", "b"], lr: 0.5 }]).step(p, g);
  assert.deepEqual([...await plain.w.read()], [0.5, 2.5]);
  assert.deepEqual([...await plain.b.read()], [-0.5]);
  // Momentum 0.5: buf = g, then 0.5·g + g.
  const heavy = new SGD([{ params: ["w", "b"], lr: 1, momentum: 0.5 }]);
  let s = heavy.init(p);
  let step = heavy.step(p, g, s);
  step = heavy.step(step.params, g, step.state);
  assert.deepEqual([...await step.params.w.read()], [1 - 1 - 1.5, 2 + 1 + 1.5]);
  assert.deepEqual([...await step.state.momentum.w.read()], [1.5, -1.5]);
  assert.throws(
    () => heavy.step(p, g),
    /SGD.step: expected the state from SGD.init\(params\), since "w" has momentum 0.5; got none/,
  );
  s = heavy.init(p);
  assert.throws(
    () => heavy.step(p, g, { momentum: { w: s.momentum.w } }),
    /SGD.step: expected state.momentum.b to be a tensor, got undefined/,
  );
  assert.throws(
    () => heavy.step(p, g, {} as never),
    /SGD.step: expected the state from SGD.init\(params\) \(fields momentum\), got no momentum/,
  );
  // A parameter (or gradient) in no group, and one missing.
  const onlyW = new SGD([{ params: ["w"], lr: 1 }]);
  assert.throws(
    () => onlyW.step(p, g),
    /SGD.step: expected every entry of params to be in a parameter group, got "b", which is in none \(groups: w\)/,
  );
  assert.throws(
    () => new Adam([{ params: ["w"] }]).init(p),
    /Adam.init: expected every entry of params to be in a parameter group, got "b"/,
  );
  assert.throws(() => onlyW.step({ w: p.w }, g), /entry of grads .* got "b"/);
  assert.throws(() => new SGD([{ params: ["w", "c"], lr: 1 }]).step(p, g), /got "b"/);
  assert.throws(
    () => new SGD([{ params: ["w", "b", "c"], lr: 1 }]).step(p, g),
    /SGD.step: expected params.c to be a tensor, got undefined/,
  );
  assert.throws(
    () => new SGD([{ params: ["w"], lr: 1, momentun: 0.9 } as never]),
    /unknown option "momentun"/,
  );
  assert.throws(
    () => new SGD([{ params: ["w"], lr: 1, momentum: -1 }]),
    /momentum to be a finite number ≥ 0/,
  );
  assert.throws(
    () => new Adam([{ params: ["w"], beta2: 1 }]),
    /Adam: expected beta2 to be a number in \[0, 1\), got 1/,
  );
  // Adam: PyTorch's defaults; the first step moves by lr·g/(|g| + ε) against the gradient.
  const adam = new Adam([{ params: ["w", "b"] }]);
  const first = adam.step(p, g, adam.init(p));
  const w = await first.params.w.read();
  assert.ok(Math.abs(w[0] - (1 - 1e-3)) < 1e-7 && Math.abs(w[1] - (2 + 1e-3)) < 1e-7, `${w}`);
  assert.deepEqual([...await first.state.correction1.w.read()], [
    Math.fround(1 - Math.fround(0.9)),
  ]);
  const wrongShape = { ...first.state, m: { w: ref.tensor([1]), b: first.state.m.b } };
  assert.throws(
    () => adam.step(first.params, g, wrongShape),
    /Adam.step: expected state.m.w of shape \[2\], got \[1\]/,
  );
});

gpuTest("SGD and Adam: the state lives on the parameters' backend", async (gpu) => {
  const p = { w: gpu.tensor([1, 2]) };
  const adam = new Adam([{ params: ["w"], lr: 0.1 }]);
  const state = adam.init(p);
  assert.equal(state.m.w.backend, gpu);
  const { params } = adam.step(p, { w: gpu.tensor([1, 1]) }, state);
  assert.deepEqual([...await params.w.read()].map((v) => Math.round(v * 1e6) / 1e6), [0.9, 1.9]);
  assert.ok(dev !== null);
});
