/**
 * @file `checkKernel`: a user's GPU computation property-tested as the library tests its
 * own ops. The inputs are fast-check arbitraries (tensors of random shapes and value
 * profiles from {@linkcode floatTensor}, or any other values); each case runs the
 * computation on the backend and a float64 reference on the same float32 inputs, and
 * every element must be within the user's bound of the reference (exactly NaN or ±Inf
 * where the reference is). A failure is shrunk to a minimal case and reported with the
 * seed and path that replay it ({@linkcode checkProperty}, the runner of the library's
 * own properties).
 *
 * @module
 */
import fc from "./_fast_check.ts";
import type { Backend, GpuBackend, Tensor } from "../mod.ts";
import { gpu } from "../ops/gpu_backend.ts";
import { checkBackend, checkInteger, checkOptions, checkTensor } from "../ops/_validate.ts";
import { describeValue } from "../kernels/_checks.ts";
import { assertWithin } from "./compare.ts";
import { checkProperty } from "./property.ts";
import { ordinaryProfile, type Profile, seed, values } from "./values.ts";

/**
 * A tensor's worth of float32 values on the host, drawn by {@linkcode floatTensor}: its
 * shape, its values, and the profile and seed they came from (what a counterexample
 * prints, with the values themselves when there are few).
 */
export class HostTensor {
  /**
   * Values drawn by {@linkcode floatTensor} (or given: any float32 values of a shape).
   *
   * @param shape The dimensions, row-major.
   * @param data The values, as many as the shape has elements.
   * @param profile The value profile they were drawn from.
   * @param seed The seed they were drawn from.
   */
  constructor(
    readonly shape: readonly number[],
    readonly data: Float32Array,
    readonly profile: Profile,
    readonly seed: number,
  ) {}

  /** How a counterexample shows it: shape, profile and seed, and up to 8 values. */
  [fc.toStringMethod](): string {
    const shown = this.data.length <= 8 ? `: [${Array.from(this.data).join(", ")}]` : "";
    return `shape [${this.shape.join(", ")}], ${this.profile} values of seed ${this.seed}${shown}`;
  }
}

/**
 * An arbitrary {@linkcode HostTensor}: a shape, a value profile (by default every profile
 * of finite values; pass `profile` from this module to meet NaN, ±Inf and subnormals too)
 * and a seed, from which the values follow, so a failure shrinks the shape and profile.
 *
 * @param shape The shapes, e.g. `fc.tuple(dim(64), dim(64))`, or one fixed shape.
 * @param profiles The value profiles to draw from.
 * @returns Tensors of those shapes and profiles.
 */
export function floatTensor(
  shape: fc.Arbitrary<readonly number[]> | readonly number[],
  profiles: fc.Arbitrary<Profile> = ordinaryProfile,
): fc.Arbitrary<HostTensor> {
  const op = "floatTensor";
  if (Array.isArray(shape)) shape.forEach((d, i) => checkInteger(op, `shape[${i}]`, d, { min: 1 }));
  else checkArbitrary(op, "shape to be a shape or", shape);
  checkArbitrary(op, "profiles to be", profiles);
  const shapes = Array.isArray(shape) ? fc.constant(shape) : shape as fc.Arbitrary<number[]>;
  return fc.record({ shape: shapes, profile: profiles, seed }).map((c) =>
    new HostTensor(
      c.shape,
      values(c.shape.reduce((a, b) => a * b, 1), c.profile, c.seed),
      c.profile,
      c.seed,
    )
  );
}

/** The inputs as the computation sees them: each {@linkcode HostTensor} as a tensor. */
export type OnBackend<I> = { readonly [K in keyof I]: I[K] extends HostTensor ? Tensor : I[K] };

/** Where {@linkcode CheckKernelOptions.bound} is asked for a bound: one output element. */
export interface BoundAt<I> {
  /** The reference's value of the element, in float64. */
  readonly exact: number;
  /** The element's flat (row-major) index. */
  readonly index: number;
  /** The case's inputs. */
  readonly inputs: I;
}

/** What {@linkcode checkKernel} checks, and how many cases. */
export interface CheckKernelOptions<I extends Record<string, unknown>> {
  /** Names the computation in a failure. */
  readonly name: string;
  /**
   * The backend the computation runs on; absent, a GPU backend of its own (`gpu()`),
   * destroyed when the check ends (`run` is given it).
   */
  readonly backend?: Backend;
  /** An arbitrary for each named input: {@linkcode floatTensor}s, or any other values. */
  readonly inputs: { readonly [K in keyof I]: fc.Arbitrary<I[K]> };
  /**
   * The computation under test: its inputs' {@linkcode HostTensor}s come as tensors on
   * `backend` (disposed after the case, as is the result).
   */
  run(backend: Backend, inputs: OnBackend<I>): Tensor | Promise<Tensor>;
  /** The same computation in float64 on the host, from the same float32 inputs. */
  reference(inputs: I): ArrayLike<number>;
  /** The largest |result − exact| allowed at an element (the `bounds` derive them). */
  bound(at: BoundAt<I>): number;
  /** Cases to run (default 100). */
  readonly numRuns?: number;
  /** The seed of a failure's report, to replay it. */
  readonly seed?: number;
  /** The path of a failure's report, with its seed: replays the shrunk case alone. */
  readonly path?: string;
}

