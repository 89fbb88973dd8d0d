/**
 * @file The property tests in the browser: every shared property (tests/_all_properties.ts:
 * each op's GPU-versus-reference property and jit's compositions, the same cases and
 * bounds as on Deno) run against the browser's WebGPU through the bundle, and matmul's
 * once more for each kernel variant, pinned.
 * Beside them, `dev.profile` on an eager sequence, to see the browser's timestamps.
 * Bundled to `dist/web/properties.js` and loaded by `index.html` beside this file; the
 * browser test calls `globalThis.runProperties` and `globalThis.runProfile`.
 */
import { add, type Backend, gpu, matmul, relu } from "../../mod.ts";
import { MATMUL_VARIANTS } from "../../kernels/matmul.ts";
import {
  assertProperty,
  NO_SHADER_F16,
  type OpProperty,
  pinnedMatmulProperty,
} from "../_properties.ts";
import { PROPERTIES } from "../_all_properties.ts";

/** The outcome of one property. */
export interface PropertyReport {
  /** The property's name. */
  readonly name: string;
  /** Random cases run. */
  readonly numRuns: number;
  /** Wall time in milliseconds. */
  readonly ms: number;
  /** fast-check's report when it failed (the shrunk case, the seed, the assertion), else null. */
  readonly error: string | null;
  /** Why it was not run ({@linkcode NO_SHADER_F16}), when the adapter lacks a type it needs. */
  readonly skipped?: string;
}

/** What {@linkcode runProperties} returns. */
export interface PropertiesRun {
  /** The WebGPU adapter's name. */
  readonly adapter: string;
  /** One report per property, then one per matmul variant. */
  readonly reports: readonly PropertyReport[];
}

/** The cases each pinned matmul variant runs, as a share of matmul's. */
const VARIANT_SHARE = 1 / 4;

/**
 * Runs every property for `runsScale` times its own case count (rounded up), from
 * fast-check seed `seed`, then matmul's for each variant pinned, for a quarter as many.
 */
export async function runProperties(runsScale: number, seed: number): Promise<PropertiesRun> {
  const dev = await gpu();
  const reports: PropertyReport[] = [];
  const run = async (name: string, property: OpProperty<unknown>, backend: Backend, n: number) => {
    if (property.needs && !backend.supports(property.needs)) {
      reports.push({ name, numRuns: 0, ms: 0, error: null, skipped: NO_SHADER_F16 });
      return;
    }
    const start = performance.now();
    let error: string | null = null;
    try {
      // A failure's message holds the failed assertion's own (the element, its value, its
      // bound): an Error's cause does not come back through page.evaluate.
      await assertProperty(property, backend, { numRuns: n, seed });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    reports.push({ name, numRuns: n, ms: performance.now() - start, error });
  };
  try {
    const cases = (property: OpProperty<unknown>) => Math.ceil(property.numRuns * runsScale);
    for (const property of PROPERTIES) await run(property.name, property, dev, cases(property));
    for (const variant of MATMUL_VARIANTS.keys()) {
      const pinned = await gpu({ device: dev.device, matmulVariant: variant });
      try {
        const property = pinnedMatmulProperty(pinned, variant) as OpProperty<unknown>;
        const n = Math.ceil(cases(property) * VARIANT_SHARE);
        await run(property.name, property, pinned, n);
      } finally {
        pinned.destroy();
      }
    }
    return { adapter: dev.name, reports };
  } finally {
    dev.destroy();
  }
}

(globalThis as { runProperties?: typeof runProperties }).runProperties = runProperties;

/** What {@linkcode runProfile} returns: a profile of three eager ops, as plain data. */
export interface ProfileRun {
  /** The WebGPU adapter's name. */
  readonly adapter: string;
  /** Whether the adapter offers `timestamp-query`. */
  readonly offered: boolean;
  /** The report's `timing`. */
  readonly timing: string;
  /** Each dispatch's name and milliseconds, in order. */
  readonly dispatches: readonly (readonly [string, number])[];
  /** Complete events (`ph: "X"`) in the report's Trace Event JSON. */
  readonly traceEvents: number;
  /** Dispatches one matmul takes here: the product and its variant's packing kernels, 1 to 3. */
  readonly matmulDispatches: number;
}

/** Profiles an eager matmul, add and relu on the browser's WebGPU with `dev.profile`. */
export async function runProfile(): Promise<ProfileRun> {
  const adapter = await navigator.gpu.requestAdapter();
  const dev = await gpu();
  const a = dev.tensor([1, -2, 3, 4], [2, 2]);
  try {
    const before = dev.stats().dispatches;
    matmul(a, a).dispose();
    const matmulDispatches = dev.stats().dispatches - before;
    const report = await dev.profile(() => {
      const c = matmul(a, a), d = add(c, a);
      relu(d).dispose();
      [c, d].forEach((t) => t.dispose());
    });
    const trace = JSON.parse(report.chromeTrace()) as { traceEvents: { ph: string }[] };
    return {
      adapter: dev.name,
      offered: adapter?.features.has("timestamp-query") ?? false,
      timing: report.timing,
      dispatches: report.dispatches.map((d) => [d.name, d.durationMs] as const),
      traceEvents: trace.traceEvents.filter((e) => e.ph === "X").length,
      matmulDispatches,
    };
  } finally {
    a.dispose();
    dev.destroy();
  }
}

(globalThis as { runProfile?: typeof runProfile }).runProfile = runProfile;
