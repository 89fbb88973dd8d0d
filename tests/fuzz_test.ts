/**
 * API fuzzing: fast-check calls every public function and method of mod.ts with one
 * argument (or option field) replaced by a hostile value — wrong types, NaN, ±Infinity,
 * negative, fractional and huge numbers, mismatched data, options with wrong fields,
 * disposed, fake and foreign tensors (another backend, another GPU device). Each call
 * must throw a TypeError or RangeError whose message starts with the function's name,
 * having encoded no GPU work (the runtime's work counter and the live-tensor counts do
 * not move), with no WebGPU error raised, before or after; afterwards the library still
 * computes correct results.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  add,
  type Backend,
  broadcastTo,
  concat,
  corr2d,
  dropout,
  evaluateLoss,
  foldIn,
  gpu,
  type GpuBackend,
  grad,
  l2Penalty,
  Linear,
  linreg,
  matmul,
  mean,
  minibatch,
  minibatchRows,
  mseLoss,
  mul,
  pad2d,
  philox4x32,
  randomKey,
  randomNormal,
  reverse,
  scale,
  scope,
  SGD,
  sgdStep,
  splitKey,
  square,
  squaredLoss,
  sub,
  sum,
  sumToShape,
  syntheticData,
  takeRows,
  Tensor,
  valueAndGrad,
} from "../mod.ts";
import { broadcastsTo } from "../ops/broadcast.ts";
import { isShape } from "../ops/tensor.ts";
import { dev, folded, gpuTest, ref, runs } from "./_harness.ts";

/** Values no public argument accepts in general; each position keeps those it refuses. */
const HOSTILE: readonly unknown[] = [
  undefined,
  null,
  NaN,
  Infinity,
  -Infinity,
  -1,
  -0.5,
  0,
  1.5,
  2 ** 31,
  2 ** 53,
  1e300,
  "",
  "3",
  true,
  Symbol("hostile"),
  10n,
  {},
  [],
  [1, , 3],
  Object.create(null),
  () => 1,
  new Float32Array(3),
];

/** fast-check's own hostile values, besides {@linkcode HOSTILE}. */
const generated: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.double(),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.anything(),
);

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const optional = (ok: (v: unknown) => boolean) => (v: unknown) => v === undefined || ok(v);
const never = () => false;
const isFunction = (v: unknown) => typeof v === "function";
/** Row indices a 3-row tensor accepts (array-likes longer than 1000 count as refused). */
const isRows = (v: unknown) =>
  v !== null && typeof v === "object" && Number.isInteger((v as ArrayLike<unknown>).length) &&
  (v as ArrayLike<unknown>).length >= 1 && (v as ArrayLike<unknown>).length <= 1000 &&
  Array.from(v as ArrayLike<unknown>).every(isInt(0, 2));

/** One argument position: which argument (and option field), and what it accepts. */
interface Position {
  readonly index: number;
  readonly field?: string;
  /** Whether a value is acceptable there; hostile values it accepts are skipped. */
  readonly ok: (v: unknown) => boolean;
  /** Hostile values particular to this position (always refused). */
  readonly extra?: readonly unknown[];
  /** Only `extra` is tried here (generated values would fail before the library runs). */
  readonly extraOnly?: boolean;
}

/** A public function: its name in errors, valid arguments, and its positions. */
interface Entry {
  readonly name: string;
  readonly call: (...args: unknown[]) => unknown;
  readonly valid: () => unknown[];
  readonly positions: readonly Position[];
}

/** Tensors a backend's entries are built from. */
interface Fixtures {
  b: Backend;
  m23: Tensor;
  m32: Tensor;
  v3: Tensor;
  col3: Tensor;
  s: Tensor;
  tall: Tensor;
  wide: Tensor;
  w21: Tensor;
  w12: Tensor;
  b1: Tensor;
  /** Tensors no call accepts: disposed, fake, made by no backend. */
  bad: Tensor[];
  /** Tensors of other backends and devices: refused beside a tensor of `b`. */
  foreign: Tensor[];
}

/** A subclass of Tensor that no backend made. */
class RogueTensor extends Tensor {
  constructor(readonly owner: Backend) {
    super([3]);
  }
  get backend(): Backend {
    return this.owner;
  }
  read(): Promise<Float32Array> {
    return Promise.resolve(new Float32Array(3));
  }
  protected free(): void {}
}

