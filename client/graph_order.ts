/**
 * The order in which a task graph's tasks are submitted, which is their priority order: depth
 * first, so that one output's inputs are finished (and can be freed) before the next output's
 * start, as Dask's `dask.order` aims for.
 */

/**
 * Orders `keys` so that every task comes after its dependencies and the tasks of one output's
 * subtree come together: a post-order walk from each sink (a key nothing in the graph depends
 * on), sinks and dependencies taken in the order given. Dependencies outside `keys` are ignored.
 * Iterative, so deep chains do not overflow the stack. Throws a TypeError naming a key on a cycle.
 */
export function depthFirstOrder(
  keys: readonly string[],
  depsOf: (key: string) => readonly string[],
): string[] {
  const inGraph = new Set(keys);
  const hasDependent = new Set<string>();
  for (const k of keys) for (const d of depsOf(k)) if (inGraph.has(d)) hasDependent.add(d);
  const out: string[] = [];
  // 0 = unseen, 1 = on the current path, 2 = emitted
  const mark = new Map<string, 1 | 2>();
  const visit = (root: string) => {
    const stack: [string, number][] = [[root, 0]];
    mark.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const deps = depsOf(top[0]);
      let next: string | undefined;
      while (top[1] < deps.length) {
        const d = deps[top[1]++];
        if (!inGraph.has(d)) continue;
        const m = mark.get(d);
        if (m === 2) continue;
        if (m === 1) throw new TypeError(`the task graph has a cycle through key "${d}"`);
        next = d;
        break;
      }
      if (next === undefined) {
        stack.pop();
        mark.set(top[0], 2);
        out.push(top[0]);
      } else {
        mark.set(next, 1);
        stack.push([next, 0]);
      }
    }
  };
  for (const k of keys) if (!hasDependent.has(k) && !mark.has(k)) visit(k);
  // a graph that is all cycle has no sink: anything left unvisited lies on or behind a cycle
  for (const k of keys) if (!mark.has(k)) visit(k);
  return out;
}
