/**
 * Element types (docs/architecture.md#types): JAX's promotion table with weak numbers;
 * `tensor()` taking its type from the values or `{ dtype }`; `read()` giving the type's
 * array; `astype` and `full` exact on both backends (tests/_properties_types.ts); printing
 * with the type; float-only ops refusing other types with the op's name; float16 stored on
 * the CPU, and on WebGPU where the adapter has shader-f16 (refused, naming it, elsewhere);
 * storage bytes by type; `jit` carrying the types through its graph and keying its
 * programs by them.
 */
import assert from "node:assert/strict";
import {
  add,
  all,
  any,
  argmax,
  argmin,
  astype,
  type Backend,
  crossEntropy,
  type DType,
  grad,
  greater,
  jit,
  matmul,
  max,
  mean,
  mul,
  prod,
  promoteTypes,
  softmax,
  sub,
  sum,
  takeRows,
  type Tensor,
  where,
} from "../mod.ts";
import * as lib from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import {
  astypeProperty,
  BINARY_OPS,
  expectedCast,
  expectedResultType,
  fullTypesProperty,
  integerOpsProperty,
  integerReduceProperty,
} from "./_properties_types.ts";
import { gpuTest, ref, runs } from "./_harness.ts";

const TYPES: readonly DType[] = ["bool", "uint32", "int32", "float16", "float32"];

/**
 * JAX's promotion table ("Type promotion semantics", jax.numpy, 32-bit mode: int32 with
 * uint32 is JAX's int64 narrowed to int32), rows and columns in TYPES' order, transcribed
 * here as the outside authority; `i*` and `f*` are JAX's weak int and weak float (a
 * Python int or float: for us, a JavaScript number, integral or not).
 */
const JAX_TABLE: Record<DType | "i*" | "f*", readonly (DType)[]> = {
  bool: ["bool", "uint32", "int32", "float16", "float32"],
  uint32: ["uint32", "uint32", "int32", "float16", "float32"],
  int32: ["int32", "int32", "int32", "float16", "float32"],
  float16: ["float16", "float16", "float16", "float16", "float32"],
  float32: ["float32", "float32", "float32", "float32", "float32"],
  "i*": ["int32", "uint32", "int32", "float16", "float32"],
  "f*": ["float32", "float32", "float32", "float16", "float32"],
};

Deno.test("promoteTypes: JAX's table for every pair of types and with weak numbers", () => {
  for (const [row, results] of Object.entries(JAX_TABLE)) {
    TYPES.forEach((column, j) => {
      const a = row === "i*" ? 2 : row === "f*" ? 0.5 : row as DType;
      assert.equal(promoteTypes(a, column), results[j], `${row} with ${column}`);
      assert.equal(promoteTypes(column, a), results[j], `${column} with ${row} (symmetric)`);
    });
  }
  assert.equal(promoteTypes(2, 3), "int32");
  assert.equal(promoteTypes(2, 0.5), "float32");
});

Deno.test("README's promotion table is promoteTypes' (and so JAX's)", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const rows = readme.split("\n").filter((l) =>
    /^\| (bool|uint32|int32|float16|float32|i\*|f\*) +\|/.test(l)
  )
    .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
  assert.equal(rows.length, 7, "seven rows: five types and the two weak numbers");
  for (const [row, ...results] of rows) {
    assert.deepEqual(results, JAX_TABLE[row as DType], `README's row ${row}`);
  }
});