function fixtures(b: Backend, foreign: Backend[]): Fixtures {
  const disposed = b.tensor([1, 2, 3]);
  disposed.dispose();
  return {
    b,
    m23: b.tensor([1, 2, 3, 4, 5, 6], [2, 3]),
    m32: b.tensor([1, 2, 3, 4, 5, 6], [3, 2]),
    v3: b.tensor([1, 2, 3]),
    col3: b.tensor([1, 2, 3], [3, 1]),
    s: b.tensor([2], []),
    // matmul(tall, wide) would be [2¹⁵, 2¹⁵]: more than any backend's largest tensor.
    tall: b.tensor(new Float32Array(2 ** 15), [2 ** 15, 1]),
    wide: b.tensor(new Float32Array(2 ** 15), [1, 2 ** 15]),
    w21: b.tensor([1, 1], [2, 1]),
    w12: b.tensor([1, 1], [1, 2]),
    b1: b.tensor([0]),
    bad: [disposed, Object.create(Tensor.prototype), new RogueTensor(b)],
    foreign: foreign.map((f) => f.tensor([1, 2, 3])),
  };
}

const HUGE = 2 ** 15;
const BAD_SHAPES = [[0], [3, 0], [-3], [1.5], [NaN], [Infinity], ["3"], [HUGE, HUGE], [, 3]];
const BAD_KEYS = [{ words: [1] }, { words: [1, -1] }, { words: [1, 2 ** 32] }, { words: "ab" }];

