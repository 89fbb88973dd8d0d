/**
 * `jit`: random compositions against `f` run eagerly on the CPU reference, within the
 * error bound of the unfused computation (the shared property, tests/_properties_jit.ts),
 * as the default chooses (small programs as one program kernel), as fused kernels and one
 * kernel per op; the program kernel's reductions; the named edge cases; the retrace rules;
 * donation; errors; memory.
 */
import assert from "node:assert/strict";
import {
  add,
  argmax,
  astype,
  broadcastTo,
  clip,
  type CpuTensor,
  dropout,
  exp,
  floor,
  gpu,
  type GpuBackend,
  greater,
  greaterEqual,
  isFinite,
  jit,
  type KernelGranularity,
  logicalNot,
  logicalXor,
  matmul,
  max,
  mean,
  mod,
  mul,
  neg,
  notEqual,
  type RandomKey,
  randomKey,
  relu,
  reshape,
  round,
  scale,
  sgdStep,
  sigmoid,
  sign,
  type StorageArray,
  sum,
  sumToShape,
  takeRows,
  type Tensor,
  transpose,
  where,
} from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { COMPOSITION_PROPERTIES } from "./_properties_jit.ts";
import { boundEvaluator } from "./_compositions.ts";
import {
  assertBitwise,
  assertWithin,
  expUlps,
  folded,
  gamma,
  gpuTest,
  MIN_NORMAL,
  readFloat32,
  ref,
  runs,
  U,
  values,
} from "./_harness.ts";

for (const property of Object.values(COMPOSITION_PROPERTIES)) {
  gpuTest(property.name, (dev) => assertProperty(property, dev, runs(property.numRuns)));
}

gpuTest(
  "jit: random compositions on a folded dispatch grid (7 workgroups per dimension)",
  () => assertProperty(COMPOSITION_PROPERTIES.fused, folded!, runs(20)),
);

/** The compiled result on the GPU and f's on the CPU, for fixed inputs. */
async function bothWays<A extends unknown[]>(
  dev: GpuBackend,
  f: (...args: A) => Tensor,
  make: (backend: GpuBackend | typeof ref) => A,
  options = {},
): Promise<{ got: Float32Array; want: Float32Array; dispatches: number }> {
  const compiled = jit(f, options);
  const args = make(dev);
  compiled(...args).dispose(); // compiles
  const before = dev.stats().dispatches;
  using out = compiled(...args);
  const dispatches = dev.stats().dispatches - before;
  const got = await readFloat32(out);
  using reference = f(...make(ref));
  compiled.dispose();
  return { got, want: await readFloat32(reference), dispatches };
}

/** `f`'s results compiled with `kernels` (after a call that compiles), and that call's dispatches. */
async function compiledRun(
  dev: GpuBackend,
  f: (...args: Tensor[]) => Tensor[],
  args: Tensor[],
  kernels: KernelGranularity,
): Promise<{ read: StorageArray[]; dispatches: number }> {
  const compiled = jit(f, { kernels });
  compiled(...args).forEach((t) => t.dispose());
  const before = dev.stats().dispatches;
  const out = compiled(...args);
  const dispatches = dev.stats().dispatches - before;
  const read = await Promise.all(out.map((t) => t.read()));
  out.forEach((t) => t.dispose());
  compiled.dispose();
  return { read, dispatches };
}

