/**
 * @file The scan kernels of `cumsum` and `cumprod`: reduce, then scan (a block scan from
 * block offsets, the block totals scanned by the same kernels), work-efficient — O(n)
 * combinations — and deterministic without atomics: every value is combined in a fixed
 * order, so results are bit-identical run to run (no decoupled look-back either: it
 * needs forward progress across workgroups, which WebGPU does not promise).
 *
 * A scan runs along lines: the tensor as [outer, n, inner], a line the n values of one
 * (outer, inner) pair, `inner` apart; `reverse` reads a line from its end. A workgroup of
 * {@linkcode THREADS} threads scans one block of {@linkcode PER_BLOCK} consecutive
 * values of a line: each thread combines its {@linkcode PER_THREAD} values serially,
 * the threads' totals are scanned exclusively in workgroup memory by raking (as CUB's
 * raking scan: {@linkcode RAKES} lanes each scan {@linkcode SPAN} totals serially, then
 * one lane their sums — three barriers, where Blelloch's up-sweep and down-sweep take
 * twelve, and on llvmpipe a barrier costs more than the lanes' idle adds), and each
 * thread then writes its values' prefixes from the block's offset combined with its
 * prefix. A thread reads its values again after the barriers rather than keeping them
 * live across them. A line longer than a block takes three steps: each block's total
 * (the reduction tree of `kernels/reduction_tree.ts`), the exclusive scan of those
 * totals per line (this encoder again: a line of ⌈n / 1024⌉ totals), then the block
 * scans from those offsets; 10⁷ values take five dispatches.
 *
 * Sums start from −0, the identity of IEEE addition (−0 + x is x, −0 included), so a
 * scan's first value is its input exactly, as NumPy's; an exclusive scan's first value
 * is the empty sum +0 or the empty product 1. {@linkcode scanRoundings} is the longest
 * chain of roundings from an input to an output, which the error bounds use.
 */
