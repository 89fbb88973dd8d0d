/**
 * @file How a tensor reads in `console.log`, `Deno.inspect` and `String(t)`: its shape,
 * its backend and, where they are on the host, its values — nested brackets as NumPy
 * prints them, each number the shortest decimal that reads back as the same float32,
 * and past 1,000 elements only the first and last three along each dimension.
 */

/** Above this many elements, values are summarised (NumPy's threshold). */
export const SUMMARY_THRESHOLD = 1000;
/** Elements shown at each end of a summarised dimension (NumPy's edgeitems). */
const EDGE = 3;

/** The shortest decimal that reads back as `v`, a float32 (or, with `round`, another float). */
export function formatNumber(v: number, round: (x: number) => number = Math.fround): string {
  if (!Number.isFinite(v)) return String(v);
  if (Object.is(v, -0)) return "-0";
  for (let digits = 1; digits < 9; digits++) {
    const text = v.toPrecision(digits);
    if (round(Number(text)) === v) return String(Number(text));
  }
  return String(Number(v.toPrecision(9)));
}

/**
 * The values of a row-major array of `shape` and element type `dtype` (integers in full,
 * bool as `true`/`false`) in nested brackets, rows aligned, summarised
 * with `...` when there are more than {@linkcode SUMMARY_THRESHOLD}.
 */
export function formatValues(
  shape: readonly number[],
  values: ArrayLike<number>,
  dtype = "float32",
): string {
  const format = dtype === "bool"
    ? (v: number) => String(v !== 0)
    : dtype === "int32" || dtype === "uint32"
    ? String
    : dtype === "float16"
    ? (v: number) => formatNumber(v, Math.f16round)
    : (v: number) => formatNumber(v);
  if (shape.length === 0) return format(values[0]);
  const summarise = values.length > SUMMARY_THRESHOLD;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  /** Indices shown along a dimension of `n`; `null` marks the `...`. */
  const shown = (n: number): (number | null)[] =>
    summarise && n > 2 * EDGE
      ? [
        ...Array.from({ length: EDGE }, (_, i) => i),
        null,
        ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i),
      ]
      : Array.from({ length: n }, (_, i) => i);
  // Every number shown, formatted once, so all can be padded to one width.
  const cells = new Map<number, string>();
  const collect = (d: number, offset: number): void => {
    for (const i of shown(shape[d])) {
      if (i === null) continue;
      if (d === shape.length - 1) cells.set(offset + i, format(values[offset + i]));
      else collect(d + 1, offset + i * strides[d]);
    }
  };
  collect(0, 0);
  // Aligned in columns when there are rows.
  const width = shape.length < 2 ? 0 : Math.max(...[...cells.values()].map((s) => s.length));
  const write = (d: number, offset: number): string => {
    const parts = shown(shape[d]).map((i) =>
      i === null
        ? "..."
        : d === shape.length - 1
        ? cells.get(offset + i)!.padStart(width)
        : write(d + 1, offset + i * strides[d])
    );
    if (d === shape.length - 1) return `[${parts.join(", ")}]`;
    // Rows on lines of their own, indented under the bracket; a blank line between blocks.
    const gap = ",\n" + "\n".repeat(shape.length - d - 2) + " ".repeat(d + 1);
    return `[${parts.join(gap)}]`;
  };
  return write(0, 0);
}

/**
 * What inspection shows of a tensor's values: the values, their text already formatted
 * (a large GPU tensor keeps only that of its last read), or why there are none.
 */
export type ShownValues =
  | { readonly values: ArrayLike<number> }
  | { readonly formatted: string }
  | { readonly missing: string };

/**
 * A tensor's text: `Tensor [2, 3] cpu` (`Tensor [2] int32 cpu` for a type other than
 * float32) and its values, bool's as `true`/`false`, or in parentheses why there are none.
 */
export function formatTensor(
  shape: readonly number[],
  dtype: string,
  backend: string,
  shown: ShownValues,
): string {
  const head = `Tensor [${shape.join(", ")}] ${dtype === "float32" ? "" : `${dtype} `}${backend}`;
  if ("missing" in shown) return `${head} (${shown.missing})`;
  const text = "values" in shown ? formatValues(shape, shown.values, dtype) : shown.formatted;
  return shape.length >= 2 ? `${head}\n${text}` : `${head} ${text}`;
}
