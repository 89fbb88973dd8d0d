/**
 * @file The scan kernels of `cumsum` and `cumprod`: reduce, then scan, recursively —
 * work-efficient (O(n) combinations) and deterministic without atomics: every value is
 * combined in a fixed order, so results are bit-identical run to run (no decoupled
 * look-back either: it needs forward progress across workgroups, which WebGPU does not
 * promise).
 *
 * A scan runs along lines: the tensor as [outer, n, inner], a line the n values of one
 * (outer, inner) pair, `inner` apart; `reverse` reads a line from its end. Each thread
 * owns a chunk of {@linkcode PER_THREAD} consecutive values of a line and needs no
 * other thread: one kernel writes each chunk's total, this encoder scans the totals
 * (a line of ⌈n / 16⌉, exclusively: each chunk's offset), and a second kernel scans each
 * chunk serially from its offset. No workgroup memory and no barrier: on llvmpipe a
 * workgroup's barriers (a tree, a Blelloch or raking scan of 64 totals) cost more than
 * the rest of the kernel, where one more level of this recursion costs a sixteenth of
 * the one below. A chunk is one mat4x4 (on llvmpipe a storage access costs the same for
 * 4 bytes as for 64): read and written at once where it is aligned (`params.blocked`),
 * value by value elsewhere. 10⁷ values take 11 dispatches (6 levels).
 *
 * Sums start from −0, the identity of IEEE addition (−0 + x is x, −0 included), so a
 * scan's first value is its input exactly, as NumPy's; an exclusive scan's first value
 * is the empty sum +0 or the empty product 1. {@linkcode scanRoundings} is the longest
 * chain of roundings from an input to an output, which the error bounds use.
 */
