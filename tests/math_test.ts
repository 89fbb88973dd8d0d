/**
 * The elementwise functions on the GPU against their exact values: the shared properties
 * (tests/_properties_elementwise.ts, where the bounds are derived) on the test device and
 * on a folded dispatch grid; and the edge cases of sqrt, tanh, sigmoid and exp.
 */
import { abs, exp, neg, sigmoid, sqrt, tanh } from "../mod.ts";
import { assertProperty, type OpProperty } from "./_properties.ts";
import {
  divProperty,
  exactOpsProperty,
  expBound,
  powProperty,
  UNARY_PROPERTIES,
} from "./_properties_elementwise.ts";
import { assertWithin, folded, gpuTest, runs } from "./_harness.ts";

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

gpuTest("sqrt(0) is 0, and large arguments saturate without NaN", async (dev) => {
  const x = [0, 1e4, -1e4, 100, -100, 1e30, -1e30];
  using gx = dev.tensor(x);
  using r = sqrt(abs(gx));
  using t = tanh(gx);
  using g = sigmoid(gx);
  using e = exp(neg(abs(gx)));
  assertWithin(
    await r.read(),
    x.map((v) => Math.sqrt(Math.abs(v))),
    (i) => 1e-6 * Math.sqrt(Math.abs(x[i])),
    "sqrt",
  );
  assertWithin(await t.read(), x.map(Math.tanh), () => 2 ** -20, "tanh");
  assertWithin(await g.read(), x.map((v) => 1 / (1 + Math.exp(-v))), () => 2 ** -20, "sigmoid");
  assertWithin(
    await e.read(),
    x.map((v) => Math.exp(-Math.abs(v))),
    (i) => expBound(-Math.abs(x[i]), Math.exp(-Math.abs(x[i]))),
    "exp of −|x|",
  );
});
