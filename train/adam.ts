/**
 * @file Adam with parameter groups, PyTorch's `torch.optim.Adam` rule and defaults (lr
 * 10⁻³, β = (0.9, 0.999), ε = 10⁻⁸, weight decay 0 as L2 added to the gradient, not
 * AMSGrad): with `g′ = g + weightDecay·p`, after t steps
 *
 *     m = β₁·m + (1 − β₁)·g′      v = β₂·v + (1 − β₂)·g′²
 *     p − lr/(1 − β₁ᵗ) · m/(√v/√(1 − β₂ᵗ) + ε)
 *
 * written with the library's ops, so that under `jit` they fuse. The moments and the
 * bias corrections `cᵢ = 1 − βᵢᵗ` are state that a step takes and returns
 * ({@linkcode Adam.init}), so a compiled step needs no number that changes from step to
 * step. The corrections are kept by their own recurrence `c = β·c + (1 − β)` (the
 * moment of a gradient that is always 1): computing `1 − βᵗ` from t in float32 would
 * cancel (β₂ᵗ is near 1 for small t, so exp's few ulp would become 10⁻⁴ of c₂), while
 * the recurrence adds positive terms. Every scale uses β rounded to float32 and
 * `1 − β` of that rounded value, so a constant gradient is averaged to itself. The last
 * line is computed as `p − (lr·√c₂/c₁)·m/(√v + ε·√c₂)`, the same quantity with one
 * division fewer per element.
 */
import { checkArity, checkNumber } from "../ops/_validate.ts";
import { add, div, mul, sub } from "../ops/arithmetic.ts";
import { scale, sqrt, square } from "../ops/math.ts";
import { scope } from "../ops/scope.ts";
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

/** A parameter group of {@linkcode Adam}; every setting has PyTorch's default. */
export interface AdamGroup {
  /** The names of its parameters. */
  readonly params: readonly string[];
  /** Learning rate, ≥ 0 (default 10⁻³). */
  readonly lr?: number;
  /** Decay of the first moment, in [0, 1) (default 0.9). */
  readonly beta1?: number;
  /** Decay of the second moment, in [0, 1) (default 0.999). */
  readonly beta2?: number;
  /** Added to the denominator, ≥ 0 (default 10⁻⁸). */
  readonly eps?: number;
  /** L2 weight decay added to the gradient (default 0). */
  readonly weightDecay?: number;
}

/** The state of {@linkcode Adam}, by parameter name. */
export interface AdamState {
  /** First moments m. */
  readonly m: Params;
  /** Second moments v. */
  readonly v: Params;
  /** `1 − β₁ᵗ` of each parameter's group after t steps: scalars, 0 before the first step. */
  readonly correction1: Params;
  /** `1 − β₂ᵗ` of each parameter's group: scalars, 0 before the first step. */
  readonly correction2: Params;
}

type AdamSettings = Required<Omit<AdamGroup, "params">>;

/** Adam (Kingma & Ba) with per-group settings, as PyTorch computes it. */
export class Adam {
  readonly #groups: GroupSettings<AdamSettings>;