gpuTest(
  "jit: the second wave's elementwise ops fuse with no code of their own — one kernel, bit for bit",
  async (dev) => {
    // Exact ops only (rounding, mod's one rounded sum, choices, comparisons, logic), so
    // the fused kernel, the eager kernels and the reference agree bit for bit.
    // Comparisons and logic give bool: cast to float32 where a number op reads them.
    const f = (x: Tensor, y: Tensor) =>
      astype(
        logicalXor(
          where(greaterEqual(x, y), mod(floor(x), y), clip(round(scale(x, 3)), -2, 2)),
          sign(astype(notEqual(isFinite(x), logicalNot(y)), "float32")),
        ),
        "float32",
      );
    const make = (b: GpuBackend | typeof ref) =>
      [b.tensor(values(300, "special", 3), [15, 20]), b.tensor(values(20, "mixed", 4))] as [
        Tensor,
        Tensor,
      ];
    const eager = f(...make(dev));
    for (const kernels of ["fused", "program"] as const) {
      const { got, want, dispatches } = await bothWays(dev, f, make, { kernels });
      assert.equal(dispatches, 1, `kernels: ${kernels}`);
      assertBitwise(got, want, `fused (${kernels}) against the reference`);
      assertBitwise(got, await eager.read(), `fused (${kernels}) against the eager kernels`);
    }
    eager.dispose();
  },
);

gpuTest(
  "jit: named edge cases — a value read twice, a broadcast into a matmul, an epilogue",
  async (dev) => {
    // exp(x) is read by two reductions: Σeᵢ + mean(eᵢ²) of 35 values x in [−1, 1]. Every
    // term is positive, so relative errors multiply. On the GPU, eᵢ is off by at most
    // E = max expUlps(xᵢ)·ε relative (ULP(eᵢ) ≤ εeᵢ); a sum of 35 in any order by γ(35);
    // the square, the mean's product by fl(1/35) (two roundings) and the addition by u
    // each: (1 + E)²(1 + u)⁴(1 + γ(35)) − 1. The reference rounds exp, the square, the
    // sum, the mean and the addition once each, from float64: (1 + u)⁵, and one u more
    // covers float64's own errors.
    const xs = values(35, "unit", 1);
    const twice = await bothWays(dev, (x: Tensor) => {
      const e = exp(x);
      return add(sum(e), mean(mul(e, e)));
    }, (b) => [b.tensor(xs, [5, 7])] as [Tensor]);
    const e = Array.from(xs, Math.exp);
    const exact = e.reduce((a, v) => a + v, 0) + e.reduce((a, v) => a + v * v, 0) / 35;
    const E = Math.max(...Array.from(xs, (v) => expUlps(v, dev))) * 2 ** -23;
    const gpuBound = exact * ((1 + E) ** 2 * (1 + U) ** 4 * (1 + gamma(35)) - 1);
    assertWithin(twice.got, [exact], () => gpuBound, "exp read twice");
    assertWithin(twice.want, [exact], () => exact * ((1 + U) ** 6 - 1), "exp read twice (ref)");

    // A row broadcast to a matrix feeds a matmul: no copy, the same product.
    const broadcast = await bothWays(
      dev,
      (row: Tensor, b: Tensor) => matmul(broadcastTo(row, [4, 3]), b),
      (b) =>
        [b.tensor([1, 2, 3], [1, 3]), b.tensor(values(6, "integers", 2), [3, 2])] as [
          Tensor,
          Tensor,
        ],
    );
    assert.deepEqual([...broadcast.got], [...broadcast.want]);

    // sumToShape's result goes straight into sgdStep: one kernel, the reduction's epilogue.
    const epilogue = await bothWays(
      dev,
      (b: Tensor, g: Tensor) => sgdStep(b, sumToShape(g, [1]), { lr: 0.5, batchSize: 4 }),
      (be) => [be.tensor([1]), be.tensor([1, 2, 3, 4], [4, 1])] as [Tensor, Tensor],
    );
    assert.deepEqual([...epilogue.got], [1 - 0.5 * (10 / 4)]);
    assert.equal(epilogue.dispatches, 1);
  },
);

