/**
 * @file WGSL for ops that move values without arithmetic: each output element copies
 * one input element, or is zero. A kernel is a WGSL expression for the source index of
 * output `i` (negative for zero) over named u32 parameters; `broadcastTo`, `reverse`
 * and `pad2d` are such expressions. `takeRows` also reads a row-index buffer.
 * Being pure copies, they are exact on every backend.
 */
import { elementwiseMain, elementwiseWorkgroups, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** An index map: `source` (WGSL, an i32) over `i` and `params.<name>` for each parameter. */
export interface IndexMap {
  /** The op, for errors and the pipeline key. */
  readonly op: string;
  /** WGSL i32 expression: the input index of output `i`, or negative for 0. */
  readonly source: string;
  /** u32 parameters, by name, in a fixed order. */
  readonly params: Readonly<Record<string, number>>;
}

/** Encodes `out[i] = source(i) < 0 ? 0 : x[source(i)]`. */
export function encodeIndexMap(
  runtime: GpuRuntime,
  [x]: readonly DeviceArray[],
  out: DeviceArray,
  map: IndexMap,
): void {
  const n = out.byteLength / 4;
  const names = Object.keys(map.params);
  runtime.dispatch({
    op: map.op,
    key: `indexMap/${map.op}`,
    wgsl: () => /* wgsl */ `
struct Params { n: u32, ${names.map((name) => `${name}: u32`).join(", ")} }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
fn source(i: u32) -> i32 { return ${map.source}; }
${
      elementwiseMain(`
  let s = source(i);
  var v = 0.0;
  if (s >= 0) { v = x[u32(s)]; }
  out[i] = v;`)
    }`,
    uniforms: packUniforms([n, ...names.map((name) => map.params[name])].map((u32) => ({ u32 }))),
    buffers: [x, out],
    workgroups: elementwiseWorkgroups(n),
  });
}

/** Encodes `out[r][c] = x[rows[r]][c]` for rows of `columns` values. */
export function encodeTakeRows(
  runtime: GpuRuntime,
  [x]: readonly DeviceArray[],
  out: DeviceArray,
  { rows, columns }: { rows: Uint32Array<ArrayBuffer>; columns: number },
): void {
  const n = out.byteLength / 4;
  // The row indices travel as raw 32-bit words in a float32-typed buffer.
  const indices = runtime.upload(
    "takeRows",
    new Float32Array(rows.buffer, rows.byteOffset, rows.length),
  );
  try {
    runtime.dispatch({
      op: "takeRows",
      key: "takeRows",
      wgsl: () => /* wgsl */ `
struct Params { n: u32, columns: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${elementwiseMain("out[i] = x[rows[i / params.columns] * params.columns + i % params.columns];")}`,
      uniforms: packUniforms([{ u32: n }, { u32: columns }]),
      buffers: [x, indices, out],
      workgroups: elementwiseWorkgroups(n),
    });
  } finally {
    runtime.release(indices);
  }
}