/** How the README's type table's ops are called on a [2, 2] tensor; others: `op(x)`. */
const TYPE_TABLE_CALLS: Record<string, (x: Tensor) => unknown> = {
  ...Object.fromEntries(
    Object.values(BINARY_OPS).flatMap((ops) =>
      Object.entries(ops).map(([name, op]) => [name, (x: Tensor) => op(x, x)])
    ),
  ),
  where: (x) => lib.where(x, x, x),
  argmax: (x) => lib.argmax(x, { axis: 0 }),
  argmin: (x) => lib.argmin(x, { axis: 0 }),
  reshape: (x) => lib.reshape(x, [4]),
  slice: (x) => lib.slice(x, [0, 0], [1, 2]),
  broadcastTo: (x) => lib.broadcastTo(x, [2, 2, 2]),
  expandDims: (x) => lib.expandDims(x, 0),
  tile: (x) => lib.tile(x, 2),
  concat: (x) => lib.concat([x, x]),
  stack: (x) => lib.stack([x, x]),
  takeRows: (x) => lib.takeRows(x, [1, 0]),
  gather: (x) => lib.gather(x, [1, 0]),
  takeAlongAxis: (x) => lib.takeAlongAxis(x, ref.tensor(Int32Array.from([1, 0, 0, 1]), [2, 2])),
  oneHot: (x) => lib.oneHot(x, 4),
  topK: (x) => {
    const { values, indices } = lib.topK(x, 1);
    values.dispose();
    indices.dispose();
  },
  scatterAdd: (x) => lib.scatterAdd(x, [1, 0], x),
  astype: (x) => lib.astype(x, "float32"),
  matmul: (x) => lib.matmul(x, x),
  conv2d: (x) => {
    using images = lib.reshape(x, [1, 1, 2, 2]);
    return lib.conv2d(images, images);
  },
  sgdStep: (x) => lib.sgdStep(x, x, { lr: 0.1 }),
  dropout: (x) => lib.dropout(x, 0.5, lib.randomKey(1)),
};

Deno.test("README's per-op type table: each named op takes exactly the types its row says", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const table = readme.slice(readme.indexOf("**By op**"), readme.indexOf("Gradients flow"));
  const rows = table.split("\n").filter((l) => l.startsWith("| `") || l.startsWith("| every"))
    .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
  assert.ok(rows.length >= 14, `the table has its rows (${rows.length})`);
  let checked = 0;
  for (const [ops, take] of rows) {
    // "every type" ("any type": where's), or the types listed before any parenthesis.
    const takes = /every type|any type/.test(take.split("(")[0])
      ? TYPES
      : TYPES.filter((t) => take.split("(")[0].trim().split(/, | or /).includes(t));
    // `where(cond, a, b)`: a name before a parenthesis or a space; "`takeRows`'s" is an
    // argument's row, not the op's.
    const names = [...ops.matchAll(/`(\w+)[`(]/g)].map((m) => m[1])
      .filter((n) =>
        !ops.includes(`\`${n}\`'s`) && typeof lib[n as keyof typeof lib] === "function"
      );
    for (const name of names) {
      const call = TYPE_TABLE_CALLS[name] ??
        ((x: Tensor) => (lib[name as keyof typeof lib] as (x: Tensor) => unknown)(x));
      for (const dtype of TYPES) {
        using x = ref.tensor([1, 0, 2, 3], [2, 2], { dtype });
        const what = `${name} of ${dtype} (README: ${take})`;
        if (takes.includes(dtype)) {
          const out = call(x);
          if (out instanceof Object && Symbol.dispose in out) (out as Tensor).dispose();
        } else {
          assert.throws(
            () => call(x),
            new RegExp(`^TypeError: ${name}: expected .* got ${dtype}`),
            what,
          );
        }
        checked++;
      }
    }
  }
  assert.ok(checked >= 40 * TYPES.length, `every named op checked (${checked / TYPES.length})`);
});

Deno.test("every binary op on every pair of types: the promotion table's type, or refused", () => {
  const one = (dtype: DType) => ref.tensor([1, 0], [2], { dtype });
  for (const [kind, ops] of Object.entries(BINARY_OPS) as [keyof typeof BINARY_OPS, object][]) {
    for (const [name, op] of Object.entries(ops) as [string, (a: Tensor, b: Tensor) => Tensor][]) {
      for (const a of TYPES) {
        for (const b of TYPES) {
          using x = one(a);
          using y = one(b);
          const expected = expectedResultType(kind, a, b);
          if (expected === null) {
            assert.throws(() => op(x, y), new RegExp(`^TypeError: ${name}: expected . to be`));
            continue;
          }
          using out = op(x, y);
          assert.equal(out.dtype, expected, `${name}(${a}, ${b})`);
        }
      }
    }
  }
});