gpuTest(
  "jit: a small program is one program kernel, its reductions rounded as the fused kernels round them",
  async (dev) => {
    // Sums of 8 (sequential), of 40 for 100 outputs (each thread a tree), of 100 for 40
    // outputs and of all 4,000 (lanes sharing trees); max and argmax; an epilogue.
    const f = (x: Tensor, y: Tensor) => [
      sum(y, { axis: 1 }),
      sum(x, { axis: 1 }),
      sum(x, { axis: 0 }),
      scale(sum(x), 0.25),
      max(x, { axis: 1 }),
      argmax(x, { axis: 0 }),
    ];
    const x = dev.tensor(values(4000, "unit", 21), [100, 40]);
    const y = dev.tensor(values(800, "unit", 22), [100, 8]);
    const program = await compiledRun(dev, f, [x, y], "program");
    const fused = await compiledRun(dev, f, [x, y], "fused");
    assert.equal(program.dispatches, 1);
    assert.ok(fused.dispatches >= 6, `${fused.dispatches} fused kernels`);
    program.read.forEach((r, i) => assertBitwise(r, fused.read[i], `result ${i}`));
    // And the values themselves: argmax and max exactly, the sums of L values in [-1, 1]
    // within γ(L)·L (the quarter of the whole sum is exact scaling).
    const lengths = [8, 40, 100, 4000];
    const want = f(
      ref.tensor(values(4000, "unit", 21), [100, 40]),
      ref.tensor(values(800, "unit", 22), [100, 8]),
    );
    for (const [i, t] of want.entries()) {
      const expected = await t.read();
      assertWithin(
        program.read[i],
        expected,
        () => (i >= 4 ? 0 : gamma(lengths[i]) * lengths[i] * (i === 3 ? 0.25 : 1)),
        `result ${i}`,
      );
      t.dispose();
    }
    // A matmul with a transposed operand and a bias-and-relu epilogue, on integers (exact).
    const layer = (a: Tensor, b: Tensor, bias: Tensor) =>
      relu(add(matmul(a, b, { transposeB: true }), bias));
    const inputs = (be: GpuBackend | typeof ref) =>
      [
        be.tensor(values(600, "integers", 23), [20, 30]),
        be.tensor(values(300, "integers", 24), [10, 30]),
        be.tensor(values(10, "integers", 25), [1, 10]),
      ] as [Tensor, Tensor, Tensor];
    const product = await bothWays(dev, layer, inputs, { kernels: "program" });
    assert.deepEqual([...product.got], [...product.want]);
    assert.equal(product.dispatches, 1);
    // Other types around a matmul, in its hooked kernel and in a program: int32 row ids
    // gathering operand a, and a bool result of a comparison in the epilogue; integers,
    // so exact.
    const typed = (x: Tensor, w: Tensor, ids: Tensor) => {
      const p = matmul(takeRows(x, ids), w, { transposeB: true });
      return [p, greater(p, reshape(astype(ids, "float32"), [64, 1]))];
    };
    const typedInputs = (be: GpuBackend | typeof ref): [Tensor, Tensor, Tensor] => [
      be.tensor(values(100 * 256, "integers", 26), [100, 256]),
      be.tensor(values(64 * 256, "integers", 27), [64, 256]),
      be.tensor(Int32Array.from({ length: 64 }, (_, i) => (i * 37) % 100)),
    ];
    const typedWant = await Promise.all(typed(...typedInputs(ref)).map((t) => t.read()));
    for (const kernels of ["fused", "auto", "program"] as const) {
      const args = typedInputs(dev);
      const { read } = await compiledRun(
        dev,
        typed as (...t: Tensor[]) => Tensor[],
        args,
        kernels,
      );
      assert.deepEqual(read, typedWant, `typed epilogues, kernels: ${kernels}`);
      args.forEach((t) => t.dispose());
    }
    x.dispose();
    y.dispose();
  },
);

