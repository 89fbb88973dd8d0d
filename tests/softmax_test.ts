/**
 * softmax, logSoftmax, logSumExp and crossEntropy on both backends against float64: the
 * shared property (tests/_properties_softmax.ts, where the bound is derived) on the
 * reference and the test device.
 *
 * And the point of the stable form: logits of ±10⁴ give no NaN and no infinity, and the
 * right values and gradients, on both backends.
 */
import assert from "node:assert/strict";
import {
  type Backend,
  crossEntropy,
  logSoftmax,
  logSumExp,
  softmax,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { softmaxProperty } from "./_properties_softmax.ts";
import { assertWithin, gpuTest, ref, runs, U } from "./_harness.ts";

Deno.test(
  "softmax, logSoftmax, logSumExp, crossEntropy: reference within the bound of float64",
  () => assertProperty(softmaxProperty, ref, runs(40)),
);

gpuTest(
  softmaxProperty.name,
  (dev) => assertProperty(softmaxProperty, dev, runs(softmaxProperty.numRuns)),
);

/** Logits of ±10⁴: finite, right values and gradients, on `backend`. */
async function checkExtremes(backend: Backend) {
  const finite = (values: ArrayLike<number>, what: string) =>
    assert.ok(Array.from(values).every(Number.isFinite), `${what} on ${backend.kind}: ${values}`);
  using x = backend.tensor([0, 0, 1e4, -1e4, -1e4, 1e4, 1e4, 1e4], [4, 2]);
  using p = softmax(x);
  const probabilities = await p.read();
  finite(probabilities, "softmax");
  assertWithin(probabilities, [0.5, 0.5, 1, 0, 0, 1, 0.5, 0.5], () => 4 * U, "softmax of ±1e4");
  using ls = logSoftmax(x);
  const logs = await ls.read();
  finite(logs, "logSoftmax");
  const ln2 = Math.log(2);
  // Each within the bound of the computation: z exact here, log S near ln 2 (S = 1 or 2).
  assertWithin(
    logs,
    [-ln2, -ln2, 0, -2e4, -2e4, 0, -ln2, -ln2],
    () => 2 ** -21 + U * 2e4,
    "logSoftmax of ±1e4",
  );
  using lse = logSumExp(x, { axis: 1 });
  const sums = await lse.read();
  finite(sums, "logSumExp");
  assertWithin(
    sums,
    [ln2, 1e4, 1e4, 1e4 + ln2],
    () => 2 ** -21 + U * (1e4 + 1),
    "logSumExp of ±1e4",
  );
  using all = logSumExp(backend.tensor([-1e4, -1e4]));
  assertWithin(await all.read(), [-1e4 + ln2], () => 2 ** -21 + U * 1e4, "logSumExp of −1e4s");
  // crossEntropy: labels [1, 0, 0, 1]: losses ln 2, 2·10⁴, 2·10⁴... as −logSoftmax at the label.
  using labels = backend.tensor([1, 0, 0, 1]);
  const { value, grads: [dx] } = valueAndGrad((logits: Tensor) => crossEntropy(logits, labels))(x);
  const loss = await value.read();
  finite(loss, "crossEntropy");
  assertWithin(
    loss,
    [(ln2 + 0 + 2e4 + ln2) / 4],
    () => 2 ** -21 + 8 * U * 2e4,
    "crossEntropy of ±1e4",
  );
  const gradient = await dx.read();
  finite(gradient, "∂crossEntropy/∂logits");
  // (softmax − one-hot)/n.
  const oneHot = [0, 1, 1, 0, 1, 0, 0, 1];
  assertWithin(
    gradient,
    [0.5, 0.5, 1, 0, 0, 1, 0.5, 0.5].map((v, i) => (v - oneHot[i]) / 4),
    () => 8 * U,
    "∂crossEntropy/∂logits of ±1e4",
  );
  value.dispose();
  dx.dispose();
}

Deno.test("logits of ±1e4: no NaN, no infinity, the right values and gradients (reference)", () =>
  checkExtremes(ref));
gpuTest(
  "logits of ±1e4: no NaN, no infinity, the right values and gradients (GPU)",
  (dev) => checkExtremes(dev),
);

Deno.test("softmax family: refused arguments name the function", () => {
  using x = ref.tensor([1, 2, 3, 4], [2, 2]);
  assert.throws(
    () => softmax(x, { axis: 2 }),
    /softmax: expected axes to be integers in \[-2, 2\)/,
  );
  assert.throws(() => logSoftmax(x, { axis: 1.5 }), /logSoftmax: expected axes to be integers/);
  assert.throws(
    () => logSumExp(x, { keepdims: true } as never),
    /logSumExp: expected options among axis, keepDims/,
  );
  assert.throws(
    () => crossEntropy(x, ref.tensor([0, 2])),
    /crossEntropy: expected labels in \[0, 2\), got 2 at position 1/,
  );
  assert.throws(
    () => crossEntropy(x, ref.tensor([0])),
    /crossEntropy: expected labels of shape \[2\] for logits \[2, 2\], got \[1\]/,
  );
  assert.throws(
    () => crossEntropy(ref.tensor([1, 2]), ref.tensor([0])),
    /crossEntropy: expected logits to have 2 dimensions/,
  );
});
