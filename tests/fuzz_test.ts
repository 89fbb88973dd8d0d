/**
 * API fuzzing: fast-check calls every public function and method of mod.ts with one
 * argument (or option field) replaced by a hostile value — wrong types, NaN, ±Infinity,
 * negative, fractional and huge numbers, mismatched data, options with wrong fields,
 * disposed, fake and foreign tensors (another backend, another GPU device). Each is also
 * called with one argument too many, and with an unknown key in each options object or
 * record of fixed keys. Each call must throw a TypeError or RangeError whose message
 * starts with the function's name, having encoded no GPU work (the runtime's work counter
 * and the live-tensor counts do not move), with no WebGPU error raised, before or after;
 * afterwards the library still computes correct results. A last test checks that the
 * table leaves no export of mod.ts, nor any method of its classes, out.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import * as api from "../mod.ts";
import {
  abs,
  Adam,
  add,
  all,
  any,
  arange,
  argmax,
  argmin,
  argsort,
  astype,
  avgPool2d,
  type Backend,
  batchNorm,
  broadcastTo,
  ceil,
  clip,
  concat,
  conv2d,
  corr2d,
  cos,
  cpu,
  CpuBackend,
  CpuTensor,
  crossEntropy,
  cumprod,
  cumsum,
  div,
  dropout,
  einsum,
  elu,
  equal,
  evaluateLoss,
  exp,
  expandDims,
  expm1,
  floor,
  floorDiv,
  foldIn,
  gather,
  gelu,
  gpu,
  GpuBackend,
  GpuError,
  GpuTensor,
  grad,
  greater,
  greaterEqual,
  isFinite,
  isNaN,
  jit,
  l2Penalty,
  layerNorm,
  leakyRelu,
  less,
  lessEqual,
  Linear,
  linreg,
  loadSafetensors,
  log,
  log1p,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  logSigmoid,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  maximum,
  maxPool2d,
  mean,
  min,
  minibatch,
  minibatchRows,
  minimum,
  mod,
  mseLoss,
  mul,
  neg,
  notEqual,
  oneHot,
  pad,
  pad2d,
  philox4x32,
  pow,
  prod,
  promoteTypes,
  randomKey,
  randomNormal,
  relu,
  reshape,
  reverse,
  round,
  rsqrt,
  saveSafetensors,
  scale,
  scatterAdd,
  scope,
  SGD,
  sgdStep,
  sigmoid,
  sign,
  sin,
  slice,
  softmax,
  softplus,
  sort,
  splitKey,
  sqrt,
  square,
  squaredDifference,
  squaredLoss,
  squeeze,
  stack,
  stopGradient,
  sub,
  sum,
  sumToShape,
  syntheticData,
  takeAlongAxis,
  takeRows,
  tanh,
  Tensor,
  tile,
  topK,
  transpose,
  valueAndGrad,
  where,
} from "../mod.ts";
import { GpuRuntime } from "../runtime.ts";
import { broadcastsTo } from "../ops/broadcast.ts";
import { isShape } from "../ops/tensor.ts";
import { isDType } from "../ops/dtype.ts";
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

/** A valid safetensors file: one tensor, "w" of shape [3]. */
const SAFETENSORS_FILE: Uint8Array = await (async () => {
  using w = ref.tensor([1, 2, 3]);
  return await saveSafetensors({ w });
})();

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
const isBoolean = (v: unknown) => typeof v === "boolean";
const optional = (ok: (v: unknown) => boolean) => (v: unknown) => v === undefined || ok(v);
/** A `dev.tune()` shape: positive integer sides, optional transpose flags, nothing else. */
const isMatmulShape = (v: unknown): boolean => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).every((k) => ["m", "k", "n", "transposeA", "transposeB"].includes(k)) &&
    ["m", "k", "n"].every((side) => Number.isInteger(o[side]) && (o[side] as number) >= 1) &&
    ["transposeA", "transposeB"].every((flag) => optional(isBoolean)(o[flag]));
};
const never = () => false;
/** conv2d's stride or dilation (`min` 1) or padding (`min` 0): an integer or a pair of them. */
const isGeometry = (min: number) => (v: unknown) =>
  isInt(min, 2 ** 24)(v) || (Array.isArray(v) && v.length === 2 && v.every(isInt(min, 2 ** 24)));
/** conv2d's padding per side, `[[top, bottom], [left, right]]`. */
const isPerSide = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every(isGeometry(0));
/** An object literal's kind of object (or `Object.create(null)`), as records of names are. */
const isPlain = (v: unknown): v is Record<string, unknown> =>
  isObject(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));
/** Metadata of a safetensors file: Unicode strings by Unicode keys. */
const isMetadata = (v: unknown) =>
  isPlain(v) &&
  Object.entries(v).every(([k, x]) =>
    typeof x === "string" && k.isWellFormed() && x.isWellFormed()
  );
const isFunction = (v: unknown) => typeof v === "function";
/** Row indices a 3-row tensor accepts (array-likes longer than 1000 count as refused). */
const isRows = (v: unknown) =>
  v !== null && typeof v === "object" && Number.isInteger((v as ArrayLike<unknown>).length) &&
  (v as ArrayLike<unknown>).length >= 1 && (v as ArrayLike<unknown>).length <= 1000 &&
  Array.from(v as ArrayLike<unknown>).every(isInt(0, 2));

/** Indices into an axis of `n` (array-likes longer than 1000 count as refused). */
const isIndices = (n: number) => (v: unknown) =>
  v !== null && typeof v === "object" && Number.isInteger((v as ArrayLike<unknown>).length) &&
  (v as ArrayLike<unknown>).length >= 1 && (v as ArrayLike<unknown>).length <= 1000 &&
  Array.from(v as ArrayLike<unknown>).every(isInt(-n, n - 1));

/** An integer in [min, max], or a pair of them: a pooling's kernel, stride or padding. */
const isPair = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: unknown) =>
  isInt(min, max)(v) ||
  (Array.isArray(v) && v.length === 2 && isInt(min, max)(v[0]) && isInt(min, max)(v[1]));
/** An element type `owner` stores (float16 on WebGPU only where the adapter has shader-f16). */
const isStorable = (owner: Backend) => (v: unknown) => isDType(v) && owner.supports(v);
/** Three values of a type `owner` stores: a typed array of a tensor type, or numbers or booleans. */
const isTensorValues = (owner: Backend) => (v: unknown) =>
  ((v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint32Array ||
    v instanceof Uint8Array || (v instanceof Float16Array && owner.supports("float16"))) ||
    (Array.isArray(v) &&
      (Array.from(v).every((x) => typeof x === "number") ||
        Array.from(v).every((x) => typeof x === "boolean")))) &&
  (v as ArrayLike<unknown>).length === 3;
/** The `{ dtype }` options of a creation method at `index`, for `owner`. */
const dtypeOptions = (owner: Backend, index: number): Position[] => [
  { index, ok: optional(isObject) },
  { index, field: "dtype", ok: optional(isStorable(owner)), extra: ["int64", "float64"] },
];

/** `[1]` or `[-1]`: the last axis of a matrix, as a list. */
const isLastAxisList = (v: unknown) => Array.isArray(v) && v.length === 1 && [1, -1].includes(v[0]);

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

/** A function of any arguments, as the table calls the library's. */
type Loose = (...args: unknown[]) => unknown;

/**
 * A public function: its name in errors, valid arguments, and its positions. With
 * `arity`, `call` hands every argument it is given on to the function, so that one too
 * many reaches it.
 */
interface Entry {
  readonly name: string;
  readonly call: Loose;
  readonly valid: () => unknown[];
  readonly positions: readonly Position[];
  /** The most arguments `call` takes (a method's receiver counts as its first). */
  readonly arity?: number;
  /** The argument that is an options object or a record of fixed keys. */
  readonly options?: number;
  /** The export (`matmul`) or method (`GpuBackend.zeros`) covered, when not `name`. */
  readonly covers?: string;
}