Deno.test("integer and bool ops: exact and wrapping on the reference", () =>
  assertProperty(integerOpsProperty, ref, runs(integerOpsProperty.numRuns)));

gpuTest(
  "integer and bool ops: exact and wrapping on the GPU",
  (dev) => assertProperty(integerOpsProperty, dev, runs(integerOpsProperty.numRuns)),
);

/** floorDiv and mod of int32 with negative operands: NumPy's values (numpy 2.4, int32). */
async function integerDivision(b: Backend): Promise<void> {
  // The last column divides by zero (NumPy's 0, with a warning); −2³¹ // −1 wraps to −2³¹.
  using x = b.tensor(Int32Array.from([-7, 7, -7, -6, 5, -(2 ** 31), 9]));
  using y = b.tensor(Int32Array.from([3, -3, -3, 4, -1, -1, 0]));
  using q = lib.floorDiv(x, y);
  using r = lib.mod(x, y);
  assert.deepEqual([...await q.read()], [-3, -3, 2, -2, -5, -(2 ** 31), 0], "floorDiv");
  assert.deepEqual([...await r.read()], [2, -2, -1, 2, 0, 0, 0], "mod");
}

Deno.test("floorDiv, mod of int32: NumPy's values with negative operands, on the reference", () =>
  integerDivision(ref));

// The GL stack computed WGSL's `%` of a negative i32 wrongly (−7 % 3 gave 0).
gpuTest(
  "floorDiv, mod of int32: NumPy's values with negative operands, on the GPU",
  integerDivision,
);

Deno.test("integer reductions: exact and wrapping on the reference", () =>
  assertProperty(integerReduceProperty, ref, runs(integerReduceProperty.numRuns)));

gpuTest(
  "integer reductions: exact and wrapping on the GPU, eagerly and under jit",
  (dev) => assertProperty(integerReduceProperty, dev, runs(integerReduceProperty.numRuns)),
);

Deno.test("reductions by type: NumPy's values, and the refused types", async () => {
  // NumPy: np.array([2**31 - 1, 1], np.int32).sum(dtype=np.int32) == -2**31 (wraps);
  // np.array([True, False, True]).sum() == 2 (an integer); np.mean of int32 is a float.
  using big = ref.tensor(new Int32Array([2 ** 31 - 1, 1]));
  using wrapped = sum(big);
  assert.equal(wrapped.dtype, "int32");
  assert.deepEqual([...await wrapped.read()], [-(2 ** 31)]);
  using flags = ref.tensor([true, false, true]);
  using count = sum(flags);
  assert.equal(count.dtype, "int32");
  assert.deepEqual([...await count.read()], [2]);
  using words = ref.tensor(new Uint32Array([4294967295, 0, 7]));
  using highest = max(words);
  assert.equal(highest.dtype, "uint32");
  assert.deepEqual([...await highest.read()], [4294967295]);
  using pair = ref.tensor(new Int32Array([1, 2]));
  using average = mean(pair);
  assert.equal(average.dtype, "float32");
  assert.deepEqual([...await average.read()], [1.5]);
  assert.throws(
    () => max(flags),
    /max: expected x to be float32, float16, int32 or uint32, got bool/,
  );
  assert.throws(
    () => prod(flags),
    /prod: expected x to be float32, float16, int32 or uint32, got bool/,
  );
  assert.throws(
    () => argmax(flags, { axis: 0 }),
    /argmax: expected x to be float32, float16, int32 or uint32, got bool/,
  );
});

