/**
 * @file The gradient kernels of `maxPool2d` and `avgPool2d` (the forward passes are
 * generated: a reduction over a strided view of the padded image, `ops/pool2d.ts`).
 * One thread per input element gathers the output gradients of the windows that cover
 * it, so no two threads write one element and no atomics are needed
 * (docs/architecture.md#pure-ops). A window's rows are the oh with
 * oh·sh − ph ≤ i < oh·sh − ph + kh, at most ⌈kh/sh⌉ of them, likewise its columns.
 *
 * `avgPool2d`: the covering windows' gradients summed in row-major window order, times
 * fl(1/(kh·kw)) — every window divides by kh·kw, padded zeros counted. `maxPool2d`: a
 * window's gradient goes to its first maximum among the image's elements in row-major
 * order (PyTorch's rule for ties), a NaN counting as the maximum and the first NaN
 * winning (the library's `argmax`; PyTorch's kernel keeps the last NaN instead); each
 * thread finds the argmax of every window that covers it again, ⌈kh/sh⌉·⌈kw/sw⌉ windows
 * of kh·kw reads, cheap for the small windows of pooling.
 *
 * The geometry is compiled into the shader as constants (a pipeline per pooling shape),
 * so that its divisions are multiplications and its loops' bounds known: avgPool2d's
 * gradient of a 2×2 pooling of 256×6×28×28 (LeNet's first) took 58–59 ms against
 * 104–125 ms with the geometry in a uniform block (llvmpipe, kernel-only, medians of 5,
 * two processes of each alternating, the machine shared).
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";
import { isNaNWgsl } from "./special_wgsl.ts";

/** A pooling window's geometry: kernel, stride and padding (each side), rows then columns. */
export interface Pool2dWindow {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
}

/** Which pooling a gradient is for. */
export type PoolMode = "max" | "avg";

const WORKGROUP = 256;

/** A pooling gradient's sizes: the window, the image's and the output's sides. */
interface PoolGeometry extends Pool2dWindow {
  readonly h: number;
  readonly w: number;
  readonly oh: number;
  readonly ow: number;
}

/** WGSL of the gradient kernel of `mode` for the geometry `p`, compiled in. */
function gradWgsl(mode: PoolMode, p: PoolGeometry): string {
  const bindings = mode === "max"
    ? `@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;`
    : `@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;`;
  // max: the window's first maximum (the first NaN) among the image's elements.
  const contribution = mode === "max"
    ? `      let r0 = max(i32(oh) * sh - ph, 0);
      let r1 = min(i32(oh) * sh - ph + kh, h);
      let c0 = max(i32(ow) * sw - pw, 0);
      let c1 = min(i32(ow) * sw - pw + kw, w);
      var best = x[xBase + u32(r0 * w + c0)];
      var at = r0 * w + c0;
      for (var r = r0; r < r1; r++) {
        for (var c = c0; c < c1; c++) {
          let v = x[xBase + u32(r * w + c)];
          let bestNaN = ${isNaNWgsl("best")};
          if (!bestNaN && (${isNaNWgsl("v")} || v > best)) {
            best = v;
            at = r * w + c;
          }
        }
      }
      if (at == i32(i) * w + i32(j)) { acc += g[gBase + oh * ${p.ow}u + ow]; }`
    : `      acc += g[gBase + oh * ${p.ow}u + ow];`;
  return /* wgsl */ `
struct Params { n: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: Params;
${bindings}
${LINEAR_WORKGROUP}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let e = linearWorkgroup(wid, groups) * ${WORKGROUP}u + lid;
  if (e >= params.n) { return; }
  let h = ${p.h};
  let w = ${p.w};
  let kh = ${p.kh};
  let kw = ${p.kw};
  let sh = ${p.sh};
  let sw = ${p.sw};
  let ph = ${p.ph};
  let pw = ${p.pw};
  let plane = e / ${p.h * p.w}u;
  let i = (e / ${p.w}u) % ${p.h}u;
  let j = e % ${p.w}u;
  let xBase = plane * ${p.h * p.w}u;
  let gBase = plane * ${p.oh * p.ow}u;
  // The windows covering (i, j): oh·sh − ph ≤ i ≤ oh·sh − ph + kh − 1, likewise ow.
  let top = i32(i) + ph - kh + 1;
  let left = i32(j) + pw - kw + 1;
  let ohLo = u32(select(0, (top + sh - 1) / sh, top > 0));
  let owLo = u32(select(0, (left + sw - 1) / sw, left > 0));
  let ohHi = min(${p.oh}u, u32((i32(i) + ph) / sh) + 1u);
  let owHi = min(${p.ow}u, u32((i32(j) + pw) / sw) + 1u);
  var acc = 0.0;
  for (var oh = ohLo; oh < ohHi; oh++) {
    for (var ow = owLo; ow < owHi; ow++) {
${contribution}
    }
  }
  dx[e] = acc * params.scale;
}
`;
}

/**
 * Encodes the input gradient `dx` [N, C, H, W] of a pooling with `window`: `inputs` are
 * (x, g) for `"max"` and (g) for `"avg"`, g the output gradient [N, C, OH, OW].
 */
export function encodePool2dGrad(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  dx: DeviceArray,
  { mode, kh, kw, sh, sw, ph, pw }: Pool2dWindow & { readonly mode: PoolMode },
  [h, w]: readonly [number, number],
  [oh, ow]: readonly [number, number],
): void {
  const n = dx.byteLength / 4;
  const geometry = { kh, kw, sh, sw, ph, pw, h, w, oh, ow };
  runtime.dispatch({
    op: `${mode}Pool2d`,
    key: `pool2dGrad:${mode}:${Object.values(geometry)}`,
    wgsl: () => gradWgsl(mode, geometry),
    uniforms: packUniforms([{ u32: n }, { f32: mode === "avg" ? 1 / (kh * kw) : 1 }]),
    buffers: [...inputs, dx],
    workgroups: Math.ceil(n / WORKGROUP),
  });
}