gpuTest(
  "jit: a program kernel binds a shared buffer in full (a larger value over a smaller one's)",
  async (dev) => {
    // relu(x) (6 values) is dead once the first product is made, so sigmoid's 10 values
    // take its buffer. Bound at 6 values' length, the last 4 were lost (read as zeros).
    const f = (x: Tensor, w1: Tensor, w2: Tensor) => {
      const hidden = matmul(relu(x), w1);
      return [matmul(sigmoid(hidden), w2), hidden];
    };
    const make = (b: GpuBackend | typeof ref) => [
      b.tensor(values(6, "unit", 31), [2, 3]),
      b.tensor(values(15, "unit", 32), [3, 5]),
      b.tensor(values(20, "unit", 33), [5, 4]),
    ];
    const args = make(dev);
    const program = await compiledRun(dev, f, args, "program");
    const fused = await compiledRun(dev, f, args, "fused");
    assert.equal(program.dispatches, 1);
    program.read.forEach((r, i) => assertBitwise(r, fused.read[i], `result ${i}`));
    // Both results within twice the unfused bound tracked beside the reference
    // (tests/_compositions.ts, as jit's property holds them).
    const e = boundEvaluator(make(ref) as CpuTensor[], randomKey(0));
    const hidden = e.matmul(e.unary("relu", e.input(0)), e.input(1), false, false);
    const product = e.matmul(e.unary("sigmoid", hidden), e.input(2), false, false);
    for (const [k, { value, error }] of [product, hidden].entries()) {
      const bound = (i: number) => 2 * error[i] + 4 * MIN_NORMAL;
      assertWithin(program.read[k], value.data, bound, `result ${k}`);
    }
    args.forEach((t) => t.dispose());
  },
);

gpuTest(
  "jit: a transpose of a reduction is not fused as its epilogue (it reads other elements)",
  async (dev) => {
    const f = (x: Tensor) => transpose(sum(x, { axis: 0 }));
    const made = (b: GpuBackend | typeof ref) =>
      [b.tensor(values(24, "integers", 8), [2, 3, 4])] as [Tensor];
    const { got, want } = await bothWays(dev, f, made);
    assert.deepEqual([...got], [...want]);
  },
);

gpuTest("jit: more inputs than the device binds in one kernel still add up", async (dev) => {
  const limit = dev.device.limits.maxStorageBuffersPerShaderStage;
  const count = limit + 3;
  const f = (xs: Tensor[]) => xs.reduce((a, b) => add(a, b));
  const compiled = jit(f);
  const xs = Array.from({ length: count }, (_, i) => dev.tensor([i, 2 * i, 3 * i]));
  using out = compiled(xs);
  const n = (count * (count - 1)) / 2;
  assert.deepEqual([...await out.read()], [n, 2 * n, 3 * n]);
  // The sum could not be one kernel: the device would refuse its bindings.
  assert.ok(compiled.traces === 1);
  xs.forEach((t) => t.dispose());
  compiled.dispose();
});

gpuTest(
  "jit: more runtime words than a uniform block holds are spread over kernels",
  async (dev) => {
    // 150 scales by distinct numbers: 150 words, a uniform block holds 64.
    const factors = Array.from({ length: 150 }, (_, i) => 1 + i / 1000);
    const chain = (y: Tensor) => factors.reduce((v, c) => scale(v, c), y);
    const fused = jit((x: Tensor) => [chain(relu(x)), chain(sum(x))]);
    using x = dev.tensor([1, 2, 3]);
    const [elementwise, reduced] = fused(x);
    const expect = (v: number) => factors.reduce((a, c) => Math.fround(a * Math.fround(c)), v);
    assert.deepEqual([...await elementwise.read()], [1, 2, 3].map(expect));
    assert.deepEqual([...await reduced.read()], [expect(6)]);
    elementwise.dispose();
    reduced.dispose();
    fused.dispose();
  },
);

gpuTest("jit: a reduction past one dispatch dimension (70,000 workgroups)", async (dev) => {
  const compiled = jit((x: Tensor) => scale(sum(x, { axis: 1 }), 0.5));
  using x = dev.tensor(new Float32Array(70000 * 40).fill(1), [70000, 40]);
  using out = compiled(x);
  const v = await out.read();
  assert.equal(v.length, 70000);
  assert.ok(v.every((s) => s === 20), "each row sums to 40, halved");
  compiled.dispose();
});