Deno.test("tensor(): the values' own type, or { dtype }; read() the type's array", async () => {
  const cases: [Tensor, DType, unknown][] = [
    [ref.tensor([1, 2]), "float32", Float32Array],
    [ref.tensor([true, false]), "bool", Uint8Array],
    [ref.tensor(new Int32Array([-1, 2])), "int32", Int32Array],
    [ref.tensor(new Uint32Array([1, 2])), "uint32", Uint32Array],
    [ref.tensor(new Float16Array([1, 2])), "float16", Float16Array],
    [ref.tensor(new Uint8Array([0, 3])), "bool", Uint8Array],
    [ref.tensor([1.9, -2.9], [2], { dtype: "int32" }), "int32", Int32Array],
  ];
  for (const [t, dtype, array] of cases) {
    using _ = t;
    assert.equal(t.dtype, dtype);
    assert.ok((await t.read()) instanceof (array as typeof Uint8Array), dtype);
  }
  using converted = ref.tensor([1.9, -2.9, 3e9], [3], { dtype: "int32" });
  assert.deepEqual([...await converted.read()], [1, -2, 2147483647]);
  using truthy = ref.tensor(new Uint8Array([0, 3]));
  assert.deepEqual([...await truthy.read()], [0, 1]);
  assert.throws(() => ref.tensor([1], [1], { dtype: "int64" as DType }), /tensor: expected dtype/);
  assert.throws(() => ref.tensor([1], [1], { type: "int32" } as never), /unknown option "type"/);
  assert.throws(() => ref.tensor([true, 1] as never), /expected every value to be a boolean/);
});

Deno.test("astype, full: the documented rules on the reference", async () => {
  await assertProperty(astypeProperty, ref, runs(astypeProperty.numRuns));
  await assertProperty(fullTypesProperty, ref, runs(fullTypesProperty.numRuns));
});

gpuTest("astype, full: the documented rules on the GPU, as on the reference", async (dev) => {
  await assertProperty(astypeProperty, dev, runs(astypeProperty.numRuns));
  await assertProperty(fullTypesProperty, dev, runs(fullTypesProperty.numRuns));
});

Deno.test("astype: NumPy's values where NumPy defines them, the rule's where it does not", async () => {
  // numpy 2.4: np.float32([-1.7, 2.5, 0.5, -0.0]).astype(np.int32) → [-1, 2, 0, 0];
  // np.int32([-5, 7]).astype(np.uint32) → [4294967291, 7]; .astype(bool) → [True, True];
  // np.float32([nan, 0.0, -0.0]).astype(bool) → [True, False, False].
  using x = ref.tensor([-1.7, 2.5, 0.5, -0]);
  using i = astype(x, "int32");
  assert.deepEqual([...await i.read()], [-1, 2, 0, 0]);
  using w = ref.tensor(new Int32Array([-5, 7]));
  using u = astype(w, "uint32");
  assert.deepEqual([...await u.read()], [4294967291, 7]);
  using truth = astype(ref.tensor([NaN, 0, -0]), "bool");
  assert.deepEqual([...await truth.read()], [1, 0, 0]);
  // NaN and out of range (undefined in NumPy; −2³¹ on x86): saturation, NaN → 0.
  assert.deepEqual([NaN, 3e9, -3e9].map((v) => expectedCast(v, "float32", "int32")), [
    0,
    2147483647,
    -2147483648,
  ]);
  using edges = astype(ref.tensor([NaN, 3e9, -3e9, Infinity]), "uint32");
  assert.deepEqual([...await edges.read()], [0, 3000000000, 0, 4294967295]);
});

Deno.test("astype: float → float passes the gradient back; through an integer none flows", async () => {
  const { valueAndGrad } = await import("../mod.ts");
  using x = ref.tensor([1.5, -2]);
  const { value, grads: [g] } = valueAndGrad((t: Tensor) => sum(astype(t, "float32")))(x);
  using _v = value;
  using _g = g;
  assert.deepEqual([...await g.read()], [1, 1]);
});

