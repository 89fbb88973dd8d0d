/**
 * @file The cycles among a set of modules' value imports, found without a TypeScript
 * parser. A module's static imports and re-exports are read with regular expressions
 * anchored at the start of a line (so the `import` lines of doc-comment examples, which
 * begin with ` * `, are not taken), spanning lines for multi-line import lists. Type-only
 * imports are skipped — `import type …`, `export type … from`, and `import { type A,
 * type B }` where every name is a type — because the compiler erases them: they order
 * nothing at module load. An `import { type A, b }` is a value import. The cycles are
 * the strongly connected components of the graph (Tarjan), each shown as one closed path.
 */

/** A static `import … from`, side-effect `import "…"`, or `export … from`. */
const STATEMENT =
  /^(?:import\s+(type\s+)?([\w$*\s{},]+?)\s+from|import|export\s+(type\s+)?(\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s+from)\s*["']([^"']+)["']/gm;

/** Whether the clause of an import or export lists only names marked `type`. */
function onlyTypes(clause: string): boolean {
  const braces = clause.match(/^\{([^}]*)\}$/);
  if (!braces) return false;
  const names = braces[1].split(",").map((name) => name.trim()).filter((name) => name);
  return names.length > 0 && names.every((name) => /^type\s/.test(name));
}

/** The specifiers `source` imports or re-exports as values, in order of appearance. */
export function valueImports(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(STATEMENT)) {
    const [, importType, importClause, exportType, exportClause, specifier] = match;
    if (importType || exportType) continue;
    const clause = (importClause ?? exportClause ?? "").trim();
    if (onlyTypes(clause)) continue;
    specifiers.push(specifier);
  }
  return specifiers;
}

/**
 * The value-import graph of `sources` (path → text, paths relative to one root with `/`
 * separators): each module's relative imports that land on another module of the set.
 */
export function importGraph(sources: ReadonlyMap<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [path, source] of sources) {
    const base = new URL(path, "file:///root/");
    const targets = valueImports(source)
      .filter((specifier) => specifier.startsWith("."))
      .map((specifier) => new URL(specifier, base).pathname.slice("/root/".length))
      .filter((target) => sources.has(target));
    graph.set(path, [...new Set(targets)]);
  }
  return graph;
}

/** Modules that import one another in a circle, and one closed path `[a, b, …, a]` through them. */
export interface ImportCycle {
  readonly modules: readonly string[];
  readonly path: readonly string[];
}

/**
 * Every cycle of `graph`: one per strongly connected component that has a cycle (two or
 * more modules, or one that imports itself).
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): ImportCycle[] {
  return stronglyConnected(graph)
    .filter((component) =>
      component.length > 1 || (graph.get(component[0]) ?? []).includes(component[0])
    )
    .map((modules) => ({ modules, path: closedPath(graph, new Set(modules)) }));
}

/** Tarjan's strongly connected components, each sorted by path. */
function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}

/** A shortest closed path from the component's first module back to it (breadth first). */
function closedPath(
  graph: ReadonlyMap<string, readonly string[]>,
  component: ReadonlySet<string>,
): string[] {
  const start = [...component].sort()[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (!component.has(next)) continue;
      if (next === start) {
        const between: string[] = [];
        for (let at = node; at !== start; at = cameFrom.get(at)!) between.unshift(at);
        return [start, ...between, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`no closed path through ${start}`); // unreachable for a cyclic component
}
