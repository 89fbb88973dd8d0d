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
import {
  dispatchHooked,
  MATMUL_PARAMS_WGSL,
  type MatmulHooks,
  matmulMain,
  type MatmulParams,
  type MatmulVariant,
  plainEncode,
  range,
  threadBlock,
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
  const block = threadBlock(THREADS, rows, cols, false);
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${hooks}
${matmulMain(THREADS, THREADS)}
  ${block.head}
  ${range(rows).map((i) => `let r${i} = min(row0 + ${i}u, params.m - 1u);`).join("\n  ")}
  ${range(cols).map((q) => `let c${q} = min(col0 + ${q}u, params.n - 1u);`).join("\n  ")}
  for (var p = 0u; p < params.k; p++) {
    ${[...bLoads, ...aLoads, ...fmas].join("\n    ")}
  }
  ${block.store}
}
`;
}

/** The register-blocked variant with a `rows`×`cols` block per thread (cols a multiple of 4). */
export function registersVariant(rows: number, cols: number): MatmulVariant {
  const name = `registers${rows}x${cols}`;
  const encodeHooked = (runtime: GpuRuntime, params: MatmulParams, hooks: MatmulHooks) =>
    dispatchHooked(runtime, params, hooks, {
      key: name,
      tileRows: THREADS * rows,
      tileCols: THREADS * cols,
      wgsl: (hooks) => wgsl(hooks, rows, cols),
    });
  return { name, supports: () => true, encode: plainEncode(encodeHooked), encodeHooked };
}