Deno.test("zeros, ones, full with { dtype }; bad values name the method", async () => {
  using z = ref.zeros([2], { dtype: "bool" });
  using o = ref.ones([2], { dtype: "uint32" });
  using f = ref.full([2], true, { dtype: "bool" });
  assert.deepEqual([z.dtype, o.dtype, f.dtype], ["bool", "uint32", "bool"]);
  assert.deepEqual([...await z.read(), ...await o.read(), ...await f.read()], [0, 0, 1, 1, 1, 1]);
  assert.throws(() => ref.full([2], 2.5, { dtype: "int32" }), /full: expected an int32 value/);
  assert.throws(() => ref.full([2], -1, { dtype: "uint32" }), /full: expected an uint32 value/);
  assert.throws(() => ref.full([2], 2, { dtype: "bool" }), /full: expected a bool value/);
  assert.throws(() => ref.zeros([2], { dtype: "complex64" } as never), /zeros: expected dtype/);
});

Deno.test("printing shows the type unless float32; integers in full, bool as true/false", () => {
  using i = ref.tensor(new Int32Array([2147483647, -3]));
  assert.equal(String(i), "Tensor [2] int32 cpu [2147483647, -3]");
  using b = ref.tensor([true, false]);
  assert.equal(String(b), "Tensor [2] bool cpu [true, false]");
  using h = ref.tensor(new Float16Array([1.1, 2]));
  assert.equal(String(h), "Tensor [2] float16 cpu [1.1, 2]");
  using f = ref.tensor([1.1]);
  assert.equal(String(f), "Tensor [1] cpu [1.1]");
});

Deno.test("float-only ops refuse other types, naming the op, the types and the given one", () => {
  using i = ref.tensor(new Int32Array([1, 2, 3, 4]), [2, 2]);
  using b = ref.tensor([true, false, true, false], [2, 2]);
  using f = ref.tensor([1, 2, 3, 4], [2, 2]);
  assert.throws(() => matmul(b, f), {
    name: "TypeError",
    message: "matmul: expected a to be float32 or float16, got bool",
  });
  assert.throws(() => softmax(i), /softmax: expected x to be float32 or float16, got int32/);
  assert.throws(
    () => sub(b, f),
    /sub: expected a to be float32, float16, int32 or uint32, got bool/,
  );
  using sum = add(f, i); // add takes every type: int32 and float32 promote to float32
  assert.equal(sum.dtype, "float32");
});

Deno.test("float16: stored as Float16Array on the CPU", async () => {
  using h = ref.tensor([1.1, 65520], [2], { dtype: "float16" });
  assert.deepEqual([...await h.read()], [Math.f16round(1.1), Infinity]);
  using back = astype(h, "float32");
  assert.deepEqual([...await back.read()], [Math.f16round(1.1), Infinity]);
});

gpuTest("float16 on WebGPU: dev.supports says whether the adapter has shader-f16", async (dev) => {
  const has = dev.device.features.has("shader-f16");
  assert.equal(dev.supports("float16"), has);
  assert.ok(dev.supports("float32") && dev.supports("int32") && ref.supports("float16"));
  assert.throws(() => dev.supports("float64" as DType), /supports: expected dtype to be one of/);
  if (has) {
    using h = dev.tensor([1.1, 65520, -2], [3], { dtype: "float16" });
    assert.deepEqual([...await h.read()], [Math.f16round(1.1), Infinity, -2]);
    return;
  }
  // The GL stack: a TypeError naming the adapter, for tensors and for results alike.
  assert.throws(
    () => dev.tensor(new Float16Array([1])),
    (e: Error) =>
      e instanceof TypeError && e.message.includes("shader-f16") && e.message.includes(dev.name),
  );
  using x = dev.tensor([1]);
  assert.throws(() => astype(x, "float16"), /astype: float16 needs the shader-f16 feature/);
});

gpuTest(
  "storage by type: int32 and bool take 4 bytes an element, read back exactly",
  async (dev) => {
    const before = dev.memory().liveBytes;
    using i = dev.tensor(new Int32Array(100).fill(-7));
    using b = dev.tensor(new Array(100).fill(true));
    assert.equal(dev.memory().liveBytes - before, 2 * 512); // two 400-byte buffers, pooled by 256
    assert.ok((await i.read()).every((v) => v === -7));
    const bits = await b.read();
    assert.ok(bits instanceof Uint8Array && bits.every((v) => v === 1));
  },
);

