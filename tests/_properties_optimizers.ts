/**
 * @file The optimisers' property: SGD (with momentum) and Adam against float64
 * re-implementations of PyTorch's rules over 100 steps, with parameter groups.
 *
 * The reference is the rule written out in float64 (`torch.optim.SGD` and
 * `torch.optim.Adam` as their documentation states them). The bound is a running error
 * analysis of the float32 computation the optimiser actually performs: every op of the
 * update is mirrored by an operation on (exact value, error bound) pairs that adds the
 * op's own rounding (one rounding for add, sub, mul and scale, whose scalar is rounded
 * to float32 too; on the GPU 2.5 ulp for a division and 4.5 ulp for sqrt = 1/inverseSqrt,
 * WGSL's bounds; one rounding for everything on the reference) to the propagated errors
 * of its operands. The gradients are fixed sequences, so errors propagate only through
 * the optimiser's own recurrences (and weight decay), and the bound holds at every step.
 */
import fc from "fast-check";
import { Adam, type Backend, concat, reshape, scope, SGD, type Tensor } from "../mod.ts";
import {
  dim,
  MIN_NORMAL,
  ordinaryProfile,
  type Profile,
  readFloat32,
  seed,
  U,
  values,
} from "./_numerics.ts";
import type { OpProperty } from "./_properties.ts";

/** Per-element (exact value, bound on |computed − exact|) of one float32 tensor. */
interface Tracked {
  readonly x: Float64Array;
  readonly e: Float64Array;
}

/** Rounding of each op on a backend, relative to the result. */
interface Roundings {
  /** A division: 2.5 ulp ≤ 5u on the GPU (WGSL), u on the reference. */
  readonly div: number;
  /** sqrt: 1/inverseSqrt on the GPU, (1 + 5u)/(1 − 4u) − 1 ≤ 9.0001u; u on the reference. */
  readonly sqrt: number;
}

const roundingsOf = (backend: Backend): Roundings =>
  backend.kind === "webgpu" ? { div: 5 * U, sqrt: 9.0001 * U } : { div: U, sqrt: U };

/** Whether a computed value within `e` of `x` may be a nonzero subnormal (which a GPU may flush). */
const maySubnormal = (x: number, e: number) => Math.abs(x) + e > 0 && Math.abs(x) - e < MIN_NORMAL;

/**
 * A trajectory the first-order analysis cannot bound: a value may have overflowed float32
 * (SGD with negative weight decay grows geometrically, and a float32 ±Infinity is then as
 * right as IEEE makes it, but no finite bound covers it), or a divisor's error bound has
 * grown to its value (Adam's update m/(√v + ε) near m ≈ 0 with √v small amplifies every
 * earlier error). The property discards such a case (fast-check counts discards, and fails
 * if they outnumber the cases it could judge); it never passes one unchecked.
 */
class OutOfReach extends Error {}

/** float32's largest finite value. */
const MAX_FLOAT32 = (2 - 2 ** -23) * 2 ** 127;

/**
 * The rounding of a result whose exact value is `x` and whose operands' errors amount to
 * `e`: `relative` of the computed value's magnitude, and MIN_NORMAL where the computed
 * value may be subnormal. An exact 0 from exact operands stays 0. A result that may
 * overflow float32 is out of reach.
 */
function rounded(x: number, e: number, relative = U): number {
  if (!(Math.abs(x) + e < MAX_FLOAT32)) {
    throw new OutOfReach(`a value may overflow float32: ${x} within ${e}`);
  }
  return relative * (Math.abs(x) + e) + (maySubnormal(x, e) ? MIN_NORMAL : 0);
}

const tracked = (x: ArrayLike<number>): Tracked => ({
  x: Float64Array.from(x),
  e: new Float64Array(x.length),
});

function map(
  n: number,
  f: (i: number) => readonly [x: number, e: number],
): Tracked {
  const out = { x: new Float64Array(n), e: new Float64Array(n) };
  for (let i = 0; i < n; i++) [out.x[i], out.e[i]] = f(i);
  return out;
}

const at = (t: Tracked, i: number) => t.x.length === 1 ? 0 : i;

/** a + b (or a − b): the errors add, plus one rounding. */
function add(a: Tracked, b: Tracked, sign = 1): Tracked {
  return map(Math.max(a.x.length, b.x.length), (i) => {
    const [ai, bi] = [at(a, i), at(b, i)];
    const x = a.x[ai] + sign * b.x[bi];
    // Each operand's error, and less than MIN_NORMAL for an operand flushed to 0.
    const flushed = (maySubnormal(a.x[ai], a.e[ai]) ? MIN_NORMAL : 0) +
      (maySubnormal(b.x[bi], b.e[bi]) ? MIN_NORMAL : 0);
    const e = a.e[ai] + b.e[bi] + flushed;
    return [x, e + rounded(x, e)];
  });
}

