/**
 * @file The multiplier of every property's case count, from `PROPERTY_CASES_SCALE` (1
 * when unset): `PROPERTY_CASES_SCALE=10 deno task test` (or `test:browser`) looks for rare
 * failures with ten times the cases and fresh seeds, as CI's single run cannot.
 */

const given = Deno.env.get("PROPERTY_CASES_SCALE");

/** How many times its own count of cases each property runs. */
export const CASES_SCALE: number = Number(given ?? 1);

if (!(Number.isInteger(CASES_SCALE) && CASES_SCALE >= 1)) {
  throw new Error(`PROPERTY_CASES_SCALE: expected a whole number ≥ 1, got ${given}`);
}