gpuTest("jit: types flow through the graph, and the signature includes them", async (dev) => {
  const f = jit((x: Tensor) => astype(astype(x, "int32"), "float32"));
  using x = dev.tensor([1.7, -2.2, NaN]);
  using y = f(x);
  assert.equal(y.dtype, "float32");
  assert.deepEqual([...await y.read()], [1, -2, 0]);
  const g = jit((x: Tensor) => astype(x, "bool"));
  using fx = dev.tensor([0, 2]);
  using ix = dev.tensor(new Int32Array([0, 2]));
  using fb = g(fx);
  using ib = g(ix);
  assert.deepEqual([fb.dtype, ib.dtype], ["bool", "bool"]);
  assert.deepEqual([...await fb.read(), ...await ib.read()], [0, 1, 0, 1]);
  assert.equal(g.traces, 2, "a float32 and an int32 argument are two programs");
  f.dispose();
  g.dispose();
});

Deno.test("reductions by type, indices, gradients: on the reference", async () => {
  await reductionsAndIndices(ref);
});

gpuTest("reductions by type, indices, gradients: on the GPU, as on the reference", async (dev) => {
  await reductionsAndIndices(dev);
});

/** argmax/argmin int32, any/all bool, mean of ints float32, int32 indices, float-only grads. */
async function reductionsAndIndices(b: Backend): Promise<void> {
  using x = b.tensor([1, 5, 3, 9, NaN, 2], [2, 3]);
  using i = argmax(x, { axis: 1 });
  using j = argmin(x, { axis: 0 });
  assert.deepEqual([i.dtype, j.dtype], ["int32", "int32"]);
  assert.deepEqual([...await i.read(), ...await j.read()], [1, 1, 0, 1, 1]);
  using w = b.tensor(new Int32Array([0, 3, 0, -1]), [2, 2]);
  using anyRows = any(w, { axis: 1 });
  using allRows = all(w, { axis: 1 });
  assert.deepEqual([anyRows.dtype, allRows.dtype], ["bool", "bool"]);
  assert.deepEqual([...await anyRows.read(), ...await allRows.read()], [1, 1, 0, 0]);
  using m = mean(w, { axis: 0 });
  assert.equal(m.dtype, "float32");
  assert.deepEqual([...await m.read()], [0, 1]);
  using picked = takeRows(x, b.tensor(new Int32Array([1, 1, 0])));
  using pickedFloat = takeRows(x, b.tensor([1, 0]));
  using ints = takeRows(w, [1]);
  assert.deepEqual(await picked.read(), new Float32Array([9, NaN, 2, 9, NaN, 2, 1, 5, 3]));
  assert.deepEqual([...await pickedFloat.read()].slice(3), [1, 5, 3]);
  assert.deepEqual([ints.dtype, ...await ints.read()], ["int32", 0, -1]);
  assert.throws(
    () => takeRows(x, b.tensor([true])),
    /takeRows: expected rows to be int32 or float32/,
  );
  using logits = b.tensor([0, 0, 1e4, -1e4], [2, 2]);
  using labels = b.tensor(new Int32Array([1, 0]));
  using loss = crossEntropy(logits, labels);
  assert.ok(Math.abs((await loss.read())[0] - Math.LN2 / 2) < 1e-6);
  assert.throws(
    () => grad((t: Tensor) => sum(astype(t, "float32")))(w),
    /grad: expected argument 0 to be float32 or float16, got int32/,
  );
  // Through a comparison no gradient flows: the float path alone is differentiated.
  using v = b.tensor([1, -2, 3]);
  const [dv] = grad((t: Tensor) => sum(where(greater(t, b.tensor([0])), t, mul(t, t))))(v);
  using _dv = dv;
  assert.deepEqual([...await dv.read()], [1, -4, 1]);
}