  /**
   * An optimiser over the parameters named in `groups`.
   *
   * @param groups Parameter groups; each parameter in exactly one.
   * @example
   * ```ts
   * import { Adam, type Backend, cpu } from "@deno-gpu/kernels";
   * const ref: Backend = cpu();
   * const opt = new Adam([{ params: ["w"], lr: 0.1 }]);
   * let params = { w: ref.tensor([1, -1]) };
   * let state = opt.init(params);
   * const grads = { w: ref.tensor([3, -0.5]) };
   * ({ params, state } = opt.step(params, grads, state));
   * // The first step moves every weight by lr (up to ε), against its gradient's sign.
   * console.log(await params.w.read()); // Float32Array [0.9, -0.9], in float32
   * ```
   */
  constructor(groups: readonly AdamGroup[]) {
    const op = "Adam";
    checkArity(op, arguments, 1);
    const decay = (name: string, value: unknown) => {
      const beta = checkNumber(op, name, value);
      if (beta < 0 || beta >= 1) {
        throw new RangeError(`${op}: expected ${name} to be a number in [0, 1), got ${beta}`);
      }
      return beta;
    };
    this.#groups = parseGroups(
      op,
      groups,
      ["lr", "beta1", "beta2", "eps", "weightDecay"],
      (o) => ({
        lr: o.lr === undefined ? 1e-3 : checkNumber(op, "lr", o.lr, { min: 0 }),
        beta1: o.beta1 === undefined ? 0.9 : decay("beta1", o.beta1),
        beta2: o.beta2 === undefined ? 0.999 : decay("beta2", o.beta2),
        eps: o.eps === undefined ? 1e-8 : checkNumber(op, "eps", o.eps, { min: 0 }),
        weightDecay: o.weightDecay === undefined
          ? 0
          : checkNumber(op, "weightDecay", o.weightDecay),
      }),
    );
  }

  /**
   * The state before the first step: zero moments and corrections.
   *
   * @param params The parameters, by name: exactly those of the groups.
   * @returns New state; the caller owns its tensors.
   */
  init(params: Params): AdamState {
    checkArity("Adam.init", arguments, 1);
    const entries = checkParams("Adam.init", this.#groups, params);
    const zeros = (shape: (p: Tensor) => readonly number[]) =>
      Object.fromEntries(entries.map(([name, p]) => [name, p.backend.zeros(shape(p))]));
    return {
      m: zeros((p) => p.shape),
      v: zeros((p) => p.shape),
      correction1: zeros(() => []),
      correction2: zeros(() => []),
    };
  }

  /**
   * One update of every parameter of the groups.
   *
   * @param params The current parameters, by name: exactly those of the groups.
   * @param grads Their gradients, by the same names.
   * @param state The state from {@linkcode Adam.init} or the previous step.
   * @returns New parameters and state; the arguments are unchanged (dispose them when done).
   */
  step<P extends Params>(params: P, grads: Params, state: AdamState): OptimizerStep<AdamState, P> {
    checkArity("Adam.step", arguments, 3);
    const op = "Adam.step";
    const entries = checkStep(op, this.#groups, params, grads);
    const s = checkState(op, "Adam.init(params)", state, ["m", "v", "correction1", "correction2"]);
    const ms = checkStateRecord(op, "m", s.m, entries);
    const vs = checkStateRecord(op, "v", s.v, entries);
    const scalars = entries.map(([name]) => [name, []] as const);
    const c1s = checkStateRecord(op, "correction1", s.correction1, entries, scalars);
    const c2s = checkStateRecord(op, "correction2", s.correction2, entries, scalars);
    return scope(() => {
      const next: Record<string, Tensor> = {};
      const m: Record<string, Tensor> = {}, v: Record<string, Tensor> = {};
      const correction1: Record<string, Tensor> = {}, correction2: Record<string, Tensor> = {};
      for (const [name, p, g, { lr, beta1, beta2, eps, weightDecay }] of entries) {
        const [b1, b2] = [Math.fround(beta1), Math.fround(beta2)];
        /** β·x + (1 − β)·y with β rounded once: the moments and the corrections alike. */
        const average = (x: Tensor, y: Tensor, beta: number) =>
          add(scale(x, beta), scale(y, 1 - beta));
        const direction = weightDecay === 0 ? g : add(g, scale(p, weightDecay));
        m[name] = average(ms[name], direction, b1);
        v[name] = average(vs[name], square(direction), b2);
        const one = p.backend.ones([]);
        correction1[name] = average(c1s[name], one, b1);
        correction2[name] = average(c2s[name], one, b2);
        const root = sqrt(correction2[name]);
        const stepSize = scale(div(root, correction1[name]), lr);
        const update = div(m[name], add(sqrt(v[name]), scale(root, eps)));
        next[name] = sub(p, mul(stepSize, update));
      }
      return {
        params: next as { [K in keyof P]: Tensor },
        state: { m, v, correction1, correction2 },
      };
    });
  }
}
