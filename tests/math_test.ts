/**
 * The elementwise functions on the GPU against their exact values: the shared properties
 * (tests/_properties_elementwise.ts, where the bounds are derived) on the test device and
 * on a folded dispatch grid; the edge cases of sqrt, tanh, sigmoid and exp; and the
 * allowances over WGSL's accuracy, granted only on the adapters where they were measured.
 */
import assert from "node:assert/strict";
import { abs, exp, neg, sigmoid, sqrt, tanh } from "../mod.ts";
import { assertProperty, type OpProperty } from "./_properties.ts";
import {
  divProperty,
  exactOpsProperty,
  expBound,
  LOG_ALLOWANCE,
  powProperty,
  sigmoidBound,
  sqrtBound,
  tanhBound,
  UNARY_PROPERTIES,
} from "./_properties_elementwise.ts";
import {
  allowanceOn,
  assertWithin,
  EXP_ALLOWANCE,
  expUlps,
  folded,
  gpuTest,
  ref,
  runs,
} from "./_harness.ts";

for (const property of UNARY_PROPERTIES) {
  gpuTest(property.name, async (dev) => {
    for (const backend of [dev, folded!]) {
      await assertProperty(property, backend, runs(backend === dev ? property.numRuns : 10));
    }
  });
}

const BINARY_AND_EXACT: OpProperty<unknown>[] = [exactOpsProperty, divProperty, powProperty];
for (const property of BINARY_AND_EXACT) {
  gpuTest(property.name, (dev) => assertProperty(property, dev, runs(property.numRuns)));
}

// The properties' bounds (tests/_properties_elementwise.ts), which hold at every finite x:
// sqrt(0) exactly 0; tanh and sigmoid within a few u of ±1, 1 or 0 where they saturate.
gpuTest("sqrt(0) is 0, and large arguments saturate without NaN", async (dev) => {
  const x = [0, 1e4, -1e4, 100, -100, 1e30, -1e30];
  using gx = dev.tensor(x);
  using r = sqrt(abs(gx));
  using t = tanh(gx);
  using g = sigmoid(gx);
  using e = exp(neg(abs(gx)));
  const sqrts = x.map((v) => Math.sqrt(Math.abs(v)));
  assertWithin(await r.read(), sqrts, (i) => sqrtBound(sqrts[i]), "sqrt");
  const tanhs = x.map(Math.tanh), sigmoids = x.map((v) => 1 / (1 + Math.exp(-v)));
  assertWithin(await t.read(), tanhs, (i) => tanhBound(x[i], tanhs[i], dev), "tanh");
  assertWithin(await g.read(), sigmoids, (i) => sigmoidBound(x[i], sigmoids[i], dev), "sigmoid");
  assertWithin(
    await e.read(),
    x.map((v) => Math.exp(-Math.abs(v))),
    (i) => expBound(-Math.abs(x[i]), Math.exp(-Math.abs(x[i])), dev),
    "exp of −|x|",
  );
});

Deno.test("the exp and log allowances apply only on the adapters where they were measured", () => {
  const adapter = (name: string) => ({ name });
  const llvmpipe = adapter("llvmpipe (LLVM 15.0.6, 256 bits)");
  const swiftShader = adapter("google swiftshader");
  // Adapters never measured, and the CPU reference: WGSL's own bounds.
  const others = [adapter("NVIDIA GeForce RTX 4090"), adapter("Apple M2"), adapter("llvm"), ref];
  assert.equal(allowanceOn(EXP_ALLOWANCE, llvmpipe), 0.5);
  assert.equal(allowanceOn(EXP_ALLOWANCE, swiftShader), 0.5);
  assert.equal(allowanceOn(LOG_ALLOWANCE, swiftShader), 1.1);
  assert.equal(allowanceOn(LOG_ALLOWANCE, adapter("SwiftShader Device (Subzero)")), 1.1);
  assert.equal(allowanceOn(LOG_ALLOWANCE, llvmpipe), 0);
  for (const other of others) {
    assert.equal(allowanceOn(EXP_ALLOWANCE, other), 0, other.name);
    assert.equal(allowanceOn(LOG_ALLOWANCE, other), 0, other.name);
    assert.equal(expUlps(-0.25, other), 3.5, other.name);
  }
  assert.equal(expUlps(-0.25, llvmpipe), 4);
});
