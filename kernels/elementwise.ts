/**
 * @file WGSL for elementwise arithmetic: binary ops (`add`, `sub`, `mul`) with
 * suffix broadcasting, and unary ops (`scale`, `square`). One generator per arity; the
 * operator is a WGSL expression compiled into its own pipeline.
 *
 * Broadcasting reads `a[i % aSize]` and `b[i % bSize]`: right for the shapes the ops
 * accept, where the smaller operand's shape is a suffix of the output's (a scalar, or a
 * row over a batch). Every output is one correctly rounded operation, so the GPU and
 * the reference agree bit for bit (up to subnormals, which GPUs may flush).
 */
import { elementwiseMain, elementwiseWorkgroups, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** The binary operators and their WGSL. */
const BINARY_OPERATORS = { add: "x + y", sub: "x - y", mul: "x * y" } as const;
/** A binary operator's name. */
export type BinaryOperator = keyof typeof BINARY_OPERATORS;

/** The unary operators and their WGSL; `c` is the op's scalar. */
const UNARY_OPERATORS = { scale: "x * params.c", square: "x * x" } as const;
/** A unary operator's name. */
export type UnaryOperator = keyof typeof UNARY_OPERATORS;

/** Encodes `out[i] = a[i % aSize] ⊙ b[i % bSize]`. */
export function encodeBinary(
  runtime: GpuRuntime,
  [a, b]: readonly DeviceArray[],
  out: DeviceArray,
  operator: BinaryOperator,
): void {
  const n = out.byteLength / 4;
  runtime.dispatch({
    op: operator,
    key: `binary/${operator}`,
    wgsl: () => /* wgsl */ `
struct Params { n: u32, aSize: u32, bSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
fn apply(x: f32, y: f32) -> f32 { return ${BINARY_OPERATORS[operator]}; }
${elementwiseMain("out[i] = apply(a[i % params.aSize], b[i % params.bSize]);")}`,
    uniforms: packUniforms([{ u32: n }, { u32: a.byteLength / 4 }, { u32: b.byteLength / 4 }]),
    buffers: [a, b, out],
    workgroups: elementwiseWorkgroups(n),
  });
}

/** Encodes `out[i] = f(x[i])` for a unary operator with scalar `c`. */
export function encodeUnary(
  runtime: GpuRuntime,
  [x]: readonly DeviceArray[],
  out: DeviceArray,
  { operator, c }: { operator: UnaryOperator; c: number },
): void {
  const n = out.byteLength / 4;
  runtime.dispatch({
    op: operator,
    key: `unary/${operator}`,
    wgsl: () => /* wgsl */ `
struct Params { n: u32, c: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
fn apply(x: f32) -> f32 { return ${UNARY_OPERATORS[operator]}; }
${elementwiseMain("out[i] = apply(input[i]);")}`,
    uniforms: packUniforms([{ u32: n }, { f32: c }]),
    buffers: [x, out],
    workgroups: elementwiseWorkgroups(n),
  });
}
