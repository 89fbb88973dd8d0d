/**
 * What a tensor prints: `console.log`, `Deno.inspect` and `String(t)` show its shape, its
 * backend and its values where they are on the host — always on the CPU backend, on
 * WebGPU after a read (the last read's, which stay true: tensors are immutable).
 */
import assert from "node:assert/strict";
import { add } from "../mod.ts";
import { gpuTest, ref } from "./_harness.ts";

Deno.test("CPU tensors print shape, backend and values, nested as NumPy prints them", () => {
  using v = ref.tensor([1, 2.5, -3]);
  assert.equal(Deno.inspect(v), "Tensor [3] cpu [1, 2.5, -3]");
  assert.equal(String(v), "Tensor [3] cpu [1, 2.5, -3]");
  assert.equal(`${v}`, "Tensor [3] cpu [1, 2.5, -3]");
  using s = ref.tensor([12.5], []);
  assert.equal(String(s), "Tensor [] cpu 12.5");
  // Each number is the shortest decimal that reads back as the same float32.
  using f = ref.tensor([0.1, 1 / 3, -0, NaN, Infinity, 1e-30, 16777217]);
  assert.equal(String(f), "Tensor [7] cpu [0.1, 0.33333334, -0, NaN, Infinity, 1e-30, 16777216]");
  using m = ref.tensor([1, 2.5, 3, 4, 5, 0.1], [2, 3]);
  assert.equal(String(m), "Tensor [2, 3] cpu\n[[  1, 2.5,   3],\n [  4,   5, 0.1]]");
  using cube = ref.tensor(Array.from({ length: 8 }, (_, i) => i), [2, 2, 2]);
  assert.equal(
    String(cube),
    "Tensor [2, 2, 2] cpu\n[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]",
  );
  // Nested in other values, as console.log shows them.
  assert.equal(Deno.inspect({ w: v }), "{ w: Tensor [3] cpu [1, 2.5, -3] }");
});

Deno.test("past 1,000 elements the first and last three along each axis are shown", () => {
  using big = ref.tensor(Float32Array.from({ length: 40 * 50 }, (_, i) => i), [40, 50]);
  const lines = String(big).split("\n");
  assert.equal(lines[0], "Tensor [40, 50] cpu");
  assert.equal(lines[1], "[[   0,    1,    2, ...,   47,   48,   49],");
  assert.equal(lines[4], " ...,");
  assert.equal(lines.at(-1), " [1950, 1951, 1952, ..., 1997, 1998, 1999]]");
  assert.equal(lines.length, 8);
  using long = ref.tensor(Float32Array.from({ length: 1001 }, (_, i) => i));
  assert.equal(String(long), "Tensor [1001] cpu [0, 1, 2, ..., 998, 999, 1000]");
  using exactly = ref.tensor(new Float32Array(1000));
  assert.ok(!String(exactly).includes("..."));
});

Deno.test("a disposed tensor says so", () => {
  const t = ref.tensor([1, 2]);
  t.dispose();
  assert.equal(String(t), "Tensor [2] cpu (disposed)");
  assert.equal(Deno.inspect(t), "Tensor [2] cpu (disposed)");
});

gpuTest("GPU tensors show their values after a read, never waiting for the device", async (dev) => {
  using g = dev.tensor([1, 2, 3, 4], [2, 2]);
  assert.equal(String(g), "Tensor [2, 2] webgpu (on the device; read() it to see the values)");
  const values = await g.read();
  values[0] = 99; // the caller's copy: what prints is the tensor's
  assert.equal(Deno.inspect(g), "Tensor [2, 2] webgpu\n[[1, 2],\n [3, 4]]");
  using sum = add(g, g);
  assert.match(String(sum), /\(on the device/);
  await sum.read();
  assert.equal(String(sum), "Tensor [2, 2] webgpu\n[[2, 4],\n [6, 8]]");
  // A large one keeps only the summary of its last read.
  using big = dev.tensor(Float32Array.from({ length: 2000 }, (_, i) => i), [2000]);
  await big.read();
  assert.equal(String(big), "Tensor [2000] webgpu [0, 1, 2, ..., 1997, 1998, 1999]");
  sum.dispose();
  assert.equal(String(sum), "Tensor [2, 2] webgpu (disposed)");
});
