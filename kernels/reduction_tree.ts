/**
 * @file The reduction tree, written once. A reduction too long for one thread gives
 * each of `lanes` lanes (a power of two) a strided partial value, then folds the
 * partials pairwise: for stride = lanes/2, …, 2, 1, lane l < stride combines lane
 * l + stride into its own. Any path from a partial to the result passes log₂(lanes)
 * combinations — the count the error bounds rely on (`reductionRoundings` in
 * `kernels/reduce_kernel.ts`, `treeSumRoundings` in `kernels/reduce.ts`).
 *
 * Every reduction kernel folds with {@linkcode foldLanes}: the generated reduce kernel
 * and the eager tree sum fold in workgroup memory; a program kernel's phase folds there
 * too when its lanes share an output, or in one thread's private array when each
 * thread reduces whole outputs. Either way the combinations are the same in the same
 * order, so a program kernel rounds exactly as the fused kernel it replaces, by
 * construction.
 */

/** One fold of a reduction tree: where the partials are and how two combine. */
export interface LaneFold {
  /** The array of partials: workgroup memory, or one thread's private array. */
  readonly array: string;
  /** Partials folded: a power of two. */
  readonly lanes: number;
  /** WGSL combining partials `a` and `b` (`a` first: the lower lane). */
  combine(a: string, b: string): string;
  /**
   * In workgroup memory: the invocation's lane (it combines while lane < stride, a
   * barrier after each stride) and its partial's index in `array` (the lane, or more
   * when several trees share the array). Absent: one thread folds all of `array`.
   */
  readonly shared?: { readonly lane: string; readonly slot: string };
}

/** WGSL statements folding the partials of `fold` into its first lane's (slot's) element. */
export function foldLanes(fold: LaneFold): string[] {
  const { array, lanes, combine, shared } = fold;
  const [pairs, at] = shared
    ? [`if (${shared.lane} < stride)`, shared.slot]
    : [`for (var l = 0u; l < stride; l++)`, "l"];
  return [
    `for (var stride = ${lanes / 2}u; stride > 0u; stride >>= 1u) {`,
    `  ${pairs} { ${array}[${at}] = ${combine(`${array}[${at}]`, `${array}[${at} + stride]`)}; }`,
    ...(shared ? [`  workgroupBarrier();`] : []),
    `}`,
  ];
}