import { asBlocks, LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import { foldLanes } from "./reduction_tree.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Threads per workgroup: the lanes of the block's scan (a power of two). */
const THREADS = 64;
/** Consecutive values of a line each thread combines serially. */
const PER_THREAD = 16;
/** Values of a line one workgroup scans. */
const PER_BLOCK = THREADS * PER_THREAD;
const LOG_THREADS = Math.log2(THREADS);
/** The block's scan of the threads' totals rakes them: RAKES lanes scan SPAN each. */
const RAKES = 8;
const SPAN = THREADS / RAKES;

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
 * lines of `n` values: the result is within γ(this)·Σ|terms| of the exact prefix sum. In
 * one block a value passes its thread's serial chain (at most PER_THREAD − 1 roundings)
 * into the thread's total, its rake's serial scan (SPAN − 1), the scan of the rakes'
 * sums (RAKES − 1), the combination of the two prefixes and that with the block's offset
 * (2), and the later thread's serial chain (PER_THREAD): 47. A value from an earlier
 * block passes its block total (PER_THREAD − 1 + log₂ THREADS), the totals' own scan
 * (this count for their length), the offset's addition and the serial chain.
 */
export function scanRoundings(n: number): number {
  if (n <= PER_BLOCK) return (PER_THREAD - 1) + (SPAN - 1) + (RAKES - 1) + 2 + PER_THREAD;
  return (PER_THREAD - 1 + LOG_THREADS) + scanRoundings(Math.ceil(n / PER_BLOCK)) + 1 +
    PER_THREAD;
}

/** WGSL of the combination and its identity (−0 for sums: see the file's comment). */
function combinerWgsl(combiner: ScanCombiner): { combine: string; identity: string } {
  return combiner === "sum"
    ? { combine: "a + b", identity: "bitcast<f32>(0x80000000u)" }
    : { combine: "a * b", identity: "1.0" };
}

/**
 * The declarations and the per-thread part every scan kernel shares: the thread's values
 * into `values` (in scan order) and their total into `partial[lid]`. `x` (and the
 * output) are bound as mat4x4 blocks of 16 values: on Mesa's llvmpipe a storage access
 * costs the same for 4 bytes as for 64, so where a thread's 16 values are one aligned
 * block (`params.blocked`: contiguous lines whose blocks line up, see
 * {@linkcode encodeScan}) it reads them at once, else value by value.
 */
function head(combiner: ScanCombiner, reverse: boolean, bindings: string): string {
  const { combine, identity } = combinerWgsl(combiner);
  const cell = blockCell(reverse);
  return /* wgsl */ `
struct Params { n: u32, inner: u32, lines: u32, blocks: u32, blocked: u32 }
@group(0) @binding(0) var<uniform> params: Params;
${bindings}
var<workgroup> partial: array<f32, ${THREADS}>;
${LINEAR_WORKGROUP}
fn combine(a: f32, b: f32) -> f32 { return ${combine}; }
fn identity() -> f32 { return ${identity}; }
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let group = linearWorkgroup(wid, groups);
  let valid = group < params.lines * params.blocks;
  let g = min(group, params.lines * params.blocks - 1u);
  let line = g / params.blocks;
  let lineBase = (line / params.inner) * params.n * params.inner + line % params.inner;
  let first = (g % params.blocks) * ${PER_BLOCK}u + lid * ${PER_THREAD}u;
  // The k-th value of the line (from its end when reversed) is at lineBase + k·inner.
  let stride = ${reverse ? "-i32(params.inner)" : "i32(params.inner)"};
  let start = u32(i32(lineBase + ${reverse ? "(params.n - 1u) * params.inner" : "0u"}) +
    i32(first) * stride);
  let whole = params.blocked != 0u && first + ${PER_THREAD}u <= params.n;
  let block = (${reverse ? `start - ${PER_THREAD - 1}u` : "start"}) / ${PER_THREAD}u;
  var total = identity();
  if (whole) {
    let m = x[block];
${unrolled((j) => `    total = combine(total, m[${cell(j)}]);`)}
  } else {
    for (var j = 0u; j < ${PER_THREAD}u; j++) {
      if (first + j < params.n) {
        let i = u32(i32(start) + i32(j) * stride);
        total = combine(total, x${AT_I});
      }
    }
  }
  partial[lid] = total;
  workgroupBarrier();`;
}

/** WGSL statements for j = 0 … PER_THREAD − 1, written out (constant indices). */
function unrolled(statement: (j: number) => string): string {
  return Array.from({ length: PER_THREAD }, (_, j) => statement(j)).join("\n");
}

/**
 * The cell `column][row` of a thread's mat4x4 block that holds its j-th value in scan
 * order (reversed: counted from the block's end).
 */
function blockCell(reverse: boolean): (j: number) => string {
  return (j) => {
    const c = reverse ? PER_THREAD - 1 - j : j;
    return `${Math.floor(c / 4)}][${c % 4}`;
  };
}

/** WGSL: each block's total, into `totals[line · blocks + block]`. */
function totalsWgsl(combiner: ScanCombiner, reverse: boolean): string {
  const tree = foldLanes({
    array: "partial",
    lanes: THREADS,
    combine: (a, b) => `combine(${a}, ${b})`,
    shared: { lane: "lid", slot: "lid" },
  });
  return `${
    head(
      combiner,
      reverse,
      `@group(0) @binding(1) var<storage, read> x: array<mat4x4f>;
@group(0) @binding(2) var<storage, read_write> totals: array<f32>;`,
    )
  }
  ${tree.join("\n  ")}
  if (lid == 0u && valid) { totals[g] = partial[0]; }
}
`;
}

/**
 * WGSL: the block scan, from each block's offset (`offsets[line · blocks + block]`, read
 * only when a line has more than one block). Exclusive: `"empty"` writes the empty sum
 * (+0) or product first, as the user sees it; `"identity"` keeps the identity there (−0
 * for sums), for the block totals' scan, so that a line's first value stays exact.
 */
function scanWgsl(
  combiner: ScanCombiner,
  reverse: boolean,
  exclusive: "empty" | "identity" | null,
): string {
  const empty = combiner === "sum" ? "0.0" : "1.0";
  const cell = blockCell(reverse);
  // The thread's j-th value (j a WGSL expression) into `target`, in scan order.
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
@group(0) @binding(3) var<storage, read_write> out: array<mat4x4f>;
var<workgroup> rakes: array<f32, ${RAKES}>;`,
    )
  }
  if (lid < ${RAKES}u) {
    var acc = identity();
    for (var t = lid * ${SPAN}u; t < (lid + 1u) * ${SPAN}u; t++) {
      let v = partial[t];
      partial[t] = acc;
      acc = combine(acc, v);
    }
    rakes[lid] = acc;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var acc = identity();
    for (var r = 0u; r < ${RAKES}u; r++) {
      let v = rakes[r];
      rakes[r] = acc;
      acc = combine(acc, v);
    }
  }
  workgroupBarrier();
  let offset = select(identity(), offsets[g], params.blocks > 1u);
  var running = combine(offset, combine(rakes[lid / ${SPAN}u], partial[lid]));
  if (!valid) { return; }
  if (whole) {
    let values = x[block];
    var m: mat4x4f;
${unrolled((j) => `    ${advance(`${j}u`, `values[${cell(j)}]`, `m[${cell(j)}]`)}`)}
    out[block] = m;
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
  const blocks = Math.ceil(n / PER_BLOCK);
  // A thread's 16 values are one aligned mat4x4 when lines are contiguous and each line's
  // end (its start, scanning forward one line) falls on a multiple of 16.
  const blocked = inner === 1 && (n % PER_THREAD === 0 || (lines === 1 && !reverse));
  const uniforms = packUniforms([
    { u32: n },
    { u32: inner },
    { u32: lines },
    { u32: blocks },
    { u32: blocked ? 1 : 0 },
  ]);
  const kind = `${combiner}${reverse ? "/reverse" : ""}`;
  let offsets: DeviceArray | null = null;
  if (blocks > 1) {
    const totals = runtime.allocate(op, lines * blocks);
    runtime.dispatch({
      op,
      key: `scan/totals/${kind}`,
      wgsl: () => totalsWgsl(combiner, reverse),
      uniforms,
      buffers: [asBlocks(x, 4 * PER_THREAD), totals],
      workgroups: lines * blocks,
    });
    offsets = runtime.allocate(op, lines * blocks);
    scanLines(runtime, op, totals, offsets, {
      n: blocks,
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
    workgroups: lines * blocks,
  });
  if (offsets) runtime.release(offsets);
}