function entries(f: Fixtures): Entry[] {
  const { b, m23, m32, v3, col3, s, tall, wide, w21, w12, b1 } = f;
  const bad = [...f.bad, ...f.foreign];
  const max = b.maxElements;
  const fitsShape = (v: unknown) => isShape(v) && v.reduce((a, d) => a * d, 1) <= max;
  const T = (index: number, extra: unknown[] = []): Position => ({
    index,
    ok: never,
    extra: [...bad, ...extra],
  });
  const key = randomKey(1);
  const K = (index: number): Position => ({ index, ok: never, extra: BAD_KEYS });
  const data = () => ({ X: m32, y: col3 });
  /** A tensor position of a function of one tensor: tensors of any backend are fine. */
  const solo = (index: number, extra: unknown[] = []): Position => ({
    index,
    ok: never,
    extra: [...f.bad, ...extra],
  });
  const unary = (name: string, fn: (x: Tensor) => unknown): Entry => ({
    name,
    call: (x) => fn(x as Tensor),
    valid: () => [v3],
    positions: [solo(0)],
  });
  const binary = (
    name: string,
    fn: (a: Tensor, b: Tensor) => unknown,
    misfits = [m32, col3],
  ): Entry => ({
    name,
    call: (x, y) => fn(x as Tensor, y as Tensor),
    valid: () => [m23, m23],
    positions: [T(0, [m32]), T(1, misfits)],
  });
  const sgd = new SGD([{ params: ["w"], lr: 0.1 }]);
  const layer = new Linear(2, 1);
  const params = { weight: w12, bias: b1 };
  return [
    {
      name: "tensor",
      call: (values, shape) => b.tensor(values as number[], shape as number[]),
      valid: () => [[1, 2, 3], [3]],
      positions: [
        {
          index: 0,
          ok: (v) =>
            (v instanceof Float32Array ||
              (Array.isArray(v) && Array.from(v).every((x) => typeof x === "number"))) &&
            v.length === 3,
          extra: [[1, 2], [1, "2", 3], [1, 2n, 3], [1, , 3]],
        },
        {
          index: 1,
          ok: optional((v) =>
            Array.isArray(v) && Array.from(v).every(isInt(1)) && v.reduce((a, d) => a * d, 1) === 3
          ),
          extra: BAD_SHAPES,
        },
      ],
    },
    binary("matmul", (x, y) => matmul(x, y, { transposeB: true }), [m32]),
    {
      name: "matmul",
      call: (x, y, o) => matmul(x as Tensor, y as Tensor, o as never),
      valid: () => [m23, m32, {}],
      positions: [
        { index: 2, ok: optional(isObject) },
        { index: 2, field: "transposeA", ok: optional((v) => v === false) },
        { index: 2, field: "transposeB", ok: optional((v) => v === false) },
        { index: 0, ok: never, extra: [tall] },
      ],
    },
    {
      name: "matmul",
      call: (x, y) => matmul(x as Tensor, y as Tensor),
      valid: () => [tall, w12],
      positions: [{ index: 1, ok: never, extra: [wide] }],
    },
    unary("l2Penalty", l2Penalty),
    {
      name: "sgdStep",
      call: (p, g, o) => sgdStep(p as Tensor, g as Tensor, o as never),
      valid: () => [v3, v3, { lr: 0.1, weightDecay: 0, batchSize: 2 }],
      positions: [
        T(0, [m23]),
        T(1, [m23, s]),
        { index: 2, ok: never, extra: [{}, { weightDecay: 1 }] },
        { index: 2, field: "lr", ok: isNumber },
        { index: 2, field: "weightDecay", ok: optional(isNumber) },
        { index: 2, field: "batchSize", ok: optional((v) => isNumber(v) && v >= 1) },
      ],
    },
    {
      name: "dropout",
      call: (x, p, k) => dropout(x as Tensor, p as number, k as never),
      valid: () => [v3, 0.5, key],
      positions: [
        solo(0),
        { index: 1, ok: (v) => isNumber(v) && v >= 0 && v <= 1 },
        K(2),
      ],
    },
    {
      name: "corr2d",
      call: (x, k) => corr2d(x as Tensor, k as Tensor),
      valid: () => [m23, m23],
      positions: [T(0, [v3, m32]), T(1, [v3, m32, tall])],
    },
    binary("add", add),
    binary("sub", sub),
    binary("mul", mul),
    {
      name: "scale",
      call: (x, c) => scale(x as Tensor, c as number),
      valid: () => [v3, 2],
      positions: [solo(0), { index: 1, ok: isNumber }],
    },
    unary("square", square),
    unary("sum", sum),
    unary("mean", mean),
    unary("reverse", reverse),
    {
      name: "broadcastTo",
      call: (x, shape) => broadcastTo(x as Tensor, shape as number[]),
      valid: () => [v3, [2, 3]],
      positions: [solo(0, [m32]), {
        index: 1,
        ok: (v) => fitsShape(v) && broadcastsTo([3], v as number[]),
        extra: [...BAD_SHAPES, [2, 2], [HUGE, HUGE, 3]],
      }],
    },
    {
      name: "sumToShape",
      call: (x, shape) => sumToShape(x as Tensor, shape as number[]),
      valid: () => [m23, [3]],
      positions: [solo(0, [m32]), {
        index: 1,
        ok: (v) => isShape(v) && broadcastsTo(v, [2, 3]),
        extra: [...BAD_SHAPES, [2], [2, 2, 3]],
      }],
    },
    {
      name: "concat",
      call: (list) => concat(list as Tensor[]),
      valid: () => [[v3, v3]],
      positions: [{
        index: 0,
        ok: never,
        extra: [[v3, ...bad], [v3, , v3], new Set([v3]), [v3, s], [v3, m23]],
      }],
    },
    {
      name: "pad2d",
      call: (x, ph, pw) => pad2d(x as Tensor, ph as number, pw as number),
      valid: () => [m23, 1, 1],
      positions: [
        solo(0, [v3]),
        { index: 1, ok: (v) => isInt(0)(v) && (2 + 2 * (v as number)) * 5 <= max },
        {
          index: 2,
          ok: (v) => isInt(0)(v) && 4 * (3 + 2 * (v as number)) <= max,
          extra: [2 ** 31],
        },
      ],
    },
    {
      name: "takeRows",
      call: (x, rows) => takeRows(x as Tensor, rows as number[]),
      valid: () => [m32, [2, 0]],
      positions: [
        solo(0, [s]),
        {
          index: 1,
          ok: isRows,
          extra: [[3], [-1], [0.5], ["0"], [NaN], { length: 2 ** 40 }, { length: -1 }, [0, , 1]],
        },
      ],
    },
    {
      name: "randomNormal",
      call: (backend, shape, k, o) =>
        randomNormal(backend as Backend, shape as number[], k as never, o as never),
      valid: () => [b, [2, 3], key, { mean: 1, std: 2 }],
      positions: [
        { index: 0, ok: never, extra: [{ kind: "cpu" }, v3] },
        { index: 1, ok: fitsShape, extra: BAD_SHAPES },
        K(2),
        { index: 3, ok: optional(isObject) },
        { index: 3, field: "mean", ok: optional(isNumber) },
        { index: 3, field: "std", ok: optional((v) => isNumber(v) && v >= 0) },
      ],
    },
    {
      name: "randomKey",
      call: (seed) => randomKey(seed as number),
      valid: () => [7],
      positions: [{ index: 0, ok: isInt(0, 2 ** 32 - 1), extra: [2 ** 32] }],
    },
    {
      name: "splitKey",
      call: (k, count) => splitKey(k as never, count as number),
      valid: () => [key, 3],
      positions: [K(0), { index: 1, ok: optional(isInt(1, 2 ** 20)) }],
    },
    {
      name: "foldIn",
      call: (k, d) => foldIn(k as never, d as number),
      valid: () => [key, 3],
      positions: [K(0), { index: 1, ok: isInt(0, 2 ** 32 - 1) }],
    },
    {
      name: "philox4x32",
      call: (c, k) => philox4x32(c as never, k as never),
      valid: () => [[0, 1, 2, 3], [4, 5]],
      positions: [
        {
          index: 0,
          ok: never,
          extra: [[1, 2, 3], [1, 2, 3, -1], [1, 2, 3, 0.5], [1, 2, 3, 2 ** 32]],
        },
        { index: 1, ok: never, extra: [[1], [1, NaN], [1, "2"]] },
      ],
    },
    {
      name: "scope",
      call: (block) => scope(block as () => unknown),
      valid: () => [() => 1],
      positions: [{ index: 0, ok: isFunction, extra: [async () => {}] }],
    },
    {
      name: "valueAndGrad",
      call: (fn, x) => valueAndGrad(fn as (x: Tensor) => Tensor)(x as Tensor),
      valid: () => [sum, v3],
      positions: [{ index: 0, ok: never }, solo(1)],
    },
    {
      name: "grad",
      call: (fn, x) => grad(fn as (x: Tensor) => Tensor)(x as Tensor),
      valid: () => [sum, v3],
      positions: [
        { index: 0, ok: never, extra: [(x: Tensor) => x, () => 1, () => bad[0]] },
        solo(1),
      ],
    },
    {
      name: "SGD",
      call: (groups) => new SGD(groups as never),
      valid: () => [[{ params: ["w"], lr: 0.1 }]],
      positions: [{
        index: 0,
        ok: never,
        extra: [
          [null],
          [{ params: "w", lr: 1 }],
          [{ params: ["w"], lr: NaN }],
          [{ params: ["w"], lr: 1, batchSize: 0 }],
          [{ params: ["w"], lr: 1 }, { params: ["w"], lr: 1 }],
        ],
      }],
    },
    {
      name: "SGD.step",
      call: (p, g) => sgd.step(p as never, g as never),
      valid: () => [{ w: v3 }, { w: v3 }],
      positions: [
        { index: 0, ok: never, extra: [{}, { w: m23 }, ...bad.map((w) => ({ w }))] },
        { index: 1, ok: never, extra: [{}, { w: s }, ...bad.map((w) => ({ w }))] },
      ],
    },
    {
      name: "Linear",
      call: (i, o) => new Linear(i as number, o as number),
      valid: () => [2, 1],
      positions: [{ index: 0, ok: isInt(1) }, { index: 1, ok: isInt(1) }],
    },
    {
      name: "Linear.init",
      call: (backend, k, std, big) =>
        (big ? new Linear(HUGE, HUGE) : layer).init(backend as Backend, k as never, std as number),
      valid: () => [b, key, 1, false],
      positions: [
        { index: 0, ok: never, extra: [v3] },
        K(1),
        { index: 2, ok: optional((v) => isNumber(v) && v >= 0) },
        { index: 3, ok: (v) => !v, extra: [true] },
      ],
    },
    {
      name: "Linear.apply",
      call: (p, X) => layer.apply(p as never, X as Tensor),
      valid: () => [params, m32],
      positions: [
        { index: 0, ok: never, extra: [{ weight: m23, bias: v3 }, { weight: params.weight }] },
        { index: 0, field: "weight", ok: never, extra: [...bad, m23, v3] },
        T(1, [m23, v3]),
      ],
    },
    {
      name: "linreg",
      call: (X, w, bias) => linreg(X as Tensor, w as Tensor, bias as Tensor),
      valid: () => [m32, w21, s],
      positions: [T(0, [m23]), T(1, [col3, v3]), T(2, [v3])],
    },
    {
      name: "squaredLoss",
      call: (yHat, y) => squaredLoss(yHat as Tensor, y as Tensor),
      valid: () => [col3, col3],
      positions: [T(0, [v3]), T(1, [m23])],
    },
    {
      name: "mseLoss",
      call: (yHat, y) => mseLoss(yHat as Tensor, y as Tensor),
      valid: () => [col3, col3],
      positions: [T(0, [v3]), T(1, [m23])],
    },
    {
      name: "evaluateLoss",
      call: (net, d, loss) => evaluateLoss(net as never, d as never, loss as never),
      valid: () => [(X: Tensor) => matmul(X, w21), data(), squaredLoss],
      positions: [
        { index: 0, ok: isFunction },
        { index: 1, ok: never, extra: [{ X: m32 }] },
        { index: 1, field: "y", ok: never, extra: bad },
        { index: 2, ok: isFunction },
      ],
    },
    {
      name: "syntheticData",
      call: (o) => syntheticData(o as never),
      valid: () => [{ w: col3, b: 0.5, n: 4, key, noise: 0.1 }],
      positions: [
        { index: 0, ok: never },
        { index: 0, field: "w", ok: never, extra: [...f.bad, v3, m23] },
        { index: 0, field: "b", ok: isNumber },
        {
          index: 0,
          field: "n",
          ok: (v) => isInt(1)(v) && 3 * (v as number) <= max,
          extra: [2 ** 30],
        },
        { index: 0, field: "key", ok: never, extra: BAD_KEYS },
        { index: 0, field: "noise", ok: optional((v) => isNumber(v) && v >= 0) },
      ],
    },
    {
      name: "minibatchRows",
      call: (n, size, shuffle) => minibatchRows(n as number, size as number, shuffle as never),
      valid: () => [5, 2, { key, epoch: 1 }],
      positions: [
        { index: 0, ok: isInt(1, 2 ** 26), extra: [2 ** 26 + 1] },
        { index: 1, ok: isInt(1) },
        { index: 2, ok: optional(never), extra: [{ key }] },
        { index: 2, field: "key", ok: never, extra: BAD_KEYS },
        { index: 2, field: "epoch", ok: isInt(0, 2 ** 32 - 1) },
      ],
    },
    {
      name: "minibatch",
      call: (d, rows) => minibatch(d as never, rows as number[]),
      valid: () => [data(), [0, 2]],
      positions: [
        { index: 0, ok: never },
        { index: 0, field: "X", ok: never, extra: [...bad, v3] },
        { index: 1, ok: isRows, extra: [[3], [-1], [0.5], [0, , 1]] },
      ],
    },
    {
      name: "read",
      call: (t) => (t as Tensor).read(),
      valid: () => [v3],
      positions: [{ index: 0, ok: never, extra: [bad[0]], extraOnly: true }],
    },
  ];
}

