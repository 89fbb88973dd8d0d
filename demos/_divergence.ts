/**
 * @file Divergence of a training run: the first evaluation whose loss is NaN or infinite.
 * Every training demo watches each run with a {@linkcode DivergenceWatch}, stops the run
 * there (nothing after a NaN is worth computing), says so at once and in its figure, and
 * exits {@linkcode EXIT}.diverged at the end unless `--allow-divergence` was given
 * ({@linkcode divergenceVerdict}).
 */
import { EXIT } from "./args.ts";

/** Where a run's losses stopped being finite. */
export interface Divergence {
  /** The first evaluated epoch with a non-finite loss. */
  readonly epoch: number;
  /** The last evaluated epoch whose losses were all finite, or null if none was. */
  readonly lastFinite: number | null;
  /** The losses that were not finite at `epoch`, by name: `{ train: NaN }`. */
  readonly losses: Readonly<Record<string, number>>;
}

/** Watches one run's evaluations, in epoch order, for the first non-finite loss. */
export class DivergenceWatch {
  #lastFinite: number | null = null;
  #divergence: Divergence | null = null;

  /** The run's divergence, or null while every loss has been finite. */
  get divergence(): Divergence | null {
    return this.#divergence;
  }

  /**
   * Records one evaluation.
   *
   * @param epoch The epoch evaluated.
   * @param losses The losses by name (`{ train, test }`).
   * @returns The divergence when this evaluation is the first with a non-finite loss;
   * null otherwise (also after it).
   */
  check(epoch: number, losses: Readonly<Record<string, number>>): Divergence | null {
    if (this.#divergence) return null;
    const bad = Object.entries(losses).filter(([, v]) => !Number.isFinite(v));
    if (bad.length === 0) {
      this.#lastFinite = epoch;
      return null;
    }
    this.#divergence = { epoch, lastFinite: this.#lastFinite, losses: Object.fromEntries(bad) };
    return this.#divergence;
  }
}

/** `train loss NaN, test loss Infinity`. */
function badLosses(d: Divergence): string {
  return Object.entries(d.losses).map(([name, v]) => `${name} loss ${v}`).join(", ");
}

/**
 * A sentence for the console: `diverged at epoch 10: train loss NaN (finite at epoch 5)`.
 */
export function describeDivergence(d: Divergence): string {
  const before = d.lastFinite === null ? "the first evaluation" : `finite at epoch ${d.lastFinite}`;
  return `diverged at epoch ${d.epoch}: ${badLosses(d)} (${before})`;
}

/** A short note for a figure's panel: `diverged at epoch 10 (NaN loss)`. */
export function divergenceNote(d: Divergence): string {
  const kinds = [...new Set(Object.values(d.losses).map((v) => Number.isNaN(v) ? "NaN" : "∞"))];
  return `diverged at epoch ${d.epoch} (${kinds.join(", ")} loss)`;
}

/**
 * The closing lines and exit status for runs, some of which may have diverged.
 *
 * @param runs Each run's name and divergence (null if it did not diverge).
 * @param allowDivergence Whether `--allow-divergence` was given.
 * @returns Lines to print (none when no run diverged) and the exit status.
 */
export function divergenceVerdict(
  runs: readonly { name: string; divergence: Divergence | null }[],
  allowDivergence: boolean,
): { lines: string[]; exit: number } {
  const diverged = runs.filter((r) => r.divergence !== null);
  if (diverged.length === 0) return { lines: [], exit: EXIT.ok };
  const lines = diverged.map((r) => `${r.name} ${describeDivergence(r.divergence!)}`);
  const count = `${diverged.length} of ${runs.length} run${runs.length === 1 ? "" : "s"}`;
  lines.push(
    allowDivergence
      ? `${count} diverged (allowed by --allow-divergence)`
      : `${count} diverged: exit status ${EXIT.diverged} (--allow-divergence to exit 0; ` +
        "a smaller --lr usually converges)",
  );
  return { lines, exit: allowDivergence ? EXIT.ok : EXIT.diverged };
}
