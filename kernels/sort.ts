/**
 * @file The sort kernels of `sort` and `argsort`: stable, deterministic without atomics
 * (every value's place is a count, bit-identical run to run), along lines of any length.
 *
 * A sort runs along lines, as a scan (`kernels/scan.ts`): the tensor as [outer, n, inner],
 * a line the n values of one (outer, inner) pair, `inner` apart. Values are compared by
 * a 32-bit key, {@linkcode SORT_KEY_WGSL}: the float's bits turned so that unsigned order
 * is numeric order, −0 made +0 (equal for order), every NaN one key after +Inf (NumPy's
 * NaN last); descending inverts the key, so NaN comes first (see `ops/sort.ts`). Ties
 * keep their order along the line: a stable sort of the keys is the stable sort.
 *
 * Short lines (at most {@linkcode RANK_LINE}) by rank: a thread per value counts the
 * values before it in the order (smaller keys, and equal keys at earlier positions) and
 * writes its value there: n reads a value, no workgroup memory, no barrier.
 *
 * Longer lines by an LSD radix sort, {@linkcode RADIX_BITS} bits a pass from the lowest
 * (4 passes), stable for free. A thread owns a chunk of {@linkcode CHUNK} consecutive
 * values of a line and needs no other thread (as the scan's do; on llvmpipe barriers cost
 * more than the work): a count kernel writes each chunk's histogram of digits (u32),
 * digit-major per line; two places kernels turn them into each (digit, chunk)'s first
 * place, in integers (exact whatever the length): a thread per (line, digit) scans that
 * digit's counts over the chunks, a thread per line the digits' totals; a scatter kernel
 * walks its chunk in order and writes each value at its digit's next place. The
 * first pass reads the input along its lines, the last writes the output along them;
 * between passes the lines lie {@linkcode lineStride} apart, so that later passes read
 * four values a load (as the first does where the input's lines are contiguous and so
 * aligned). `sort` carries the values' bits alone (the key is
 * recomputed, and −0 keeps its sign); `argsort` carries key and position.
 *
 * Speed (issue 22's target: a sort of 2²⁰ float32 within 8× a copy of the same bytes,
 * not met): on llvmpipe, `deno task bench:report --only sort --reps 5` (Vulkan,
 * kernel-only, 2026-12-07) gives 65.2 ms beside 5.95 ms for the compute-shader copy in
 * the same run, 11.0×, and the kernels before four-value loads, run just before it,
 * 71.5 ms beside 5.88 ms, 12.2× (another run of these: 67.3 ms, 10.5× a 6.43 ms copy).
 * Alternately in one process, 15 sorts each: 69.1 ms and 76.3 ms (min 58.3 and 69.0)
 * beside a 5.95 ms copy. The cores are shared; the copy alone varies from 5.5 to 12 ms.
 * What costs is llvmpipe's work per storage access:
 * a load or store at an address that differs by lane is a loop over the 8 lanes, about
 * the same for a vec4 as for one value, which is why the copy (16 floats a load) is fast.
 * Counting alone, 4 passes, 31 → 24 ms by vec4 loads (a mat4x4 load, 16 values, no
 * faster); scattering alone 35 → 33 ms, of which 28 ms remain when every value is
 * stored at its own index without the histogram: the loads, stores and key are the
 * floor, not the histogram. Measured and not taken: 11-bit digits (3 passes) need a
 * 2,048-entry private histogram, with which one sort had not finished after ten minutes
 * on llvmpipe; histograms in workgroup memory (16 threads a group, to fit 16 KiB) were
 * slower; counting the next pass in this scatter with atomicAdd (deterministic, being
 * integer) cost the scatter more than the count it saves; 4-bit digits (8 passes) with
 * the 16 counters and places as four vec4u stepped by selects, no private array indexed
 * per lane: a pass counts in 7.5 ms and scatters in 9 ms beside 8-bit digits' 7 and 10
 * (the private array is not what costs), so the sort took 126–135 ms beside 70–74 ms.
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import { INDEX_POSITION_WGSL, INDEX_STORAGE, INDEX_VALUE_WGSL } from "./index_values.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Threads per workgroup. */
const THREADS = 64;
/** Lines up to this length are sorted by rank; longer ones by the radix sort. */
export const RANK_LINE = 64;
/** Bits of the key sorted by one radix pass. */
const RADIX_BITS = 8;
/** Digits of one radix pass. */
const DIGITS = 1 << RADIX_BITS;
/** Radix passes over a 32-bit key. */
const PASSES = 32 / RADIX_BITS;
/** Values one load of a radix pass reads (a vec4u), but for a strided input's. */
const LOAD = 4;
/**
 * Consecutive values of a line one radix thread counts and scatters. Each chunk adds a
 * histogram of {@linkcode DIGITS} places to count, scan and read back per pass, so a chunk
 * 16 times the digits keeps that under a sixteenth of the values' traffic: 2²⁰ values
 * are 256 threads, four workgroups, enough for llvmpipe's two cores (1,024 a chunk, the
 * histograms' float scan took a fifth of the sort there; 8,192 measured no faster).
 */
