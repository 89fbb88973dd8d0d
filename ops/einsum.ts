/**
 * @file `einsum(spec, ...xs)`: Einstein summation as NumPy's `einsum` reads a spec
 * ("bij,bjk->bik", "ij->ji", "ii->i", "ij->"; without "->", the labels that appear once,
 * in alphabetical order), planned onto ops that exist — so it runs on both backends,
 * fuses under `jit`, and its gradient comes from theirs. Per operand: a label repeated
 * takes the diagonal (the two axes moved last, flattened, padded by one row's length
 * and read at stride n + 1: `transpose`, `reshape`, `pad`, `slice`), and a label no
 * other operand and not the output has is summed out (`sum`). Then operands are
 * contracted left to right, each pair as one batched `matmul`: the labels both keep
 * are the batch, those only one has are its rows or columns, those neither keeps are
 * k. Last, the labels the output lacks are summed and the rest put in its order. An
 * ellipsis ("...") and broadcasting of size-1 axes are refused, as are specs that name
 * a label with two sizes.
 */
import { sizeOf } from "../kernels/term.ts";
import { checkArity, checkTensors } from "./_validate.ts";
import { pad, slice } from "./layout.ts";
import { matmul } from "./matmul.ts";
import { sum } from "./reduce.ts";
import { reshape, transpose } from "./shape.ts";
import { describe, formatShape, type Tensor } from "./tensor.ts";

const OP = "einsum";

/** A tensor and the label of each of its axes. */
interface Labelled {
  readonly t: Tensor;
  readonly labels: string;
}

/** The inputs' label strings and the output's, checked against the operands' ranks. */
function parseSpec(
  spec: unknown,
  tensors: readonly Tensor[],
): { inputs: string[]; output: string } {
  if (typeof spec !== "string") {
    throw new TypeError(`${OP}: expected a spec string like "ij,jk->ik", got ${describe(spec)}`);
  }
  const text = spec.replace(/\s+/g, "");
  if (text.includes(".")) {
    throw new RangeError(`${OP}: expected labels without an ellipsis ("..."), got "${spec}"`);
  }
  const parts = text.split("->");
  const inputs = parts[0].split(",");
  if (parts.length > 2 || !/^[a-zA-Z]*$/.test(inputs.join("") + (parts[1] ?? ""))) {
    throw new RangeError(
      `${OP}: expected letters for labels, operands separated by "," and at most one "->", got "${spec}"`,
    );
  }
  if (inputs.length !== tensors.length) {
    throw new RangeError(
      `${OP}: expected ${inputs.length} operand${
        inputs.length === 1 ? "" : "s"
      } for "${spec}", got ${tensors.length}`,
    );
  }
  inputs.forEach((labels, i) => {
    if (labels.length !== tensors[i].shape.length) {
      throw new RangeError(
        `${OP}: expected operand ${i} to have ${labels.length} dimensions ("${labels}"), got shape ${
          formatShape(tensors[i].shape)
        }`,
      );
    }
  });
  const all = inputs.join("");
  const output = parts.length === 2
    ? parts[1]
    : [...new Set(all)].filter((l) => all.indexOf(l) === all.lastIndexOf(l)).sort().join("");
  for (const [i, l] of [...output].entries()) {
    if (!all.includes(l) || output.indexOf(l) !== i) {
      throw new RangeError(
        `${OP}: expected each output label once and in some operand, got "${l}" in "${spec}"`,
      );
    }
  }
  return { inputs, output };
}

/** The size of each label; a label with two sizes is a `RangeError`. */
function labelSizes(operands: readonly Labelled[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const { t, labels } of operands) {
    [...labels].forEach((l, d) => {
      const seen = sizes.get(l);
      if (seen !== undefined && seen !== t.shape[d]) {
        throw new RangeError(
          `${OP}: expected label "${l}" to have one size, got ${seen} and ${t.shape[d]}`,
        );
      }
      sizes.set(l, t.shape[d]);
    });
  }
  return sizes;
}

/** `x` with its axes in `order` of its labels (no copy where they already are). */
function arrange(x: Labelled, order: string): Tensor {
  const perm = [...order].map((l) => x.labels.indexOf(l));
  return perm.every((p, i) => p === i) ? x.t : transpose(x.t, perm);
}

/** `x` with the given shape (no op where it already has it). */
function shaped(x: Tensor, shape: readonly number[]): Tensor {
  const same = x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]);
  return same ? x : reshape(x, shape);
}

/** The diagonal of `x` over its first two axes labelled `l` (a label repeated). */
function diagonal(x: Labelled, l: string): Labelled {
  const first = x.labels.indexOf(l), second = x.labels.indexOf(l, first + 1);
  const rest = x.t.shape.map((_, d) => d).filter((d) => d !== first && d !== second);
  const n = x.t.shape[first];
  const lead = rest.map((d) => x.t.shape[d]);
  // [..., n, n] flattened and padded to [..., n·(n + 1)]: element i·(n + 1) is x[…, i, i].
  const perm = [...rest, first, second];
  const moved = perm.every((p, i) => p === i) ? x.t : transpose(x.t, perm);
  const flat = shaped(moved, [...lead, n * n]);
  const padded = pad(flat, [...lead.map(() => [0, 0] as [number, number]), [0, n]]);
  const rows = reshape(padded, [...lead, n, n + 1]);
  const column = slice(rows, [...lead.map(() => 0), 0, 0], [...lead, n, 1]);
  return { t: reshape(column, [...lead, n]), labels: rest.map((d) => x.labels[d]).join("") + l };
}

