/**
 * @file Special values (NaN, ±Inf, ±0, subnormals): the README's "Special values" table,
 * row by row, on the reference and on the GPU — eagerly, and under `jit` as the default
 * chooses, as one program kernel and as fused kernels — each value exactly as the table gives it (NaN by
 * position, a zero by its sign), or what flushing subnormals permits where WGSL allows it
 * (`isFlushedValue`: the value of flushed inputs, a zero for a subnormal one). Then the six results a peer library's op tests found wrong (each
 * failed before its fix), and the gradients at the kinks the README documents.
 */
import assert from "node:assert/strict";
import * as lib from "../mod.ts";
import {
  abs,
  type Backend,
  dropout,
  grad,
  jit,
  type KernelGranularity,
  max,
  randomKey,
  relu,
  sum,
  type Tensor,
} from "../mod.ts";
import { flushSubnormal, gpuTest, isFlushedValue, ref } from "./_harness.ts";

/** One row of the README's table: the op, its arguments, the values it gives. */
interface Row {
  readonly text: string;
  readonly op: string;
  readonly args: readonly unknown[];
  readonly expected: readonly number[];
}

/** A number of the table: `NaN`, `Inf`, `-Inf` or a decimal, as float32. */
function tableNumber(word: string): number {
  if (word === "NaN") return NaN;
  if (word === "Inf") return Infinity;
  if (word === "-Inf") return -Infinity;
  return Math.fround(Number(word));
}

/** The table's literal (numbers, nested lists, `{ key: value }` options) as a value. */
function parseLiteral(text: string): unknown {
  const json = text
    .replace(/(-?Inf|NaN)/g, '"$1"')
    .replace(/([{,]\s*)(\w+):/g, '$1"$2":');
  const revive = (v: unknown): unknown =>
    typeof v === "string"
      ? tableNumber(v)
      : typeof v === "number"
      ? tableNumber(String(v === 0 && Object.is(v, -0) ? "-0" : v))
      : Array.isArray(v)
      ? v.map(revive)
      : v !== null && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]))
      : v;
  // JSON.parse reads "-0" as -0, so the sign of a zero survives.
  return revive(JSON.parse(json));
}

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const section = readme.split("## Special values")[1].split("\n## ")[0];
const ROWS: Row[] = [...section.matchAll(/^\| `(\w+)` +\| `(\w+)\((.*)\)` +\| `(.+)` +\|$/gm)]
  .map(([, op, called, args, gives]) => {
    assert.equal(called, op, `README row of ${op} calls ${called}`);
    const expected = [parseLiteral(gives)].flat(Infinity) as number[];
    return { text: `${op}(${args})`, op, args: parseLiteral(`[${args}]`) as unknown[], expected };
  });

Deno.test("README: the special-values table has a row for every op it names", () => {
  const ops = new Set(ROWS.map((r) => r.op));
  const named = [
    ...["add", "sub", "mul", "div", "maximum", "minimum", "pow", "neg", "abs", "scale"],
    ...["square", "relu", "exp", "log", "sqrt", "sigmoid", "tanh", "greater", "less"],
    ...["equal", "where", "sum", "mean", "max", "argmax", "logSumExp", "softmax"],
    ...["logSoftmax", "crossEntropy", "matmul", "corr2d", "l2Penalty", "sgdStep"],
    ...["dropout", "transpose", "conv2d", "maxPool2d", "avgPool2d"],
    ...["min", "argmin", "prod", "any", "all", "cumsum", "cumprod", "sort", "argsort"],
    ...["log1p", "expm1", "rsqrt", "sin", "cos", "floor", "ceil", "round", "sign", "clip"],
    ...["squaredDifference", "leakyRelu", "elu", "gelu", "softplus", "logSigmoid"],
    ...["floorDiv", "mod", "notEqual", "greaterEqual", "lessEqual", "logicalAnd"],
    ...["logicalOr", "logicalXor", "logicalNot", "isNaN", "isFinite"],
  ];
  assert.deepEqual(named.filter((op) => !ops.has(op)), []);
  assert.equal(ROWS.length, 81);
});

/** A nested list's values and shape. */
function flatten(list: unknown): [number[], number[]] {
  if (!Array.isArray(list)) return [[list as number], []];
  const parts = list.map(flatten);
  return [parts.flatMap(([v]) => v), [list.length, ...(parts[0]?.[1] ?? [])]];
}

/** The row's call: lists become tensors on `backend` (`f` receives them, the rest fixed). */
function rowCall(row: Row, backend: Backend): [Tensor[], (...tensors: Tensor[]) => Tensor] {
  const tensors: Tensor[] = [];
  const slots = row.args.map((a) => {
    if (!Array.isArray(a)) return a;
    const [values, shape] = flatten(a);
    tensors.push(backend.tensor(new Float32Array(values), shape));
    return tensors.length - 1;
  });
  const ops = lib as unknown as Record<string, (...args: unknown[]) => Tensor>;
  const f = (...ts: Tensor[]) => {
    const args = row.args.map((a, i) => (Array.isArray(a) ? ts[slots[i] as number] : a));
    // dropout's key: any key keeps every element at p = 0 and none at p = 1.
    return row.op === "dropout"
      ? dropout(args[0] as Tensor, args[1] as number, randomKey(7))
      : ops[row.op](...args);
  };
  return [tensors, f];
}