/** `fn` called with every argument it is given. */
const forward = (fn: unknown): Loose => fn as Loose;
/** `new C(…)` with every argument given. */
const construct = (C: unknown): Loose => (...args) =>
  Reflect.construct(C as new (...args: unknown[]) => unknown, args);
/** `target[name](…)` with every argument given. */
const method = (target: object, name: string): Loose => (...args) =>
  Reflect.apply(Reflect.get(target, name) as Loose, target, args);
/** `receiver[name](…)`, the receiver given first. */
const methodOf = (name: string): Loose => (receiver, ...args) =>
  method(receiver as object, name)(...args);

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
  /** A [1, 1, 3, 3] image, for the poolings. */
  img: Tensor;
  /** Tensors no call accepts: disposed, fake, made by no backend. */
  bad: Tensor[];
  /** Tensors of other backends and devices: refused beside a tensor of `b`. */
  foreign: Tensor[];
  /** `b` and the other backends, for their methods. */
  backends: Backend[];
  /** Class ids for `m23`'s two rows. */
  labels: Tensor;
  /** conv2d's images [1, 2, 3, 3] and kernels [2, 1, 2, 2] (two groups). */
  x4: Tensor;
  w4: Tensor;
  /** Three [3, 2] matrices: a batch that `x4`'s [1, 2] does not broadcast with. */
  batch3: Tensor;
  /** A tensor that only the valid call of `dispose` disposes. */
  spare: Tensor;
  /** Tensors of the wrong element type for float-only ops: bool [2, 3], int32 [3]. */
  b23: Tensor;
  i3: Tensor;
}

/** A subclass of Tensor that no backend made. */
class RogueTensor extends Tensor {
  constructor(readonly owner: Backend) {
    super([3], "float32");
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
    img: b.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]),
    bad: [disposed, Object.create(Tensor.prototype), new RogueTensor(b)],
    foreign: foreign.map((f) => f.tensor([1, 2, 3])),
    backends: [b, ...foreign],
    labels: b.tensor([0, 2]),
    x4: b.tensor(new Float32Array(18).fill(1), [1, 2, 3, 3]),
    w4: b.tensor(new Float32Array(8).fill(1), [2, 1, 2, 2]),
    batch3: b.tensor(new Float32Array(18).fill(1), [3, 3, 2]),
    spare: b.tensor([1]),
    b23: b.tensor([true, false, true, false, true, false], [2, 3]),
    i3: b.tensor(new Int32Array([1, 2, 3])),
  };
}

/** Disposes the fixtures' tensors. */
function disposeFixtures(f: Fixtures): void {
  const { m23, m32, v3, col3, s, tall, wide, w21, w12, b1, img, labels, spare, bad, foreign } = f;
  for (const t of [m23, m32, v3, col3, s, tall, wide, w21, w12, b1, img, labels, spare, bad[0]]) {
    t.dispose();
  }
  for (const t of [f.x4, f.w4, f.batch3, f.b23, f.i3]) {
    t.dispose();
  }
  foreign.forEach((t) => t.dispose());
}

/** The first GPU backend among `backends`. */
function gpuOf(backends: readonly Backend[]): GpuBackend | undefined {
  return backends.find((x): x is GpuBackend => x instanceof GpuBackend);
}

const HUGE = 2 ** 15;
const BAD_SHAPES = [[0], [3, 0], [-3], [1.5], [NaN], [Infinity], ["3"], [HUGE, HUGE], [, 3]];
const BAD_KEYS = [{ words: [1] }, { words: [1, -1] }, { words: [1, 2 ** 32] }, { words: "ab" }];

