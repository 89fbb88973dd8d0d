/**
 * @file A fresh process for the tuning tests (tests/matmul_tuning_test.ts), run with a
 * `--location` of its own so that its `localStorage` is its own:
 *
 * - `tune M`: measures the class of M³ with `dev.tune`, and stores `registers8x8` for
 *   the class of 96³ as an earlier run would have; prints `{ "tuned": name }`.
 * - `read M`: prints the variants a background-tuning backend runs first for M³ and for
 *   96³, then clears the storage.
 * - `stack`: prints the driver stack the store would key by.
 */
import { gpu } from "../mod.ts";
import { matmulVariantFor, shapeClass } from "../kernels/matmul.ts";
import { adapterKey, defaultStorage, driverStack, TuningStore } from "../kernels/matmul_tuning.ts";

const [command, side] = Deno.args;
const square = (s: number) => ({ m: s, k: s, n: s, transposeA: false, transposeB: false });

if (command === "stack") {
  console.log(JSON.stringify({ stack: driverStack() }));
} else {
  const dev = await gpu();
  const storage = defaultStorage()!;
  const key = adapterKey(dev.device.adapterInfo, driverStack())!;
  if (command === "tune") {
    await dev.tune([square(Number(side))]);
    new TuningStore(storage, key).save(new Map([[shapeClass(square(96)), "registers8x8"]]));
    console.log(
      JSON.stringify({ tuned: matmulVariantFor(dev.runtime, square(Number(side))).name }),
    );
  } else {
    const first = matmulVariantFor(dev.runtime, square(Number(side))).name;
    const remembered = matmulVariantFor(dev.runtime, square(96)).name;
    console.log(JSON.stringify({ first, remembered }));
    (storage as Storage).clear();
  }
  dev.destroy();
}