/** The arguments of one hostile call: the valid ones with one position replaced. */
function hostileCall(entry: Entry, position: Position, value: unknown): unknown[] {
  const args = entry.valid();
  if (position.field === undefined) args[position.index] = value;
  else args[position.index] = { ...(args[position.index] as object), [position.field]: value };
  return args;
}

const printable = (v: unknown) => {
  try {
    return typeof v === "symbol" ? v.toString() : JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};

/** Asserts that `run` fails with a TypeError or RangeError naming `name`. */
async function assertRefused(name: string, run: () => unknown, what: string): Promise<void> {
  let error: unknown;
  try {
    // A method returning a promise (read) must reject the same way.
    await run();
  } catch (e) {
    error = e;
  }
  assert.ok(
    error instanceof TypeError || error instanceof RangeError,
    `${what}: expected a TypeError or RangeError, got ${error}`,
  );
  assert.ok(
    (error as Error).message.startsWith(`${name}: `),
    `${what}: the message ${JSON.stringify((error as Error).message)} does not name ${name}`,
  );
}

/** Live tensors and GPU work so far, on every backend the calls could touch. */
function counters(backends: Backend[]): number[] {
  return backends.flatMap((b) =>
    b.kind === "webgpu"
      ? [(b as GpuBackend).liveTensors, (b as GpuBackend).runtime.workCount]
      : [ref.liveTensors]
  );
}

async function fuzz(b: Backend, foreign: Backend[], numRuns: number): Promise<void> {
  const backends = [b, ...foreign];
  const uncaptured: string[] = [];
  const listener = (e: Event) =>
    uncaptured.push(String((e as GPUUncapturedErrorEvent).error.message));
  for (const g of backends) {
    if (g.kind === "webgpu") (g as GpuBackend).device.addEventListener("uncapturederror", listener);
  }
  const f = fixtures(b, foreign);
  const list = entries(f);
  const cases = list.flatMap((entry) => entry.positions.map((position) => ({ entry, position })));
  const call = fc.constantFrom(...cases.filter((c) => !c.position.extraOnly)).chain((
    { entry, position },
  ) =>
    fc.record({
      entry: fc.constant(entry),
      position: fc.constant(position),
      value: (position.extra?.length
        ? fc.oneof(fc.constantFrom(...position.extra), generated)
        : generated).filter((v) =>
          !position.ok(v)
        ),
    })
  );
  await fc.assert(
    fc.asyncProperty(call, async ({ entry, position, value }) => {
      const args = hostileCall(entry, position, value);
      const before = counters(backends);
      const what = `${entry.name} with argument ${position.index}${
        position.field ? `.${position.field}` : ""
      } = ${printable(value)}`;
      await assertRefused(entry.name, () => entry.call(...args), what);
      assert.deepEqual(counters(backends), before, `${what}: GPU work or a tensor was made`);
    }),
    runs(numRuns),
  );
  // Every position's own hostile values, each once.
  for (const { entry, position } of cases) {
    for (const value of position.extra ?? []) {
      const before = counters(backends);
      const what = `${entry.name}[${position.index}${position.field ?? ""}] = ${printable(value)}`;
      await assertRefused(
        entry.name,
        () => entry.call(...hostileCall(entry, position, value)),
        what,
      );
      assert.deepEqual(counters(backends), before, `${what}: GPU work or a tensor was made`);
    }
  }
  // Every entry's valid call works, and the results are right.
  for (const entry of list) {
    for (const t of collectTensors(await entry.call(...entry.valid()))) t.dispose();
  }
  using x = b.tensor([1, 2, 3, 4], [2, 2]);
  using c = matmul(x, x);
  assert.deepEqual([...await c.read()], [7, 10, 15, 22]);
  using p = sgdStep(x, x, { lr: 0.5 });
  assert.deepEqual([...await p.read()], [0.5, 1, 1.5, 2]);
  for (const g of backends) {
    if (g.kind === "webgpu") {
      await (g as GpuBackend).sync();
      (g as GpuBackend).device.removeEventListener("uncapturederror", listener);
    }
  }
  assert.deepEqual(uncaptured, [], "no WebGPU error was raised");
  const { m23, m32, v3, col3, s, tall, wide, w21, w12, b1, bad, foreign: others } = f;
  for (const t of [m23, m32, v3, col3, s, tall, wide, w21, w12, b1, bad[0], ...others]) {
    t.dispose();
  }
}

function collectTensors(value: unknown): Tensor[] {
  if (value instanceof Tensor) return [value];
  if (Array.isArray(value)) return value.flatMap(collectTensors);
  if (value !== null && typeof value === "object") {
    return Object.values(value).flatMap(collectTensors);
  }
  return [];
}

Deno.test("fuzz: hostile arguments on the CPU reference are refused, naming the function", () =>
  fuzz(ref, dev ? [dev] : [], 1000));

gpuTest(
  "fuzz: hostile arguments on WebGPU are refused before any GPU work, naming the function",
  () => fuzz(dev!, [ref, folded!], 1000),
);

gpuTest("fuzz: gpu() refuses hostile options before requesting an adapter", async () => {
  const cases: unknown[] = [
    null,
    "gpu",
    [],
    5,
    { device: {} },
    { device: dev!.tensor },
    { powerPreference: "fast" },
    { powerPreference: 1 },
    { maxWorkgroupsPerDimension: 0 },
    { maxWorkgroupsPerDimension: 1.5 },
    { maxWorkgroupsPerDimension: NaN },
    { maxWorkgroupsPerDimension: "7" },
  ];
  for (const options of cases) {
    await assertRefused("gpu", () => gpu(options as never), `gpu(${printable(options)})`);
  }
});