const CHUNK = 4096;

/**
 * The longest line the sorts take: 2²⁴, the longest a radix pass counted in floats could
 * place exactly. Its places are now u32 counts, exact to 2³²; longer lines stay refused
 * until they are tested.
 */
export const MAX_SORTED: number = 2 ** 24;

/** What a sort writes: the sorted values, or the positions they came from. */
export type SortOutput = "values" | "indices";

/** What to sort: the lines of the input, in which order, and what to write. */
export interface SortParams {
  /** Values per line (the sorted axis' length), at most 2²⁴. */
  readonly n: number;
  /** Distance between a line's consecutive values (the product of the later axes). */
  readonly inner: number;
  /** Number of lines (outer · inner). */
  readonly lines: number;
  /** Largest first (NaN first); else smallest first (NaN last). */
  readonly descending: boolean;
  readonly output: SortOutput;
}

/**
 * WGSL: `fn sortKey(bits: u32) -> u32`, a float's key: unsigned order of keys is the
 * sort's order (see the file's comment). Needs `params.descending`.
 */
const SORT_KEY_WGSL = /* wgsl */ `
fn sortKey(bits: u32) -> u32 {
  let descending = params.descending != 0u;
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return select(0xffffffffu, 0u, descending); }
  let b = select(bits, 0u, bits == 0x80000000u);
  let ascending = select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
  return select(ascending, ~ascending, descending);
}
`;

/** WGSL shared by every sort kernel: the uniforms, the key, a thread's line. */
function head(bindings: string): string {
  return /* wgsl */ `
struct Params { n: u32, inner: u32, lines: u32, chunks: u32, shift: u32, descending: u32,
               stride: u32 }
@group(0) @binding(0) var<uniform> params: Params;
${bindings}
${LINEAR_WORKGROUP}
${SORT_KEY_WGSL}
${INDEX_VALUE_WGSL}
${INDEX_POSITION_WGSL}
// The index of the k-th value of a line along the tensor.
fn along(line: u32, k: u32) -> u32 {
  return (line / params.inner) * params.n * params.inner + line % params.inner + k * params.inner;
}
fn digit(key: u32) -> u32 { return (key >> params.shift) & ${DIGITS - 1}u; }
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let g = linearWorkgroup(wid, groups) * ${THREADS}u + lid;`;
}

/** WGSL: the rank sort, a thread per value (see the file's comment). */
function rankWgsl(output: SortOutput): string {
  return `${head(storage([["x", "u32", false], ["out", outputStorage(output), true]]))}
  if (g >= params.lines * params.n) { return; }
  let line = g / params.n;
  let k = g % params.n;
  let bits = x[along(line, k)];
  let key = sortKey(bits);
  var rank = 0u;
  for (var j = 0u; j < params.n; j++) {
    let other = sortKey(x[along(line, j)]);
    rank += select(0u, 1u, other < key || (other == key && j < k));
  }
  out[along(line, rank)] = ${output === "values" ? "bitcast<f32>(bits)" : "indexValue(k)"};
}
`;
}

/** The WGSL element type a sort writes: the values' (f32), or for `argsort` an index's. */
function outputStorage(output: SortOutput): string {
  return output === "values" ? "f32" : INDEX_STORAGE;
}

