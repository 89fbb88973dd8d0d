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
 * BK is 16 where the device's `maxComputeWorkgroupStorageSize` holds the two buffers
 * (2·(BM + BN)·BK floats: 32 KiB for 128×128 tiles), else 8; 256 invocations per
 * workgroup. Not measured on a discrete GPU yet (no device was lent to this work); on
 * llvmpipe, where workgroup memory is read one SIMD lane at a time, it is slow (see
 * kernels/matmul.ts), and correct, as the property tests show on every adapter.
 *
 * Launch: one workgroup per BM×BN tile of C.
 */
import { LINEAR_WORKGROUP } from "./_shared.ts";
import {
  declareAccumulators,
  MATMUL_PARAMS_WGSL,
  type MatmulHooks,
  type MatmulParams,
  matmulUniforms,
  type MatmulVariant,
  plainHooks,
  range,
  SCALAR_OPERANDS,
  storeBlock,
  vectorOperands,
  type VectorOperands,
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

/** WGSL: the `count` staging loads of one operand, `per` of them by each thread. */
function stagingSlots(count: number): { per: number; guard: (u: number) => string } {
  const per = Math.ceil(count / INVOCATIONS);
  return {
    per,
    guard: (u) => count % INVOCATIONS === 0 ? "true" : `li + ${u * INVOCATIONS}u < ${count}u`,
  };
}

/**
 * WGSL for staging one operand's slab: declarations of the staging registers, the
 * loads of the slab at k offset `k0` into them, and their stores into buffer `buf` of
 * workgroup memory.
 */
interface Staging {
  readonly declare: string;
  readonly load: (k0: string) => string;
  readonly store: (buf: string) => string;
}

function stageA(t: Tiling, bm: number, vector: boolean, transposed: boolean): Staging {
  const { bk } = t;
  const bm4 = bm / 4;
  if (vector && !transposed) {
    // vec4s along k: element s is row s / (bk/4), k 4·(s % (bk/4)) … + 3.
    const { per, guard } = stagingSlots(bm * bk / 4);
    const at = (u: number) => `(li + ${u * INVOCATIONS}u)`;
    return {
      declare: range(per).map((u) => `var sa${u} = vec4f(0.0);`).join("\n  "),
      load: (k0) =>
        range(per).map((u) => `if (${guard(u)}) {
      let row = min(tileRow + ${at(u)} / ${bk / 4}u, params.m - 1u);
      let p = ${k0} + 4u * (${at(u)} % ${bk / 4}u);
      sa${u} = select(vec4f(0.0), loadA4(row, min(p, params.k - 4u)), p < params.k);
    }`).join("\n    "),
      store: (buf) =>
        range(per).map((u) => `if (${guard(u)}) {
      let row = ${at(u)} / ${bk / 4}u;
      let kk = 4u * (${at(u)} % ${bk / 4}u);
      ${range(4).map((q) => `tileA[${buf} + (kk + ${q}u) * ${bm4}u + row / 4u][row % 4u] = sa${u}[${q}];`).join("\n      ")}
    }`).join("\n    "),
    };
  }
  if (vector) {
    // A stored [k, m]: vec4s along m, four rows at one k.
    const { per, guard } = stagingSlots(bm * bk / 4);
    const at = (u: number) => `(li + ${u * INVOCATIONS}u)`;
    return {
      declare: range(per).map((u) => `var sa${u} = vec4f(0.0);`).join("\n  "),
      load: (k0) =>
        range(per).map((u) => `if (${guard(u)}) {
      let row = min(tileRow + 4u * (${at(u)} % ${bm4}u), params.m - 4u);
      let p = ${k0} + ${at(u)} / ${bm4}u;
      sa${u} = select(vec4f(0.0), loadA4(row, min(p, params.k - 1u)), p < params.k);
    }`).join("\n    "),
      store: (buf) =>
        range(per).map((u) => `if (${guard(u)}) { tileA[${buf} + ${at(u)}] = sa${u}; }`)
          .join("\n    "),
    };
  }
  // One float at a time through loadA: element s is row s / bk, k s % bk.
  const { per, guard } = stagingSlots(bm * bk);
  const at = (u: number) => `(li + ${u * INVOCATIONS}u)`;
  return {
    declare: range(per).map((u) => `var sa${u} = 0.0;`).join("\n  "),
    load: (k0) =>
      range(per).map((u) => `if (${guard(u)}) {
      let row = min(tileRow + ${at(u)} / ${bk}u, params.m - 1u);
      let p = ${k0} + ${at(u)} % ${bk}u;
      sa${u} = select(0.0, loadA(row, min(p, params.k - 1u)), p < params.k);
    }`).join("\n    "),
    store: (buf) =>
      range(per).map((u) => `if (${guard(u)}) {
      let row = ${at(u)} / ${bk}u;
      tileA[${buf} + (${at(u)} % ${bk}u) * ${bm4}u + row / 4u][row % 4u] = sa${u};
    }`).join("\n    "),
  };
}

function stageB(t: Tiling, bn: number, vector: boolean, transposed: boolean): Staging {
  const { bk } = t;
  const bn4 = bn / 4;
  const at = (u: number) => `(li + ${u * INVOCATIONS}u)`;
  if (vector && !transposed) {
    // vec4s along n: element s is k s / (bn/4), columns 4·(s % (bn/4)) … + 3.
    const { per, guard } = stagingSlots(bk * bn / 4);
    return {
      declare: range(per).map((u) => `var sb${u} = vec4f(0.0);`).join("\n  "),
      load: (k0) =>
        range(per).map((u) => `if (${guard(u)}) {
      let col = min(tileCol + 4u * (${at(u)} % ${bn4}u), params.n - 4u);
      let p = ${k0} + ${at(u)} / ${bn4}u;
      sb${u} = select(vec4f(0.0), loadB4(min(p, params.k - 1u), col), p < params.k);
    }`).join("\n    "),
      store: (buf) =>
        range(per).map((u) => `if (${guard(u)}) { tileB[${buf} + ${at(u)}] = sb${u}; }`)
          .join("\n    "),
    };
  }
  if (vector) {
    // B stored [n, k]: vec4s along k, four k of one column.
    const { per, guard } = stagingSlots(bk * bn / 4);
    return {
      declare: range(per).map((u) => `var sb${u} = vec4f(0.0);`).join("\n  "),
      load: (k0) =>
        range(per).map((u) => `if (${guard(u)}) {
      let col = min(tileCol + ${at(u)} / ${bk / 4}u, params.n - 1u);
      let p = ${k0} + 4u * (${at(u)} % ${bk / 4}u);
      sb${u} = select(vec4f(0.0), loadB4(min(p, params.k - 4u), col), p < params.k);
    }`).join("\n    "),
      store: (buf) =>
        range(per).map((u) => `if (${guard(u)}) {
      let col = ${at(u)} / ${bk / 4}u;
      let kk = 4u * (${at(u)} % ${bk / 4}u);
      ${range(4).map((q) => `tileB[${buf} + (kk + ${q}u) * ${bn4}u + col / 4u][col % 4u] = sb${u}[${q}];`).join("\n      ")}
    }`).join("\n    "),
    };
  }
  // One float at a time through loadB: element s is k s / bn, column s % bn.
  const { per, guard } = stagingSlots(bk * bn);
  return {
    declare: range(per).map((u) => `var sb${u} = 0.0;`).join("\n  "),
    load: (k0) =>
      range(per).map((u) => `if (${guard(u)}) {
      let col = min(tileCol + ${at(u)} % ${bn}u, params.n - 1u);
      let p = ${k0} + ${at(u)} / ${bn}u;
      sb${u} = select(0.0, loadB(min(p, params.k - 1u), col), p < params.k);
    }`).join("\n    "),
    store: (buf) =>
      range(per).map((u) => `if (${guard(u)}) {
      let col = ${at(u)} % ${bn}u;
      tileB[${buf} + (${at(u)} / ${bn}u) * ${bn4}u + col / 4u][col % 4u] = sb${u};
    }`).join("\n    "),
  };
}

function wgsl(hooks: string, t: Tiling, vector: VectorOperands, params: MatmulParams): string {
  const { tm, tn, bk } = t;
  const bm = THREADS * tm, bn = THREADS * tn;
  const slabA = bk * bm / 4, slabB = bk * bn / 4;
  const a = stageA(t, bm, vector.a, params.transposeA);
  const b = stageB(t, bn, vector.b, params.transposeB);
  const step = (kk: number) => [
    ...range(tm / 4).map((g) =>
      `let a${g} = tileA[bufA + ${kk * bm / 4}u + lid.y * ${tm / 4}u + ${g}u];`
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
${LINEAR_WORKGROUP}
var<workgroup> tileA: array<vec4f, ${2 * slabA}>;
var<workgroup> tileB: array<vec4f, ${2 * slabB}>;
@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  // No early return: every thread reaches every barrier. Tiles past the last (where the
  // folded grid rounds up) start past row m and store nothing.
  let tile = linearWorkgroup(wid, groups);
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
      (i) => `tileRow + lid.y * ${tm}u + ${i}u`,
      (j) => `tileCol + ${4 * j * THREADS}u + 4u * lid.x`,
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
    return [16, 8].map((bk) => ({ tm, tn, bk }))
      .find((t) => storageBytes(t) <= limits.maxComputeWorkgroupStorageSize) ?? null;
  };
  const dispatch = (
    runtime: GpuRuntime,
    params: MatmulParams,
    hooks: MatmulHooks,
    vector: VectorOperands,
  ) => {
    const t = tiling(runtime)!;
    const { uniforms, tiles } = matmulUniforms(params, THREADS * tm, THREADS * tn);
    runtime.dispatch({
      op: "matmul",
      key: `matmul/${name}/${t.bk}/${hooks.key}`,
      wgsl: () => wgsl(hooks.wgsl, t, vector, params),
      uniforms,
      buffers: hooks.buffers,
      workgroups: tiles,
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
