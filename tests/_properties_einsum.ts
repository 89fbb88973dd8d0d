/**
 * @file The GPU-versus-reference property of `einsum`: random specs (one to three
 * operands of up to three labels from "abcd", a label repeated for a diagonal now and
 * then, an output of some of the labels in any order, or none given: NumPy's implicit
 * output) on random sizes and values. The expected values are NumPy's definition
 * written here — for every assignment of the labels, the product of the operands'
 * elements, summed over the labels the output lacks — in float64.
 *
 * Bound: einsum is a chain of ops (diagonals copy; sums; products), and along it each
 * term of an output's sum meets at most one rounding per product and one per addition
 * it takes part in; the additions of nested sums over N terms in all are at most N − 1.
 * So each backend is within γ(N + p)·Σ|terms| of the exact sum (p operands; `bounds.dot`
 * adds the flushed subnormals' slack), and the GPU within twice that of the reference.
 */
import fc from "fast-check";
import { einsum } from "../mod.ts";
import {
  assertShape,
  assertWithin,
  dot,
  flushSubnormal,
  type Profile,
  profile,
  seed,
  size,
  U,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** An einsum case: the operands' labels, the output's (null: implicit), sizes, values. */
export interface EinsumCase {
  inputs: string[];
  output: string | null;
  sizes: Record<string, number>;
  profile: Profile;
  seed: number;
}

const LABELS = "abcd";

/** Cases: operands of 0–3 labels (repeats allowed), an output of distinct used labels. */
export const einsumCases: fc.Arbitrary<EinsumCase> = fc
  .record({
    inputs: fc.array(fc.stringMatching(/^[abcd]{0,3}$/), { minLength: 1, maxLength: 3 }),
    pick: fc.array(fc.constantFrom(...LABELS), { maxLength: 4 }),
    implicit: fc.boolean(),
    sizes: fc.record(
      Object.fromEntries([...LABELS].map((l) => [l, fc.integer({ min: 1, max: 7 })])),
    ),
    profile,
    seed,
  })
  .map(({ inputs: drawn, pick, implicit, sizes, profile, seed }) => {
    // Three "large" values (up to 2·10¹⁴) multiply past float32's range: a product the
    // GPU rounds to ±Inf (NaN where signs mix in a sum) stays finite in the reference's
    // float64 sum. Such cases test overflow, not einsum: two operands there.
    const inputs = profile === "large" ? drawn.slice(0, 2) : drawn;
    const used = inputs.join("");
    const output = implicit ? null : [...new Set(pick)].filter((l) => used.includes(l)).join("");
    return { inputs, output, sizes: sizes as Record<string, number>, profile, seed };
  });

/** The spec of a case, as einsum reads it. */
export function einsumSpec(c: EinsumCase): string {
  return c.inputs.join(",") + (c.output === null ? "" : `->${c.output}`);
}

/** The output's labels: given, or NumPy's implicit ones (used once, alphabetical). */
export function outputLabels(c: EinsumCase): string {
  if (c.output !== null) return c.output;
  const all = c.inputs.join("");
  return [...new Set(all)].filter((l) => all.indexOf(l) === all.lastIndexOf(l)).sort().join("");
}

/** The operands' shapes. */
export function einsumShapes(c: EinsumCase): number[][] {
  return c.inputs.map((labels) => [...labels].map((l) => c.sizes[l]));
}

/**
 * NumPy's einsum in float64 by its definition, with Σ|terms| per output and N, the
 * number of terms each output sums.
 */
export function einsum64(
  c: EinsumCase,
  xs: readonly ArrayLike<number>[],
): { exact: Float64Array; scale: Float64Array; terms: number } {
  const out = outputLabels(c);
  const summed = [...new Set(c.inputs.join(""))].filter((l) => !out.includes(l));
  const outSize = size([...out].map((l) => c.sizes[l]));
  const terms = size(summed.map((l) => c.sizes[l]));
  const exact = new Float64Array(outSize), scale = new Float64Array(outSize);
  const at: Record<string, number> = {};
  const flat = (labels: string) => [...labels].reduce((i, l) => i * c.sizes[l] + at[l], 0);
  const assign = (labels: string[], index: number) =>
    [...labels].reverse().forEach((l) => {
      at[l] = index % c.sizes[l];
      index = Math.floor(index / c.sizes[l]);
    });
  for (let o = 0; o < outSize; o++) {
    assign([...out], o);
    for (let t = 0; t < terms; t++) {
      assign(summed, t);
      const term = c.inputs.reduce((p, labels, i) => p * xs[i][flat(labels)], 1);
      exact[o] += term;
      scale[o] += Math.abs(term);
    }
  }
  return { exact, scale, terms };
}

/** einsum within 2γ(N + p)·Σ|terms| of the reference; the reference within half of it of NumPy's. */
export const einsumProperty: OpProperty<EinsumCase> = {
  name: "einsum: GPU agrees with the reference within 2γ(N + p)·Σ|terms|, as NumPy's einsum",
  numRuns: 60,
  cases: einsumCases,
  async check(backend, c) {
    const spec = einsumSpec(c), shapes = einsumShapes(c);
    const xs = shapes.map((s, i) => values(size(s), c.profile, c.seed + i));
    const what = `einsum ${JSON.stringify(c)}`;
    const run = (b: typeof backend, data: Float32Array[]) => {
      const tensors = data.map((x, i) => b.tensor(x, shapes[i]));
      const result = einsum(spec, ...tensors);
      tensors.forEach((t) => t.dispose());
      return result;
    };
    using got = run(backend, xs);
    using want = run(ref, xs);
    using flushed = run(ref, xs.map((x) => x.map(flushSubnormal)));
    const outShape = [...outputLabels(c)].map((l) => c.sizes[l]);
    assertShape(got.shape, outShape, what);
    assertShape(want.shape, outShape, `${what} (reference)`);
    const { exact, scale, terms } = einsum64(c, xs);
    const roundings = terms + c.inputs.length;
    const wanted = await want.read();
    // Against NumPy's sums where no float32 overflows (bounded values), rounded once more.
    if (c.profile === "unit" || c.profile === "integers") {
      const bound = (i: number) => dot(roundings, scale[i]) + U * scale[i];
      assertWithin(wanted, Float32Array.from(exact), bound, `${what} (reference)`);
    }
    const bound = (i: number) => 2 * dot(roundings, scale[i]);
    assertWithin(await got.read(), wanted, bound, what, await flushed.read());
  },
};
