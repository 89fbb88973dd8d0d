/**
 * @file A map that keeps at most a fixed number of entries and, when full, forgets the
 * one used longest ago. Every cache the library keeps by key (WGSL templates, compiled
 * pipelines, `jit`'s programs) is one of these, so a long-running process that meets
 * many shapes holds a bounded amount, not one entry per shape it ever saw. A JavaScript
 * `Map` iterates in insertion order, so moving an entry to the end on each use makes the
 * first entry the least recently used.
 */

/** A key–value cache of at most `capacity` entries, evicting the least recently used. */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #onEvict: ((value: V, key: K) => void) | undefined;

  /**
   * @param capacity The most entries kept: a positive integer.
   * @param onEvict Called with each entry the cache forgets (to free what it holds).
   */
  constructor(readonly capacity: number, onEvict?: (value: V, key: K) => void) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`LruCache: expected a positive integer capacity, got ${capacity}`);
    }
    this.#onEvict = onEvict;
  }

  /** How many entries the cache holds now (at most `capacity`). */
  get size(): number {
    return this.#entries.size;
  }

  /** The value under `key`, marked as the most recently used; `undefined` if absent. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Stores `value` under `key` as the most recently used, evicting the oldest if full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.capacity) {
      const [oldKey, oldValue] = this.#entries.entries().next().value!;
      this.#entries.delete(oldKey);
      this.#onEvict?.(oldValue, oldKey);
    }
  }

  /** The value under `key`, made by `make` and stored if absent. */
  getOrCreate(key: K, make: () => V): V {
    const found = this.get(key);
    if (found !== undefined) return found;
    const value = make();
    this.set(key, value);
    return value;
  }

  /** Forgets the entry under `key` without calling `onEvict`; whether there was one. */
  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** Every value, least recently used first (without marking any as used). */
  values(): IterableIterator<V> {
    return this.#entries.values();
  }

  /** Forgets every entry, without calling `onEvict`. */
  clear(): void {
    this.#entries.clear();
  }
}
