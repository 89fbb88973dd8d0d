/**
 * @file bench:report's element types side by side (issue 20): `add` at 10⁷ elements and
 * `sum` of 10⁷ in float32 and float16 (and `add` in int32), in GB/s of the bytes each
 * reads and writes at its type, and `matmul` 1024³ in float32 and float16 in GFLOP/s.
 * float16 moves half the bytes of float32; whether that halves the time depends on the
 * adapter (llvmpipe converts f16 on the CPU's vector units). `add` and the elementwise
 * ops load and store f16 in their generated kernels; `sum` and `matmul` are float32
 * kernels run on f32 copies of f16 inputs (`kernels/float16_widening.ts`), so their
 * float16 time includes the widening and saves memory, not time. A plain WGSL copy of the
 * same values at each type shows what moving the bytes alone costs on the adapter.
 */
import { add, type DType, type GpuBackend, GpuTensor, matmul, sum, type Tensor } from "../mod.ts";
import { LINEAR_WORKGROUP, packUniforms } from "../kernels/_shared.ts";
import { DTYPES } from "../kernels/dtype.ts";
import { benchValues } from "./_cases.ts";
import { fmt, median } from "./_cli.ts";

/** Elements of the `add` and `sum` cases (the target size). */
export const DTYPE_ELEMENTS = 10_000_000;

/** Side of the matmul case. */
const MATMUL_SIDE = 1024;

/** One measured op at one type. */
export interface DtypeFigure {
  readonly op: string;
  readonly dtype: DType;
  readonly size: string;
  /** Median kernel ms (or wall ms without timestamp-query). */
  readonly ms: number;
  /** GB/s of the bytes moved at this type, or GFLOP/s for matmul. */
  readonly rate: number;
  readonly unit: "GB/s" | "GFLOP/s";
  /** This type's time over float32's for the same op and size. */
  readonly vsFloat32: number;
}

/** What the report's timer does: median ms of `reps` calls of `run` after one untimed. */
export type GpuTimeFn = (
  backend: GpuBackend,
  reps: number,
  run: () => Tensor,
) => Promise<number>;

/** The cases: op, size, types, how to make the inputs and run it, the work done. */
const CASES = [
  {
    op: "add",
    size: "10⁷",
    types: ["float32", "float16", "int32"] as DType[],
    shapes: [[DTYPE_ELEMENTS], [DTYPE_ELEMENTS]],
    run: ([a, b]: Tensor[]) => add(a, b),
    // Two operands read, one result written.
    work: (bytes: number) => 3 * DTYPE_ELEMENTS * bytes,
    unit: "GB/s" as const,
  },
  {
    op: "copy (WGSL, vec4)",
    size: "10⁷",
    types: ["float32", "float16"] as DType[],
    shapes: [[DTYPE_ELEMENTS]],
    run: ([x]: Tensor[], dev: GpuBackend) => rawCopy(dev, x),
    work: (bytes: number) => 2 * DTYPE_ELEMENTS * bytes,
    unit: "GB/s" as const,
  },
  {
    op: "sum",
    size: "10⁷",
    types: ["float32", "float16"] as DType[],
    shapes: [[DTYPE_ELEMENTS]],
    run: ([a]: Tensor[]) => sum(a),
    work: (bytes: number) => DTYPE_ELEMENTS * bytes,
    unit: "GB/s" as const,
  },
  {
    op: "matmul",
    size: `${MATMUL_SIDE}³`,
    types: ["float32", "float16"] as DType[],
    shapes: [[MATMUL_SIDE, MATMUL_SIDE], [MATMUL_SIDE, MATMUL_SIDE]],
    run: ([a, b]: Tensor[]) => matmul(a, b),
    work: () => 2 * MATMUL_SIDE ** 3,
    unit: "GFLOP/s" as const,
  },
];

/**
 * A plain copy of `x` (float32 or float16; vec4 loads and stores, no conversion, as many
 * threads at each type): what moving the bytes alone costs at each type on this adapter,
 * beside `add`.
 */
function rawCopy(dev: GpuBackend, x: Tensor): Tensor {
  const element = DTYPES[x.dtype].storage;
  const out = dev.runtime.allocate("copy", x.size, x.dtype);
  dev.runtime.dispatch({
    op: "copy",
    key: `bench/rawCopy/${element}`,
    wgsl: () =>
      /* wgsl */ `${element === "f16" ? "enable f16;" : ""}
@group(0) @binding(0) var<uniform> count: vec4u;
@group(0) @binding(1) var<storage, read> src: array<vec4<${element}>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<${element}>>;
${LINEAR_WORKGROUP}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = linearWorkgroup(wid, groups) * 64u + lid;
  if (i < count.x) { dst[i] = src[i]; }
}`,
    uniforms: packUniforms([{ u32: x.size / 4 }]),
    buffers: [(x as GpuTensor).array, out],
    workgroups: Math.ceil(x.size / 4 / 64),
  });
  return new GpuTensor(dev, out, x.shape, x.dtype);
}

/**
 * Measures every case at each type the device stores (float16 only with shader-f16). The
 * types take turns, one timed call each per round, so that load from other processes on
 * the machine falls on all of them alike; each figure is the median of `reps` rounds.
 */
export async function dtypeFigures(
  dev: GpuBackend,
  reps: number,
  gpuTime: GpuTimeFn,
  progress: (line: string) => void,
): Promise<DtypeFigure[]> {
  const figures: DtypeFigure[] = [];
  for (const c of CASES) {
    const types = c.types.filter((t) => dev.supports(t));
    progress(`${c.op} ${c.size}: ${types.join(", ")}`);
    const inputs = types.map((dtype) =>
      c.shapes.map((shape, i) => {
        const n = shape.reduce((a, b) => a * b, 1);
        // Integers: whole values, so that int32 adds exactly what float32 rounds.
        const values = benchValues(n, i + 1).map((v) =>
          dtype === "int32" ? Math.round(v * 100) : v
        );
        return dev.tensor(values, shape, { dtype });
      })
    );
    const times = types.map((): number[] => []);
    try {
      for (let round = 0; round < reps; round++) {
        for (const t of types.keys()) {
          times[t].push(await gpuTime(dev, 1, () => c.run(inputs[t], dev)));
        }
      }
    } finally {
      inputs.flat().forEach((x) => x.dispose());
    }
    const ms = times.map(median);
    const float32Ms = ms[types.indexOf("float32")];
    for (const [t, dtype] of types.entries()) {
      figures.push({
        op: c.op,
        dtype,
        size: c.size,
        ms: ms[t],
        rate: c.work(DTYPES[dtype].bytes) / ms[t] / 1e6,
        unit: c.unit,
        vsFloat32: ms[t] / float32Ms,
      });
    }
  }
  return figures;
}

/** The table's header. */
export const DTYPE_HEADER = [
  "op",
  "size",
  "dtype",
  "median ms",
  "rate",
  "time vs float32",
];

/** The table's rows. */
export function dtypeRows(figures: readonly DtypeFigure[]): string[][] {
  return figures.map((f) => [
    f.op,
    f.size,
    f.dtype,
    fmt(f.ms),
    `${fmt(f.rate)} ${f.unit}`,
    `${fmt(f.vsFloat32)}×`,
  ]);
}
