/**
 * @file What the training demos (`demo:decay`, `demo:mlp`) print and write alike: the
 * line that opens a run with its backend and settings, the table of results, and the
 * end: the files of a study (`NAME.json`, `NAME.svg`, `NAME.png`), written all or
 * nothing, and the verdict on runs that diverged.
 */
import type { Backend } from "../mod.ts";
import type { Io, TrainingOptions } from "./args.ts";
import { type Divergence, divergenceVerdict } from "./_divergence.ts";
import { writeAll } from "./_output.ts";
import { type Panel, renderPng, renderSvg } from "./plot.ts";

/**
 * The first line of a training demo: backend, adapter and settings, e.g.
 * `Backend: webgpu (llvmpipe …); 150 epochs, lr 0.005, seed 0, compiled step (jit)`.
 *
 * @param extra Settings of the demo's own, printed after the learning rate.
 */
export function settingsLine(
  backend: Backend,
  settings: TrainingOptions["settings"],
  extra: readonly string[] = [],
): string {
  const step = settings.jit ? "compiled step (jit)" : "eager step (--no-jit)";
  const parts = [`${settings.epochs} epochs`, `lr ${settings.lr}`, ...extra];
  return `Backend: ${backend.kind} (${backend.name}); ${
    [...parts, `seed ${settings.seed}`, step].join(", ")
  }`;
}

/**
 * Rows of cells as lines of text: the first row a header with a rule under it, the first
 * column left-aligned and the others right-aligned, two spaces apart.
 */
export function textTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: readonly string[]) =>
    row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ");
  return [line(rows[0]), widths.map((w) => "─".repeat(w)).join("  "), ...rows.slice(1).map(line)];
}

/** NaN and ±Infinity, which JSON lacks, as the strings "NaN" and "Infinity". */
function nonFiniteAsText(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

/**
 * Ends a training demo: writes the study's `NAME.json` (`json`, non-finite numbers as
 * strings), its `figure` as `NAME.svg` and `NAME.png`, and `extraFiles` (saved weights)
 * into `--out`, all or nothing, prints each path, then the verdict on the runs that
 * diverged.
 *
 * @returns The exit status: 3 when a run diverged without `--allow-divergence`, else 0.
 */
export async function finishStudy(
  options: TrainingOptions,
  name: string,
  json: unknown,
  figure: Panel[],
  runs: readonly { name: string; divergence: Divergence | null }[],
  io: Io,
  extraFiles: readonly (readonly [string, Uint8Array])[] = [],
): Promise<number> {
  const written = await writeAll(options.out, [
    [`${name}.json`, JSON.stringify(json, nonFiniteAsText, 2) + "\n"],
    [`${name}.svg`, renderSvg(figure)],
    [`${name}.png`, await renderPng(figure)],
    ...extraFiles,
  ]);
  written.forEach((path) => io.out(`wrote ${path}`));
  const verdict = divergenceVerdict(runs, options.allowDivergence);
  verdict.lines.forEach((line) => io.err(line));
  return verdict.exit;
}
