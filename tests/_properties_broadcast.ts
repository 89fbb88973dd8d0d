/**
 * @file NumPy broadcasting in full, for every binary op and `where`: random
 * broadcast-compatible shapes (operands of lower rank, dimensions of 1, scalars;
 * `[n, 1] + [n, h]`, `[h] + [n, h]`, `[] + x` among them). The result's shape is NumPy's;
 * the reference equals the op's float64 value at operand indices computed here from
 * coordinates (independently of the library's `sourceIndices`), rounded once; the GPU
 * equals the reference bit for bit where the op is one correctly rounded operation
 * (within 2.5 ULP for div and `powBound` for pow, WGSL's accuracy).
 */
import fc from "fast-check";
import {
  add,
  type Backend,
  div,
  equal,
  greater,
  less,
  maximum,
  minimum,
  mul,
  pow,
  sub,
  type Tensor,
  where,
} from "../mod.ts";
import {
  assertBitwise,
  assertBitwiseOrFlushed,
  assertShape,
  assertWithin,
  coordinates,
  divBound,
  flushing,
  flushSubnormal,
  MIN_NORMAL,
  powBound,
  powC,
  type Profile,
  profile,
  seed,
  size,
  specialKind,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A tensor's shape. */
export type Shape = readonly number[];

/** NumPy's broadcast shape, written out here. */
export function numpyShape(...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from(
    { length: rank },
    (_, d) => Math.max(...shapes.map((s) => s[s.length - rank + d] ?? 1)),
  );
}

/** The index into an operand of `shape` that output coordinate c reads. */
export function operandIndex(c: readonly number[], shape: Shape): number {
  const lead = c.length - shape.length;
  return shape.reduce((i, d, k) => i * d + (d === 1 ? 0 : c[lead + k]), 0);
}

/** An output shape and operands that broadcast to it. */
const dims = fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 13), fc.integer({ min: 1, max: 24 }));
const operand = (out: Shape) =>
  fc.tuple(fc.nat(out.length), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })).map((
    [drop, ones],
  ) => out.slice(drop).map((d, k) => (ones[k] ? 1 : d)));
const outShape = fc.array(dims, { maxLength: 4 }).filter((s) => size(s) <= 3000);

/** Two operand shapes that broadcast together. */
export const pairs: fc.Arbitrary<[Shape, Shape]> = fc.oneof(
  outShape.chain((out) => fc.tuple(operand(out), operand(out))),
  // The named forms: [n, 1] + [n, h], [h] + [n, h], [] + x.
  fc.tuple(dims, dims).chain(([n, h]) =>
    fc.constantFrom<[Shape, Shape]>([[n, 1], [n, h]], [[h], [n, h]], [[], [n, h]], [[n, h], []])
  ),
);

/** A binary op's forward meaning and accuracy. */
export interface Binary {
  readonly op: (a: Tensor, b: Tensor) => Tensor;
  readonly f: (a: number, b: number) => number;
  /**
   * Values of the operands from profile values (e.g. no zero divisor); special values
   * (the `special` profile) pass through unchanged.
   */
  readonly domain?: (a: Float32Array, b: Float32Array) => [Float32Array, Float32Array];
  /** |gpu − reference| allowed; absent: bit for bit. */
  readonly bound?: (a: number, b: number, r: number) => number;
  /**
   * What a GPU that flushes subnormals gives, where it is not `f` of flushed operands: a
   * choice compares flushed values but moves the chosen operand's bits.
   */
  readonly flushed?: (a: number, b: number) => number;
}