import { asBlocks, LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Threads per workgroup (each on its own chunk). */
const THREADS = 64;
/** Consecutive values of a line each thread combines serially: one mat4x4. */
const PER_THREAD = 16;

/** WGSL: the `[block][column][row]` of the value at index `i` of a mat4x4-bound array. */
const AT_I = "[i / 16u][(i / 4u) % 4u][i % 4u]";

/** How a scan combines values. */
export type ScanCombiner = "sum" | "prod";

/** What to scan: the lines of the input, and how. */
export interface ScanParams {
  /** Values per line (the scanned axis' length). */
  readonly n: number;
  /** Distance between a line's consecutive values (the product of the later axes). */
  readonly inner: number;
  /** Number of lines (outer · inner). */
  readonly lines: number;
  readonly combiner: ScanCombiner;
  /** Each output leaves out its own value (the first is the identity). */
  readonly exclusive: boolean;
  /** Scan from a line's end towards its start. */
  readonly reverse: boolean;
}

/**
 * The longest chain of rounded operations from an input to an output of a sum scan of
 * lines of `n` values: the result is within γ(this)·Σ|terms| of the exact prefix sum. A
 * value passes its chunk's serial chain (at most PER_THREAD roundings; the first
 * combination, with the identity, is exact); a value from an earlier chunk passes that
 * chunk's total (PER_THREAD − 1), the totals' own scan (this count for ⌈n / 16⌉ values)
 * and the later chunk's serial chain (PER_THREAD): 16 up to 16 values, 31 more a level.
 */
export function scanRoundings(n: number): number {
  if (n <= PER_THREAD) return PER_THREAD;
  return 2 * PER_THREAD - 1 + scanRoundings(Math.ceil(n / PER_THREAD));
}

/** WGSL of the combination and its identity (−0 for sums: see the file's comment). */
function combinerWgsl(combiner: ScanCombiner): { combine: string; identity: string } {
  return combiner === "sum"
    ? { combine: "a + b", identity: "bitcast<f32>(0x80000000u)" }
    : { combine: "a * b", identity: "1.0" };
}

/**
 * The declarations and the start of `main` every scan kernel shares: the thread's chunk
 * (`line`, the index `start` of its first value in scan order and `stride` to the next,
 * `whole` where it is one aligned mat4x4, `block`); threads past the last chunk (the
 * grid may hold some) return.
 */
function head(combiner: ScanCombiner, reverse: boolean, bindings: string): string {
  const { combine, identity } = combinerWgsl(combiner);
  return /* wgsl */ `
struct Params { n: u32, inner: u32, lines: u32, chunks: u32, blocked: u32 }
@group(0) @binding(0) var<uniform> params: Params;
${bindings}
${LINEAR_WORKGROUP}
fn combine(a: f32, b: f32) -> f32 { return ${combine}; }
fn identity() -> f32 { return ${identity}; }
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let g = linearWorkgroup(wid, groups) * ${THREADS}u + lid;
  if (g >= params.lines * params.chunks) { return; }
  let line = g / params.chunks;
  let lineBase = (line / params.inner) * params.n * params.inner + line % params.inner;
  let first = (g % params.chunks) * ${PER_THREAD}u;
  // The k-th value of the line (from its end when reversed) is at lineBase + k·inner.
  let stride = ${reverse ? "-i32(params.inner)" : "i32(params.inner)"};
  let start = u32(i32(lineBase + ${reverse ? "(params.n - 1u) * params.inner" : "0u"}) +
    i32(first) * stride);
  let whole = params.blocked != 0u && first + ${PER_THREAD}u <= params.n;
  let block = (${reverse ? `start - ${PER_THREAD - 1}u` : "start"}) / ${PER_THREAD}u;`;
}

/** WGSL statements for j = 0 … PER_THREAD − 1, written out (constant indices). */
function unrolled(statement: (j: number) => string): string {
  return Array.from({ length: PER_THREAD }, (_, j) => statement(j)).join("\n");
}

/**
 * The cell `[column][row]` of a thread's mat4x4 that holds its j-th value in scan order
 * (reversed: counted from the block's end).
 */
function blockCell(reverse: boolean): (j: number) => string {
  return (j) => {
    const c = reverse ? PER_THREAD - 1 - j : j;
    return `[${Math.floor(c / 4)}][${c % 4}]`;
  };
}

/** WGSL: each chunk's total, into `totals[line · chunks + chunk]`. */
function totalsWgsl(combiner: ScanCombiner, reverse: boolean): string {
  const cell = blockCell(reverse);
  return `${
    head(
      combiner,
      reverse,
      `@group(0) @binding(1) var<storage, read> x: array<mat4x4f>;
@group(0) @binding(2) var<storage, read_write> totals: array<f32>;`,
    )
  }
  var total = identity();
  if (whole) {
    let m = x[block];
${unrolled((j) => `    total = combine(total, m${cell(j)});`)}
  } else {
    for (var j = 0u; j < ${PER_THREAD}u; j++) {
      if (first + j < params.n) {
        let i = u32(i32(start) + i32(j) * stride);
        total = combine(total, x${AT_I});
      }
    }
  }
  totals[g] = total;
}
`;
}

/**
 * WGSL: each chunk's scan from its offset (`offsets[line · chunks + chunk]`, read only
 * when a line has more than one chunk). Exclusive: `"empty"` writes the empty sum (+0)
 * or product first, as the user sees it; `"identity"` keeps the identity there (−0 for
 * sums), for the totals' scan, so that a line's first value stays exact.
 */
function scanWgsl(
  combiner: ScanCombiner,
  reverse: boolean,
  exclusive: "empty" | "identity" | null,
): string {
  const empty = combiner === "sum" ? "0.0" : "1.0";
  const cell = blockCell(reverse);
  // The thread's j-th value (j a WGSL expression, `v` its value) into `target`.
  const advance = (j: string, v: string, target: string) => {
    if (!exclusive) return `running = combine(running, ${v});\n    ${target} = running;`;
    const value = exclusive === "empty"
      ? `select(running, ${empty}, first + ${j} == 0u)`
      : "running";
    return `${target} = ${value};\n    running = combine(running, ${v});`;
  };
  return `${
    head(
      combiner,
      reverse,
      `@group(0) @binding(1) var<storage, read> x: array<mat4x4f>;
@group(0) @binding(2) var<storage, read> offsets: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<mat4x4f>;`,
    )
  }
  var running = select(identity(), offsets[g], params.chunks > 1u);
  if (whole) {
    let v = x[block];
    var o: mat4x4f;
${unrolled((j) => `    ${advance(`${j}u`, `v${cell(j)}`, `o${cell(j)}`)}`)}
    out[block] = o;
  } else {
    for (var j = 0u; j < ${PER_THREAD}u; j++) {
      if (first + j < params.n) {
        let i = u32(i32(start) + i32(j) * stride);
        ${advance("j", `x${AT_I}`, `out${AT_I}`)}
      }
    }
  }
}
`;
}

/** Encodes the scan of `x` described by `params` into `out` (same size). */
export function encodeScan(
  runtime: GpuRuntime,
  op: string,
  x: DeviceArray,
  out: DeviceArray,
  params: ScanParams,
): void {
  scanLines(runtime, op, x, out, { ...params, exclusive: params.exclusive ? "empty" : null });
}

/** {@linkcode encodeScan}, with the exclusive scan's first value chosen (see scanWgsl). */
function scanLines(
  runtime: GpuRuntime,
  op: string,
  x: DeviceArray,
  out: DeviceArray,
  params: Omit<ScanParams, "exclusive"> & { readonly exclusive: "empty" | "identity" | null },
): void {
  const { n, inner, lines, combiner, exclusive, reverse } = params;
  const chunks = Math.ceil(n / PER_THREAD);
  // A thread's 16 values are one aligned mat4x4 when lines are contiguous and each line's
  // end (its start, scanning forward one line) falls on a multiple of 16.
  const blocked = inner === 1 && (n % PER_THREAD === 0 || (lines === 1 && !reverse));
  const uniforms = packUniforms([
    { u32: n },
    { u32: inner },
    { u32: lines },
    { u32: chunks },
    { u32: blocked ? 1 : 0 },
  ]);
  const kind = `${combiner}${reverse ? "/reverse" : ""}`;
  let offsets: DeviceArray | null = null;
  const workgroups = Math.ceil((lines * chunks) / THREADS);
  if (chunks > 1) {
    const totals = runtime.allocate(op, lines * chunks);
    runtime.dispatch({
      op,
      key: `scan/totals/${kind}`,
      wgsl: () => totalsWgsl(combiner, reverse),
      uniforms,
      buffers: [asBlocks(x, 4 * PER_THREAD), totals],
      workgroups,
    });
    offsets = runtime.allocate(op, lines * chunks);
    scanLines(runtime, op, totals, offsets, {
      n: chunks,
      inner: 1,
      lines,
      combiner,
      exclusive: "identity",
      reverse: false,
    });
    runtime.release(totals);
  }
  runtime.dispatch({
    op,
    key: `scan/${kind}${exclusive ? `/exclusive/${exclusive}` : ""}`,
    wgsl: () => scanWgsl(combiner, reverse, exclusive),
    uniforms,
    buffers: [asBlocks(x, 4 * PER_THREAD), offsets ?? x, asBlocks(out, 4 * PER_THREAD)],
    workgroups,
  });
  if (offsets) runtime.release(offsets);
}
