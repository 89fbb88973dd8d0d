/**
 * @file jit's property: random compositions of the differentiable ops
 * (tests/_compositions.ts), compiled with one kernel granularity, equal the program run
 * eagerly on the CPU reference within twice the error bound of the unfused computation
 * (the bound is tracked beside the reference values: the compiled result and the
 * reference both lie within it of the exact value).
 */
import fc from "fast-check";
import {
  type CpuTensor,
  jit,
  type KernelGranularity,
  type RandomKey,
  randomKey,
  type Tensor,
} from "../mod.ts";
import {
  boundEvaluator,
  inputTensors,
  program,
  type ProgramCase,
  programs,
  tensorEvaluator,
} from "./_compositions.ts";
import { assertShape, assertWithin, MIN_NORMAL, seed, values } from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A composition's case: the program and the seed of its inputs and dropout key. */
export interface CompositionCase {
  program: ProgramCase;
  seed: number;
}

/**
 * Random programs under `jit(f, { kernels })`, each against the bound-tracked reference;
 * `numRuns` programs a run.
 */
export function compositionProperty(
  kernels: KernelGranularity,
  numRuns: number,
): OpProperty<CompositionCase> {
  return {
    name: `jit (kernels: "${kernels}"): random compositions equal f on the CPU reference ` +
      "within the unfused error bound",
    cases: fc.record({ program: programs(), seed }),
    numRuns,
    async check(backend, { program: c, seed: s }) {
      const p = program(c);
      const key = randomKey(s);
      const f = (inputs: Tensor[], k: RandomKey) => p.run(tensorEvaluator(inputs, k));
      const compiled = jit(f, { kernels });
      const gpuInputs = inputTensors(backend, p, (n, i) => values(n, "unit", s + i));
      const cpuInputs = inputTensors(ref, p, (n, i) => values(n, "unit", s + i)) as CpuTensor[];
      try {
        const got = compiled(gpuInputs, key);
        const expected = p.run(boundEvaluator(cpuInputs, key));
        for (const [k, t] of got.entries()) {
          const { value, error } = expected[k];
          assertShape(t.shape, value.shape, p.text);
          assertWithin(await t.read(), value.data, (i) => 2 * error[i] + 4 * MIN_NORMAL, p.text);
          t.dispose();
        }
      } finally {
        compiled.dispose();
        gpuInputs.forEach((t) => t.dispose());
      }
    },
  };
}

/**
 * jit's compositions, by granularity: as the default chooses (small programs as one
 * program kernel), as fused kernels (never one program kernel), and with one kernel per
 * op (the eager kernels, replayed).
 */
export const COMPOSITION_PROPERTIES: {
  readonly auto: OpProperty<CompositionCase>;
  readonly fused: OpProperty<CompositionCase>;
  readonly ops: OpProperty<CompositionCase>;
} = {
  auto: compositionProperty("auto", 60),
  fused: compositionProperty("fused", 50),
  ops: compositionProperty("ops", 25),
};
