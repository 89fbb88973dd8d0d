/**
 * @file Matmul variant "tiled": workgroup-memory tiling for discrete GPUs, in the style
 * of the fast WebGPU matmuls (the WebGPU ports of siboehm's CUDA kernels, TensorFlow.js's
 * packed vec4 matmul). A workgroup of 16×16 threads computes a BM×BN tile of C, each
 * thread a TM×TN block held in vec4 registers. Per step of BK along k, the workgroup
 * stages a BM×BK slab of A and a BK×BN slab of B in workgroup memory, both k-major as
 * vec4s (four rows of A, four columns of B), so the inner loop reads TM/4 + TN/4 vec4s
 * per k for TM·TN multiply-adds. Double buffering: the next slabs are loaded from
 * global memory into registers before the current ones are used and stored to the
 * other buffer after, so one barrier per step suffices and the loads' latency hides
 * behind the arithmetic. A thread's columns are interleaved (vec4 j of thread x covers
 * columns 4·(16·j + x) …), so neighbouring threads read neighbouring vec4s of B's slab
 * (no bank conflicts) and store neighbouring vec4s of C (coalesced).
 *
 * The plain path loads vec4s from global memory where the stored rows allow (see
 * `vectorOperands`); with hooks (a fused program), every staged value comes from
 * loadA/loadB, one float at a time. Rows and columns past the edge are clamped for
 * loads and skipped for stores; k past the end is staged as exact zeros. Each output is
 * a sequential sum over k.
 *
 * BK, the depth of a slab: on a GPU, 16 where the device's
 * `maxComputeWorkgroupStorageSize` holds the four slabs (2·(BM + BN)·BK floats: 32 KiB
 * for 128×128 tiles; gpu() requests the adapter's limit), else 8 (16 KiB, WebGPU's
 * default). On a software adapter, where this kernel is never the fast one (workgroup
 * memory is read one SIMD lane at a time on llvmpipe; see kernels/matmul.ts), 4: Mesa's
 * GL stack compiles workgroup arrays in time superlinear in their size (one 128×128
 * kernel took 11 s to compile with BK = 8, 2.6 s with 4; 8 reads of a 1024-vec4 array
 * 8.4 s, of a 256-vec4 one 0.7 s; lavapipe, 0.1 s either way). Not measured on a
 * discrete GPU yet (no device was lent to this work); correct on every adapter we
 * have, as the property tests show for both tilings.
 *
 * Launch: one workgroup per BM×BN tile of C.
 */
import {
  adapterClassOf,
  declareAccumulators,
  dispatchHooked,
  MATMUL_PARAMS_WGSL,
  type MatmulHooks,
  matmulMain,
  type MatmulParams,
  type MatmulVariant,
  plainHooks,
  range,
  SCALAR_OPERANDS,
  storeBlock,
  type VectorOperands,
  vectorOperands,
} from "./_matmul_shared.ts";
import type { GpuRuntime } from "./runtime.ts";

/** Threads per side of the workgroup. */
const THREADS = 16;
const INVOCATIONS = THREADS * THREADS;

/** The shape of one tiled kernel: rows and columns per thread, and the k step. */
interface Tiling {
  readonly tm: number;
  readonly tn: number;
  readonly bk: number;
}

/** One operand's slab as staging sees it: A's rows, or B's columns, are its "outer" side. */
interface Operand {
  /** The workgroup array: k-major vec4s of four consecutive outer indices. */
  readonly tile: string;
  /** The slab's outer extent, and its first outer index and the matrix's. */
  readonly outer: number;
  readonly origin: string;
  readonly limit: string;
  /** WGSL calls of the hooks at (outer index, k). */
  readonly load: (outer: string, p: string) => string;
  readonly load4: (outer: string, p: string) => string;
}

/**
 * How a slab is staged, each way writing only whole vec4s to workgroup memory (dynamic
 * component writes made Mesa's GL compiler take a minute over one kernel):
 * - `direct`: one vec4 load holds four outer indices at one k (A stored [k, m], B
 *   stored [k, n]);
 * - `block`: vec4 loads hold four k of one outer index; four of them, transposed in
 *   registers, make a 4×4 block (A stored [m, k], B stored [n, k]);
 * - `scalar`: four loadA/loadB calls make each vec4 (hooks, or unaligned rows).
 */
