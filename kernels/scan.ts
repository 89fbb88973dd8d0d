/**
 * @file The scan kernels of `cumsum` and `cumprod`: a block scan, then block offsets
 * (the work-efficient scan of Blelloch, "Prefix sums and their applications", with the
 * block sums of a multi-block scan scanned by the same kernels), deterministic without
 * atomics: every value is combined in a fixed order, so results are bit-identical run
 * to run.
 *
 * A scan runs along lines: the tensor as [outer, n, inner], a line the n values of one
 * (outer, inner) pair, `inner` apart; `reverse` reads a line from its end. A workgroup of
 * {@linkcode THREADS} threads scans one block of {@linkcode PER_BLOCK} consecutive
 * values of a line: each thread combines its {@linkcode PER_THREAD} values serially
 * (kept in registers), the threads' totals are scanned exclusively in workgroup memory
 * (Blelloch's up-sweep and down-sweep), and each thread then writes its values' prefixes
 * starting from the block's offset combined with its threads' prefix. A line longer
 * than a block takes three steps: each block's total (the reduction tree of
 * `kernels/reduction_tree.ts`), the exclusive scan of those totals per line (this
 * encoder again: a line of ⌈n / 1024⌉ totals), then the block scans from those offsets.
 * 10⁷ values take five dispatches.
 *
 * Sums start from −0, the identity of IEEE addition (−0 + x is x, −0 included), so a
 * scan's first value is its input exactly, as NumPy's; an exclusive scan's first value
 * is the empty sum +0 or the empty product 1. {@linkcode scanRoundings} is the longest
 * chain of roundings from an input to an output, which the error bounds use.
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import { foldLanes } from "./reduction_tree.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Threads per workgroup: the lanes of the block's scan (a power of two). */
const THREADS = 64;
/** Consecutive values of a line each thread combines serially. */
const PER_THREAD = 16;
/** Values of a line one workgroup scans. */
const PER_BLOCK = THREADS * PER_THREAD;
const LOG_THREADS = Math.log2(THREADS);

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
 * into the thread's total, Blelloch's up-sweep and down-sweep (log₂ THREADS each), the
 * addition of the block's offset, and the later thread's serial chain (PER_THREAD). A
 * value from an earlier block passes its block total (PER_THREAD − 1 + log₂ THREADS),
 * the totals' own scan (this count for their length), the offset's addition and the
 * serial chain.
 */
export function scanRoundings(n: number): number {
  if (n <= PER_BLOCK) return 2 * PER_THREAD + 2 * LOG_THREADS;
  return 2 * PER_THREAD + LOG_THREADS + scanRoundings(Math.ceil(n / PER_BLOCK));
}

/** WGSL of the combination and its identity (−0 for sums: see the file's comment). */
function combinerWgsl(combiner: ScanCombiner): { combine: string; identity: string } {
  return combiner === "sum"
    ? { combine: "a + b", identity: "bitcast<f32>(0x80000000u)" }
    : { combine: "a * b", identity: "1.0" };
}

/** The declarations and the per-thread part every scan kernel shares. */
function head(combiner: ScanCombiner, reverse: boolean, bindings: string): string {
  const { combine, identity } = combinerWgsl(combiner);
  return /* wgsl */ `
struct Params { n: u32, inner: u32, lines: u32, blocks: u32 }
@group(0) @binding(0) var<uniform> params: Params;
${bindings}
var<workgroup> partial: array<f32, ${THREADS}>;
${LINEAR_WORKGROUP}
fn combine(a: f32, b: f32) -> f32 { return ${combine}; }
fn identity() -> f32 { return ${identity}; }
/** The index of the k-th value of a line (from its end when reversed). */
fn address(line: u32, k: u32) -> u32 {
  let position = ${reverse ? "params.n - 1u - k" : "k"};
  return (line / params.inner) * params.n * params.inner + line % params.inner +
    position * params.inner;
}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let group = linearWorkgroup(wid, groups);
  let valid = group < params.lines * params.blocks;
  let g = min(group, params.lines * params.blocks - 1u);
  let line = g / params.blocks;
  let first = (g % params.blocks) * ${PER_BLOCK}u + lid * ${PER_THREAD}u;
  var values: array<f32, ${PER_THREAD}>;
  var total = identity();
  for (var j = 0u; j < ${PER_THREAD}u; j++) {
    let k = first + j;
    if (k < params.n) {
      values[j] = x[address(line, k)];
      total = combine(total, values[j]);
    }
  }
  partial[lid] = total;
  workgroupBarrier();`;
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
      `@group(0) @binding(1) var<storage, read> x: array<f32>;
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
  const value = exclusive === "empty" ? `select(running, ${empty}, k == 0u)` : "running";
  const write = exclusive
    ? `out[address(line, k)] = ${value};
      running = combine(running, values[j]);`
    : `running = combine(running, values[j]);
      out[address(line, k)] = running;`;
  return `${
    head(
      combiner,
      reverse,
      `@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;`,
    )
  }
  for (var d = 1u; d < ${THREADS}u; d <<= 1u) {
    let i = (lid + 1u) * 2u * d - 1u;
    if (i < ${THREADS}u) { partial[i] = combine(partial[i - d], partial[i]); }
    workgroupBarrier();
  }
  if (lid == 0u) { partial[${THREADS - 1}u] = identity(); }
  workgroupBarrier();
  for (var d = ${THREADS / 2}u; d > 0u; d >>= 1u) {
    let i = (lid + 1u) * 2u * d - 1u;
    if (i < ${THREADS}u) {
      let left = partial[i - d];
      partial[i - d] = partial[i];
      partial[i] = combine(partial[i], left);
    }
    workgroupBarrier();
  }
  let offset = select(identity(), offsets[g], params.blocks > 1u);
  var running = combine(offset, partial[lid]);
  for (var j = 0u; j < ${PER_THREAD}u; j++) {
    let k = first + j;
    if (valid && k < params.n) {
      ${write}
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
  const uniforms = packUniforms([{ u32: n }, { u32: inner }, { u32: lines }, { u32: blocks }]);
  const kind = `${combiner}${reverse ? "/reverse" : ""}`;
  let offsets: DeviceArray | null = null;
  if (blocks > 1) {
    const totals = runtime.allocate(op, lines * blocks);
    runtime.dispatch({
      op,
      key: `scan/totals/${kind}`,
      wgsl: () => totalsWgsl(combiner, reverse),
      uniforms,
      buffers: [x, totals],
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
    buffers: [x, offsets ?? x, out],
    workgroups: lines * blocks,
  });
  if (offsets) runtime.release(offsets);
}
