/**
 * Every bad input named in docs/architecture.md#checked-at-the-boundary throws a
 * TypeError or RangeError whose message
 * names the op, what was expected and what was given, on both backends.
 */
import assert from "node:assert/strict";
import { type Backend, corr2d, dropout, l2Penalty, matmul, randomKey, sgdStep } from "../mod.ts";
import { dev, gpuTest, ref } from "./_harness.ts";

function assertError(
  fn: () => unknown,
  type: typeof TypeError | typeof RangeError,
  ...parts: Array<string | RegExp>
): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected a ${type.name}, got ${error}`);
    for (const part of parts) {
      const message = (error as Error).message;
      assert.ok(
        typeof part === "string" ? message.includes(part) : part.test(message),
        `message ${JSON.stringify(message)} lacks ${part}`,
      );
    }
    return true;
  });
}

function badInputs(b: Backend) {
  const m23 = b.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const m22 = b.tensor([1, 2, 3, 4], [2, 2]);
  const v3 = b.tensor([1, 2, 3]);
  const key = randomKey(1);
  assertError(
    () => matmul(m23, m23),
    RangeError,
    "matmul:",
    "inner dimensions",
    "[2, 3]",
    "k = 3",
    "k = 2",
  );
  // A vector is a matrix of one row, as NumPy promotes it: then its k must match.
  assertError(
    () => matmul(v3, m22),
    RangeError,
    "matmul:",
    "expected the inner dimensions to match",
    "[3]",
    "k = 3",
  );
  assertError(
    () => matmul(v3, m22, { transposeA: true }),
    RangeError,
    "matmul:",
    "expected a to have at least 2 dimensions (transposeA)",
    "[3]",
  );
  assertError(
    () => matmul(m22, m22, { transposeA: 1 as never }),
    TypeError,
    "matmul:",
    "transposeA",
    "boolean",
  );
  assertError(
    () => matmul(m22, "x" as never),
    TypeError,
    "matmul:",
    "expected b to be a tensor",
    "string",
  );
  assertError(
    () => sgdStep(m22, v3, { lr: 0.1 }),
    RangeError,
    "sgdStep:",
    "same shape",
    "[2, 2]",
    "[3]",
  );
  assertError(() => sgdStep(v3, v3, { lr: NaN }), RangeError, "sgdStep:", "lr", "finite", "NaN");
  assertError(
    () => sgdStep(v3, v3, { lr: 0.1, weightDecay: Infinity }),
    RangeError,
    "sgdStep:",
    "weightDecay",
    "Infinity",
  );
  assertError(
    () => sgdStep(v3, v3, { lr: 0.1, batchSize: 0 }),
    RangeError,
    "sgdStep:",
    "batchSize",
    "≥ 1",
    "got 0",
  );
  assertError(
    () => sgdStep(v3, v3, undefined as never),
    TypeError,
    "sgdStep:",
    "options object",
    "undefined",
  );
  assertError(
    () => sgdStep(v3, v3, { lr: "1" as never }),
    TypeError,
    "sgdStep:",
    "lr",
    "number",
    "string",
  );
  assertError(() => dropout(v3, 1.5, key), RangeError, "dropout:", "p", "[0, 1]", "1.5");
  assertError(() => dropout(v3, -0.1, key), RangeError, "dropout:", "p", "-0.1");
  assertError(() => dropout(v3, NaN, key), RangeError, "dropout:", "NaN");
  assertError(() => dropout(v3, 0.5, 7 as never), TypeError, "dropout:", "random key", "7");
  assertError(
    () => corr2d(m22, m23),
    RangeError,
    "corr2d:",
    "kernel no larger than the image",
    "[2, 3]",
    "[2, 2]",
  );
  assertError(
    () => corr2d(v3, m22),
    RangeError,
    "corr2d:",
    "expected x to have 2 dimensions",
    "[3]",
  );
  assertError(() => l2Penalty([1, 2] as never), TypeError, "l2Penalty:", "tensor", "array");
  assertError(
    () => b.tensor([1, 2, 3], [2, 2]),
    RangeError,
    "tensor:",
    "4 values",
    "[2, 2]",
    "got 3",
  );
  assertError(() => b.tensor([1, 2], [2, 0]), RangeError, "tensor:", "integer ≥ 1", "[2, 0]");
  assertError(() => b.tensor([1, 2], [2.5]), RangeError, "tensor:", "[2.5]");
  assertError(() => b.tensor("ab" as never), TypeError, "tensor:", "Float32Array", "string");
  const gone = b.tensor([1, 2, 3]);
  gone.dispose();
  gone.dispose(); // harmless
  assertError(() => l2Penalty(gone), TypeError, "l2Penalty:", "disposed");
  for (const t of [m23, m22, v3]) t.dispose();
}

Deno.test("errors: bad inputs on the CPU reference name op, expectation and value", () =>
  badInputs(ref));

gpuTest("errors: bad inputs on WebGPU name op, expectation and value", (gpu) => badInputs(gpu));

gpuTest("errors: tensors of two backends are refused", () => {
  using a = dev!.tensor([1, 2, 3, 4], [2, 2]);
  using b = ref.tensor([1, 2, 3, 4], [2, 2]);
  assertError(() => matmul(a, b), TypeError, "matmul:", "same backend", "webgpu", "cpu");
  assertError(() => sgdStep(b, a, { lr: 1 }), TypeError, "sgdStep:", "same backend");
  assertError(() => corr2d(a, b), TypeError, "corr2d:", "same backend");
});

gpuTest("errors: a tensor larger than one storage binding is refused before allocating", (gpu) => {
  const limit = gpu.runtime.maxElements;
  assertError(
    () => gpu.tensor(new Float32Array(1), [limit + 1]),
    RangeError,
    "tensor:",
    `at most ${limit} elements`,
  );
});
