import assert from "node:assert/strict";
import { foldIn, philox4x32, randomKey, splitKey } from "../mod.ts";

Deno.test("philox4x32: Random123's known-answer vectors for Philox-4x32-10", async (t) => {
  const vectors: Array<[[number, number, number, number], [number, number], number[]]> = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  for (const [counter, key, expected] of vectors) {
    await t.step(`counter ${counter.map((w) => w.toString(16))}`, () => {
      assert.deepEqual(philox4x32(counter, key), expected);
    });
  }
});

Deno.test("randomKey: validates the seed and gives a frozen value", () => {
  const key = randomKey(42);
  assert.deepEqual(key.words, [42, 0]);
  assert.ok(Object.isFrozen(key) && Object.isFrozen(key.words));
  assert.throws(() => randomKey(-1), RangeError);
  assert.throws(() => randomKey(1.5), /randomKey: expected seed to be an integer/);
  assert.throws(() => randomKey(2 ** 32), RangeError);
});

Deno.test("splitKey and foldIn: deterministic, distinct, validated", () => {
  const key = randomKey(7);
  const keys = splitKey(key, 8);
  assert.deepEqual(splitKey(key, 8), keys);
  const all = [key, ...keys, foldIn(key, 0), foldIn(key, 1)].map((k) => k.words.join(","));
  assert.equal(new Set(all).size, all.length);
  assert.deepEqual(foldIn(key, 3), foldIn(key, 3));
  assert.throws(() => splitKey(key, 0), /splitKey: expected count/);
  assert.throws(() => foldIn({ words: [1] } as never, 0), /foldIn: expected a random key/);
});
