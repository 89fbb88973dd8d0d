/**
 * @file Results written in place of donated arguments. With `donate`, a result may take
 * over an argument's buffer, so a training loop's parameters keep their buffers from
 * step to step (no new allocation, and bind groups that stay valid). A result may
 * overwrite a donated argument when:
 *
 * - they have the same size, the argument aliases no other argument, and the result is
 *   written by a generated kernel (hand-written kernels bind their inputs separately);
 * - no later kernel reads the argument;
 * - the kernel writing the result reads the argument, if at all, only at the element it
 *   writes — through elementwise expressions, never through a view, a reduction's input
 *   or a matmul's operands — so no thread reads what another has already overwritten.
 *
 * The kernel then reads the argument through its output binding (`kernels/kernel_plan.ts`,
 * `InPlace`), since one dispatch may not bind a buffer both read-only and writable.
 */
import { type FusionPlan, ownTerm, readsAtOwnIndex } from "./fusion_plan.ts";
import type { Graph } from "./graph.ts";

/**
 * For each result node that may overwrite a donated argument, that argument's node.
 * `donated` holds the donated tensor leaves; `aliased` those passed more than once.
 */
export function planInPlace(
  graph: Graph,
  plan: FusionPlan,
  donated: ReadonlySet<number>,
  aliased: ReadonlySet<number>,
): Map<number, number> {
  const nodes = graph.nodes;
  const candidates = nodes.flatMap((node, id) =>
    node.kind === "argument" && donated.has(node.leaf) && !aliased.has(node.leaf) &&
      plan.live.has(id)
      ? [id]
      : []
  );
  const size = (id: number) => nodes[id].shape.reduce((a, b) => a * b, 1);
  /** Whether kernel `k` reads `argument` only at the element it writes. */
  const readsInPlace = (k: number, argument: number): boolean => {
    const kernel = plan.kernels[k];
    const anchor = kernel.kind === "reduce" || kernel.kind === "matmul" ? kernel.anchor : -1;
    const computed = new Set([kernel.writes, ...kernel.inlined]);
    const reaches = (id: number): boolean =>
      id === argument ||
      (computed.has(id) && (nodes[id] as { inputs: readonly number[] }).inputs.some(reaches));
    const ok = (id: number): boolean => {
      if (id === argument || !computed.has(id) || !reaches(id)) return true;
      const node = nodes[id];
      if (id === anchor) return false; // read by the reduction's input or the matmul's operands
      const own = ownTerm(graph, id);
      if (!own || node.kind !== "op") return false;
      return node.inputs.every((input, j) =>
        !reaches(input) || (readsAtOwnIndex(own.term, own.inputs[j]) && ok(input))
      );
    };
    return ok(kernel.writes);
  };
  const inPlace = new Map<number, number>();
  const taken = new Set<number>();
  const firstOutput = new Set<number>();
  plan.kernels.forEach((kernel, k) => {
    const result = kernel.writes;
    if (kernel.kind === "opaque" || !graph.outputs.includes(result) || firstOutput.has(result)) {
      return;
    }
    firstOutput.add(result);
    for (const argument of candidates) {
      if (taken.has(argument) || size(argument) !== size(result)) continue;
      if (nodes[argument].dtype !== nodes[result].dtype) continue; // another type's storage
      if (plan.kernels.slice(k + 1).some((later) => later.reads.includes(argument))) continue;
      if (kernel.reads.includes(argument) && !readsInPlace(k, argument)) continue;
      inPlace.set(result, argument);
      taken.add(argument);
      return;
    }
  });
  return inPlace;
}