/** Every binary op that broadcasts, by name. */
export const BINARY: Readonly<Record<string, Binary>> = {
  add: { op: add, f: (a, b) => a + b },
  sub: { op: sub, f: (a, b) => a - b },
  mul: { op: mul, f: (a, b) => a * b },
  div: {
    op: div,
    f: (a, b) => a / b,
    domain: (a, b) => [a, b.map((v) => (v === 0 ? 1 : v))],
    bound: (_a, _b, r) => divBound(r),
  },
  // NumPy's: NaN wins, and of +0 and −0 the second operand.
  maximum: {
    op: maximum,
    f: (a, b) => (a > b || Number.isNaN(a) ? a : b),
    flushed: (a, b) => (flushSubnormal(a) > flushSubnormal(b) || Number.isNaN(a) ? a : b),
  },
  minimum: {
    op: minimum,
    f: (a, b) => (a < b || Number.isNaN(a) ? a : b),
    flushed: (a, b) => (flushSubnormal(a) < flushSubnormal(b) || Number.isNaN(a) ? a : b),
  },
  pow: {
    op: pow,
    f: powC,
    // Positive bases in [2⁻⁴, 2⁴], exponents in [−4, 4].
    domain: (a, b) => [
      a.map((v) => Math.fround(2 ** (4 * Math.max(-1, Math.min(1, v))))),
      b.map((v) => Math.fround(4 * Math.max(-1, Math.min(1, v)))),
    ],
    // With a zero or infinite base or exponent the result is exact (0, 1 or ±Inf); a
    // subnormal base takes powBound's scaled log2, and a subnormal result MIN_NORMAL.
    bound: (a, b, r) =>
      [a, b].some((v) => v === 0 || !Number.isFinite(v))
        ? 0
        : powBound(a, b) + (Math.abs(r) < MIN_NORMAL ? MIN_NORMAL : 0),
  },
  greater: { op: greater, f: (a, b) => (a > b ? 1 : 0) },
  less: { op: less, f: (a, b) => (a < b ? 1 : 0) },
  equal: { op: equal, f: (a, b) => (a === b ? 1 : 0) },
};

/** A case of a binary op: operand shapes, a value profile and a seed. */
export interface BinaryCase {
  shapes: [Shape, Shape];
  profile: Profile;
  seed: number;
}

/** Cases of a binary op. */
export const binaryCases: fc.Arbitrary<BinaryCase> = fc.record({ shapes: pairs, profile, seed });

/** Operand values of a case of op `name`. */
export function operands(
  name: string,
  { shapes: [sa, sb], profile: kind, seed: s }: BinaryCase,
): [Float32Array, Float32Array] {
  const a = values(size(sa), kind, s), b = values(size(sb), kind, s + 1);
  const domain = BINARY[name].domain;
  if (!domain) return [a, b];
  const [da, db] = domain(a, b);
  const keep = (drawn: Float32Array, mapped: Float32Array) =>
    mapped.map((v, i) => (specialKind(drawn[i]) ? drawn[i] : v));
  return kind === "special" ? [keep(a, da), keep(b, db)] : [da, db];
}

/** Op `name` with NumPy broadcasting: GPU vs reference vs float64. */
function broadcastProperty(name: string): OpProperty<BinaryCase> {
  return {
    name: `${name}: NumPy broadcasting in full, GPU vs reference vs float64`,
    cases: binaryCases,
    numRuns: 40,
    async check(backend, c) {
      const spec = BINARY[name];
      const { shapes } = c;
      const [a, b] = operands(name, c);
      const out = numpyShape(...shapes);
      const what = `${name} [${shapes[0]}] with [${shapes[1]}] ${c.profile} seed=${c.seed}`;
      using ga = backend.tensor(a, shapes[0]);
      using gb = backend.tensor(b, shapes[1]);
      using got = spec.op(ga, gb);
      using want = spec.op(ref.tensor(a, shapes[0]), ref.tensor(b, shapes[1]));
      assertShape(got.shape, out, what);
      assertShape(want.shape, out, `${what} (reference)`);
      const exact = Array.from({ length: size(out) }, (_, i) => {
        const co = coordinates(i, out);
        return spec.f(a[operandIndex(co, shapes[0])], b[operandIndex(co, shapes[1])]);
      });
      const expected = await want.read();
      assertBitwise(expected, Float32Array.from(exact), `${what} (reference)`);
      const actual = await got.read();
      // Or the op of flushed subnormals, flushed (WGSL lets a GPU flush them).
      const flushed = Float32Array.from({ length: size(out) }, (_, i) => {
        const co = coordinates(i, out);
        const [x, y] = [a[operandIndex(co, shapes[0])], b[operandIndex(co, shapes[1])]];
        return spec.flushed ? spec.flushed(x, y) : flushing(spec.f)(x, y);
      });
      if (spec.bound) {
        assertWithin(
          actual,
          exact,
          (i) => {
            const co = coordinates(i, out);
            return spec.bound!(
              a[operandIndex(co, shapes[0])],
              b[operandIndex(co, shapes[1])],
              exact[i],
            );
          },
          what,
          flushed,
        );
      } else assertBitwiseOrFlushed(actual, expected, flushed, what);
    },
  };
}