/** a·b. */
function mul(a: Tracked, b: Tracked): Tracked {
  return map(Math.max(a.x.length, b.x.length), (i) => {
    const [ai, bi] = [at(a, i), at(b, i)];
    const x = a.x[ai] * b.x[bi];
    const [ea, eb] = [a, b].map((t, k) => {
      const j = k === 0 ? ai : bi;
      return t.e[j] + (maySubnormal(t.x[j], t.e[j]) ? MIN_NORMAL : 0);
    });
    const e = Math.abs(a.x[ai]) * eb + Math.abs(b.x[bi]) * ea + ea * eb;
    return [x, e + rounded(x, e)];
  });
}

/** `scale(a, used)` standing for a·exact: the scalar is rounded to float32 first. */
function scaleBy(a: Tracked, exact: number, used = exact): Tracked {
  const c = Math.fround(used);
  return map(a.x.length, (i) => {
    const x = a.x[i] * exact;
    // A flushed subnormal input is off by less than MIN_NORMAL, scaled by c.
    const flushed = maySubnormal(a.x[i], a.e[i]) ? Math.abs(c) * MIN_NORMAL : 0;
    const e = Math.abs(c) * a.e[i] + Math.abs(a.x[i] * (c - exact)) + flushed;
    return [x, e + rounded(x, e)];
  });
}

/** a/b with `relative` the division's own rounding; needs |b| > its error. */
function div(a: Tracked, b: Tracked, relative: number): Tracked {
  return map(Math.max(a.x.length, b.x.length), (i) => {
    const [ai, bi] = [at(a, i), at(b, i)];
    const x = a.x[ai] / b.x[bi];
    const margin = Math.abs(b.x[bi]) - b.e[bi];
    if (!(margin > 0)) {
      throw new OutOfReach(`a divisor's error bound ${b.e[bi]} reaches its value ${b.x[bi]}`);
    }
    const ea = a.e[ai] + (maySubnormal(a.x[ai], a.e[ai]) ? MIN_NORMAL : 0);
    const e = (ea + Math.abs(x) * b.e[bi]) / margin;
    return [x, e + rounded(x, e, relative)];
  });
}

/** √a for a ≥ 0: |√â − √a| ≤ min(√e, e/√a). */
function sqrt(a: Tracked, relative: number): Tracked {
  return map(a.x.length, (i) => {
    const x = Math.sqrt(a.x[i]);
    const ea = a.e[i] + (maySubnormal(a.x[i], a.e[i]) ? MIN_NORMAL : 0);
    const e = a.x[i] > 0 ? Math.min(Math.sqrt(ea), ea / x) : Math.sqrt(ea);
    return [x, e + rounded(x, e, relative)];
  });
}

/**
 * Asserts `actual` is within the tracked bound of `expected` (the float64 rule); 10⁻¹²
 * relative covers the float64 rounding of the model itself, and 10⁻³⁰⁰ absolute its
 * underflow: with a learning rate of 5·10⁻³²⁴ (float64's smallest subnormal, 0 in
 * float32) the tracked error of lr·update underflows to 0 where the rule's own product
 * does not. Every float32 value but 0 is larger than 10⁻⁴⁵, so it hides no float32 error.
 */
