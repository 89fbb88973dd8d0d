/**
 * @file bench:report's element types side by side (issue 20): `add` at 10⁷ elements and
 * `sum` of 10⁷ in float32 and float16 (and `add` in int32), in GB/s of the bytes each
 * reads and writes at its type, and `matmul` 1024³ in float32 and float16 in GFLOP/s.
 * float16 moves half the bytes of float32; whether that halves the time depends on the
 * adapter (llvmpipe converts f16 on the CPU's vector units). `add` and the elementwise
 * ops load and store f16 in their generated kernels; `sum` and `matmul` are float32
 * kernels run on f32 copies of f16 inputs (`kernels/float16_widening.ts`), so their
 * float16 time includes the widening and saves memory, not time.
 */
import {
  add,
  type DType,
  type GpuBackend,
  matmul,
  sum,
  type Tensor,
} from "../mod.ts";
import { benchValues } from "./_cases.ts";
import { fmt } from "./_cli.ts";

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

const BYTES: Record<DType, number> = {
  float32: 4,
  float16: 2,
  int32: 4,
  uint32: 4,
  bool: 4,
};

/** Measures every case at each type the device stores (float16 only with shader-f16). */
export async function dtypeFigures(
  dev: GpuBackend,
  reps: number,
  gpuTime: GpuTimeFn,
  progress: (line: string) => void,
): Promise<DtypeFigure[]> {
  const figures: DtypeFigure[] = [];
  for (const c of CASES) {
    let float32Ms = NaN;
    for (const dtype of c.types.filter((t) => dev.supports(t))) {
      progress(`${c.op} ${c.size} ${dtype}`);
      const inputs = c.shapes.map((shape, i) => {
        const n = shape.reduce((a, b) => a * b, 1);
        // Integers: whole values, so that int32 adds exactly what float32 rounds.
        const values = benchValues(n, i + 1).map((
          v,
        ) => (dtype === "int32" ? Math.round(v * 100) : v));
        return dev.tensor(values, shape, { dtype });
      });
      try {
        const ms = await gpuTime(dev, reps, () => c.run(inputs));
        if (dtype === "float32") float32Ms = ms;
        figures.push({
          op: c.op,
          dtype,
          size: c.size,
          ms,
          rate: c.work(BYTES[dtype]) / ms / 1e6,
          unit: c.unit,
          vsFloat32: ms / float32Ms,
        });
      } finally {
        inputs.forEach((t) => t.dispose());
      }
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
