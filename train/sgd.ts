/**
 * @file Stochastic gradient descent with parameter groups, as PyTorch's `SGD`: each
 * group names its parameters and has its own learning rate and weight decay, and the
 * update `p − lr·(g/batchSize + weightDecay·p)` is one fused `sgdStep` kernel per
 * parameter. Parameters are plain tensors in a record; a step returns new ones.
 */
import { checkNumber, checkOptions, checkSameShape, checkTensors } from "../ops/_validate.ts";
import { sgdStep } from "../ops/sgd_step.ts";
import { describe, type Tensor } from "../ops/tensor.ts";

/** Named parameters (or their gradients). */
export type Params = Readonly<Record<string, Tensor>>;

/** A parameter group. */
export interface ParamGroup {
  /** The names of its parameters. */
  readonly params: readonly string[];
  /** Learning rate. */
  readonly lr: number;
  /** L2 weight decay added to the gradient (default 0; negative values are allowed). */
  readonly weightDecay?: number;
  /** The gradient is divided by this (default 1: the loss is already a mean). */
  readonly batchSize?: number;
}

/** SGD with per-group learning rate, weight decay and batch size. */
export class SGD {
  readonly #groups: ReadonlyMap<string, Required<Omit<ParamGroup, "params">>>;

  /**
   * An optimiser over the parameters named in `groups`.
   *
   * @param groups Parameter groups; each parameter in exactly one.
   * @example
   * ```ts
   * import { cpu, SGD } from "@deno-gpu/kernels";
   * const ref = cpu();
   * const opt = new SGD([
   *   { params: ["weight"], lr: 0.5, weightDecay: 1 },
   *   { params: ["bias"], lr: 0.5 },
   * ]);
   * const params = { weight: ref.tensor([1]), bias: ref.tensor([1]) };
   * const grads = { weight: ref.tensor([1]), bias: ref.tensor([1]) };
   * const next = opt.step(params, grads);
   * console.log(await next.weight.read(), await next.bias.read()); // Float32Array [0] Float32Array [0.5]
   * ```
   */
  constructor(groups: readonly ParamGroup[]) {
    const op = "SGD";
    if (!Array.isArray(groups) || groups.length === 0) {
      throw new TypeError(
        `${op}: expected a non-empty array of parameter groups, got ${describe(groups)}`,
      );
    }
    const byName = new Map<string, Required<Omit<ParamGroup, "params">>>();
    for (const group of groups) {
      const o = checkOptions(op, group, true);
      if (!Array.isArray(o.params) || !Array.from(o.params).every((p) => typeof p === "string")) {
        throw new TypeError(`${op}: expected each group's params to be an array of names`);
      }
      const settings = {
        lr: checkNumber(op, "lr", o.lr),
        weightDecay: o.weightDecay === undefined
          ? 0
          : checkNumber(op, "weightDecay", o.weightDecay),
        batchSize: o.batchSize === undefined
          ? 1
          : checkNumber(op, "batchSize", o.batchSize, { min: 1 }),
      };
      for (const name of o.params as string[]) {
        if (byName.has(name)) {
          throw new TypeError(`${op}: expected "${name}" in one group, got it in two`);
        }
        byName.set(name, settings);
      }
    }
    this.#groups = byName;
  }

  /**
   * One update of every parameter of the groups.
   *
   * @param params The current parameters, by name.
   * @param grads Their gradients, by the same names.
   * @returns New parameters; `params` and `grads` are unchanged (dispose them when done).
   */
  step(params: Params, grads: Params): Record<string, Tensor> {
    const op = "SGD.step";
    const ps = checkOptions(op, params, true), gs = checkOptions(op, grads, true);
    // Every pair is checked before the first update, so a bad one leaves nothing behind.
    const pairs = [...this.#groups].map(([name, settings]) => {
      const [p, g] = checkTensors(op, {
        [`params.${name}`]: ps[name],
        [`grads.${name}`]: gs[name],
      });
      checkSameShape(op, [`params.${name}`, `grads.${name}`], p, g);
      return [name, p, g, settings] as const;
    });
    return Object.fromEntries(
      pairs.map(([name, p, g, settings]) => [name, sgdStep(p, g, settings)]),
    );
  }
}