/** WGSL: storage bindings 1, 2, … in order, each `[name, element type, writable]`. */
function storage(list: readonly (readonly [string, string, boolean])[]): string {
  return list.map(([name, type, writable], i) =>
    `@group(0) @binding(${i + 1}) var<storage, ${
      writable ? "read_write" : "read"
    }> ${name}: array<${type}>;`
  ).join("\n");
}

/**
 * WGSL: the head of a radix kernel, a thread per chunk: its `line`, `chunk`, and
 * `lineStart`, the index of the line's first value along the tensor (computed once: the
 * first and last passes step from it by `inner`, not through `along`'s divisions per
 * value, which cost a count kernel a quarter of its time on llvmpipe).
 */
function radixHead(bindings: readonly (readonly [string, string, boolean])[]): string {
  return `${head(storage(bindings))}
  if (g >= params.lines * params.chunks) { return; }
  let line = g / params.chunks;
  let chunk = g % params.chunks;
  let lineStart = along(line, 0u);`;
}

/**
 * Where a radix pass reads its values: the input along the tensor a value at a time
 * (`strided`: the first pass, where `inner` > 1 or n is not a multiple of 4); the
 * input's contiguous lines four values a load (`contiguous`: the first pass otherwise);
 * a work buffer's lines, `stride` apart, four values a load (`work`: later passes).
 * A load of four costs llvmpipe about what a load of one does (its loop over the lanes
 * is the cost), which made the count kernel a fifth faster.
 */
type Source = "strided" | "contiguous" | "work";

/** The source of the radix pass `first` or not over lines of `params`. */
function sourceOf(params: Pick<SortParams, "n" | "inner">, first: boolean): Source {
  if (!first) return "work";
  return params.inner === 1 && params.n % LOAD === 0 ? "contiguous" : "strided";
}

/** The WGSL element type of a radix pass's source words. */
function sourceStorage(source: Source): string {
  return source === "strided" ? "u32" : "vec4u";
}

/**
 * WGSL: the loop over a radix thread's chunk, in order, from `source`; `body` sees `line`,
 * `k`, `word` (the value's bits, or after the first pass of `argsort` its key), `key`
 * (its key) and, where `positions`, `position` (where it stood in the line: `k` in the
 * first pass, else read from `srcIndex`).
 */
function chunkLoop(
  output: SortOutput,
  source: Source,
  positions: boolean,
  body: string,
): string {
  const work = source === "work";
  const value = (word: string, position: string, indent: string) =>
    [
      `let word = ${word};`,
      `let key = ${output === "values" || !work ? "sortKey(word)" : "word"};`,
      ...(positions ? [`let position = ${position};`] : []),
      ...body.split("\n"),
    ].join(`\n${indent}`);
  const end = `let end = min((chunk + 1u) * ${CHUNK}u, params.n);`;
  if (source === "strided") {
    return `${end}
  for (var k = chunk * ${CHUNK}u; k < end; k++) {
    ${value("src[lineStart + k * params.inner]", "k", "    ")}
  }`;
  }
  // Whole loads, then the line's last few values: the loads' lanes each under an `if`
  // made the sort a tenth slower on llvmpipe.
  const load = (k: string) => {
    const at = `(line * params.stride + ${k}) / ${LOAD}u`;
    return `let words = src[${at}];${
      positions && work ? `\n    let positions = srcIndex[${at}];` : ""
    }`;
  };
  const lanes = ["x", "y", "z", "w"].map((lane, i) =>
    `{
      let k = k4 + ${i}u;
      ${value(`words.${lane}`, work ? `positions.${lane}` : "k", "      ")}
    }`
  );
  return `${end}
  var k4 = chunk * ${CHUNK}u;
  for (; k4 + ${LOAD}u <= end; k4 += ${LOAD}u) {
    ${load("k4")}
    ${lanes.join("\n    ")}
  }
  for (var k = k4; k < end; k++) {
    ${load("k")}
    ${value(`words[k % ${LOAD}u]`, work ? `positions[k % ${LOAD}u]` : "k", "    ")}
  }`;
}