gpuTest(
  "jit: a new number, key or row list replays; a new shape compiles; JS arithmetic is never stale",
  async (dev) => {
    let calls = 0;
    const f = jit((x: Tensor, c: number, k: RandomKey, rows: number[]) => {
      calls++;
      // JS arithmetic on the numbers: must follow each call's values.
      return dropout(scale(takeRows(x, rows), c * 2 + 1), 0.5, k);
    });
    const x = dev.tensor(values(40, "integers", 3), [10, 4]);
    const reference = (c: number, k: RandomKey, rows: number[]) =>
      dropout(
        scale(takeRows(ref.tensor(values(40, "integers", 3), [10, 4]), rows), c * 2 + 1),
        0.5,
        k,
      );
    for (
      const [c, k, rows] of [[1, 1, [0, 3]], [2, 1, [0, 3]], [2, 7, [0, 3]], [2, 7, [
        9,
        9,
      ]]] as const
    ) {
      using out = f(x, c, randomKey(k), [...rows]);
      using want = reference(c, randomKey(k), [...rows]);
      assert.deepEqual(
        [...await out.read()],
        [...await want.read()],
        `c=${c} key=${k} rows=${rows}`,
      );
    }
    assert.equal(f.traces, 1, "numbers, keys and rows are runtime values");
    assert.equal(calls, 4);
    // The same numbers again: replays without running f.
    f(x, 2, randomKey(7), [9, 9]).dispose();
    assert.equal(calls, 4);
    // A new shape compiles once; the old one is still cached.
    f(x, 2, randomKey(7), [1, 2, 3]).dispose();
    f(x, 2, randomKey(7), [9, 9]).dispose();
    assert.equal(f.traces, 2);
    x.dispose();
    f.dispose();
  },
);

gpuTest("jit: control flow on numbers follows each call (one program per branch)", async (dev) => {
  const f = jit((x: Tensor, c: number) => (c > 0 ? relu(x) : neg(x)));
  using x = dev.tensor([-1, 2]);
  using a = f(x, 1);
  using b = f(x, -1);
  using c = f(x, 5);
  assert.deepEqual([...await a.read()], [0, 2]);
  assert.deepEqual([...await b.read()], [1, -2]);
  assert.deepEqual([...await c.read()], [0, 2]);
  assert.equal(f.traces, 2);
  f.dispose();
});

gpuTest(
  "jit: donated arguments are disposed; a donated buffer that is also read stays right",
  async (dev) => {
    const step = jit((w: Tensor, g: Tensor) => sgdStep(w, g, { lr: 0.5 }), { donate: [0] });
    let w = dev.tensor([1, 2, 3]);
    using g = dev.tensor([2, 2, 2]);
    const old = w;
    w = step(w, g);
    assert.equal(old.disposed, true);
    assert.throws(() => relu(old), /relu: expected x to be a live tensor, got a disposed one/);
    assert.deepEqual([...await w.read()], [0, 1, 2]);
    // w is read by a matmul and by the update of itself: the update must not clobber it early.
    const both = jit((w: Tensor) => ({ a: add(w, matmul(w, w)), b: sum(w) }), { donate: [0] });
    const m = dev.tensor([1, 2, 3, 4], [2, 2]);
    const { a, b } = both(m);
    assert.deepEqual([...await a.read()], [8, 12, 18, 26]);
    assert.deepEqual([...await b.read()], [10]);
    for (const t of [w, a, b]) t.dispose();
    step.dispose();
    both.dispose();
  },
);

