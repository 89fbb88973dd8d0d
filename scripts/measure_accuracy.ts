/**
 * @file Measures how far the adapter in use is from WGSL's stated accuracy for `exp` or
 * `log`, or from the bound derived from it for `log1p`, `expm1`, `rsqrt`, `sin`, `cos`
 * (tests/_numerics.ts, with no adapter's allowance): it evaluates the function at evenly spaced float32 points of a range on the GPU,
 * compares each with the exact value (float64) in WGSL's ULPs of it, and prints the worst
 * error and the worst excess over WGSL's bound, with where they occur (results below the
 * smallest normal float32 are left out: WGSL lets them flush to zero). This is the
 * measurement behind an allowance in tests/_numerics.ts (an allowance names the adapter
 * it was measured on). Not part of `deno task test`.
 *
 * `deno run --allow-env scripts/measure_accuracy.ts exp -0.1 0.1 1048576`
 * (function, range start and end, number of points; set `DENO_WEBGPU_BACKEND` to choose
 * the driver stack).
 */
import { cos, exp, expm1, gpu, log, log1p, rsqrt, sin, type Tensor } from "../mod.ts";
import { expm1Bound, log1pBound, MIN_NORMAL, trigBound, ulp } from "../tests/_numerics.ts";

/** A measured function: its op, its exact value, and WGSL's bound in ULPs of the result. */
interface Measured {
  readonly op: (x: Tensor) => Tensor;
  readonly exact: (x: number) => number;
  readonly wgslUlps: (x: number, r: number) => number;
}

const FUNCTIONS: Record<string, Measured> = {
  // WGSL: 3 + 2|x| ULP.
  exp: { op: exp, exact: Math.exp, wgslUlps: (x) => 3 + 2 * Math.abs(x) },
  // WGSL: 3 ULP outside [0.5, 2], 2⁻²¹ absolute inside.
  log: {
    op: log,
    exact: Math.log,
    wgslUlps: (x, r) => (x >= 0.5 && x <= 2 ? 2 ** -21 / ulp(r) : 3),
  },
  // The derived bounds, in ULPs of the result; no adapter named, so no allowance.
  log1p: { op: log1p, exact: Math.log1p, wgslUlps: (x, r) => log1pBound(x, r) / ulp(r) },
  expm1: {
    op: expm1,
    exact: Math.expm1,
    wgslUlps: (x, r) => expm1Bound(x, r, { name: "" }) / ulp(r),
  },
  rsqrt: { op: rsqrt, exact: (x) => 1 / Math.sqrt(x), wgslUlps: () => 2 },
  sin: { op: sin, exact: Math.sin, wgslUlps: (x, r) => trigBound(x) / ulp(r) },
  cos: { op: cos, exact: Math.cos, wgslUlps: (x, r) => trigBound(x) / ulp(r) },
};

const [name, from, to, count] = Deno.args;
const f = FUNCTIONS[name];
const [a, b, n] = [Number(from), Number(to), Number(count ?? 1 << 20)];
if (!f || !(a < b) || !Number.isInteger(n) || n < 2) {
  console.error(
    `measure_accuracy: expected ${
      Object.keys(FUNCTIONS).join("|")
    }, a range start < end and a point count ≥ 2, got ${JSON.stringify(Deno.args)}`,
  );
  Deno.exit(2);
}

const dev = await gpu();
const x = Float32Array.from({ length: n }, (_, i) => a + (b - a) * i / (n - 1));
using input = dev.tensor(x);
using result = f.op(input);
const got = await result.read();
let worst = { ulps: 0, x: a }, excess = { ulps: -Infinity, x: a }, subnormal = 0;
for (let i = 0; i < n; i++) {
  const r = f.exact(x[i]);
  if (Math.abs(r) < MIN_NORMAL && r !== 0) {
    subnormal++;
    continue;
  }
  const ulps = Math.abs(got[i] - r) / ulp(r);
  if (ulps > worst.ulps) worst = { ulps, x: x[i] };
  if (ulps - f.wgslUlps(x[i], r) > excess.ulps) {
    excess = { ulps: ulps - f.wgslUlps(x[i], r), x: x[i] };
  }
}
console.log(
  `${name} on ${dev.name}, ${n} points of [${a}, ${b}] (${subnormal} with subnormal results left out):`,
);
console.log(`  worst error ${worst.ulps.toFixed(3)} ULP at x = ${worst.x}`);
console.log(
  `  worst excess over WGSL's bound ${excess.ulps.toFixed(3)} ULP at x = ${excess.x}` +
    (excess.ulps <= 0 ? " (within WGSL's bound)" : ""),
);
dev.destroy();