/** WGSL: one radix pass's count kernel, each chunk's histogram (digit-major per line). */
function countWgsl(output: SortOutput, source: Source): string {
  return `${radixHead([["src", sourceStorage(source), false], ["counts", "u32", true]])}
  var count: array<u32, ${DIGITS}>;
  ${chunkLoop(output, source, false, "count[digit(key)] += 1u;")}
  for (var d = 0u; d < ${DIGITS}u; d++) {
    counts[(line * ${DIGITS}u + d) * params.chunks + chunk] = count[d];
  }
}
`;
}

/**
 * WGSL: a places kernel, in place over u32 counts: `chunks` turns each (line, digit)'s
 * counts over the chunks into their exclusive scan and writes the digit's total to
 * `totals`; `digits` turns each line's totals into their exclusive scan, each digit's
 * first place in the line. A chunk's place for a digit is then the sum of the two.
 */
function placesWgsl(level: "chunks" | "digits"): string {
  const chunks = level === "chunks";
  const [scanned, width, threads] = chunks
    ? ["counts", "params.chunks", `params.lines * ${DIGITS}u`]
    : ["totals", `${DIGITS}u`, "params.lines"];
  const bindings: [string, string, boolean][] = chunks
    ? [["counts", "u32", true], ["totals", "u32", true]]
    : [["totals", "u32", true]];
  return `${head(storage(bindings))}
  if (g >= ${threads}) { return; }
  var running = 0u;
  for (var i = g * ${width}; i < (g + 1u) * ${width}; i++) {
    let count = ${scanned}[i];
    ${scanned}[i] = running;
    running += count;
  }
  ${chunks ? "totals[g] = running;" : ""}
}
`;
}

/**
 * WGSL: one radix pass's scatter kernel: each value of a chunk, in order, to its digit's
 * next place; the last pass writes the output along the tensor. Bindings: the source's
 * words, the places (each chunk's within its digit, each digit's first), the destination's
 * words, then (argsort) the source's positions
 * after the first pass and the destination's before the last.
 */
function scatterWgsl(output: SortOutput, source: Source, last: boolean): string {
  const pairs = output === "indices";
  const bindings: [string, string, boolean][] = [
    ["src", sourceStorage(source), false],
    ["offsets", "u32", false],
    ["firsts", "u32", false],
    ["dst", last ? outputStorage(output) : "u32", true],
  ];
  if (pairs && source === "work") bindings.push(["srcIndex", "vec4u", false]);
  if (pairs && !last) bindings.push(["dstIndex", "u32", true]);
  const store = last
    ? `dst[lineStart + at * params.inner] = ${
      pairs ? "indexValue(position)" : "bitcast<f32>(word)"
    };`
    : pairs
    ? "dst[line * params.stride + at] = key;\ndstIndex[line * params.stride + at] = position;"
    : "dst[line * params.stride + at] = word;";
  return `${radixHead(bindings)}
  var next: array<u32, ${DIGITS}>;
  for (var d = 0u; d < ${DIGITS}u; d++) {
    next[d] = firsts[line * ${DIGITS}u + d] + offsets[(line * ${DIGITS}u + d) * params.chunks + chunk];
  }
  ${
    chunkLoop(
      output,
      source,
      pairs,
      `let at = next[digit(key)];\nnext[digit(key)] = at + 1u;\n${store}`,
    )
  }
}
`;
}

/** The uniform block of `head`: the lines, the radix chunks and pass' shift, the order. */
function uniformsOf(
  params: Pick<SortParams, "n" | "inner" | "lines" | "descending">,
  chunks: number,
  shift: number,
): ArrayBuffer {
  return packUniforms([
    { u32: params.n },
    { u32: params.inner },
    { u32: params.lines },
    { u32: chunks },
    { u32: shift },
    { u32: params.descending ? 1 : 0 },
    { u32: lineStride(params.n) },
  ]);
}

/** The distance between lines in a radix sort's work buffers: n rounded up to loads. */
function lineStride(n: number): number {
  return Math.ceil(n / LOAD) * LOAD;
}

