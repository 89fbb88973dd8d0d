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
import {
  assertShape,
  assertWithin,
  flushSubnormal,
  MIN_NORMAL,
  type Profile,
  seed,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** Inputs of unit values (the bound tracking's home ground), or the special values. */
const compositionProfile: fc.Arbitrary<Profile> = fc.oneof(
  { arbitrary: fc.constant("unit" as const), weight: 2 },
  { arbitrary: fc.constant("special" as const), weight: 1 },
);

/** A composition's case: the program and the seed of its inputs and dropout key. */
export interface CompositionCase {
  program: ProgramCase;
  profile: Profile;
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
    cases: fc.record({ program: programs(), profile: compositionProfile, seed }),
    numRuns,
    async check(backend, { program: c, profile: kind, seed: s }) {
      const p = program(c);
      const key = randomKey(s);
      const f = (inputs: Tensor[], k: RandomKey) => p.run(tensorEvaluator(inputs, k));
      const compiled = jit(f, { kernels });
      const gpuInputs = inputTensors(backend, p, (n, i) => values(n, kind, s + i));
      const cpuInputs = inputTensors(ref, p, (n, i) => values(n, kind, s + i)) as CpuTensor[];
      try {
        const got = compiled(gpuInputs, key);
        const expected = p.run(boundEvaluator(cpuInputs, key));
        // What a GPU that flushes subnormals computes where an infinite value meets one.
        const flushedInputs = cpuInputs.map((t) => ref.tensor(t.data.map(flushSubnormal), t.shape));
        const flushed = p.run(tensorEvaluator(flushedInputs, key)) as CpuTensor[];
        for (const [k, t] of got.entries()) {
          const { value, error } = expected[k];
          assertShape(t.shape, value.shape, p.text);
          const bound = (i: number) => 2 * error[i] + 4 * MIN_NORMAL;
          assertWithin(await t.read(), value.data, bound, p.text, flushed[k].data);
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