const OPTIONS = [
  "name",
  "backend",
  "inputs",
  "run",
  "reference",
  "bound",
  "numRuns",
  "seed",
  "path",
];

/**
 * Checks a computation against its float64 reference on random inputs: for each case,
 * every element of `run`'s result is within `bound` of `reference`'s (and exactly NaN or
 * ±Inf where the reference is, or overflows float32). Resolves when every case passes;
 * otherwise rejects with an Error naming the computation, the shrunk counterexample, the
 * element that is off and the `{ seed, path }` that replays it.
 *
 * @example
 * ```ts
 * import { add, gpu } from "@deno-gpu/kernels";
 * import { bounds, checkKernel, dim, floatTensor } from "@deno-gpu/kernels/testing";
 * import fc from "npm:fast-check@4.3.0";
 *
 * const dev = await gpu();
 * const shape = fc.tuple(dim(64), dim(64));
 * await checkKernel({
 *   name: "add",
 *   backend: dev,
 *   inputs: { x: floatTensor(shape), y: floatTensor([1]) },
 *   run: (_, { x, y }) => add(x, y),
 *   reference: ({ x, y }) => Array.from(x.data, (v) => v + y.data[0]),
 *   bound: ({ exact }) => bounds.U * Math.abs(exact), // one rounding
 * });
 * dev.destroy();
 * ```
 *
 * @param options The computation, its reference, inputs and bound.
 * @returns Resolves once every case agrees.
 */
export async function checkKernel<I extends Record<string, unknown>>(
  options: CheckKernelOptions<I>,
): Promise<void> {
  const op = "checkKernel";
  checkOptions(op, options, true, OPTIONS);
  const { name, inputs, run, reference, bound } = options;
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`${op}: expected name to be a nonempty string, got ${describeValue(name)}`);
  }
  if (options.backend !== undefined) checkBackend(op, options.backend);
  checkOptions(op, inputs, true);
  for (const [key, arbitrary] of Object.entries(inputs)) {
    checkArbitrary(op, `inputs.${key} to be`, arbitrary);
  }
  for (const [key, f] of Object.entries({ run, reference, bound })) {
    if (typeof f !== "function") {
      throw new TypeError(`${op}: expected ${key} to be a function, got ${describeValue(f)}`);
    }
  }
  const numRuns = checkInteger(op, "numRuns", options.numRuns ?? 100, { min: 1 });
  const seed = options.seed === undefined
    ? undefined
    : checkInteger(op, "seed", options.seed, { min: -(2 ** 31), max: 2 ** 32 - 1 });
  const path = options.path;
  if (path !== undefined && (seed === undefined || typeof path !== "string")) {
    throw new TypeError(
      `${op}: expected path to be a string, with the seed of the same report, got ${
        describeValue(path)
      }${seed === undefined ? " without a seed" : ""}`,
    );
  }
  const cases = fc.record(inputs) as unknown as fc.Arbitrary<I>;
  const check = (on: Backend, c: I) => checkCase(name, options, on, c);
  const backend = options.backend ?? await gpu();
  try {
    await checkProperty({ name, cases, check }, backend, {
      numRuns,
      seed,
      path,
      everySpecialKind: false,
    });
  } finally {
    if (options.backend === undefined) (backend as GpuBackend).destroy();
  }
}

/**
 * Checks that `value` is a fast-check arbitrary (by its shape, so that any copy of
 * fast-check 4 will do); `what` leads the message ("inputs.x to be").
 */
function checkArbitrary(op: string, what: string, value: unknown): void {
  if (typeof (value as Partial<fc.Arbitrary<unknown>>)?.generate !== "function") {
    throw new TypeError(
      `${op}: expected ${what} a fast-check arbitrary, got ${describeValue(value)}`,
    );
  }
}

/** Runs one case on `backend` and the reference, and compares them. */
async function checkCase<I extends Record<string, unknown>>(
  name: string,
  options: CheckKernelOptions<I>,
  backend: Backend,
  inputs: I,
): Promise<void> {
  const uploaded: Tensor[] = [];
  try {
    const onBackend = Object.fromEntries(
      Object.entries(inputs).map(([key, v]) => {
        if (!(v instanceof HostTensor)) return [key, v];
        const t = backend.tensor(v.data, v.shape);
        uploaded.push(t);
        return [key, t];
      }),
    ) as OnBackend<I>;
    const result = checkTensor(
      `${name} (checkKernel's run)`,
      "the result",
      await options.run(backend, onBackend),
    );
    uploaded.push(result);
    const exact = options.reference(inputs);
    const bound = (index: number) => options.bound({ exact: exact[index], index, inputs });
    assertWithin(await result.read(), exact, bound, name);
  } finally {
    for (const t of uploaded) if (!t.disposed) t.dispose();
  }
}
