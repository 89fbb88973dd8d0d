/**
 * @file Matmul variant "registers": each thread keeps a rows×cols block of C in vec4
 * registers and reads A and B through the hooks (storage buffers, for the plain path),
 * with no workgroup memory and no barrier. Simple and correct everywhere, with any
 * hooks; a larger block reads fewer values per multiply-add. Rows and columns past the
 * edge are clamped for loads and skipped for stores, so any shape works. Each output is
 * a sequential sum over k.
 *
 * Launch: workgroups of 8×8 threads, one per (8·rows)×(8·cols) tile of C.
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
  storeBlock,
} from "./_matmul_shared.ts";
import type { GpuRuntime } from "./runtime.ts";

const THREADS = 8;

function wgsl(hooks: string, rows: number, cols: number): string {
  const aLoads = range(rows).map((i) => `let a${i} = loadA(r${i}, p);`);
  const bLoads = range(cols / 4).map((j) =>
    `let b${j} = vec4f(${range(4).map((q) => `loadB(p, c${4 * j + q})`).join(", ")});`
  );
  const fmas = range(rows).flatMap((i) =>
    range(cols / 4).map((j) => `acc${i}_${j} += a${i} * b${j};`)
  );
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${hooks}
${LINEAR_WORKGROUP}
@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let tile = linearWorkgroup(wid, groups);
  if (tile >= params.tiles) { return; }
  let row0 = (tile / params.tilesN) * ${THREADS * rows}u + lid.y * ${rows}u;
  let col0 = (tile % params.tilesN) * ${THREADS * cols}u + lid.x * ${cols}u;
  ${range(rows).map((i) => `let r${i} = min(row0 + ${i}u, params.m - 1u);`).join("\n  ")}
  ${range(cols).map((q) => `let c${q} = min(col0 + ${q}u, params.n - 1u);`).join("\n  ")}
  ${declareAccumulators(rows, cols / 4)}
  for (var p = 0u; p < params.k; p++) {
    ${[...bLoads, ...aLoads, ...fmas].join("\n    ")}
  }
  ${storeBlock(rows, cols / 4, (i) => `row0 + ${i}u`, (j) => `col0 + ${4 * j}u`, false)}
}
`;
}

/** The register-blocked variant with a `rows`×`cols` block per thread (cols a multiple of 4). */
export function registersVariant(rows: number, cols: number): MatmulVariant {
  const name = `registers${rows}x${cols}`;
  const encodeHooked = (runtime: GpuRuntime, params: MatmulParams, hooks: MatmulHooks) => {
    const { uniforms, tiles } = matmulUniforms(params, THREADS * rows, THREADS * cols);
    runtime.dispatch({
      op: hooks.op ?? "matmul",
      key: `matmul/${name}/${hooks.key}`,
      wgsl: () => wgsl(hooks.wgsl, rows, cols),
      uniforms,
      buffers: hooks.buffers,
      workgroups: tiles,
    });
  };
  return {
    name,
    supports: () => true,
    encode: (runtime, [a, b], c, params) =>
      encodeHooked(runtime, params, plainHooks(params, a, b, c)),
    encodeHooked,
  };
}
