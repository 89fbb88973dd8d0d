/**
 * @file Activation functions, elementwise: `leakyRelu(x, { slope })`, `elu`, `gelu`,
 * `softplus`, `logSigmoid` — each one expression (`ops/_elementwise.ts`) with its
 * derivative as one fused expression, written so that no intermediate overflows:
 * `softplus` is max(x, 0) + log1p(e^−|x|), `logSigmoid` is −softplus(−x), `elu` takes
 * `expm1` below 0, and `gelu` is x·σ(z), σ the sigmoid of `kernels/expression.ts`.
 *
 * `gelu` is the tanh approximation — 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))), JAX's
 * default (`jax.nn.gelu(approximate=True)`), GPT-2's and BERT's TensorFlow code's — not
 * the exact x·Φ(x) with erf (PyTorch's default; the two differ by at most about 5·10⁻⁴):
 * WGSL has no erf, and 1 + tanh(z) = 2σ(2z) lets it reuse the sigmoid, which is accurate
 * in relative terms down to its smallest values, where 1 + tanh(z) would cancel.
 */
import { call, type Expr, input, literal, scalar } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp, unaryOp } from "./_elementwise.ts";
import { checkArity, checkNumber, checkOptions } from "./_validate.ts";
import type { Tensor } from "./tensor.ts";

// In each derivative, input(0) is g and input(1) is x.
const x = input(1);
const positive = (v: Expr) => call("greater", v, literal(0));

/** The slope of {@linkcode leakyRelu} below 0, a runtime word. */
interface Slope {
  slope: number;
}

const leakyReluGradOp = elementwiseOp<Slope>({
  name: "leakyRelu",
  expression: ({ slope }) =>
    call("mul", input(0), call("where", positive(x), literal(1), scalar(slope))),
});
const leakyReluOp = elementwiseOp<Slope>({
  name: "leakyRelu",
  expression: ({ slope }) =>
    call("where", positive(input(0)), input(0), call("mul", input(0), scalar(slope))),
  vjp: (g, [value], params) => [applyElementwise(leakyReluGradOp, { g, x: value }, params)],
});

const eluOp = unaryOp(
  "elu",
  call("where", positive(input(0)), input(0), call("expm1", input(0))),
  call("where", positive(x), literal(1), call("exp", x)),
);

/** 2√(2/π) and 0.044715 in float32: gelu(x) = x·σ(C·(x + K·x³)). */
const [C, K] = [Math.fround(2 * Math.sqrt(2 / Math.PI)), Math.fround(0.044715)];
/** C·(x + K·x³) of the expression `v`. */
const geluArgument = (v: Expr) =>
  call(
    "mul",
    literal(C),
    call("add", v, call("mul", literal(K), call("mul", v, call("mul", v, v)))),
  );
// d/dx x·σ(z) = σ(z) + x·σ(z)(1 − σ(z))·C·(1 + 3K·x²).
const sigmoidZ = call("sigmoid", geluArgument(x));
const geluOp = unaryOp(
  "gelu",
  call("mul", input(0), call("sigmoid", geluArgument(input(0)))),
  call(
    "add",
    sigmoidZ,
    call(
      "mul",
      call("mul", x, call("mul", sigmoidZ, call("sub", literal(1), sigmoidZ))),
      call(
        "mul",
        literal(C),
        call("add", literal(1), call("mul", literal(3 * K), call("mul", x, x))),
      ),
    ),
  ),
);

const softplusOp = unaryOp("softplus", call("softplus", input(0)), call("sigmoid", x));
const logSigmoidOp = unaryOp(
  "logSigmoid",
  call("neg", call("softplus", call("neg", input(0)))),
  call("sigmoid", call("neg", x)),
);

/** Options of {@linkcode leakyRelu}. */
export interface LeakyReluOptions {
  /** The factor below 0 (default 0.01), a finite number. */
  slope?: number;
}

/**
 * Elementwise x where x > 0, else slope·x (PyTorch's `leaky_relu`, JAX's
 * `leaky_relu`): one rounding, so bit for bit with the reference; NaN stays NaN, −0 gives
 * −0. Its gradient is 1 above 0 and `slope` at 0 and below. The slope is a runtime value:
 * a new one reuses a compiled program under `jit`.
 *
 * @param x A tensor.
 * @param options `slope` (default 0.01), a finite number.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, leakyRelu } from "@deno-gpu/kernels";
 * using y = leakyRelu(cpu().tensor([-2, 3]), { slope: 0.5 });
 * console.log(await y.read()); // Float32Array [-1, 3]
 * ```
 */
export function leakyRelu(x: Tensor, options?: LeakyReluOptions): Tensor {
  checkArity("leakyRelu", arguments, 2);
  const o = checkOptions("leakyRelu", options, false, ["slope"]);
  const slope = o.slope === undefined ? 0.01 : checkNumber("leakyRelu", "slope", o.slope);
  return applyElementwise(leakyReluOp, { x }, { slope });
}

/**
 * Elementwise exponential linear unit with α = 1: x where x > 0, else eˣ − 1 (computed
 * as `expm1`, so accurate near 0); −1 at −Inf, NaN stays NaN, −0 gives −0.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, elu } from "@deno-gpu/kernels";
 * using y = elu(cpu().tensor([2, 0, -Infinity]));
 * console.log(await y.read()); // Float32Array [2, 0, -1]
 * ```
 */
export function elu(x: Tensor): Tensor {
  checkArity("elu", arguments, 1);
  return applyElementwise(eluOp, { x }, undefined);
}

/**
 * Elementwise GELU, the tanh approximation (JAX's default; see the file's note on why not
 * erf): x·σ(2√(2/π)·(x + 0.044715x³)) = 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))), its
 * constants rounded to float32. NaN at −Inf (−Inf·0, as NumPy evaluates JAX's formula),
 * Inf at Inf.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, gelu } from "@deno-gpu/kernels";
 * using y = gelu(cpu().tensor([0, 1, -1]));
 * console.log(await y.read()); // Float32Array [0, 0.8411920, -0.1588080]
 * ```
 */
export function gelu(x: Tensor): Tensor {
  checkArity("gelu", arguments, 1);
  return applyElementwise(geluOp, { x }, undefined);
}

/**
 * Elementwise log(1 + eˣ) (NumPy's `logaddexp(0, x)`), without overflow: x + log1p(e⁻ˣ)
 * above 0; 0 at −Inf, Inf at Inf. Its gradient is σ(x).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, softplus } from "@deno-gpu/kernels";
 * using y = softplus(cpu().tensor([0, 100, -100]));
 * console.log(await y.read()); // Float32Array [0.6931472, 100, 3.7835e-44]
 * ```
 */
export function softplus(x: Tensor): Tensor {
  checkArity("softplus", arguments, 1);
  return applyElementwise(softplusOp, { x }, undefined);
}

/**
 * Elementwise log σ(x) = −softplus(−x), without overflow: about x far below 0, about
 * −e⁻ˣ far above; −Inf at −Inf, −0 at Inf. Its gradient is σ(−x).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, logSigmoid } from "@deno-gpu/kernels";
 * using y = logSigmoid(cpu().tensor([0, -100]));
 * console.log(await y.read()); // Float32Array [-0.6931472, -100]
 * ```
 */
export function logSigmoid(x: Tensor): Tensor {
  checkArity("logSigmoid", arguments, 1);
  return applyElementwise(logSigmoidOp, { x }, undefined);
}