function assertTracked(actual: Float32Array, expected: Float64Array, model: Tracked, what: string) {
  for (let i = 0; i < expected.length; i++) {
    const bound = model.e[i] + 1e-12 * (Math.abs(expected[i]) + model.e[i]) + 1e-300;
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= bound)) {
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, the float64 rule gives ${
          expected[i]
        }, error ${error} exceeds the bound ${bound}`,
      );
    }
  }
}

const STEPS = 100;
/** Steps after which the values are read and checked. */
const CHECKED = new Set([1, 2, 3, 10, 50, 100]);

/** A case: two parameters in two groups, their sizes, and value profiles. */
export interface Case<S> {
  readonly sizes: readonly [number, number];
  readonly params: Profile;
  readonly grads: Profile;
  readonly seed: number;
  readonly groups: readonly [S, S];
}

const sizes = fc.tuple(dim(300), dim(40));

/** What the property drives: an optimiser whose state is `S` (SGD, Adam). */
interface Optimiser<S> {
  init(params: Record<string, Tensor>): S;
  step(
    params: Record<string, Tensor>,
    grads: Record<string, Tensor>,
    state: S,
  ): { params: Record<string, Tensor>; state: S };
}

/** Runs {@linkcode STEPS} steps of `optimiser` on `backend`, reading the parameters at the checked steps. */
async function trajectory<S>(
  backend: Backend,
  c: Case<unknown>,
  optimiser: Optimiser<S>,
): Promise<Map<number, Float32Array[]>> {
  const names = ["a", "b"];
  let params: Record<string, Tensor> = Object.fromEntries(
    names.map((name, k) => [name, backend.tensor(values(c.sizes[k], c.params, c.seed + k))]),
  );
  let state = optimiser.init(params);
  const dispose = (value: unknown): void => {
    if (value && typeof value === "object") {
      if ("dispose" in value && typeof value.dispose === "function") value.dispose();
      else Object.values(value).forEach(dispose);
    }
  };
  const read: Map<number, Float32Array[]> = new Map();
  for (let t = 1; t <= STEPS; t++) {
    const grads = Object.fromEntries(
      names.map((name, k) => [
        name,
        backend.tensor(values(c.sizes[k], c.grads, c.seed + 1000 * t + k)),
      ]),
    );
    const next = optimiser.step(params, grads, state);
    dispose([params, grads, state]);
    ({ params, state } = next);
    if (CHECKED.has(t)) {
      using both = scope(() => concat(names.map((n) => reshape(params[n], [-1]))));
      const flat = await readFloat32(both);
      read.set(t, [flat.subarray(0, c.sizes[0]), flat.subarray(c.sizes[0])]);
    }
  }
  dispose([params, state]);
  return read;
}

/** One SGD parameter group's options. */
export interface SgdGroup {
  lr: number;
  weightDecay: number;
  batchSize: number;
  momentum: number;
}

const sgdGroup: fc.Arbitrary<SgdGroup> = fc.record({
  lr: fc.oneof(fc.constantFrom(0.1, 0.005), fc.double({ min: 0, max: 1, noNaN: true })),
  weightDecay: fc.oneof(fc.constantFrom(0, 1e-4), fc.double({ min: -1, max: 1, noNaN: true })),
  batchSize: fc.constantFrom(1, 5, 32),
  momentum: fc.oneof(fc.constantFrom(0, 0.9), fc.double({ min: 0, max: 0.99, noNaN: true })),
});

/**
 * PyTorch's SGD in float64 (g′ = g/batchSize + weightDecay·p; buf = μ·buf + g′, the first
 * buf being g′; p −= lr·buf, or lr·g′ without momentum), with the tracked bound of the
 * float32 ops the optimiser runs: `sgdStep`'s expression without momentum, else scale and
 * add for g′ and buf, then `sgdStep(p, buf, { lr })`.
 */
async function checkSgd(backend: Backend, c: Case<SgdGroup>): Promise<void> {
  const opt = new SGD(c.groups.map((g, k) => ({ params: [["a", "b"][k]], ...g })));
  const got = await trajectory(backend, c, opt);
  for (let k = 0; k < 2; k++) {
    const { lr, weightDecay: wd, batchSize: bs, momentum: mu } = c.groups[k];
    const n = c.sizes[k];
    const p64 = Float64Array.from(values(n, c.params, c.seed + k));
    const buf64 = new Float64Array(n);
    let p = tracked(p64), buf = tracked(new Float64Array(n));
    for (let t = 1; t <= STEPS; t++) {
      const g32 = values(n, c.grads, c.seed + 1000 * t + k);
      for (let i = 0; i < n; i++) {
        const direction = g32[i] / bs + wd * p64[i];
        buf64[i] = t === 1 ? direction : mu * buf64[i] + direction;
        p64[i] -= lr * (mu === 0 ? direction : buf64[i]);
      }
      const g = tracked(g32);
      // sgdStep's expression p − lr·(g·fl(1/bs) + wd·p), or scale, add and sgdStep.
      const direction = add(scaleBy(g, 1 / bs), scaleBy(p, wd));
      if (mu === 0) p = add(p, scaleBy(direction, lr), -1);
      else {
        buf = add(scaleBy(buf, mu), bs === 1 && wd === 0 ? g : direction);
        p = add(p, scaleBy(buf, lr), -1);
      }
      if (CHECKED.has(t)) {
        assertTracked(got.get(t)![k], p64, p, `SGD ${JSON.stringify(c)} param ${k} step ${t}`);
      }
    }
  }
}

/** One Adam parameter group's options. */
export interface AdamGroup {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

const adamGroup: fc.Arbitrary<AdamGroup> = fc.record({
  lr: fc.oneof(fc.constantFrom(1e-3, 0.1), fc.double({ min: 0, max: 0.5, noNaN: true })),
  beta1: fc.oneof(fc.constantFrom(0.9, 0), fc.double({ min: 0, max: 0.99, noNaN: true })),
  beta2: fc.oneof(fc.constantFrom(0.999, 0.99), fc.double({ min: 0.5, max: 0.9999, noNaN: true })),
  eps: fc.oneof(fc.constant(1e-8), fc.double({ min: 1e-8, max: 1e-2, noNaN: true })),
  weightDecay: fc.oneof(fc.constantFrom(0, 1e-2), fc.double({ min: 0, max: 1, noNaN: true })),
});

/**
 * PyTorch's Adam in float64 (g′ = g + wd·p; m = β₁m + (1 − β₁)g′; v = β₂v + (1 − β₂)g′²;
 * p −= lr/(1 − β₁ᵗ)·m/(√v/√(1 − β₂ᵗ) + ε)), with the tracked bound of the float32 ops
 * `Adam.step` runs (train/adam.ts): the scales use β̃ = fl(β) and fl(1 − β̃), the
 * corrections follow c = β̃c + (1 − β̃)·1, then √c₂, lr·√c₂/c₁, m/(√v + ε√c₂), p − that.
 */
async function checkAdam(backend: Backend, c: Case<AdamGroup>): Promise<void> {
  const opt = new Adam(c.groups.map((g, k) => ({ params: [["a", "b"][k]], ...g })));
  const got = await trajectory(backend, c, opt);
  const r = roundingsOf(backend);
  for (let k = 0; k < 2; k++) {
    const { lr, beta1, beta2, eps, weightDecay: wd } = c.groups[k];
    const n = c.sizes[k];
    const p64 = Float64Array.from(values(n, c.params, c.seed + k));
    const m64 = new Float64Array(n), v64 = new Float64Array(n);
    let p = tracked(p64), m = tracked(m64), v = tracked(v64);
    let c1 = tracked([0]), c2 = tracked([0]);
    const one = tracked([1]);
    const [b1, b2] = [Math.fround(beta1), Math.fround(beta2)];
    for (let t = 1; t <= STEPS; t++) {
      const g32 = values(n, c.grads, c.seed + 1000 * t + k);
      const bc1 = -Math.expm1(t * Math.log(beta1)), bc2 = -Math.expm1(t * Math.log(beta2));
      for (let i = 0; i < n; i++) {
        const g = g32[i] + wd * p64[i];
        m64[i] = beta1 * m64[i] + (1 - beta1) * g;
        v64[i] = beta2 * v64[i] + (1 - beta2) * g * g;
        p64[i] -= (lr / bc1) * m64[i] / (Math.sqrt(v64[i]) / Math.sqrt(bc2) + eps);
      }
      const g = wd === 0 ? tracked(g32) : add(tracked(g32), scaleBy(p, wd));
      const average = (x: Tracked, y: Tracked, beta: number, rounded: number) =>
        add(scaleBy(x, beta, rounded), scaleBy(y, 1 - beta, 1 - rounded));
      m = average(m, g, beta1, b1);
      v = average(v, mul(g, g), beta2, b2);
      c1 = average(c1, one, beta1, b1);
      c2 = average(c2, one, beta2, b2);
      const root = sqrt(c2, r.sqrt);
      const stepSize = scaleBy(div(root, c1, r.div), lr);
      const update = div(m, add(sqrt(v, r.sqrt), scaleBy(root, eps)), r.div);
      p = add(p, mul(stepSize, update), -1);
      if (CHECKED.has(t)) {
        assertTracked(got.get(t)![k], p64, p, `Adam ${JSON.stringify(c)} param ${k} step ${t}`);
      }
    }
  }
}

function cases<S>(group: fc.Arbitrary<S>): fc.Arbitrary<Case<S>> {
  return fc.record({
    sizes,
    params: ordinaryProfile,
    grads: ordinaryProfile,
    seed,
    groups: fc.tuple(group, group),
  });
}

/**
 * An optimiser's property on a backend; a trajectory the analysis cannot bound is
 * discarded (see {@linkcode OutOfReach}), never passed unchecked.
 */
function optimiserProperty<S>(
  name: string,
  group: fc.Arbitrary<S>,
  check: (backend: Backend, c: Case<S>) => Promise<void>,
): OpProperty<Case<S>> {
  return {
    name: `${name}: 100 steps on the GPU follow the float64 rule within the tracked bound`,
    cases: cases(group),
    numRuns: 6,
    noSpecialValues: "a NaN or infinite value makes the rest of a trajectory NaN or infinite, " +
      "beyond the tracked analysis; sgdStep's property and the README's table meet them",
    async check(backend, c) {
      try {
        await check(backend, c);
      } catch (error) {
        fc.pre(!(error instanceof OutOfReach));
        throw error;
      }
    },
  };
}

/** SGD with momentum, weight decay and batch sizes, in two parameter groups. */
export const sgdProperty: OpProperty<Case<SgdGroup>> = optimiserProperty("SGD", sgdGroup, checkSgd);

/** Adam, in two parameter groups. */
export const adamProperty: OpProperty<Case<AdamGroup>> = optimiserProperty(
  "Adam",
  adamGroup,
  checkAdam,
);
