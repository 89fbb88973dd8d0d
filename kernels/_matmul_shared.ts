/**
 * @file What the matmul kernel variants share: the parameters, the variant interface,
 * the uniform block, the WGSL that reads op(A) and op(B) from storage buffers with the
 * transposes compiled into the index expressions, and the unrolled WGSL that stores a
 * thread's block of C with edge checks. Each variant (one file each) writes only its
 * own inner loop.
 *
 * Every variant computes each output as a sum of its k products in which no path has
 * more than k roundings (sequential sums, or a tree over strided partial sums), so
 * |gpu − exact| ≤ γ(k)·Σ|a·b| holds for all of them; padding adds exact zeros.
 */
import { packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Dimensions of C = op(A)·op(B), with op(A) of shape [m, k] and op(B) of [k, n]. */
export interface MatmulParams {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** A is stored as [k, m]. */
  readonly transposeA: boolean;
  /** B is stored as [n, k]. */
  readonly transposeB: boolean;
}

/** One way of computing a matmul on the GPU. */
export interface MatmulVariant {
  /** The name a caller pins it by, e.g. `gpu({ matmulVariant: "texture4x8" })`. */
  readonly name: string;
  /** Whether this variant can run this shape within this device's limits. */
  supports(runtime: GpuRuntime, params: MatmulParams): boolean;
  /** Encodes C = op(A)·op(B) into the runtime's shared encoder. */
  encode(
    runtime: GpuRuntime,
    inputs: readonly DeviceArray[],
    c: DeviceArray,
    params: MatmulParams,
  ): void;
}

/** "NN", "NT", "TN" or "TT": the transpose flags, for pipeline keys. */
export function transposeKey({ transposeA, transposeB }: MatmulParams): string {
  return `${transposeA ? "T" : "N"}${transposeB ? "T" : "N"}`;
}

/** WGSL: the uniform block every variant reads (`tilesN` and `tiles` count C's tiles). */
export const MATMUL_PARAMS_WGSL = /* wgsl */ `
struct Params { m: u32, k: u32, n: u32, tilesN: u32, tiles: u32 }
@group(0) @binding(0) var<uniform> params: Params;`;

/** Packs {@linkcode MATMUL_PARAMS_WGSL} for C tiled in `tileRows`×`tileCols` tiles. */
export function matmulUniforms(
  { m, k, n }: MatmulParams,
  tileRows: number,
  tileCols: number,
): { uniforms: ArrayBuffer; tiles: number } {
  const tilesN = Math.ceil(n / tileCols);
  const tiles = Math.ceil(m / tileRows) * tilesN;
  const words = [m, k, n, tilesN, tiles].map((u32) => ({ u32 }));
  return { uniforms: packUniforms(words), tiles };
}

/**
 * WGSL: storage bindings 1–3 (a, b, c) and `loadA(r, p)`, `loadB(p, col)`, which read
 * op(A)[r][p] and op(B)[p][col] whatever the stored layout.
 */
export function storageOperands({ transposeA, transposeB }: MatmulParams): string {
  const aIndex = transposeA ? "p * params.m + r" : "r * params.k + p";
  const bIndex = transposeB ? "col * params.k + p" : "p * params.n + col";
  return /* wgsl */ `
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
fn loadA(r: u32, p: u32) -> f32 { return a[${aIndex}]; }
fn loadB(p: u32, col: u32) -> f32 { return b[${bIndex}]; }`;
}

/** `[0, 1, …, count − 1]`, for unrolling WGSL in TypeScript. */
export function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * WGSL statements that store a thread's `rows`×`cols` block, held in vec4 accumulators
 * `acc{i}_{j}` (row i, columns 4j…4j+3), at C[row0 + i][col0 + 4j + q], skipping
 * what lies past the edge of C. Unrolled, so the accumulators stay in registers.
 */
export function storeBlock(rows: number, cols: number): string {
  return range(rows).map((i) => {
    const stores = range(cols).map((q) => {
      const col = `col0 + ${q}u`;
      return `if (${col} < params.n) { c[(row0 + ${i}u) * params.n + ${col}] = acc${i}_${q >> 2}[${
        q & 3
      }]; }`;
    });
    return `if (row0 + ${i}u < params.m) {\n    ${stores.join("\n    ")}\n  }`;
  }).join("\n  ");
}

/** WGSL declarations of the zeroed accumulators that {@linkcode storeBlock} stores. */
export function declareAccumulators(rows: number, cols: number): string {
  return range(rows).flatMap((i) => range(cols / 4).map((j) => `var acc${i}_${j} = vec4f(0.0);`))
    .join("\n  ");
}