gpuTest("jit: errors name jit, and a failing trace leaks nothing", (dev) => {
  assert.throws(() => jit(3 as never), /jit: expected a function, got number 3/);
  assert.throws(
    () => jit((x: Tensor) => x, { donate: [-1] }),
    /jit: expected donate to hold argument positions/,
  );
  assert.throws(
    () => jit((x: Tensor) => x, { fusion: true } as never),
    /jit: expected options among donate, kernels/,
  );
  using x = dev.tensor([1, 2]);
  assert.throws(
    () => jit((_y: Tensor) => 3 as never)(x),
    /jit: expected f to return tensors .* got number 3/,
  );
  assert.throws(
    () => jit((_x: Tensor, _s: string) => relu(x))(x, "a"),
    /jit: expected arguments of tensors, numbers/,
  );
  assert.throws(() => jit((y: Tensor) => (y.read(), y))(x), /jit: expected f to be pure/);
  assert.throws(
    () => jit((a: Tensor, b: Tensor) => add(a, b))(x, ref.tensor([1, 2])),
    /jit: expected every tensor argument on one backend/,
  );
  const before = dev.memory();
  assert.throws(
    // A vector is a matrix to matmul (NumPy's promotion) but has nothing to transpose.
    () => jit((y: Tensor) => matmul(relu(y), y, { transposeA: true }))(x),
    /matmul: expected a to have at least 2 dimensions \(transposeA\)/,
  );
  let leaked: Tensor | null = null;
  jit((y: Tensor) => (leaked = relu(y)))(x).dispose();
  assert.throws(
    () => relu(leaked!),
    /relu: expected x to be a tensor, got a traced tensor of a jitted function outside that function/,
  );
  assert.deepEqual(dev.memory().liveBuffers, before.liveBuffers);
  const gone = dev.tensor([1]);
  gone.dispose();
  assert.throws(
    () => jit((y: Tensor) => relu(y))(gone),
    /jit: expected tensor argument 0 to be a live tensor/,
  );
});

gpuTest("jit: on the CPU reference it runs f as is, bit for bit", async () => {
  const f = (x: Tensor, c: number) => sum(mul(exp(x), scale(x, c)), { axis: 0 });
  using x = ref.tensor(values(12, "mixed", 4), [3, 4]);
  using a = jit(f)(x, 0.3);
  using b = f(x, 0.3);
  assert.deepEqual(
    new Uint32Array((await a.read()).buffer),
    new Uint32Array((await b.read()).buffer),
  );
});

gpuTest("jit: live buffers stay flat over 10,000 compiled steps", async (dev) => {
  const step = jit(
    (w: Tensor, X: Tensor, y: Tensor, rows: Tensor) => {
      const r = add(matmul(takeRows(X, rows), w), neg(takeRows(y, rows)));
      return sgdStep(w, matmul(takeRows(X, rows), r, { transposeA: true }), {
        lr: 1e-3,
        batchSize: 5,
      });
    },
    { donate: [0] },
  );
  using X = dev.tensor(values(400, "unit", 5), [20, 20]);
  using y = dev.tensor(values(20, "unit", 6), [20, 1]);
  using rows = dev.tensor([3, 1, 4, 1, 5]);
  let w = dev.tensor(new Float32Array(20), [20, 1]);
  let afterTen = 0;
  for (let i = 1; i <= 10_000; i++) {
    w = step(w, X, y, rows);
    if (i === 10) afterTen = dev.memory().liveBuffers;
    if (i % 2000 === 0) await dev.sync();
  }
  await dev.sync();
  assert.equal(dev.memory().liveBuffers, afterTen);
  assert.equal(step.traces, 1);
  assert.ok((await w.read()).every(Number.isFinite));
  w.dispose();
  step.dispose();
});