/** Each binary op's broadcasting property, in the order of {@linkcode BINARY}. */
export const BROADCAST_PROPERTIES: readonly OpProperty<BinaryCase>[] = Object.keys(BINARY).map(
  broadcastProperty,
);

/** A case of `where`: three operand shapes that broadcast together, and a seed. */
export interface WhereCase {
  shapes: [Shape, Shape, Shape];
  profile: Profile;
  seed: number;
}

/** Cases of `where`. */
export const whereCases: fc.Arbitrary<WhereCase> = fc.record({
  shapes: outShape.chain((out) => fc.tuple(operand(out), operand(out), operand(out))),
  // `special` one case in two: operands are often a few values, which meet fewer kinds.
  profile: fc.oneof(profile, fc.constant("special" as const)),
  seed,
});

/**
 * The operands of a `where` case (a condition of zeros and ones, or of the `special`
 * profile's values as drawn: NaN and subnormals count as true) and the output's shape.
 */
export function whereInputs(
  { shapes: [sc, sa, sb], profile: kind, seed: s }: WhereCase,
): { cond: Float32Array; a: Float32Array; b: Float32Array; out: number[] } {
  const special = kind === "special";
  return {
    cond: special
      ? values(size(sc), kind, s)
      : values(size(sc), "zeros", s).map((v) => (v === 0 ? 0 : 1)),
    a: values(size(sa), special ? kind : "unit", s + 1),
    b: values(size(sb), special ? kind : "unit", s + 2),
    out: numpyShape(sc, sa, sb),
  };
}

/** where(cond, a, b) with three broadcast operands, on the backend and the reference. */
export const whereProperty: OpProperty<WhereCase> = {
  name: "where: three operands broadcast together, each element the picked operand's",
  cases: whereCases,
  numRuns: 30,
  async check(backend, c) {
    const [sc, sa, sb] = c.shapes;
    const { cond, a, b, out } = whereInputs(c);
    const pick = (i: number, view = (v: number) => v) => {
      const co = coordinates(i, out);
      return view(cond[operandIndex(co, sc)]) !== 0
        ? a[operandIndex(co, sa)]
        : b[operandIndex(co, sb)];
    };
    const exact = Float32Array.from({ length: size(out) }, (_, i) => pick(i));
    // A GPU that flushes subnormals reads a subnormal condition as 0 (WGSL allows it) and
    // moves the picked operand's bits.
    const flushed = Float32Array.from({ length: size(out) }, (_, i) => pick(i, flushSubnormal));
    for (const on of [backend, ref] as Backend[]) {
      using tc = on.tensor(cond, sc);
      using ta = on.tensor(a, sa);
      using tb = on.tensor(b, sb);
      using w = where(tc, ta, tb);
      assertShape(w.shape, out, "where");
      const what = `where [${sc}] [${sa}] [${sb}] ${c.profile} on ${on.kind}`;
      if (on === ref) assertBitwise(await w.read(), exact, what);
      else assertBitwiseOrFlushed(await w.read(), exact, flushed, what);
    }
  },
};