type StagingMode = "direct" | "block" | "scalar";

/**
 * WGSL for staging one operand's slab: the staging registers, their loads of the slab
 * at k offset `k0`, and their stores into buffer `buf` of workgroup memory.
 */
interface Staging {
  readonly declare: string;
  readonly load: (k0: string) => string;
  readonly store: (buf: string) => string;
}

function staging(op: Operand, mode: StagingMode, bk: number, name: string): Staging {
  const outer4 = op.outer / 4;
  const slots = mode === "block" ? outer4 * bk / 4 : outer4 * bk;
  const per = Math.ceil(slots / INVOCATIONS);
  const slot = (u: number) => `(li + ${u * INVOCATIONS}u)`;
  const guard = (u: number) => slots % INVOCATIONS === 0 ? "true" : `${slot(u)} < ${slots}u`;
  // A slot's outer vec4 (ov) and its k in the slab (kk: the first of four for blocks).
  const where = (u: number) =>
    `let ov = ${slot(u)} % ${outer4}u;\n      let kk = ${mode === "block" ? "4u * " : ""}(${
      slot(u)
    } / ${outer4}u);`;
  const registers = mode === "block" ? [0, 1, 2, 3] : [0];
  const reg = (u: number, i: number) => `${name}${u}_${i}`;
  const outerAt = (i: number) => `min(${op.origin} + 4u * ov + ${i}u, ${op.limit} - 1u)`;
  const fetch = (u: number) => {
    if (mode === "direct") {
      return `${reg(u, 0)} = select(vec4f(0.0), ${
        op.load4(`min(${op.origin} + 4u * ov, ${op.limit} - 4u)`, "min(p, params.k - 1u)")
      }, p < params.k);`;
    }
    if (mode === "block") {
      return range(4).map((i) =>
        `${reg(u, i)} = select(vec4f(0.0), ${
          op.load4(outerAt(i), "min(p, params.k - 4u)")
        }, p < params.k);`
      ).join("\n      ");
    }
    return `${reg(u, 0)} = select(vec4f(0.0), vec4f(${
      range(4).map((i) => op.load(outerAt(i), "min(p, params.k - 1u)")).join(", ")
    }), p < params.k);`;
  };
  const write = (u: number, buf: string) =>
    mode === "block"
      ? range(4).map((q) =>
        `${op.tile}[${buf} + (kk + ${q}u) * ${outer4}u + ov] = vec4f(${
          range(4).map((i) => `${reg(u, i)}[${q}]`).join(", ")
        });`
      ).join("\n      ")
      : `${op.tile}[${buf} + kk * ${outer4}u + ov] = ${reg(u, 0)};`;
  return {
    declare: range(per).flatMap((u) => registers.map((i) => `var ${reg(u, i)} = vec4f(0.0);`))
      .join("\n  "),
    load: (k0) =>
      range(per).map((u) =>
        `if (${guard(u)}) {\n      ${where(u)}\n      let p = ${k0} + kk;\n      ${fetch(u)}\n    }`
      ).join("\n    "),
    store: (buf) =>
      range(per).map((u) => `if (${guard(u)}) {\n      ${where(u)}\n      ${write(u, buf)}\n    }`)
        .join("\n    "),
  };
}