gpuTest(
  "jit: a loop with a new tensor each call reuses its bind groups after two submits",
  async (dev) => {
    const device = dev.runtime.device;
    const create = device.createBindGroup;
    let made = 0;
    device.createBindGroup = function (descriptor: GPUBindGroupDescriptor) {
      made++;
      return create.call(this, descriptor);
    };
    try {
      const step = jit((w: Tensor, rows: Tensor) => add(w, sum(rows)), { donate: [0] });
      let w = dev.zeros([4]);
      const calls = dev.runtime.dispatchesPerSubmit;
      const loop = (n: number) => {
        for (let i = 0; i < n; i++) {
          using rows = dev.tensor([i, 1, 2]); // a buffer from the pool, another each call
          w = step(w, rows);
        }
      };
      loop(2 * calls);
      const warm = made;
      loop(4 * calls);
      assert.equal(made - warm, 0, `${made - warm} bind groups made in ${4 * calls} warm calls`);
      assert.ok(warm >= calls, `the first submit's calls met new buffers (${warm} made)`);
      const total = (n: number) => n * (n - 1) / 2 + 3 * n; // Σ (i + 3) over one loop
      const expected = total(2 * calls) + total(4 * calls);
      assert.deepEqual([...await w.read()], [expected, expected, expected, expected]);
      w.dispose();
      step.dispose();
    } finally {
      device.createBindGroup = create;
    }
  },
);

gpuTest("jit: a device with the default storage-buffer limit splits a wide kernel", async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  const small = await gpu({ device });
  try {
    assert.equal(small.device.limits.maxStorageBuffersPerShaderStage, 8);
    const compiled = jit((xs: Tensor[]) => xs.reduce((a, b) => mul(a, b)));
    const xs = Array.from({ length: 12 }, () => small.tensor([2, 1]));
    using out = compiled(xs);
    assert.deepEqual([...await out.read()], [4096, 1]);
    xs.forEach((t) => t.dispose());
    compiled.dispose();
  } finally {
    small.destroy();
    device.destroy();
  }
});

gpuTest(
  "jit: a value several ops read is stored once recomputing it would cost more (expression costs)",
  async (dev) => {
    // Fused kernels: one per reduction, plus one per stored value. A value read by r ops is
    // stored when (r − 1)·cost > 8, its cost from the expression table: relu costs 1, exp 4,
    // dropout 22 (a Philox mask, 20, a product and a select).
    const readers = (e: Tensor) => [sum(e), max(e), sum(mul(e, e)), sum(neg(e))];
    const key = randomKey(7);
    const cases = [
      { what: "relu read 4 times", f: (x: Tensor) => readers(relu(x)), stored: 0 },
      { what: "exp read 3 times", f: (x: Tensor) => readers(exp(x)).slice(0, 3), stored: 0 },
      { what: "exp read 4 times", f: (x: Tensor) => readers(exp(x)), stored: 1 },
      {
        what: "dropout read twice",
        f: (x: Tensor) => readers(dropout(x, 0.5, key)).slice(0, 2),
        stored: 1,
      },
    ];
    for (const { what, f, stored } of cases) {
      const transcendental = what.startsWith("exp");
      const input = values(35, transcendental ? "unit" : "integers", 3);
      using x = dev.tensor(input, [5, 7]);
      const { read, dispatches } = await compiledRun(dev, f, [x], "fused");
      assert.equal(dispatches, read.length + stored, `${what}: dispatches`);
      using xRef = ref.tensor(input, [5, 7]);
      const reference = f(xRef);
      const want = await Promise.all(reference.map((t) => t.read()));
      reference.forEach((t) => t.dispose());
      read.forEach((got, i) => {
        // Integers (and dropout's scale 2) sum exactly. Each exp is within 3 + 2|x| ≤ 5 ulp
        // (2^-23 relative) and the sums of 35 same-signed terms within γ(36): the relative
        // error stays below 2.2e-6 + 6e-7·2, under 1e-5.
        if (transcendental) {
          assertWithin(got, want[i], (j) => 1e-5 * Math.abs(want[i][j]), `${what}: ${i}`);
        } else assertBitwise(got, want[i], `${what}: result ${i}`);
      });
    }
  },
);
