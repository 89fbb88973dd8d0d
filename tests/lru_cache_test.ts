/** @file The one bounded cache every keyed cache of the library uses. */
import assert from "node:assert/strict";
import { LruCache } from "../kernels/lru_cache.ts";

Deno.test("LruCache keeps its capacity and forgets the least recently used", () => {
  const evicted: string[] = [];
  const cache = new LruCache<string, number>(2, (_, key) => evicted.push(key));
  cache.set("a", 1);
  cache.set("b", 2);
  assert.deepStrictEqual(cache.get("a"), 1); // a is now the most recent
  cache.set("c", 3); // evicts b
  assert.deepStrictEqual(evicted, ["b"]);
  assert.deepStrictEqual(cache.size, 2);
  assert.deepStrictEqual(cache.get("b"), undefined);
  assert.deepStrictEqual(cache.getOrCreate("d", () => 4), 4); // evicts a
  assert.deepStrictEqual(evicted, ["b", "a"]);
  assert.deepStrictEqual([...cache.values()], [3, 4]);
  assert.deepStrictEqual(cache.delete("c"), true); // forgotten, not evicted
  assert.deepStrictEqual(cache.delete("c"), false);
  assert.deepStrictEqual([evicted, cache.size], [["b", "a"], 1]);
  assert.throws(() => new LruCache(0), {
    name: "RangeError",
    message: /positive integer capacity/,
  });
});
