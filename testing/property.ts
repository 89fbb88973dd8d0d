/**
 * @file Running a property: random cases, each checked on a backend; a failure shrunk by
 * fast-check to a minimal case and reported with what replays it (the seed and the
 * shrink path), and, for cases that draw special values, a check that a full run met
 * every kind. The library's own properties (tests/_properties*.ts) and
 * {@linkcode checkKernel} (a user's kernel) both run here.
 *
 * @module
 */
import fc from "./_fast_check.ts";
import type { Backend } from "../mod.ts";
import { specialCounts, undrawnSpecialKinds } from "./values.ts";

/** A property of a computation: random cases, and a check of one case on a backend. */
export interface Property<C> {
  /** The property's name: the computation and the bound it is held to. */
  readonly name: string;
  /** The random cases. */
  readonly cases: fc.Arbitrary<C>;
  /** Runs the computation on `backend` and its reference; throws when they disagree. */
  check(backend: Backend, c: C): Promise<void> | void;
}

/** How {@linkcode checkProperty} runs a property. */
export interface PropertyRun {
  /** How many cases. */
  readonly numRuns: number;
  /** The seed of the random cases (fresh when absent): a failure's report gives it. */
  readonly seed?: number;
  /** With the seed, the shrink path of a failure's report: replays that case alone. */
  readonly path?: string;
  /**
   * Require the run to have drawn every kind of special value (NaN, ±Inf, ±0,
   * subnormals: the `special` profile of `values`), so that a property that claims to
   * meet them did; false where its cases draw none or the run is too short.
   */
  readonly everySpecialKind: boolean;
}

/**
 * Checks `property` on `backend` for the run's cases; on a failure, throws an Error that
 * names the property, the shrunk counterexample, the check's own error and the seed and
 * path that replay it (its `cause` is that error).
 *
 * @param property The cases and the check.
 * @param backend Where the check runs the computation.
 * @param run How many cases, from what seed, and whether every special kind must be drawn.
 */
export async function checkProperty<C>(
  property: Property<C>,
  backend: Backend,
  run: PropertyRun,
): Promise<void> {
  specialCounts.clear();
  const details = await fc.check(
    fc.asyncProperty(property.cases, async (c) => {
      await property.check(backend, c);
    }),
    { numRuns: run.numRuns, seed: run.seed, path: run.path },
  );
  if (details.failed) {
    throw new Error(failureReport(property.name, details), { cause: details.errorInstance });
  }
  const undrawn = undrawnSpecialKinds();
  if (run.everySpecialKind && undrawn.length > 0) {
    throw new Error(`${property.name}: its ${details.numRuns} cases drew no ${undrawn.join(", ")}`);
  }
}

/** What a failed run reports: the case, the error and how to replay it. */
function failureReport<C>(name: string, details: fc.RunDetails<[C]>): string {
  if (details.counterexample === null) return `${name}: ${fc.defaultReportMessage(details)}`;
  const error = details.errorInstance instanceof Error
    ? details.errorInstance.message
    : String(details.errorInstance);
  return [
    `${name}: failed after ${plural(details.numRuns, "case")}, shrunk ${
      plural(details.numShrinks, "time")
    } to`,
    `  counterexample: ${fc.stringify(details.counterexample[0])}`,
    `  error: ${error}`,
    `  replay: { seed: ${details.seed}, path: "${details.counterexamplePath}" }`,
  ].join("\n");
}

/** "1 case", "2 cases". */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