/** `x` summed over its labels that `keep` lacks (none: `x` itself). */
function sumOut(x: Labelled, keep: string): Labelled {
  const axes = [...x.labels].flatMap((l, d) => (keep.includes(l) ? [] : [d]));
  if (axes.length === 0) return x;
  return {
    t: sum(x.t, { axis: axes }),
    labels: [...x.labels].filter((l) => keep.includes(l)).join(""),
  };
}

/** One operand with no label twice and only the labels that `keep` holds. */
function simplify(x: Labelled, keep: string): Labelled {
  let out = x;
  for (let l = repeated(out.labels); l !== null; l = repeated(out.labels)) out = diagonal(out, l);
  return sumOut(out, keep);
}

function repeated(labels: string): string | null {
  return [...labels].find((l, i) => labels.indexOf(l) !== i) ?? null;
}

/** The product of `a` and `b` summed over the labels neither keeps (`keep` lacks). */
function contract(a: Labelled, b: Labelled, keep: string, sizes: Map<string, number>): Labelled {
  const batch = [...a.labels].filter((l) => b.labels.includes(l) && keep.includes(l)).join("");
  const k = [...a.labels].filter((l) => b.labels.includes(l) && !keep.includes(l)).join("");
  const rows = [...a.labels].filter((l) => !b.labels.includes(l)).join("");
  const cols = [...b.labels].filter((l) => !a.labels.includes(l)).join("");
  const size = (labels: string) => sizeOf([...labels].map((l) => sizes.get(l)!));
  const lead = batch.length > 0 ? [size(batch)] : [];
  const left = shaped(arrange(a, batch + rows + k), [...lead, size(rows), size(k)]);
  const right = shaped(arrange(b, batch + k + cols), [...lead, size(k), size(cols)]);
  const product = matmul(left, right);
  const labels = batch + rows + cols;
  return { t: shaped(product, [...labels].map((l) => sizes.get(l)!)), labels };
}

/**
 * Einstein summation over the operands' labelled axes, as NumPy's `einsum`: a label in
 * two operands multiplies along it, a label repeated in one takes the diagonal, a label
 * the output lacks is summed over; without "->" the output is the labels that appear
 * once, in alphabetical order. Mapped onto `transpose`, `reshape`, `sum`, diagonals
 * and batched `matmul`, so it is differentiable and fuses under `jit`.
 *
 * @param spec Labels per operand, comma-separated, then "->" and the output's labels
 *   (letters; no ellipsis).
 * @param xs The operands, one per label group, each with one axis per label.
 * @returns A new tensor with one axis per output label.
 * @example
 * ```ts
 * import { cpu, einsum } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using a = ref.tensor([1, 2, 3, 4], [2, 2]);
 * using b = ref.tensor([5, 6, 7, 8], [2, 2]);
 * using c = einsum("ij,jk->ik", a, b); // matmul
 * using d = einsum("ii->i", a); // the diagonal
 * using t = einsum("ij->ji", a); // the transpose
 * console.log(await c.read(), await d.read(), await t.read());
 * // Float32Array [19, 22, 43, 50] Float32Array [1, 4] Float32Array [1, 3, 2, 4]
 * ```
 */
export function einsum(spec: string, ...xs: Tensor[]): Tensor {
  if (xs.length === 0) {
    throw new RangeError(`${OP}: expected at least one operand after the spec, got none`);
  }
  // The spec says how many operands: one more is an argument too many, as for any op.
  if (typeof spec === "string") {
    checkArity(OP, [spec, ...xs], 1 + spec.split("->")[0].split(",").length);
  }
  const tensors = checkTensors(OP, Object.fromEntries(xs.map((x, i) => [`operand ${i}`, x])));
  const { inputs, output } = parseSpec(spec, tensors);
  const given = tensors.map((t, i) => ({ t, labels: inputs[i] }));
  const sizes = labelSizes(given);
  // Each operand keeps the labels the output or another operand has.
  const others = (i: number) => output + inputs.filter((_, j) => j !== i).join("");
  let [acc, ...rest] = given.map((x, i) => simplify(x, others(i)));
  rest.forEach((next, i) => {
    const later = output + rest.slice(i + 1).map((x) => x.labels).join("");
    acc = contract(acc, next, later, sizes);
  });
  const result = arrange(sumOut(acc, output), output);
  // A new tensor always, as every op returns (the spec may ask for an operand as it is).
  return tensors.includes(result) ? reshape(result, result.shape) : result;
}
