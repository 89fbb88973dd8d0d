/**
 * @file The property tests in the browser: every op's GPU-versus-reference property
 * (tests/_properties.ts, the same cases and bounds as on Deno) run against the browser's
 * WebGPU through the bundle. Bundled to `dist/web/properties.js` and loaded by
 * `index.html` beside this file; the browser test calls `globalThis.runProperties`.
 */
import { gpu } from "../../mod.ts";
import { assertProperty, OP_PROPERTIES } from "../_properties.ts";

/** The outcome of one op's property. */
export interface PropertyReport {
  /** The property's name. */
  readonly name: string;
  /** Random cases run. */
  readonly numRuns: number;
  /** Wall time in milliseconds. */
  readonly ms: number;
  /** fast-check's report (shrunk counterexample and seed) when it failed, else null. */
  readonly error: string | null;
}

/** What {@linkcode runProperties} returns. */
export interface PropertiesRun {
  /** The WebGPU adapter's name. */
  readonly adapter: string;
  /** One report per op. */
  readonly reports: readonly PropertyReport[];
}

/** Runs every op's property for `numRuns` cases from fast-check seed `seed`. */
export async function runProperties(numRuns: number, seed: number): Promise<PropertiesRun> {
  const dev = await gpu();
  const reports: PropertyReport[] = [];
  try {
    for (const property of OP_PROPERTIES) {
      const start = performance.now();
      let error: string | null = null;
      try {
        await assertProperty(property, dev, { numRuns, seed, verbose: 1 });
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      reports.push({ name: property.name, numRuns, ms: performance.now() - start, error });
    }
    return { adapter: dev.name, reports };
  } finally {
    dev.destroy();
  }
}

(globalThis as { runProperties?: typeof runProperties }).runProperties = runProperties;
