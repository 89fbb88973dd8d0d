/**
 * @file Stochastic gradient descent with parameter groups and momentum, as PyTorch's
 * `SGD`: each group names its parameters and has its own learning rate, weight decay,
 * batch size and momentum. With `g′ = g/batchSize + weightDecay·p`, a step is
 * `p − lr·g′` without momentum (one fused `sgdStep` kernel per parameter) and, with
 * momentum μ, PyTorch's rule `buf = μ·buf + g′; p − lr·buf` (dampening 0, not
 * Nesterov). The momentum buffers are state that a step takes and returns
 * ({@linkcode SGD.init}), so the whole training step stays a pure function.
 */
import { checkArity, checkInteger, checkNumber } from "../ops/_validate.ts";
import { add } from "../ops/arithmetic.ts";
import { scale } from "../ops/math.ts";
import { scope } from "../ops/scope.ts";
import { sgdStep, type SgdStepOptions } from "../ops/sgd_step.ts";
import type { Tensor } from "../ops/tensor.ts";
import {
  checkParams,
  checkState,
  checkStateRecord,
  checkStep,
  type GroupSettings,
  type OptimizerStep,
  type Params,
  parseGroups,
} from "./_optimizer.ts";

export type { OptimizerStep, Params };

/** A parameter group of {@linkcode SGD}. */
export interface ParamGroup {
  /** The names of its parameters. */
  readonly params: readonly string[];
  /** Learning rate. */
  readonly lr: number;
  /** L2 weight decay added to the gradient (default 0; negative values are allowed). */
  readonly weightDecay?: number;
  /** The gradient is divided by this (default 1: the loss is already a mean). */
  readonly batchSize?: number;
  /** Momentum μ ≥ 0 (default 0: none). A group with momentum needs {@linkcode SGD.init}'s state. */
  readonly momentum?: number;
}

/** The state of {@linkcode SGD}: a momentum buffer per parameter of a group with momentum. */
export interface SgdState {
  /** `buf` of PyTorch's rule, by parameter name; zeros before the first step. */
  readonly momentum: Params;
}

type SgdSettings = Required<Omit<ParamGroup, "params">>;

/** The options of `sgdStep` among a group's settings. */
function update({ lr, weightDecay, batchSize }: SgdStepOptions): SgdStepOptions {
  return { lr, weightDecay, batchSize };
}

/** SGD with per-group learning rate, weight decay, batch size and momentum. */
export class SGD {
  readonly #groups: GroupSettings<SgdSettings>;

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
    checkArity(op, arguments, 1);
    this.#groups = parseGroups(
      op,
      groups,
      ["lr", "weightDecay", "batchSize", "momentum"],
      (o) => ({
        lr: checkNumber(op, "lr", o.lr),
        weightDecay: o.weightDecay === undefined
          ? 0
          : checkNumber(op, "weightDecay", o.weightDecay),
        batchSize: o.batchSize === undefined
          ? 1
          : checkInteger(op, "batchSize", o.batchSize, { min: 1 }),
        momentum: o.momentum === undefined
          ? 0
          : checkNumber(op, "momentum", o.momentum, { min: 0 }),
      }),
    );
  }

  /**
   * The state before the first step: zero momentum buffers for the parameters of groups
   * with momentum (none for the others).
   *
   * @param params The parameters, by name: exactly those of the groups.
   * @returns New state; the caller owns its tensors.
   * @example
   * ```ts
   * import { type Backend, cpu, SGD } from "@deno-gpu/kernels";
   * const ref: Backend = cpu();
   * const opt = new SGD([{ params: ["w"], lr: 0.1, momentum: 0.9 }]);
   * let params = { w: ref.tensor([1, 2]) };
   * let state = opt.init(params);
   * for (let i = 0; i < 2; i++) {
   *   const grads = { w: ref.tensor([1, 1]) };
   *   ({ params, state } = opt.step(params, grads, state)); // buf: 1, then 1.9
   * }
   * console.log(await params.w.read()); // Float32Array [0.71, 1.71]
   * ```
   */
  init(params: Params): SgdState {
    checkArity("SGD.init", arguments, 1);
    const entries = checkParams("SGD.init", this.#groups, params);
    return {
      momentum: Object.fromEntries(
        entries.filter(([, , s]) => s.momentum !== 0).map((
          [name, p],
        ) => [name, p.backend.zeros(p.shape)]),
      ),
    };
  }

  /**
   * One update of every parameter of the groups, without momentum state (every group's
   * momentum is 0).
   *
   * @param params The current parameters, by name: exactly those of the groups.
   * @param grads Their gradients, by the same names.
   * @returns New parameters; `params` and `grads` are unchanged (dispose them when done).
   */
  step(params: Params, grads: Params): Record<string, Tensor>;
  /**
   * One update of every parameter of the groups, taking and returning the state.
   *
   * @param params The current parameters, by name: exactly those of the groups.
   * @param grads Their gradients, by the same names.
   * @param state The state from {@linkcode SGD.init} or the previous step.
   * @returns New parameters and state; the arguments are unchanged (dispose them when done).
   */
  step<P extends Params>(params: P, grads: Params, state: SgdState): OptimizerStep<SgdState, P>;
  step<P extends Params>(
    params: P,
    grads: Params,
    state?: SgdState,
  ): Record<string, Tensor> | OptimizerStep<SgdState, P> {
    const op = "SGD.step";
    checkArity(op, arguments, 3);
    const entries = checkStep(op, this.#groups, params, grads);
    const moving = entries.filter(([, , , s]) => s.momentum !== 0);
    if (state === undefined) {
      if (moving.length > 0) {
        throw new TypeError(
          `${op}: expected the state from SGD.init(params), since "${moving[0][0]}" has momentum ${
            moving[0][3].momentum
          }; got none`,
        );
      }
      return Object.fromEntries(entries.map(([name, p, g, s]) => [name, sgdStep(p, g, update(s))]));
    }
    const { momentum: given } = checkState(op, "SGD.init(params)", state, ["momentum"]);
    const buffers = checkStateRecord(op, "momentum", given, moving);
    return scope(() => {
      const next: Record<string, Tensor> = {};
      const momentum: Record<string, Tensor> = {};
      for (const [name, p, g, s] of entries) {
        if (s.momentum === 0) {
          next[name] = sgdStep(p, g, update(s));
          continue;
        }
        // g′ = g/batchSize + weightDecay·p; buf = μ·buf + g′; p − lr·buf.
        let direction = s.batchSize === 1 ? g : scale(g, 1 / s.batchSize);
        if (s.weightDecay !== 0) direction = add(direction, scale(p, s.weightDecay));
        momentum[name] = add(scale(buffers[name], s.momentum), direction);
        next[name] = sgdStep(p, momentum[name], { lr: s.lr });
      }
      return { params: next as { [K in keyof P]: Tensor }, state: { momentum } };
    });
  }
}
