/**
 * @file What `conv2d`'s texel-fed kernels share (`conv2d_implicit.ts`, the weight
 * gradient's): an array of planes [planes, h, w] copied into an rgba32float texture, a
 * texel four neighbouring values of a row, each row written with its padding as zeros
 * (zero rows above and below, zero columns to its left and past its end), so that a
 * kernel reads a padded plane with no bounds test. Padded rows lie side by side, a few to
 * a texture row ({@linkcode ROW_WIDTH} texels, more where one padded row is longer or
 * where the rows would not fit {@linkcode DEFAULT_SIDE} texture rows), so that large
 * batches fit the texture's sides and the properties' small images exercise the folding. On llvmpipe a texel load is a handful of vector instructions where a
 * storage buffer load at a computed address runs one SIMD lane at a time
 * (`matmul_texture.ts`).
 *
 * Launch of the copy: a thread per texel, 64 a workgroup.
 */
import { packUniforms, tiledMain } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Threads a workgroup of {@linkcode TEXEL_FILL_HEAD}'s kernels, a texel each. */
export const TEXEL_FILL_THREADS = 64;
/** Texels a texture row holds at most, unless one padded row is longer or the rows many. */
const ROW_WIDTH = 64;
/** WebGPU's default `maxTextureDimension2D`: a texture's height stays within it. */
const DEFAULT_SIDE = 8192;

/** Where an array of padded planes lies in its texture. */
export interface PlaneTexels {
  /** Planes (images × channels). */
  readonly planes: number;
  /** Rows of a plane. */
  readonly h: number;
  /** Columns of a plane. */
  readonly w: number;
  /** Zero rows above each plane. */
  readonly top: number;
  /** Zero columns left of each row. */
  readonly left: number;
  /** Rows of a padded plane: zero rows, the plane's rows, zero rows. */
  readonly paddedRows: number;
  /** Texels of a padded row (zeros past the plane's columns). */
  readonly rowTexels: number;
  /** Padded rows side by side in a texture row. */
  readonly fold: number;
  /** The texture's sides, in texels. */
  readonly sides: [number, number];
}

/**
 * The layout of `planes` planes of h×w, each padded with `top` rows above, `bottom` below
 * and `left` columns to the left, in rows of `rowTexels` texels.
 */
export function planeTexels(
  planes: number,
  [h, w]: [number, number],
  { top, bottom, left }: { top: number; bottom: number; left: number },
  rowTexels: number,
): PlaneTexels {
  const paddedRows = h + top + bottom, rows = planes * paddedRows;
  const fold = Math.max(1, Math.floor(ROW_WIDTH / rowTexels), Math.ceil(rows / DEFAULT_SIDE));
  const sides: [number, number] = [rowTexels * Math.min(fold, rows), Math.ceil(rows / fold)];
  return { planes, h, w, top, left, paddedRows, rowTexels, fold, sides };
}

/** Whether `layout`'s texture fits `runtime`'s adapter. */
export function planeTexelsFit(runtime: GpuRuntime, layout: PlaneTexels): boolean {
  return Math.max(...layout.sides) <= runtime.device.limits.maxTextureDimension2D;
}

/** WGSL: a texel load from `texture` at (x, y), a storage texture or a sampled one. */
export function texelLoad(storage: boolean, texture: string, x: string, y: string): string {
  return `textureLoad(${texture}, vec2u(${x}, ${y})${storage ? "" : ", 0"})`;
}

/**
 * WGSL: `let {name}X` and `let {name}Y`, the texel coordinates at which padded row
 * `row` (a u32 expression: plane·paddedRows + padded row) of `layout` starts.
 */
export function paddedRowStart(layout: PlaneTexels, name: string, row: string): string {
  return `let ${name}X = ((${row}) % ${layout.fold}u) * ${layout.rowTexels}u;
      let ${name}Y = (${row}) / ${layout.fold}u;`;
}

/**
 * WGSL: the head of a kernel that fills a texture from a buffer, a thread per texel: the
 * thread count, `src`, `dst`, and `t`, the thread's texel (threads past the count return).
 * The body that follows computes texel t's value and stores it.
 */
export const TEXEL_FILL_HEAD: string = /* wgsl */ `
@group(0) @binding(0) var<uniform> threads: vec4u;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba32float, write>;
${tiledMain(TEXEL_FILL_THREADS)}
  let t = tile * ${TEXEL_FILL_THREADS}u + li;
  if (t >= threads.x) { return; }`;

/** WGSL: the copy of `src` [planes, h, w] into `layout`'s texture, a thread per texel. */
function copyWgsl(l: PlaneTexels): string {
  const [width] = l.sides;
  return /* wgsl */ `${TEXEL_FILL_HEAD}
  let tx = t % ${width}u;
  let ty = t / ${width}u;
  let u = tx % ${l.rowTexels}u;
  let row = ty * ${l.fold}u + tx / ${l.rowTexels}u;
  let plane = row / ${l.paddedRows}u;
  let iy = i32(row % ${l.paddedRows}u) - ${l.top};
  var v = vec4f(0.0);
  for (var q = 0u; q < 4u; q++) {
    let ix = i32(4u * u + q) - ${l.left};
    if (plane < ${l.planes}u && iy >= 0 && iy < ${l.h} && ix >= 0 && ix < ${l.w}) {
      v[q] = src[(plane * ${l.h}u + u32(iy)) * ${l.w}u + u32(ix)];
    }
  }
  textureStore(dst, vec2u(tx, ty), v);
}
`;
}

/** Encodes the copy of `src` [planes, h, w] into a scratch texture laid out as `layout`. */
export function encodePlaneTexels(
  runtime: GpuRuntime,
  src: DeviceArray,
  layout: PlaneTexels,
): GPUTexture {
  const [width, height] = layout.sides;
  const texture = runtime.scratchTexture("conv2d", width, height);
  const { planes, h, w, top, left, paddedRows, rowTexels, fold } = layout;
  runtime.dispatch({
    op: "conv2d",
    key: `conv2d/plane-texels/${[planes, h, w, top, left, paddedRows, rowTexels, fold]}`,
    wgsl: () => copyWgsl(layout),
    uniforms: packUniforms([{ u32: width * height }]),
    buffers: [src, texture.createView()],
    workgroups: Math.ceil(width * height / TEXEL_FILL_THREADS),
  });
  return texture;
}
