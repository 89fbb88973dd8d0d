/**
 * @file What the optimisers share: parameter groups (PyTorch's `param_groups`: each group
 * names its parameters and has its own settings) and the checks of one step's
 * arguments. Every parameter must belong to exactly one group, and a step must be given
 * exactly the parameters of the groups: a parameter in no group is an error, never
 * silently left out of the result. Optimiser state (momenta, step counts) is a plain
 * record of tensors that a step takes and returns, so a training step — forward,
 * backward, update — is one pure function of tensors (what `jit` compiles).
 */
import { checkOptions, checkSameShape, checkTensors } from "../ops/_validate.ts";
import { describe, formatShape, type Tensor } from "../ops/tensor.ts";

/** Named parameters (or their gradients, or one kind of optimiser state). */
export type Params = Readonly<Record<string, Tensor>>;

/** What a stateful optimiser's step returns: new parameters and new state (the caller owns both). */
export interface OptimizerStep<S, P extends Params = Params> {
  /** The updated parameters, by the names of the given ones. */
  readonly params: { [K in keyof P]: Tensor };
  /** The optimiser's state after the step. */
  readonly state: S;
}

/** The settings of a parameter's group, by parameter name, in the groups' order. */
export type GroupSettings<S> = ReadonlyMap<string, S>;

/**
 * Checks `groups` (a non-empty array of `{ params: string[], …settings }`, no name in
 * two groups, no option outside `keys`) and returns each parameter's settings, read from
 * its group by `settings`.
 */
export function parseGroups<S>(
  op: string,
  groups: unknown,
  keys: readonly string[],
  settings: (group: Record<string, unknown>) => S,
): GroupSettings<S> {
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new TypeError(
      `${op}: expected a non-empty array of parameter groups, got ${describe(groups)}`,
    );
  }
  const byName = new Map<string, S>();
  for (const group of groups) {
    const o = checkOptions(op, group, true, ["params", ...keys]);
    if (!Array.isArray(o.params) || !Array.from(o.params).every((p) => typeof p === "string")) {
      throw new TypeError(`${op}: expected each group's params to be an array of names`);
    }
    const s = settings(o);
    for (const name of o.params as string[]) {
      if (byName.has(name)) {
        throw new TypeError(`${op}: expected "${name}" in one group, got it in two`);
      }
      byName.set(name, s);
    }
  }
  return byName;
}

/** One parameter of a step: its name, value, gradient and group settings. */
export type StepEntry<S> = readonly [name: string, p: Tensor, g: Tensor, settings: S];

/** Throws unless every entry of `record` (called `what`) names a parameter of the groups. */
function checkGrouped(op: string, groups: GroupSettings<unknown>, record: object, what: string) {
  const stray = Object.keys(record).find((name) => !groups.has(name));
  if (stray !== undefined) {
    throw new TypeError(
      `${op}: expected every entry of ${what} to be in a parameter group, got "${stray}", which is in none (groups: ${
        [...groups.keys()].join(", ")
      })`,
    );
  }
}

/**
 * Checks `params`: a record holding exactly the groups' parameters, live tensors on one
 * backend. Returns them in the groups' order with their settings.
 */
export function checkParams<S>(
  op: string,
  groups: GroupSettings<S>,
  params: unknown,
): (readonly [name: string, p: Tensor, settings: S])[] {
  const ps = checkOptions(op, params, true);
  checkGrouped(op, groups, ps, "params");
  const tensors = checkTensors(
    op,
    Object.fromEntries([...groups.keys()].map((name) => [`params.${name}`, ps[name]])),
  );
  return [...groups].map(([name, settings], i) => [name, tensors[i], settings] as const);
}

/**
 * Checks a step's `params` and `grads` against the groups: both are records holding
 * exactly the groups' parameters, each a live tensor, all on one backend, each gradient
 * of its parameter's shape. Every entry is checked before any update is made, so a bad
 * one leaves nothing behind.
 */
export function checkStep<S>(
  op: string,
  groups: GroupSettings<S>,
  params: unknown,
  grads: unknown,
): StepEntry<S>[] {
  const entries = checkParams(op, groups, params);
  const gs = checkOptions(op, grads, true);
  checkGrouped(op, groups, gs, "grads");
  return entries.map(([name, p, settings]) => {
    const [, g] = checkTensors(op, { [`params.${name}`]: p, [`grads.${name}`]: gs[name] });
    checkSameShape(op, [`params.${name}`, `grads.${name}`], p, g);
    return [name, p, g, settings] as const;
  });
}

/**
 * Checks an optimiser's state argument: a plain object with the fields `keys` (what
 * `init` returned, or the previous step); returns it.
 */
export function checkState(
  op: string,
  init: string,
  state: unknown,
  keys: readonly string[],
): Record<string, unknown> {
  if (
    state === null || typeof state !== "object" || Object.getPrototypeOf(state) !== Object.prototype
  ) {
    throw new TypeError(
      `${op}: expected the state from ${init} or the last step, got ${describe(state)}`,
    );
  }
  const missing = keys.find((k) => !(k in state));
  const stray = Object.keys(state).find((k) => !keys.includes(k));
  if (missing !== undefined || stray !== undefined) {
    throw new TypeError(
      `${op}: expected the state from ${init} (fields ${keys.join(", ")}), got ${
        missing !== undefined ? `no ${missing}` : `an unknown field "${stray}"`
      }`,
    );
  }
  return state as Record<string, unknown>;
}

/**
 * Checks one kind of optimiser state (`state.<what>`): a record with a live tensor for
 * each named parameter, on the parameters' backend, and nothing else; each of its
 * parameter's shape, or of the shape `shapes` gives for it.
 */
export function checkStateRecord(
  op: string,
  what: string,
  record: unknown,
  entries: readonly (readonly [name: string, p: Tensor, ...rest: unknown[]])[],
  shapes?: readonly (readonly [name: string, shape: readonly number[]])[],
): Params {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new TypeError(
      `${op}: expected state.${what} to be a record of tensors, got ${describe(record)}`,
    );
  }
  const r = record as Record<string, unknown>;
  const stray = Object.keys(r).find((name) => !entries.some(([n]) => n === name));
  if (stray !== undefined) {
    throw new TypeError(`${op}: expected state.${what} to hold no "${stray}"`);
  }
  const out: Record<string, Tensor> = {};
  for (const [name, p] of entries) {
    const [, t] = checkTensors(op, { [`params.${name}`]: p, [`state.${what}.${name}`]: r[name] });
    const shape = shapes?.find(([n]) => n === name)?.[1] ?? p.shape;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new RangeError(
        `${op}: expected state.${what}.${name} of shape ${formatShape(shape)}, got ${
          formatShape(t.shape)
        }`,
      );
    }
    out[name] = t;
  }
  return out;
}