function entries(f: Fixtures): Entry[] {
  const { b, m23, m32, v3, col3, s, tall, wide, w21, w12, b1, img, labels, spare, x4, w4 } = f;
  const { batch3 } = f;
  const bad = [...f.bad, ...f.foreign];
  const maxElements = b.maxElements;
  const fitsShape = (v: unknown) => isShape(v) && v.reduce((a, d) => a * d, 1) <= maxElements;
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
    call: forward(fn),
    valid: () => [v3],
    positions: [solo(0)],
    arity: 1,
  });
  const binary = (name: string, fn: (a: Tensor, b: Tensor) => unknown): Entry => ({
    name,
    call: forward(fn),
    valid: () => [m23, m23],
    positions: [T(0, [m32]), T(1, [m32, col3])],
    arity: 2,
  });
  /** An `axis` of a tensor of `rank` dimensions: an integer or a list of distinct ones. */
  const isAxis = (rank: number) => (v: unknown) =>
    v === undefined || isInt(-rank, rank - 1)(v) ||
    (Array.isArray(v) && Array.from(v).every(isInt(-rank, rank - 1)) &&
      new Set(v.map((a: number) => (a + rank) % rank)).size === v.length);
  const BAD_AXES = [2, -3, 0.5, [0, 0], [1, -1], [0, 2], "0", [, 1]];
  /** A reduction of `m23` with `{ axis, keepDims }` (or only `axis`). */
  /** A reduction of `m23` over its last axis; `refused`: tensors of types it does not take. */
  const reduction = (
    name: string,
    fn: unknown,
    keepDims = true,
    refused: Tensor[] = [],
  ): Entry => ({
    name,
    call: forward(fn),
    valid: () => [m23, keepDims ? { axis: -1, keepDims: true } : { axis: -1 }],
    positions: [
      solo(0, refused),
      { index: 1, ok: optional(isObject), extra: keepDims ? [] : [{ keepDims: true }] },
      { index: 1, field: "axis", ok: isAxis(2), extra: BAD_AXES },
      ...(keepDims
        ? [{ index: 1, field: "keepDims", ok: optional(isBoolean), extra: [1, "true"] }]
        : []),
    ],
    arity: 2,
    options: 1,
  });
  /** `argmax` or `argmin` of `m23`: one integer axis, required. */
  const argReduction = (name: string, fn: unknown): Entry => ({
    name,
    call: forward(fn),
    valid: () => [m23, { axis: 1, keepDims: false }],
    positions: [
      solo(0),
      { index: 1, ok: isObject },
      { index: 1, field: "axis", ok: isInt(-2, 1), extra: [undefined, [1], 2] },
      { index: 1, field: "keepDims", ok: optional(isBoolean), extra: [0] },
    ],
    arity: 2,
    options: 1,
  });
  /** `cumsum` or `cumprod` of `m23`: one integer axis, required; two boolean flags. */
  const scan = (name: string, fn: unknown): Entry => ({
    name,
    call: forward(fn),
    valid: () => [m23, { axis: -1, exclusive: true, reverse: false }],
    positions: [
      solo(0),
      { index: 1, ok: isObject },
      { index: 1, field: "axis", ok: isInt(-2, 1), extra: [undefined, [1], 2] },
      { index: 1, field: "exclusive", ok: optional(isBoolean), extra: [0] },
      { index: 1, field: "reverse", ok: optional(isBoolean), extra: ["yes"] },
    ],
    arity: 2,
    options: 1,
  });
  /** `sort` or `argsort` of `m23`: optional options, one integer axis, a boolean flag. */
  const sorting = (name: string, fn: unknown): Entry => ({
    name,
    call: forward(fn),
    valid: () => [m23, { axis: -1, descending: true }],
    positions: [
      solo(0, [s]),
      { index: 1, ok: optional(isObject), extra: [{ kind: "stable" }] },
      { index: 1, field: "axis", ok: optional(isInt(-2, 1)), extra: [[1], 2, 1.5, "0"] },
      { index: 1, field: "descending", ok: optional(isBoolean), extra: [0, "yes"] },
    ],
    arity: 2,
    options: 1,
  });
  /** The methods every backend has, as entries for `owner`. */
  const backendMethods = (owner: Backend): Entry[] => {
    const kind = owner.constructor.name;
    const ownerMax = owner.maxElements;
    const shapePosition: Position = {
      index: 0,
      ok: (v) => isShape(v) && v.reduce((a, d) => a * d, 1) <= ownerMax,
      extra: BAD_SHAPES,
    };
    return [
      {
        name: "tensor",
        covers: `${kind}.tensor`,
        call: method(owner, "tensor"),
        valid: () => [[1, 2, 3], [3]],
        positions: [
          {
            index: 0,
            ok: isTensorValues(owner),
            extra: [[1, 2], [1, "2", 3], [1, 2n, 3], [1, , 3], [true, 1, 0], new Float64Array(3)],
          },
          {
            index: 1,
            ok: optional((v) =>
              Array.isArray(v) && Array.from(v).every(isInt(1)) &&
              v.reduce((a, d) => a * d, 1) === 3
            ),
            extra: BAD_SHAPES,
          },
          ...dtypeOptions(owner, 2),
        ],
        arity: 3,
        options: 2,
      },
      ...["zeros", "ones"].map((name): Entry => ({
        name,
        covers: `${kind}.${name}`,
        call: method(owner, name),
        valid: () => [[2, 3]],
        positions: [shapePosition, ...dtypeOptions(owner, 1)],
        arity: 2,
        options: 1,
      })),
      {
        name: "full",
        covers: `${kind}.full`,
        call: method(owner, "full"),
        valid: () => [[2, 3], 1],
        positions: [shapePosition, { index: 1, ok: isNumber }, ...dtypeOptions(owner, 2)],
        arity: 3,
        options: 2,
      },
      {
        name: "supports",
        covers: `${kind}.supports`,
        call: method(owner, "supports"),
        valid: () => ["float16"],
        positions: [{ index: 0, ok: isDType, extra: ["float64", "Float16", ""] }],
        arity: 1,
      },
      {
        name: "profile",
        covers: `${kind}.profile`,
        call: method(owner, "profile"),
        valid: () => [() => {}],
        positions: [{ index: 0, ok: isFunction }],
        arity: 1,
      },
    ];
  };
  /** What only a GPU backend has: its methods, and the constructors of its classes. */
  const gpuEntries = (owner: GpuBackend): Entry[] => {
    // destroy() is called on a backend of its own runtime, which does not own the device.
    const throwaway = new GpuBackend(new GpuRuntime(owner.device), "throwaway");
    // Taken over by the valid call of `new GpuTensor` (made on first use, then the same).
    let array: GpuTensor["array"] | undefined;
    return [
      ...["memory", "stats", "sync"].map((name): Entry => ({
        name,
        covers: `GpuBackend.${name}`,
        call: method(owner, name),
        valid: () => [],
        positions: [],
        arity: 0,
      })),
      {
        name: "tune",
        covers: "GpuBackend.tune",
        call: method(owner, "tune"),
        valid: () => [[{ m: 4, k: 4, n: 4 }]],
        positions: [{
          index: 0,
          ok: optional((v) => Array.isArray(v) && Array.from(v).every(isMatmulShape)),
          extra: [
            [{ m: 0, k: 1, n: 1 }],
            [{ m: 1, k: 1 }],
            [{ m: 1, k: 1, n: 1.5 }],
            [{ m: 1, k: 1, n: 1, transposeA: 1 }],
            [{ m: 1, k: 1, n: 1, sides: 3 }],
            { m: 1, k: 1, n: 1 },
            // deno-lint-ignore no-sparse-arrays
            [, { m: 1, k: 1, n: 1 }],
          ],
        }],
        arity: 1,
      },
      {
        name: "destroy",
        covers: "GpuBackend.destroy",
        call: method(throwaway, "destroy"),
        valid: () => [],
        positions: [],
        arity: 0,
      },
      {
        name: "GpuBackend",
        call: construct(GpuBackend),
        valid: () => [owner.runtime, "again"],
        positions: [
          { index: 0, ok: (v) => v instanceof GpuRuntime, extra: [owner, owner.device] },
          { index: 1, ok: (v) => typeof v === "string" },
        ],
        arity: 2,
      },
      {
        name: "GpuRuntime",
        call: construct(GpuRuntime),
        valid: () => [owner.device, { maxWorkgroupsPerDimension: 7, maxDispatchesPerSubmit: 16 }],
        positions: [
          { index: 0, ok: (v) => v instanceof GPUDevice, extra: [owner, owner.runtime] },
          { index: 1, ok: optional(isObject) },
          { index: 1, field: "maxWorkgroupsPerDimension", ok: optional(isInt(1)) },
          {
            index: 1,
            field: "maxDispatchesPerSubmit",
            ok: optional(isInt(1, 4096)),
            extra: [4097],
          },
          { index: 1, field: "ownsDevice", ok: optional(isBoolean), extra: [1] },
          { index: 1, field: "pipelineCacheSize", ok: optional(isInt(1)) },
        ],
        arity: 2,
        options: 1,
      },
      {
        name: "tensor",
        covers: "GpuTensor",
        call: construct(GpuTensor),
        valid: () => [owner, array ??= owner.runtime.allocate("fuzz", 3), [3]],
        positions: [
          { index: 0, ok: never, extra: [owner.runtime, cpu()] },
          { index: 1, ok: never, extra: [new Float32Array(3), { buffer: {} }, {}] },
          {
            index: 2,
            ok: (v: unknown) => isShape(v) && v.reduce((a, d) => a * d, 1) === 3,
            extra: BAD_SHAPES,
          },
          {
            // Any 4-byte type fits the 12 bytes; float16's 8 do not.
            index: 3,
            ok: optional((v) => isStorable(owner)(v) && v !== "float16"),
            extra: ["float16", "int64"],
          },
        ],
        arity: 4,
      },
    ];
  };
  const sgd = new SGD([{ params: ["w"], lr: 0.1 }]);
  const adam = new Adam([{ params: ["w"] }]);
  const adamState = adam.init({ w: v3 });
  const layer = new Linear(2, 1);
  const params = { weight: w12, bias: b1 };
  const compiled = jit((x: Tensor) => relu(x));
  const rank2Perm = (v: unknown) =>
    Array.isArray(v) && v.length === 2 && Array.from(v).every(isInt(0, 1)) && v[0] !== v[1];
  return [
    ...f.backends.flatMap(backendMethods),
    ...(gpuOf(f.backends) ? gpuEntries(gpuOf(f.backends)!) : []),
    {
      name: "cpu",
      call: forward(cpu),
      valid: () => [],
      positions: [],
      arity: 0,
    },
    {
      name: "CpuBackend",
      call: construct(CpuBackend),
      valid: () => [],
      positions: [],
      arity: 0,
    },
    {
      name: "tensor",
      covers: "CpuTensor",
      call: construct(CpuTensor),
      valid: () => [cpu(), new Float32Array(3), [3]],
      positions: [
        { index: 0, ok: (v) => v instanceof CpuBackend, extra: [{}, "cpu"] },
        {
          index: 1,
          ok: (v) => isTensorValues(cpu())(v) && !Array.isArray(v),
          extra: [[1, 2, 3], new Float32Array(2), new Float64Array(3)],
        },
        {
          index: 2,
          ok: (v) => isShape(v) && v.reduce((a, d) => a * d, 1) === 3,
          extra: BAD_SHAPES,
        },
      ],
      arity: 3,
    },
    {
      name: "GpuError",
      call: construct(GpuError),
      valid: () => ["probe", "a message"],
      positions: [],
      arity: 2,
    },
    {
      name: "read",
      covers: "CpuTensor.read",
      call: methodOf("read"),
      valid: () => [b.kind === "cpu" ? v3 : f.foreign.find((t) => t instanceof CpuTensor)],
      positions: [{ index: 0, ok: never, extra: [bad[0]], extraOnly: true }],
      arity: 1,
    },
    ...(f.backends.some((x) => x instanceof GpuBackend)
      ? [{
        name: "read",
        covers: "GpuTensor.read",
        call: methodOf("read"),
        valid: () => [b.kind === "webgpu" ? v3 : f.foreign.find((t) => t instanceof GpuTensor)],
        positions: [],
        arity: 1,
      }]
      : []),
    {
      name: "dispose",
      covers: "Tensor.dispose",
      call: methodOf("dispose"),
      valid: () => [spare],
      positions: [],
      arity: 1,
    },
    {
      name: "matmul",
      call: (x, y) => matmul(x as Tensor, y as Tensor, { transposeB: true }),
      valid: () => [m23, m23],
      // A bool matrix is refused too (T adds tensors of other backends, mixed).
      positions: [T(0, [m32, f.b23]), T(1, [m32, f.b23])],
    },
    {
      name: "matmul",
      call: forward(matmul),
      valid: () => [m23, m32, {}],
      positions: [
        { index: 2, ok: optional(isObject) },
        { index: 2, field: "transposeA", ok: optional((v) => v === false) },
        { index: 2, field: "transposeB", ok: optional((v) => v === false) },
        { index: 0, ok: never, extra: [tall] },
      ],
      arity: 3,
      options: 2,
    },
    {
      name: "matmul",
      call: (x, y) => matmul(x as Tensor, y as Tensor),
      valid: () => [tall, w12],
      positions: [{ index: 1, ok: never, extra: [wide] }],
    },
    {
      name: "einsum",
      call: forward(einsum),
      valid: () => ["ij,jk->ik", m23, m32],
      positions: [
        {
          // Strings are specs: the malformed and the unmappable ones are tried here.
          index: 0,
          ok: (v) => typeof v === "string",
          extra: [
            "ij->ji",
            "...ij,jk->ik",
            "ij,jk->iz",
            "ij,jk->ii",
            "ij,ik->jk",
            "i,jk->ik",
            "ij,jk->ik->i",
            "ij,j1->i",
          ],
        },
        T(1, [v3, s]),
        T(2, [v3, s]),
      ],
      // As many operands as the spec names: one more is an argument too many.
      arity: 3,
    },
    {
      // Batched: [1, 2, 3, 3]·[1, 1, 3, 3] broadcasts; batch [3] against [1, 2] does not,
      // a scalar is no matrix, and [2, 3] has the wrong k.
      name: "matmul",
      call: (x, y) => matmul(x as Tensor, y as Tensor),
      valid: () => [x4, img],
      positions: [T(0, [s]), T(1, [batch3, s, m23])],
    },
    unary("l2Penalty", l2Penalty),
    {
      name: "astype",
      call: forward(astype),
      valid: () => [v3, "int32"],
      positions: [solo(0), { index: 1, ok: isStorable(b), extra: ["int64", "float64"] }],
      arity: 2,
    },
    {
      name: "promoteTypes",
      call: forward(promoteTypes),
      valid: () => ["int32", 2],
      positions: [0, 1].map((index) => ({
        index,
        ok: (v: unknown) => isDType(v) || isNumber(v),
        extra: ["int64", NaN],
      })),
      arity: 2,
    },
    {
      name: "sgdStep",
      call: forward(sgdStep),
      valid: () => [v3, v3, { lr: 0.1, weightDecay: 0, batchSize: 2 }],
      positions: [
        T(0, [m23, f.i3]),
        T(1, [m23, s, f.i3]),
        { index: 2, ok: never, extra: [{}, { weightDecay: 1 }] },
        // An int32 tensor as the learning rate: a number is expected.
        { index: 2, field: "lr", ok: isNumber, extra: [f.i3] },
        { index: 2, field: "weightDecay", ok: optional(isNumber) },
        { index: 2, field: "batchSize", ok: optional(isInt(1)), extra: [2.5] },
      ],
      arity: 3,
      options: 2,
    },
    {
      name: "dropout",
      call: forward(dropout),
      valid: () => [v3, 0.5, key],
      positions: [
        solo(0),
        { index: 1, ok: (v) => isNumber(v) && v >= 0 && v <= 1 },
        K(2),
      ],
      arity: 3,
    },
    {
      name: "corr2d",
      call: forward(corr2d),
      valid: () => [m23, m23],
      positions: [T(0, [v3, m32]), T(1, [v3, m32, tall])],
      arity: 2,
    },
    {
      name: "conv2d",
      call: forward(conv2d),
      valid: () => [x4, w4, { stride: 1, padding: 0, dilation: 1, groups: 2 }],
      positions: [
        // 2-D; w4 as images has one channel for two groups, x4 as kernels one output.
        T(0, [m23, tall, w4]),
        T(1, [m23, x4]),
        { index: 2, ok: optional(isObject), extra: [{ padding: "same", stride: 2 }] },
        // Absent stride, dilation and padding take their defaults (1, 1, "valid").
        {
          index: 2,
          field: "stride",
          ok: optional(isGeometry(1)),
          extra: [0, [1, 0], [1, 1, 1], [1], null],
        },
        {
          index: 2,
          field: "dilation",
          ok: optional(isGeometry(1)),
          extra: [0, 3, [1, 3], [2.5, 1], null],
        },
        {
          index: 2,
          field: "padding",
          ok: optional((v) => v === "valid" || v === "same" || isGeometry(0)(v) || isPerSide(v)),
          extra: [-1, [1, -1], [[0, 0], [0]], [[0, -1], [0, 0]], "full", 2 ** 25, null],
        },
        { index: 2, field: "groups", ok: (v) => v === 2, extra: [0, 1, 3, 4, 1.5, null] },
      ],
      arity: 3,
      options: 2,
    },
    // A 3×3 image with kernel 2, stride 1, padding 1: kernels 2…5 fit (padding ≤ half of
    // it, no larger than the padded 5×5), paddings 0…1 fit kernel 2.
    ...[["maxPool2d", maxPool2d], ["avgPool2d", avgPool2d]].map(([name, fn]): Entry => ({
      name: name as string,
      call: forward(fn),
      valid: () => [img, { kernel: 2, stride: 1, padding: 1 }],
      positions: [
        solo(0, [m23, v3, s]),
        { index: 1, ok: never, extra: [{}, { kernel: 6 }, { kernel: 2, dilation: 1 }] },
        { index: 1, field: "kernel", ok: isPair(2, 5), extra: [[2], [2, 2, 2], [1, 2], [2, 6]] },
        { index: 1, field: "stride", ok: optional(isPair(1)), extra: [0, [1, 0], [1]] },
        { index: 1, field: "padding", ok: optional(isPair(0, 1)), extra: [-1, 2, [0, 2]] },
      ],
      arity: 2,
      options: 1,
    })),
    binary("add", add),
    binary("sub", sub),
    binary("mul", mul),
    binary("div", div),
    binary("maximum", maximum),
    binary("minimum", minimum),
    binary("pow", pow),
    binary("greater", greater),
    binary("less", less),
    binary("equal", equal),
    {
      name: "where",
      call: forward(where),
      valid: () => [m23, m23, m23],
      positions: [T(0, [m32]), T(1, [m32]), T(2, [m32, col3])],
      arity: 3,
    },
    {
      name: "scale",
      call: forward(scale),
      valid: () => [v3, 2],
      positions: [solo(0), { index: 1, ok: isNumber }],
      arity: 2,
    },
    {
      name: "clip",
      call: forward(clip),
      valid: () => [v3, -1, 1],
      positions: [
        solo(0),
        { index: 1, ok: (v) => typeof v === "number" && !Number.isNaN(v) },
        { index: 2, ok: (v) => typeof v === "number" && !Number.isNaN(v) },
      ],
      arity: 3,
    },
    {
      name: "leakyRelu",
      call: forward(leakyRelu),
      valid: () => [v3, { slope: 0.2 }],
      positions: [
        solo(0),
        { index: 1, ok: optional(isObject) },
        { index: 1, field: "slope", ok: optional(isNumber) },
      ],
      arity: 2,
      options: 1,
    },
    binary("floorDiv", floorDiv),
    binary("mod", mod),
    binary("squaredDifference", squaredDifference),
    binary("notEqual", notEqual),
    binary("greaterEqual", greaterEqual),
    binary("lessEqual", lessEqual),
    binary("logicalAnd", logicalAnd),
    binary("logicalOr", logicalOr),
    binary("logicalXor", logicalXor),
    ...Object.entries({ log1p, expm1, rsqrt, sin, cos, floor, ceil, round, sign }).map(
      ([name, fn]) => unary(name, fn),
    ),
    ...Object.entries({ elu, gelu, softplus, logSigmoid, logicalNot, isNaN, isFinite }).map(
      ([name, fn]) => unary(name, fn),
    ),
    unary("neg", neg),
    unary("abs", abs),
    unary("exp", exp),
    unary("log", log),
    unary("sqrt", sqrt),
    unary("square", square),
    unary("relu", relu),
    unary("sigmoid", sigmoid),
    unary("tanh", tanh),
    unary("stopGradient", stopGradient),
    {
      name: "reverse",
      call: forward(reverse),
      valid: () => [m23, [1]],
      positions: [solo(0), { index: 1, ok: isAxis(2), extra: BAD_AXES }],
      arity: 2,
    },
    reduction("sum", sum),
    reduction("mean", mean),
    // max, min, prod take the number types, not bool; logSumExp and softmax floats only.
    reduction("max", max, true, [f.b23]),
    reduction("min", min, true, [f.b23]),
    reduction("prod", prod, true, [f.b23]),
    reduction("any", any),
    reduction("all", all),
    reduction("logSumExp", logSumExp, true, [f.b23, f.i3]),
    reduction("softmax", softmax, false, [f.b23, f.i3]),
    reduction("logSoftmax", logSoftmax, false),
    {
      name: "batchNorm",
      call: forward(batchNorm),
      valid: () => [m23, v3, v3, v3, v3, { training: true, momentum: 0.1, eps: 1e-5 }],
      positions: [
        T(0, [v3, s, col3]),
        ...[1, 2, 3, 4].map((index) => T(index, [m23, col3, b1, s])),
        { index: 5, ok: never, extra: [{}, { momentum: 0.1 }] },
        { index: 5, field: "training", ok: isBoolean, extra: [0, "true"] },
        {
          index: 5,
          field: "momentum",
          ok: optional((v) => isNumber(v) && v >= 0 && v <= 1),
          extra: [1.5, -0.1],
        },
        { index: 5, field: "eps", ok: optional((v) => isNumber(v) && v >= 0), extra: [-1e-5] },
      ],
      arity: 6,
      options: 5,
    },
    {
      name: "layerNorm",
      call: forward(layerNorm),
      valid: () => [m23, v3, v3, { axis: -1, eps: 1e-5 }],
      positions: [
        T(0, [m32, s]),
        T(1, [m23, col3, b1]),
        T(2, [m23, col3, b1]),
        { index: 3, ok: optional(isObject), extra: [{ axis: 0 }, { epsilon: 1 }] },
        // gamma and beta are [3]: only the last axis of m23 fits them.
        {
          index: 3,
          field: "axis",
          ok: (v) => [undefined, 1, -1].includes(v as number) || isLastAxisList(v),
          extra: [0, [0, 1], ...BAD_AXES],
        },
        { index: 3, field: "eps", ok: optional((v) => isNumber(v) && v >= 0), extra: [-1] },
      ],
      arity: 4,
      options: 3,
    },
    argReduction("argmax", argmax),
    argReduction("argmin", argmin),
    scan("cumsum", cumsum),
    scan("cumprod", cumprod),
    sorting("sort", sort),
    sorting("argsort", argsort),
    {
      name: "topK",
      call: forward(topK),
      valid: () => [m23, 2],
      positions: [solo(0, [s]), { index: 1, ok: isInt(1, 3), extra: [0, 4, 1.5, "2", -1] }],
      arity: 2,
    },
    {
      name: "reshape",
      call: forward(reshape),
      valid: () => [m23, [3, -1]],
      positions: [solo(0), {
        index: 1,
        ok: (v) => {
          if (!Array.isArray(v)) return false;
          const dims = Array.from(v);
          const inferred = dims.filter((d) => d === -1).length;
          const known = dims.filter((d) => d !== -1);
          const size = known.reduce((a: number, d) => a * (d as number), 1);
          return inferred <= 1 && known.every(isInt(1)) &&
            (inferred ? 6 % size === 0 : size === 6);
        },
        extra: [...BAD_SHAPES, [4], [-1, -1], [4, -1], [6, 0]],
      }],
      arity: 2,
    },
    {
      name: "transpose",
      call: forward(transpose),
      valid: () => [m23, [1, 0]],
      positions: [solo(0), {
        index: 1,
        ok: optional(rank2Perm),
        extra: [[0, 0], [0], [0, 1, 2], [1.5, 0], [2, 0], [, 0]],
      }],
      arity: 2,
    },
    {
      name: "broadcastTo",
      call: forward(broadcastTo),
      valid: () => [v3, [2, 3]],
      positions: [solo(0, [m32]), {
        index: 1,
        ok: (v) => fitsShape(v) && broadcastsTo([3], v as number[]),
        extra: [...BAD_SHAPES, [2, 2], [HUGE, HUGE, 3]],
      }],
      arity: 2,
    },
    {
      name: "sumToShape",
      call: forward(sumToShape),
      valid: () => [m23, [3]],
      positions: [solo(0, [m32]), {
        index: 1,
        ok: (v) => isShape(v) && broadcastsTo(v, [2, 3]),
        extra: [...BAD_SHAPES, [2], [2, 2, 3]],
      }],
      arity: 2,
    },
    {
      name: "concat",
      call: forward(concat),
      valid: () => [[m23, m23], { axis: -1 }],
      positions: [
        {
          index: 0,
          ok: never,
          extra: [[m23, ...bad], [m23, , m23], new Set([m23]), [m23, s], [m23, v3], []],
        },
        { index: 1, ok: optional(isObject) },
        { index: 1, field: "axis", ok: optional(isInt(-2, 1)), extra: [2, -3, 0.5, [1]] },
      ],
      arity: 2,
      options: 1,
    },
    {
      name: "pad2d",
      call: forward(pad2d),
      valid: () => [m23, 1, 1],
      positions: [
        solo(0, [v3]),
        { index: 1, ok: (v) => isInt(0)(v) && (2 + 2 * (v as number)) * 5 <= maxElements },
        {
          index: 2,
          ok: (v) => isInt(0)(v) && 4 * (3 + 2 * (v as number)) <= maxElements,
          extra: [2 ** 31],
        },
      ],
      arity: 3,
    },
    {
      name: "slice",
      call: forward(slice),
      valid: () => [m23, [0, 1], [2, 2]],
      positions: [
        solo(0, [v3]),
        {
          // With size [2, 2]: the first row, and a column that leaves two.
          index: 1,
          ok: (v) => Array.isArray(v) && v.length === 2 && v[0] === 0 && isInt(0, 1)(v[1]),
          extra: [[0], [0, 3], [-1, 0], [0.5, 0], [0, 1, 0], [1, 0], [, 1]],
        },
        {
          // From [0, 1]: up to 2 rows and 2 columns, or −1 for the rest.
          index: 2,
          ok: (v) =>
            Array.isArray(v) && v.length === 2 &&
            Array.from(v).every((d) => d === -1 || isInt(1, 2)(d)),
          extra: [[3, 1], [0, 1], [1], [1.5, 1], [-2, 1], [1, 3]],
        },
      ],
      arity: 3,
    },
    {
      name: "expandDims",
      call: forward(expandDims),
      valid: () => [m23, -1],
      positions: [solo(0), { index: 1, ok: isInt(-3, 2), extra: [undefined, 3, -4, [1]] }],
      arity: 2,
    },
    {
      // Only col3's last axis has size 1.
      name: "squeeze",
      call: forward(squeeze),
      valid: () => [col3, -1],
      positions: [solo(0), {
        index: 1,
        // An empty list squeezes nothing, as NumPy's np.squeeze(x, axis=()) does.
        ok: (v) =>
          v === undefined || v === 1 || v === -1 || isLastAxisList(v) ||
          (Array.isArray(v) && v.length === 0),
        extra: [0, [0], 2, [1, -1], "1", [, 1]],
      }],
      arity: 2,
    },
    {
      name: "stack",
      call: forward(stack),
      valid: () => [[m23, m23], { axis: -1 }],
      positions: [
        {
          index: 0,
          ok: never,
          extra: [[m23, ...bad], [m23, , m23], new Set([m23]), [m23, m32], [m23, v3], []],
        },
        { index: 1, ok: optional(isObject) },
        { index: 1, field: "axis", ok: optional(isInt(-3, 2)), extra: [3, -4, 0.5, [1]] },
      ],
      arity: 2,
      options: 1,
    },
    {
      name: "tile",
      call: forward(tile),
      valid: () => [m23, [2, 1]],
      positions: [solo(0), {
        index: 1,
        ok: (v) => {
          const reps = typeof v === "number" ? [v] : v;
          return Array.isArray(reps) && Array.from(reps).every(isInt(1)) &&
            reps.reduce((a: number, r: number) => a * r, 6) <= maxElements;
        },
        extra: [0, [0], [1.5], [-1], [, 1], "2", [2 ** 31, 2 ** 31]],
      }],
      arity: 2,
    },
    {
      name: "pad",
      call: forward(pad),
      valid: () => [m23, [[1, 0], [0, 2]], { mode: "constant", value: 1 }],
      positions: [
        solo(0),
        {
          index: 1,
          ok: never,
          extra: [
            [[1, 0]],
            [[1, 0], [0]],
            [[-1, 0], [0, 0]],
            [[0.5, 0], [0, 0]],
            [
              [1, 0],
              [0, 2],
              [0, 0],
            ],
            [[2 ** 31, 0], [0, 0]],
            "x",
          ],
        },
        { index: 2, ok: optional(isObject) },
        // With a value, only "constant" mode is accepted.
        {
          index: 2,
          field: "mode",
          ok: (v) => v === undefined || v === "constant",
          extra: ["wrap", "reflect", "edge", null],
        },
        { index: 2, field: "value", ok: optional(isNumber), extra: [NaN, "1"] },
      ],
      arity: 3,
      options: 2,
    },
    {
      name: "takeRows",
      call: forward(takeRows),
      valid: () => [m32, [2, 0]],
      positions: [
        solo(0, [s]),
        {
          index: 1,
          ok: isRows,
          extra: [[3], [-1], [0.5], ["0"], [NaN], { length: 2 ** 40 }, { length: -1 }, [0, , 1]],
        },
      ],
      arity: 2,
    },
    {
      name: "gather",
      call: forward(gather),
      valid: () => [m23, [1, 0], { axis: 1 }],
      positions: [
        solo(0, [s]),
        {
          index: 1,
          ok: isIndices(3),
          extra: [[3], [-4], [0.5], ["0"], [NaN], [], { length: 2 ** 40 }, [0, , 1], ...f.bad],
        },
        { index: 2, ok: optional(isObject) },
        { index: 2, field: "axis", ok: optional(isInt(-2, 1)), extra: [2, -3, 0.5, "1"] },
      ],
      arity: 3,
      options: 2,
    },
    {
      name: "scatterAdd",
      call: forward(scatterAdd),
      // Along axis 1 of [2, 3] at one index: updates [2, 1].
      valid: () => [m23, [2], w21, { axis: 1 }],
      positions: [
        T(0, [s, v3]),
        {
          index: 1,
          ok: (v) => isIndices(3)(v) && (v as ArrayLike<unknown>).length === 1,
          extra: [[3], [-4], [0.5], [NaN], [0, 1], { length: 2 ** 40 }, ...f.bad],
        },
        T(2, [m23, v3, s]),
        { index: 3, ok: optional(isObject) },
        { index: 3, field: "axis", ok: (v) => v === 1 || v === -1, extra: [0, 2, undefined] },
      ],
      arity: 4,
      options: 3,
    },
    {
      name: "takeAlongAxis",
      call: forward(takeAlongAxis),
      // Along the last axis of [2, 3] (or the first, broadcast over the columns): indices [2, 1].
      valid: () => [m23, w21, { axis: -1 }],
      positions: [
        T(0, [s, v3]),
        { index: 1, ok: never, extra: [[0], v3, m23.shape, ...f.bad] },
        { index: 2, ok: optional(isObject) },
        { index: 2, field: "axis", ok: optional(isInt(-2, 1)), extra: [2, -3, 0.5] },
      ],
      arity: 3,
      options: 2,
    },
    {
      name: "oneHot",
      call: forward(oneHot),
      valid: () => [labels, 3],
      positions: [solo(0, [[0, 1], 2]), { index: 1, ok: isInt(1, 2 ** 24) }],
      arity: 2,
    },
    {
      name: "arange",
      call: forward(arange),
      valid: () => [b, 0, 3, 1],
      positions: [
        { index: 0, ok: never, extra: [{ kind: "cpu" }, v3] },
        { index: 1, ok: isNumber },
        { index: 2, ok: optional(isNumber) },
        { index: 3, ok: optional(isNumber), extra: [0, -0] },
      ],
      arity: 4,
    },
    {
      name: "randomNormal",
      call: forward(randomNormal),
      valid: () => [b, [2, 3], key, { mean: 1, std: 2 }],
      positions: [
        { index: 0, ok: never, extra: [{ kind: "cpu" }, v3] },
        { index: 1, ok: fitsShape, extra: BAD_SHAPES },
        K(2),
        { index: 3, ok: optional(isObject) },
        { index: 3, field: "mean", ok: optional(isNumber) },
        { index: 3, field: "std", ok: optional((v) => isNumber(v) && v >= 0) },
      ],
      arity: 4,
      options: 3,
    },
    {
      name: "saveSafetensors",
      call: forward(saveSafetensors),
      valid: () => [{ w: m23, b: v3 }, { metadata: { epochs: "3" } }],
      positions: [
        {
          // No tensors is a valid (empty) file.
          index: 0,
          ok: (v) => isPlain(v) && Object.keys(v).length === 0,
          extra: [
            { "": v3 },
            { __metadata__: v3 },
            { "\ud800": v3 },
            { w: [v3] },
            new Map([["w", v3]]),
            ...f.bad.map((w) => ({ w })),
            ...f.foreign.map((x) => ({ w: m23, x })),
          ],
        },
        { index: 1, ok: optional(isObject) },
        {
          index: 1,
          field: "metadata",
          ok: optional(isMetadata),
          extra: [{ n: 1 }, { n: null }, ["x"], "x", { "\udc00": "x" }, { x: "\ud800" }],
        },
      ],
      arity: 2,
      options: 1,
    },
    {
      name: "loadSafetensors",
      call: forward(loadSafetensors),
      valid: () => [b, SAFETENSORS_FILE],
      positions: [
        { index: 0, ok: never, extra: [{ kind: "cpu" }, v3] },
        {
          index: 1,
          ok: never,
          extra: [
            SAFETENSORS_FILE.buffer,
            Array.from(SAFETENSORS_FILE),
            SAFETENSORS_FILE.subarray(0, SAFETENSORS_FILE.length - 1),
            new Uint8Array(16),
          ],
        },
      ],
      arity: 2,
    },
    {
      name: "randomKey",
      call: forward(randomKey),
      valid: () => [7],
      positions: [{ index: 0, ok: isInt(0, 2 ** 32 - 1), extra: [2 ** 32] }],
      arity: 1,
    },
    {
      name: "splitKey",
      call: forward(splitKey),
      valid: () => [key, 3],
      positions: [K(0), { index: 1, ok: optional(isInt(1, 2 ** 20)) }],
      arity: 2,
    },
    {
      name: "foldIn",
      call: forward(foldIn),
      valid: () => [key, 3],
      positions: [K(0), { index: 1, ok: isInt(0, 2 ** 32 - 1) }],
      arity: 2,
    },
    {
      name: "philox4x32",
      call: forward(philox4x32),
      valid: () => [[0, 1, 2, 3], [4, 5]],
      positions: [
        {
          index: 0,
          ok: never,
          extra: [[1, 2, 3], [1, 2, 3, -1], [1, 2, 3, 0.5], [1, 2, 3, 2 ** 32]],
        },
        { index: 1, ok: never, extra: [[1], [1, NaN], [1, "2"]] },
      ],
      arity: 2,
    },
    {
      name: "scope",
      call: forward(scope),
      valid: () => [() => 1],
      positions: [{ index: 0, ok: isFunction, extra: [async () => {}] }],
      arity: 1,
    },
    {
      name: "valueAndGrad",
      call: forward(valueAndGrad),
      valid: () => [sum, { hasAux: false }],
      positions: [
        { index: 0, ok: isFunction },
        { index: 1, ok: optional(isObject) },
        { index: 1, field: "hasAux", ok: optional(isBoolean), extra: [1, "true"] },
      ],
      arity: 2,
    },
    {
      name: "grad",
      call: forward(grad),
      valid: () => [sum],
      positions: [{ index: 0, ok: isFunction }],
      arity: 1,
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
      name: "jit",
      call: forward(jit),
      valid: () => [(x: Tensor) => relu(x), { donate: [0], kernels: "fused" }],
      positions: [
        { index: 0, ok: isFunction },
        { index: 1, ok: optional(isObject) },
        {
          index: 1,
          field: "donate",
          ok: optional((v) => Array.isArray(v) && Array.from(v).every(isInt(0))),
          extra: [[-1], [0.5], "0", [, 1]],
        },
        {
          index: 1,
          field: "kernels",
          ok: optional((v) => ["auto", "program", "fused", "ops"].includes(v as string)),
          extra: ["all", true],
        },
      ],
      arity: 2,
      options: 1,
    },
    {
      // A compiled function takes what `f` takes: its arity is `f`'s, not checked.
      name: "jit",
      call: (x) => compiled(x as Tensor),
      valid: () => [v3],
      positions: [{
        index: 0,
        ok: never,
        extra: [...f.bad, "a", null, Symbol("s")],
        extraOnly: true,
      }],
    },
    {
      name: "jit.dispose",
      call: method(compiled, "dispose"),
      valid: () => [],
      positions: [],
      arity: 0,
    },
    {
      name: "SGD",
      call: construct(SGD),
      valid: () => [[{ params: ["w"], lr: 0.1 }]],
      positions: [{
        index: 0,
        ok: never,
        extra: [
          [null],
          [{ params: "w", lr: 1 }],
          [{ params: ["w"], lr: NaN }],
          [{ params: ["w"], lr: 1, batchSize: 0 }],
          [{ params: ["w"], lr: 1, batchSize: 2.5 }],
          [{ params: ["w"], lr: 1, batchsize: 2 }],
          [{ params: ["w"], lr: 1, momentum: -1 }],
          [{ params: ["w"], lr: 1 }, { params: ["w"], lr: 1 }],
        ],
      }],
      arity: 1,
    },
    {
      name: "SGD.init",
      call: method(sgd, "init"),
      valid: () => [{ w: v3 }],
      // (A parameter on another backend is fine: an optimiser serves any backend.)
      positions: [{
        index: 0,
        ok: never,
        extra: [{}, { w: v3, b: v3 }, ...f.bad.map((w) => ({ w }))],
      }],
      arity: 1,
    },
    {
      name: "SGD.step",
      call: method(sgd, "step"),
      valid: () => [{ w: v3 }, { w: v3 }],
      positions: [
        // A parameter in no group is refused, never silently left out of the result.
        {
          index: 0,
          ok: never,
          extra: [{}, { w: m23 }, { w: v3, b: v3 }, ...bad.map((w) => ({ w }))],
        },
        {
          index: 1,
          ok: never,
          extra: [{}, { w: s }, { w: v3, b: v3 }, ...bad.map((w) => ({ w }))],
        },
      ],
      arity: 3,
    },
    {
      name: "Adam",
      call: construct(Adam),
      valid: () => [[{ params: ["w"] }]],
      positions: [{
        index: 0,
        ok: never,
        extra: [
          [{ params: ["w"], beta1: 1 }],
          [{ params: ["w"], beta2: -0.1 }],
          [{ params: ["w"], eps: -1 }],
          [{ params: ["w"], lr: Infinity }],
          [{ params: ["w"], betas: [0.9, 0.999] }],
        ],
      }],
      arity: 1,
    },
    {
      name: "Adam.init",
      call: method(adam, "init"),
      valid: () => [{ w: v3 }],
      positions: [{
        index: 0,
        ok: never,
        extra: [{}, { w: v3, b: v3 }, ...f.bad.map((w) => ({ w }))],
      }],
      arity: 1,
    },
    {
      name: "Adam.step",
      call: method(adam, "step"),
      valid: () => [{ w: v3 }, { w: v3 }, adamState],
      positions: [
        { index: 0, ok: never, extra: [{}, { w: v3, b: v3 }, ...bad.map((w) => ({ w }))] },
        { index: 1, ok: never, extra: [{ w: s }, ...bad.map((w) => ({ w }))] },
        { index: 2, ok: never, extra: [{}, { ...adamState, t: 1 }, { ...adamState, m: { w: s } }] },
      ],
      arity: 3,
    },
    {
      name: "toString",
      covers: "Tensor.toString",
      call: methodOf("toString"),
      valid: () => [v3],
      positions: [],
      arity: 1,
    },
    {
      name: "Linear",
      call: construct(Linear),
      valid: () => [2, 1],
      positions: [{ index: 0, ok: isInt(1) }, { index: 1, ok: isInt(1) }],
      arity: 2,
    },
    {
      name: "Linear.init",
      call: method(layer, "init"),
      valid: () => [b, key, 1],
      positions: [
        { index: 0, ok: never, extra: [v3] },
        K(1),
        { index: 2, ok: optional((v) => isNumber(v) && v >= 0) },
      ],
      arity: 3,
    },
    {
      name: "Linear.init",
      // With `big`, a layer whose weight is larger than the backend's largest tensor.
      call: (backend, k, big) =>
        (big ? new Linear(HUGE, HUGE) : layer).init(backend as Backend, k as never),
      valid: () => [b, key, false],
      positions: [{ index: 2, ok: (v) => !v, extra: [true] }],
    },
    {
      name: "Linear.apply",
      call: method(layer, "apply"),
      valid: () => [params, m32],
      positions: [
        { index: 0, ok: never, extra: [{ weight: m23, bias: v3 }, { weight: params.weight }] },
        { index: 0, field: "weight", ok: never, extra: [...bad, m23, v3] },
        T(1, [m23, v3]),
      ],
      arity: 2,
      options: 0,
    },
    {
      name: "linreg",
      call: forward(linreg),
      valid: () => [m32, w21, s],
      positions: [T(0, [m23]), T(1, [col3, v3]), T(2, [v3])],
      arity: 3,
    },
    {
      name: "squaredLoss",
      call: forward(squaredLoss),
      valid: () => [col3, col3],
      positions: [T(0, [v3]), T(1, [m23])],
      arity: 2,
    },
    {
      name: "mseLoss",
      call: forward(mseLoss),
      valid: () => [col3, col3],
      positions: [T(0, [v3]), T(1, [m23])],
      arity: 2,
    },
    {
      name: "crossEntropy",
      call: forward(crossEntropy),
      valid: () => [m23, labels],
      positions: [
        T(0, [v3, m32]),
        // Labels are checked against the class count on the CPU backend only.
        T(1, [v3, col3, ...(b.kind === "cpu" ? [b.tensor([0, 3]), b.tensor([0.5, 1])] : [])]),
      ],
      arity: 2,
    },
    {
      name: "evaluateLoss",
      call: forward(evaluateLoss),
      valid: () => [(X: Tensor) => matmul(X, w21), data(), squaredLoss],
      positions: [
        { index: 0, ok: isFunction },
        { index: 1, ok: never, extra: [{ X: m32 }] },
        { index: 1, field: "y", ok: never, extra: bad },
        { index: 2, ok: isFunction },
      ],
      arity: 3,
      options: 1,
    },
    {
      name: "syntheticData",
      call: forward(syntheticData),
      valid: () => [{ w: col3, b: 0.5, n: 4, key, noise: 0.1 }],
      positions: [
        { index: 0, ok: never },
        { index: 0, field: "w", ok: never, extra: [...f.bad, v3, m23] },
        { index: 0, field: "b", ok: isNumber },
        {
          index: 0,
          field: "n",
          ok: (v) => isInt(1)(v) && 3 * (v as number) <= maxElements,
          extra: [2 ** 30],
        },
        { index: 0, field: "key", ok: never, extra: BAD_KEYS },
        { index: 0, field: "noise", ok: optional((v) => isNumber(v) && v >= 0) },
      ],
      arity: 1,
      options: 0,
    },
    {
      name: "minibatchRows",
      call: forward(minibatchRows),
      valid: () => [5, 2, { key, epoch: 1 }],
      positions: [
        { index: 0, ok: isInt(1, 2 ** 26), extra: [2 ** 26 + 1] },
        { index: 1, ok: isInt(1) },
        { index: 2, ok: optional(never), extra: [{ key }] },
        { index: 2, field: "key", ok: never, extra: BAD_KEYS },
        { index: 2, field: "epoch", ok: isInt(0, 2 ** 32 - 1) },
      ],
      arity: 3,
      options: 2,
    },
    {
      name: "minibatch",
      call: forward(minibatch),
      valid: () => [data(), [0, 2]],
      positions: [
        { index: 0, ok: never },
        { index: 0, field: "X", ok: never, extra: [...bad, v3] },
        { index: 1, ok: isRows, extra: [[3], [-1], [0.5], [0, , 1]] },
      ],
      arity: 2,
      options: 0,
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

/**
 * Asserts that `run` fails with a TypeError or RangeError naming `name` (whose message
 * matches `pattern`, when given).
 */
async function assertRefused(
  name: string,
  run: () => unknown,
  what: string,
  pattern?: RegExp,
): Promise<void> {
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
  if (pattern) assert.match((error as Error).message, pattern, what);
}

/** Values given past an export's last parameter. */
const EXTRA_ARGUMENTS: readonly unknown[] = [undefined, 0, {}];

/**
 * Calls with one argument too many (the valid arguments, padded to the arity), and with
 * an unknown key in the options: each is refused, and makes nothing.
 */
async function refusesExtras(entry: Entry, backends: Backend[]): Promise<void> {
  const tries: { what: string; args: unknown[]; pattern: RegExp }[] = [];
  if (entry.arity !== undefined) {
    const args = entry.valid();
    args.length = entry.arity;
    for (const extra of EXTRA_ARGUMENTS) {
      tries.push({
        what: `${entry.name} with ${entry.arity + 1} arguments, the last ${printable(extra)}`,
        args: [...args, extra],
        pattern: /: expected (no arguments|at most \d+ arguments?), got \d+$/,
      });
    }
  }
  if (entry.options !== undefined) {
    const args = entry.valid();
    args[entry.options] = { ...(args[entry.options] ?? {}), unknownOption: 1 };
    tries.push({
      what: `${entry.name} with an unknown key in argument ${entry.options}`,
      args,
      pattern: /: expected options among .*, got an unknown option "unknownOption"$/,
    });
  }
  for (const { what, args, pattern } of tries) {
    const before = counters(backends);
    await assertRefused(entry.name, () => entry.call(...args), what, pattern);
    assert.deepEqual(counters(backends), before, `${what}: GPU work or a tensor was made`);
  }
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
  for (const entry of list) await refusesExtras(entry, backends);
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
  disposeFixtures(f);
}

/** The tensors in a result: alone, or in arrays and plain objects. */
function collectTensors(value: unknown): Tensor[] {
  if (value instanceof Tensor) return [value];
  if (Array.isArray(value)) return value.flatMap(collectTensors);
  if (
    typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.values(value as object).flatMap(collectTensors);
  }
  return [];
}

/**
 * Exports the table leaves out, with the reason: `gpu` has a test of its own below (its
 * valid call would make a device), and `Tensor` is abstract (its subclasses are checked).
 */
const UNCHECKED = new Set(["gpu", "Tensor"]);

/**
 * What the table must check with one argument too many: every function and class of
 * mod.ts, and every public method of its classes (`Class.method`).
 */
function exportsToCheck(): string[] {
  return Object.entries(api).flatMap(([name, value]) => {
    if (typeof value !== "function") return [];
    const isClass = /^class\b/.test(Function.prototype.toString.call(value));
    if (!isClass) return [name];
    const prototype = value.prototype as object;
    const methods = Object.getOwnPropertyNames(prototype).filter((m) => {
      const descriptor = Object.getOwnPropertyDescriptor(prototype, m)!;
      // Accessors and the protected `free` are no methods a caller calls.
      return m !== "constructor" && m !== "free" && typeof descriptor.value === "function";
    });
    return [name, ...methods.map((m) => `${name}.${m}`)];
  }).filter((name) => !UNCHECKED.has(name));
}

Deno.test("fuzz: hostile arguments on the CPU reference are refused, naming the function", () =>
  fuzz(ref, dev ? [dev] : [], 1000));

gpuTest(
  "fuzz: hostile arguments on WebGPU are refused before any GPU work, naming the function",
  () => fuzz(dev!, [ref, folded!], 1000),
);

gpuTest("fuzz: the table checks every export of mod.ts and method of its classes", () => {
  const f = fixtures(dev!, [ref, folded!]);
  const covered = new Set(
    entries(f).flatMap((e) => (e.arity === undefined ? [] : [e.covers ?? e.name])),
  );
  const missing = exportsToCheck().filter((name) => !covered.has(name));
  assert.deepEqual(missing, [], "exports without an entry checking their arity");
  // The list is what it should be: it names methods of classes, and a known export.
  assert.ok(covered.has("GpuBackend.sync") && covered.has("CpuTensor.read"));
  disposeFixtures(f);
});

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
    { powerPreferences: "low-power" },
  ];
  for (const options of cases) {
    await assertRefused("gpu", () => gpu(options as never), `gpu(${printable(options)})`);
  }
  await assertRefused("gpu", () => forward(gpu)({}, {}), "gpu({}, {})", /at most 1 argument,/);
});
