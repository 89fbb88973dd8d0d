/**
 * @file Small numbers for objects, for the keys of caches: the first object asked about
 * gets 0, the next 1, and an object keeps its number for as long as it lives (the
 * numbering holds it weakly, so it never keeps an object alive). `jit` keys its caches
 * by backend, by op definition and by buffer so.
 */

/**
 * A numbering of objects: the returned function gives each object its number, the same
 * one every time it is asked.
 */
export function objectIds<T extends object>(): (value: T) => number {
  const ids = new WeakMap<T, number>();
  let next = 0;
  return (value) => {
    let id = ids.get(value);
    if (id === undefined) {
      id = next++;
      ids.set(value, id);
    }
    return id;
  };
}