/** The row with every subnormal of its lists replaced by a zero of its sign. */
function flushedRow(row: Row): Row {
  const flush = (a: unknown): unknown =>
    Array.isArray(a) ? a.map(flush) : typeof a === "number" ? flushSubnormal(a) : a;
  return { ...row, args: row.args.map((a) => (Array.isArray(a) ? flush(a) : a)) };
}

/** Whether float32 `a` is `b` exactly: NaN is NaN, a zero has its sign. */
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** The row's values on `backend`, eagerly or jitted at `kernels`. */
async function rowValues(row: Row, backend: Backend, kernels?: KernelGranularity) {
  const [tensors, f] = rowCall(row, backend);
  try {
    using out = kernels ? jit(f, { kernels })(...tensors) : f(...tensors);
    return Array.from(await out.read());
  } finally {
    tensors.forEach((t) => t.dispose());
  }
}

/**
 * Asserts `actual` is the row's table values exactly, or (where `flushed` is given) each
 * value exactly what the reference computes from flushed inputs, flushed.
 */
function assertRow(row: Row, actual: number[], flushed: number[] | null, where: string) {
  assert.equal(actual.length, row.expected.length, `${row.text} on ${where}: length`);
  actual.forEach((v, i) => {
    const ok = same(v, row.expected[i]) || (flushed !== null && isFlushedValue(v, flushed[i]));
    assert.ok(
      ok,
      `${row.text} on ${where}: element ${i} is ${Object.is(v, -0) ? "-0" : v}, the table gives ${
        row.expected[i]
      }${flushed ? ` (flushed: ${flushed[i]})` : ""}`,
    );
  });
}

for (const row of ROWS) {
  Deno.test(`special values: ${row.text} on the reference`, async () => {
    assertRow(row, await rowValues(row, ref), null, "the reference");
  });
  gpuTest(`special values: ${row.text} on the GPU, eager and jitted`, async (dev) => {
    const flushed = await rowValues(flushedRow(row), ref);
    assertRow(row, await rowValues(row, dev), flushed, "the GPU");
    for (const kernels of ["auto", "program", "fused"] as const) {
      assertRow(row, await rowValues(row, dev, kernels), flushed, `the GPU, jit ${kernels}`);
    }
  });
}

/** Each of the six results a peer library's op tests found wrong, on both backends. */
const SIX: [string, (b: Backend) => Tensor, number[]][] = [
  ["max([3, NaN, 2]) is NaN", (b) => lib.max(b.tensor([3, NaN, 2])), [NaN]],
  [
    "argmax([0, 3, 5, NaN, 3]) is 3, the first NaN",
    (b) => lib.argmax(b.tensor([0, 3, 5, NaN, 3]), { axis: 0 }),
    [3],
  ],
  [
    "maximum([0.5, 0.3, NaN], 0.25) propagates NaN",
    (b) => lib.maximum(b.tensor([0.5, 0.3, NaN]), b.tensor([0.25], [])),
    [0.5, Math.fround(0.3), NaN],
  ],
  [
    "minimum([0.5, 0.3, NaN], 0.25) propagates NaN",
    (b) => lib.minimum(b.tensor([0.5, 0.3, NaN]), b.tensor([0.25], [])),
    [0.25, 0.25, NaN],
  ],
  [
    "pow(NaN, 1) and pow(NaN, 3) are NaN",
    (b) => lib.pow(b.tensor([NaN, NaN]), b.tensor([1, 3])),
    [NaN, NaN],
  ],
  ["pow(0, 0) is 1", (b) => lib.pow(b.tensor([0]), b.tensor([0])), [1]],
];

for (const [name, f, expected] of SIX) {
  gpuTest(`special values: ${name}`, async (dev) => {
    for (const backend of [ref, dev]) {
      using out = f(backend);
      const actual = Array.from(await out.read());
      assert.ok(
        actual.length === expected.length && actual.every((v, i) => same(v, expected[i])),
        `${name} on ${backend === ref ? "the reference" : "the GPU"}: got [${actual}]`,
      );
    }
  });
}

gpuTest(
  "special values: gradients at kinks — relu′(0) = 0, abs′(0) = 0, max ties split",
  async (dev) => {
    for (const backend of [ref, dev]) {
      const where = backend === ref ? "the reference" : "the GPU";
      using x = backend.tensor([-1, -0, 0, 2]);
      using dRelu = grad((t: Tensor) => sum(relu(t)))(x)[0];
      assert.deepEqual(Array.from(await dRelu.read()), [0, 0, 0, 1], `relu′ on ${where}`);
      using dAbs = grad((t: Tensor) => sum(abs(t)))(x)[0];
      assert.deepEqual(Array.from(await dAbs.read()), [-1, 0, 0, 1], `abs′ on ${where}`);
      using y = backend.tensor([3, 1, 3, 3]);
      using dMax = grad((t: Tensor) => max(t))(y)[0];
      const third = Math.fround(1 / 3);
      assert.deepEqual(Array.from(await dMax.read()), [third, 0, third, third], `max′ on ${where}`);
    }
  },
);