/** Encodes the sort of `x`'s lines described by `params` into `out` (same size). */
export function encodeSort(
  runtime: GpuRuntime,
  op: string,
  x: DeviceArray,
  out: DeviceArray,
  params: SortParams,
): void {
  const { n, lines, output } = params;
  const uniforms = (chunks: number, shift: number) => uniformsOf(params, chunks, shift);
  if (n <= RANK_LINE) {
    runtime.dispatch({
      op,
      key: `sort/rank/${output}`,
      wgsl: () => rankWgsl(output),
      uniforms: uniforms(1, 0),
      buffers: [x, out],
      workgroups: Math.ceil((lines * n) / THREADS),
    });
    return;
  }
  const chunks = Math.ceil(n / CHUNK);
  const workgroups = Math.ceil((lines * chunks) / THREADS);
  const pairs = output === "indices";
  const counts = runtime.allocate(op, lines * DIGITS * chunks, "uint32");
  const totals = runtime.allocate(op, lines * DIGITS, "uint32");
  // Each pass's source and destination: the input, two pairs of work buffers in turn,
  // the output.
  const work = [0, 1].map(() => ({
    words: runtime.allocate(op, lineStride(n) * lines),
    positions: pairs ? runtime.allocate(op, lineStride(n) * lines) : null,
  }));
  for (let pass = 0; pass < PASSES; pass++) {
    const first = pass === 0, last = pass === PASSES - 1;
    const from = first ? { words: x, positions: null } : work[(pass + 1) % 2];
    const to = work[pass % 2];
    const source = sourceOf(params, first);
    const kind = `${output}/${source}${last ? "/last" : ""}`;
    const words = uniforms(chunks, pass * RADIX_BITS);
    runtime.dispatch({
      op,
      key: `sort/count/${kind}`,
      wgsl: () => countWgsl(output, source),
      uniforms: words,
      buffers: [from.words, counts],
      workgroups,
    });
    for (const level of ["chunks", "digits"] as const) {
      runtime.dispatch({
        op,
        key: `sort/places/${level}`,
        wgsl: () => placesWgsl(level),
        uniforms: words,
        buffers: level === "chunks" ? [counts, totals] : [totals],
        workgroups: Math.ceil((level === "chunks" ? lines * DIGITS : lines) / THREADS),
      });
    }
    runtime.dispatch({
      op,
      key: `sort/scatter/${kind}`,
      wgsl: () => scatterWgsl(output, source, last),
      uniforms: words,
      buffers: [
        from.words,
        counts,
        totals,
        last ? out : to.words,
        ...(from.positions ? [from.positions] : []),
        ...(to.positions && !last ? [to.positions] : []),
      ],
      workgroups,
    });
  }
  for (const w of work) {
    runtime.release(w.words);
    if (w.positions) runtime.release(w.positions);
  }
  runtime.release(counts);
  runtime.release(totals);
}

/**
 * WGSL: a permutation along lines by `indices` (a line of positions, as argsort writes):
 * `out[indices[k]] = v[k]` (`scatter`, the sort's gradient routed back to where each
 * value came from) or `out[k] = v[indices[k]]` (its transpose). Every place is written
 * once: no atomics, deterministic.
 */
function permuteWgsl(scatter: boolean): string {
  return `${
    head(storage([["v", "f32", false], ["indices", INDEX_STORAGE, false], ["out", "f32", true]]))
  }
  if (g >= params.lines * params.n) { return; }
  let line = g / params.n;
  let k = g % params.n;
  let to = indexPosition(indices[along(line, k)]);
  ${
    scatter
      ? "out[along(line, to)] = v[along(line, k)];"
      : "out[along(line, k)] = v[along(line, to)];"
  }
}
`;
}

/**
 * Encodes the permutation of `v`'s lines by `indices` (both of `out`'s size, lines as
 * in `params`): scattered to the indices, or gathered from them (see permuteWgsl).
 */
export function encodePermute(
  runtime: GpuRuntime,
  op: string,
  v: DeviceArray,
  indices: DeviceArray,
  out: DeviceArray,
  params: Omit<SortParams, "descending" | "output"> & { readonly scatter: boolean },
): void {
  const { n, lines, scatter } = params;
  runtime.dispatch({
    op,
    key: `sort/permute/${scatter ? "scatter" : "gather"}`,
    wgsl: () => permuteWgsl(scatter),
    uniforms: uniformsOf({ ...params, descending: false }, 1, 0),
    buffers: [v, indices, out],
    workgroups: Math.ceil((lines * n) / THREADS),
  });
}