function wgsl(hooks: string, t: Tiling, vector: VectorOperands, params: MatmulParams): string {
  const { tm, tn, bk } = t;
  const bm = THREADS * tm, bn = THREADS * tn;
  const slabA = bk * bm / 4, slabB = bk * bn / 4;
  const a = staging(
    {
      tile: "tileA",
      outer: bm,
      origin: "tileRow",
      limit: "params.m",
      load: (r, p) => `loadA(${r}, ${p})`,
      load4: (r, p) => `loadA4(${r}, ${p})`,
    },
    !vector.a ? "scalar" : params.transposeA ? "direct" : "block",
    bk,
    "sa",
  );
  const b = staging(
    {
      tile: "tileB",
      outer: bn,
      origin: "tileCol",
      limit: "params.n",
      load: (col, p) => `loadB(${p}, ${col})`,
      load4: (col, p) => `loadB4(${p}, ${col})`,
    },
    !vector.b ? "scalar" : params.transposeB ? "block" : "direct",
    bk,
    "sb",
  );
  const step = (kk: number) =>
    [
      ...range(tm / 4).map((g) =>
        `let a${g} = tileA[bufA + ${kk * bm / 4 + g}u + lid.y * ${tm / 4}u];`
      ),
      ...range(tn / 4).map((j) =>
        `let b${j} = tileB[bufB + ${kk * bn / 4 + j * THREADS}u + lid.x];`
      ),
      ...range(tm).flatMap((i) =>
        range(tn / 4).map((j) => `acc${i}_${j} += a${i >> 2}[${i & 3}] * b${j};`)
      ),
    ].join("\n      ");
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${hooks}
var<workgroup> tileA: array<vec4f, ${2 * slabA}>;
var<workgroup> tileB: array<vec4f, ${2 * slabB}>;
${matmulMain(THREADS, THREADS)}
  // No early return: every thread reaches every barrier. Tiles past the last (where the
  // folded grid rounds up) start past row m and store nothing.
  let tileRow = (tile / params.tilesN) * ${bm}u;
  let tileCol = (tile % params.tilesN) * ${bn}u;
  ${declareAccumulators(tm, tn / 4)}
  ${a.declare}
  ${b.declare}
  ${a.load("0u")}
  ${b.load("0u")}
  ${a.store("0u")}
  ${b.store("0u")}
  workgroupBarrier();
  let steps = (params.k + ${bk - 1}u) / ${bk}u;
  for (var s = 0u; s < steps; s++) {
    let bufA = (s % 2u) * ${slabA}u;
    let bufB = (s % 2u) * ${slabB}u;
    let more = s + 1u < steps;
    if (more) {
    ${a.load(`(s + 1u) * ${bk}u`)}
    ${b.load(`(s + 1u) * ${bk}u`)}
    }
    ${range(bk).map((kk) => `{\n      ${step(kk)}\n    }`).join("\n    ")}
    if (more) {
    ${a.store(`${slabA}u - bufA`)}
    ${b.store(`${slabB}u - bufB`)}
    }
    workgroupBarrier();
  }
  ${
    storeBlock(
      tm,
      tn / 4,
      (i) => `tileRow + lid.y * ${tm}u + ${i}`,
      (j) => `tileCol + ${4 * THREADS}u * ${j} + 4u * lid.x`,
      vector.c,
    )
  }
}
`;
}

/** Workgroup-memory bytes of a tiling: two buffers of each slab. */
const storageBytes = ({ tm, tn, bk }: Tiling) => 2 * THREADS * (tm + tn) * bk * 4;

/**
 * The workgroup-tiled variant with a `tm`×`tn` block per thread (multiples of 4), a
 * (16·tm)×(16·tn) tile per workgroup.
 */
export function tiledVariant(tm: number, tn: number): MatmulVariant {
  const name = `tiled${tm}x${tn}`;
  const tiling = (runtime: GpuRuntime): Tiling | null => {
    const limits = runtime.device.limits;
    if (
      limits.maxComputeInvocationsPerWorkgroup < INVOCATIONS ||
      limits.maxComputeWorkgroupSizeX < THREADS || limits.maxComputeWorkgroupSizeY < THREADS
    ) return null;
    return (adapterClassOf(runtime) === "software" ? [4] : [16, 8]).map((bk) => ({ tm, tn, bk }))
      .find((t) => storageBytes(t) <= limits.maxComputeWorkgroupStorageSize) ?? null;
  };
  const dispatch = (
    runtime: GpuRuntime,
    params: MatmulParams,
    hooks: MatmulHooks,
    vector: VectorOperands,
  ) => {
    const t = tiling(runtime)!;
    dispatchHooked(runtime, params, hooks, {
      key: `${name}/${t.bk}`,
      tileRows: THREADS * tm,
      tileCols: THREADS * tn,
      wgsl: (hooks) => wgsl(hooks, t, vector, params),
    });
  };
  return {
    name,
    supports: (runtime) => tiling(runtime) !== null,
    encode(runtime, [a, b], c, params) {
      const vector = vectorOperands(params);
      dispatch(runtime, params, plainHooks(params, a, b, c, vector), vector);
    },
    encodeHooked: (runtime, params, hooks) => dispatch(runtime, params, hooks, SCALAR_OPERANDS),
  };
}
